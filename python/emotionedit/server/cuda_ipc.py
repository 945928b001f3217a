"""CUDA renders through the server: the host's device images shared by CUDA IPC.

When a host renders with CUDA (DaVinci Resolve), the node cannot hand device
pointers to another process. Instead it sends, for the source and the output, the
CUDA IPC handle of the allocation holding the image (``cuIpcGetMemHandle``), the
allocation's size, the image's offset in it and its row bytes, plus the IPC handle of
an event it recorded on the host's stream after the host's own work on the images.
The server opens both allocations in its own context on the same device (found by PCI
bus id), makes a private stream wait for that event (no device synchronisation), runs
the engine's CUDA path (:func:`emotionedit.node.gpu.render_on_device`) on that stream,
and finishes its stream before replying, so the output is complete when the node
returns and the mappings can be closed.

Every offset is checked against the allocation size the node announced. Not run on a
real device yet (the development machines have no GPU); the geometry and the order of
calls are tested against a stand-in for CuPy (``tests/node/test_server_cuda.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .frame_request import FrameRequest
from .protocol import ProtocolError, field

if TYPE_CHECKING:
    from ..node.gpu import DeviceRender

IPC_HANDLE_BYTES = 64  # sizeof(CUipcMemHandle) == sizeof(CUipcEventHandle)


@dataclass(frozen=True)
class SharedImage:
    """An image in another process's device allocation."""

    handle: bytes  # CUipcMemHandle of the allocation
    allocation: int  # its size in bytes
    data: int  # byte offset of the image's first pixel (bounds x1, y1: the bottom row)
    row_bytes: int  # may be negative (rows stored top-down)


def _shared_image(fields: dict, prefix: str) -> SharedImage:
    handle = field(fields, f"{prefix}_ipc", bytes)
    if len(handle) != IPC_HANDLE_BYTES:
        raise ProtocolError(f"{prefix}_ipc is {len(handle)} bytes, a CUDA IPC handle is {IPC_HANDLE_BYTES}")
    return SharedImage(handle, field(fields, f"{prefix}_alloc", int), field(fields, f"{prefix}_data", int),
                       field(fields, f"{prefix}_row_bytes", int))


def device_view(base: int, image: SharedImage, bounds: tuple[int, int, int, int],
                rect: tuple[int, int, int, int], dtype: np.dtype, components: int) -> dict:
    """The view of ``rect`` (OFX pixels, y up, inside ``bounds``) of an image, top row first,
    for :func:`emotionedit.node.gpu.device_array`; raises :class:`ProtocolError` if any byte of
    it falls outside the allocation.

    base: where the allocation is mapped in this process.
    """
    bx1, by1, bx2, _ = bounds
    x1, y1, x2, y2 = rect
    pixel = dtype.itemsize * components
    if abs(image.row_bytes) < (bx2 - bx1) * pixel:
        raise ProtocolError(f"row bytes {image.row_bytes} are fewer than {bx2 - bx1} pixels need")
    height, width = y2 - y1, x2 - x1
    top = image.data + (y2 - 1 - by1) * image.row_bytes + (x1 - bx1) * pixel
    rows_span = (height - 1) * abs(image.row_bytes)
    low = top - rows_span if image.row_bytes > 0 else top
    span = rows_span + width * pixel
    if not 0 <= low <= low + span <= image.allocation:
        raise ProtocolError(f"the image (bytes {low}-{low + span} of its allocation) is outside the "
                            f"{image.allocation}-byte allocation")
    return {"ptr": base + top, "low": base + low, "span": span, "shape": (height, width, components),
            "strides": (-image.row_bytes, pixel, dtype.itemsize), "dtype": dtype.name}


@dataclass(frozen=True)
class CudaFrame:
    """A CUDA frame's shared images, checked: views relative to each allocation's base."""

    device: str  # PCI bus id of the host's device
    event: bytes  # CUipcEventHandle recorded on the host's stream
    images: tuple[tuple[bytes, dict], ...]  # (allocation handle, view at base 0): source, then window


def parse_cuda(fields: dict, frame: FrameRequest) -> CudaFrame:
    """Check a CUDA render's fields against the frame; raises :class:`ProtocolError`."""
    event = field(fields, "event_ipc", bytes)
    if len(event) != IPC_HANDLE_BYTES:
        raise ProtocolError(f"event_ipc is {len(event)} bytes, a CUDA IPC handle is {IPC_HANDLE_BYTES}")
    device = field(fields, "device", str)
    if not 0 < len(device) <= 32:
        raise ProtocolError(f"device must be a PCI bus id, got {device!r}")
    request, dtype = frame.request, frame.dtype
    images = []
    for prefix, bounds, rect in (("src", request["src_bounds"], request["src_bounds"]),
                                 ("dst", request["dst_bounds"], request["window"])):
        image = _shared_image(fields, prefix)
        images.append((image.handle, device_view(0, image, bounds, rect, dtype, request["components"])))
    return CudaFrame(device, event, tuple(images))


def render_shared(render_host: Callable[[np.ndarray, np.ndarray], None], shared: CudaFrame,
                  render_device: DeviceRender | None = None) -> None:
    """Render a CUDA frame whose images live in the host process (see the module's docstring).

    render_host(src, dst): the CPU render (numpy arrays, top row first); render_device: the render in place
    on the device, or None (see :func:`emotionedit.node.gpu.render_on_device`).
    """
    from ..node import gpu  # the engine: imported by a render, never by the protocol (see server.Server._serve)

    cupy = gpu.cupy_module()
    runtime = cupy.cuda.runtime
    opened: list[int] = []
    event = None
    try:
        with cupy.cuda.Device(runtime.deviceGetByPCIBusId(shared.device)):
            views = []
            for handle, view in shared.images:
                base = runtime.ipcOpenMemHandle(handle)
                opened.append(base)
                views.append({**view, "ptr": base + view["ptr"], "low": base + view["low"]})
            event = runtime.ipcOpenEventHandle(shared.event)
            stream = cupy.cuda.Stream(non_blocking=True)
            runtime.streamWaitEvent(stream.ptr, event)  # after the host's work on these images
            gpu.render_on_device(render_host, views[0], views[1], stream.ptr, render_device=render_device)
            stream.synchronize()  # this private stream only: the output is complete before the reply
    finally:
        for base in opened:
            runtime.ipcCloseMemHandle(base)
        if event is not None:
            runtime.eventDestroy(event)
