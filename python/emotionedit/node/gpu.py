"""CUDA renders: the host's device images wrapped as CuPy arrays, on the host's stream.

Hosts with the OFX CUDA extension (DaVinci Resolve) hand over device pointers and a
``cudaStream_t``. The views below wrap them without copying (``UnownedMemory``:
CuPy neither frees nor keeps them), and all work is queued on the host's stream with
no device synchronisation, as the OFX CUDA extension asks.

A frame the engine can render on the device (an Analysis File's edited output, premultiplied or
opaque) is rendered in place: the views go to torch through DLPack (no copy; rows in memory order,
since torch has no negative strides) and :mod:`emotionedit.render.device` queues the render on the
host's stream. The plate check reads the fingerprint's few thousand samples, not the frame. Other
frames (preview mode, which tracks the frame's pixels; the check outputs; straight alpha), and every
frame where torch has no CUDA, take the host path: the source copied to host memory, rendered on the
CPU, the window copied back, all ordered on the host's stream (the download waits for that stream
only). :data:`FRAME_COPIES` counts both kinds. CuPy and torch are imported lazily: hosts without
CUDA never load them.

The host frees its images once its render thread gives up on a frame (at the node's time limit), so
the device memory is used only inside ``host_access``: on the host path the node's render thread
waits for the download and the upload, never for the CPU render in between; on the device path it
waits while the work is queued, and once it has given up nothing more is queued on the host's memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np

from .errors import FrameAbandoned, GpuUnavailable

#: CUDA frames rendered in this process: "device" (in place on the GPU), "host" (through host memory), and
#: "downloads" / "uploads": whole images copied between the device and host memory (the host path's).
FRAME_COPIES: Counter = Counter()

#: render_device(src, dst, flipped): torch tensors over the host's images in memory order (see the module).
DeviceRender = Callable[[object, object, bool], None]


@contextmanager
def using_host_memory(host_access: Callable[[bool], bool] | None) -> Iterator[None]:
    """Hold the node's permission to use the host's device memory (see the module's docstring).

    host_access(True) -> bool: the bridge's gate (False once the host has given up on the
    frame: then :class:`FrameAbandoned` is raised); host_access(False) gives it back.
    None: no gate (the engine server, tests).
    """
    if host_access is not None and not host_access(True):
        raise FrameAbandoned("the host gave up on this frame (time limit) before its images were used")
    try:
        yield
    finally:
        if host_access is not None:
            host_access(False)


def cupy_module():
    """CuPy, or :class:`GpuUnavailable` saying how to install it."""
    try:
        import cupy
    except ImportError as exc:
        raise GpuUnavailable("CuPy is not installed in the engine environment (pip install -e '.[gpu]')") from exc
    return cupy


def device_array(cupy, view: Mapping):
    """A CuPy array over host-owned device memory.

    view: from the bridge: ``ptr`` (first element), ``low`` and ``span`` (the lowest
    address and the bytes the view covers: rows may run backwards), ``shape``,
    ``strides`` (bytes) and ``dtype``.
    """
    memory = cupy.cuda.UnownedMemory(view["low"], view["span"], None)
    pointer = cupy.cuda.MemoryPointer(memory, view["ptr"] - view["low"])
    return cupy.ndarray(tuple(view["shape"]), dtype=np.dtype(view["dtype"]), memptr=pointer,
                        strides=tuple(view["strides"]))


def memory_order(view: Mapping) -> tuple[dict, bool]:
    """The view with its rows in memory order, and whether that flipped them (rows that ran backwards:
    the top row stored last, as OpenFX stores an image with positive row bytes)."""
    strides = tuple(view["strides"])
    if strides[0] >= 0:
        return dict(view), False
    top_in_memory = view["ptr"] + (view["shape"][0] - 1) * strides[0]
    return {**view, "ptr": top_in_memory, "strides": (-strides[0], *strides[1:])}, True


def render_on_device(render_host: Callable[[np.ndarray, np.ndarray], None], src_view: Mapping, dst_view: Mapping,
                     stream_pointer: int, host_access: Callable[[bool], bool] | None = None,
                     render_device: DeviceRender | None = None) -> None:
    """Render a CUDA frame, ordered on the host's stream: in place on the device with ``render_device``,
    else through the CPU engine (``render_host``).

    render_host(src, dst): the CPU render (numpy arrays, top row first).
    render_device(src, dst, flipped): the device render (torch tensors over the host's images, rows in
    memory order; flipped: bottom row first), or None when this frame renders on the CPU.
    stream_pointer: the host's ``cudaStream_t`` as an int, or 0 when the host gave
    none; then the work is finished before returning, as OFX asks.
    host_access: the node's gate around the use of the host's memory (:func:`using_host_memory`).
    """
    cupy = cupy_module()
    try:
        stream = cupy.cuda.ExternalStream(stream_pointer) if stream_pointer else cupy.cuda.Stream.null
    except Exception as exc:  # no usable device or driver in this process
        raise GpuUnavailable(f"no usable CUDA device here ({type(exc).__name__}: {exc})") from exc
    with stream:
        src_order, dst_order = memory_order(src_view), memory_order(dst_view)
        torch = _cuda_torch() if render_device is not None and src_order[1] == dst_order[1] else None
        if torch is not None:
            _render_in_place(torch, cupy, render_device, src_order[0], dst_order[0], src_order[1], stream_pointer,
                             host_access)
            return
        src = device_array(cupy, src_view)
        dst = device_array(cupy, dst_view)
        with using_host_memory(host_access):
            host_src = cupy.asnumpy(src, stream=stream)  # waits for this stream's earlier work, not the device's
        FRAME_COPIES.update(("host", "downloads"))
        host_dst = np.empty(dst.shape, dst.dtype)
        render_host(host_src, host_dst)  # private memory: the node may give up on the frame meanwhile
        with using_host_memory(host_access):
            # Upload into a stream-ordered temporary, then a strided copy kernel into the host's window.
            dst[...] = cupy.asarray(host_dst)
            FRAME_COPIES["uploads"] += 1
            if not stream_pointer:
                stream.synchronize()


def _cuda_torch():
    """torch when it can render on this CUDA device, else None (then the frame takes the host path)."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _render_in_place(torch, cupy, render_device: DeviceRender, src_view: dict, dst_view: dict, flipped: bool,
                     stream_pointer: int, host_access: Callable[[bool], bool] | None) -> None:
    """The device path of :func:`render_on_device` (views in memory order; CuPy's stream already current)."""
    with using_host_memory(host_access):
        src_array, dst_array = device_array(cupy, src_view), device_array(cupy, dst_view)
        device = src_array.device.id  # the GPU holding the host's images (the stream is that device's)
        with torch.cuda.device(device):
            stream = (torch.cuda.ExternalStream(stream_pointer, device=device) if stream_pointer
                      else torch.cuda.default_stream(device))
            with torch.cuda.stream(stream):
                src = torch.from_dlpack(src_array)  # DLPack: the host's memory, no copy
                dst = torch.from_dlpack(dst_array)
                render_device(src, dst, flipped)
            if not stream_pointer:
                stream.synchronize()
    FRAME_COPIES["device"] += 1
