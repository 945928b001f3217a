"""CUDA renders: the host's device images wrapped as CuPy arrays, on the host's stream.

Hosts with the OFX CUDA extension (DaVinci Resolve) hand over device pointers and a
``cudaStream_t``. The views below wrap them without copying (``UnownedMemory``:
CuPy neither frees nor keeps them), and all work is queued on the host's stream with
no device synchronisation, as the OFX CUDA extension asks.

Known limitation: a CUDA render here still copies the source to host memory, renders on
the CPU and copies the window back, all ordered on the host's stream (the download waits
for that stream only). It is correct, not fast. The pixel step on the device exists
(:mod:`emotionedit.render.device`, used by ``render --device cuda``) but is not wired in
here yet: it needs torch views of these CuPy arrays on the host's stream and the plate
check done on the device, and a GPU to test them on. CuPy is imported lazily: hosts
without CUDA never load it.

The host frees its images once its render thread gives up on a frame (at the node's time
limit), so the device memory is used only inside ``host_access``: the node's render
thread waits for the download and the upload, never for the render in between, and once
it has given up nothing more is queued on the host's memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np

from .errors import FrameAbandoned, GpuUnavailable


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


def render_on_device(render_host: Callable[[np.ndarray, np.ndarray], None], src_view: Mapping, dst_view: Mapping,
                     stream_pointer: int, host_access: Callable[[bool], bool] | None = None) -> None:
    """Render a CUDA frame through the CPU engine, ordered on the host's stream.

    render_host(src, dst): the CPU render (numpy arrays, top row first).
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
        src = device_array(cupy, src_view)
        dst = device_array(cupy, dst_view)
        with using_host_memory(host_access):
            host_src = cupy.asnumpy(src, stream=stream)  # waits for this stream's earlier work, not the device's
        host_dst = np.empty(dst.shape, dst.dtype)
        render_host(host_src, host_dst)  # private memory: the node may give up on the frame meanwhile
        with using_host_memory(host_access):
            # Upload into a stream-ordered temporary, then a strided copy kernel into the host's window.
            dst[...] = cupy.asarray(host_dst)
            if not stream_pointer:
                stream.synchronize()
