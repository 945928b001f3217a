"""A RENDER message, checked and turned into what the node module takes.

The node module (``emotionedit.node``) receives the same request dict from both
transports (see ``cpp/bridge/bridge.cpp``, ``frame_dict``): ``time``, ``params``,
``dtype``, ``components``, ``premultiplication``, ``src_bounds``, ``dst_bounds``,
``window`` (OFX pixel rectangles x1, y1, x2, y2, y up), ``render_scale`` and ``cuda``.
Here it arrives as protocol fields; parameters are the fields named ``p:<script name>``.

Where the pixels are: on a CPU render, the whole source and the render window lie in
the connection's segment, packed, top row first, at ``src_offset`` and ``dst_offset``.
On a CUDA render they stay in the host's device memory, shared by CUDA IPC handles
(see :mod:`emotionedit.server.cuda_ipc`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .protocol import ProtocolError, field

DTYPES = ("uint8", "uint16", "float16", "float32")
#: The widest and tallest image accepted (OFX hosts top out around 16K).
MAX_SIDE = 1 << 16
_COORDINATE = 1 << 30
PARAM_PREFIX = "p:"


def checked_rect(fields: dict, name: str) -> tuple[int, int, int, int]:
    """An OFX rectangle (x1, y1, x2, y2) that is non-empty and at most MAX_SIDE on a side."""
    rect = field(fields, name, tuple, 4)
    if not all(isinstance(v, int) and abs(v) <= _COORDINATE for v in rect):
        raise ProtocolError(f"{name} must be 4 integers within +-{_COORDINATE}, got {rect}")
    x1, y1, x2, y2 = rect
    if not (0 < x2 - x1 <= MAX_SIDE and 0 < y2 - y1 <= MAX_SIDE):
        raise ProtocolError(f"{name} {rect} is empty or over {MAX_SIDE} pixels on a side")
    return rect


@dataclass(frozen=True)
class FrameRequest:
    """One frame to render, checked."""

    request: dict  # for the node module's prepare()
    dtype: np.dtype
    src_shape: tuple[int, int, int]  # (H, W, C) of the whole source, top row first
    dst_shape: tuple[int, int, int]  # (h, w, C) of the render window
    src_offset: int  # CPU renders: byte offsets in the segment
    dst_offset: int
    purge: bool  # drop the engine's caches first

    @property
    def src_bytes(self) -> int:
        return int(np.prod(self.src_shape)) * self.dtype.itemsize

    @property
    def dst_bytes(self) -> int:
        return int(np.prod(self.dst_shape)) * self.dtype.itemsize


def parse_frame(fields: dict) -> FrameRequest:
    """Check a RENDER message's fields; raises :class:`ProtocolError` naming the first bad one."""
    dtype_name = field(fields, "dtype", str)
    if dtype_name not in DTYPES:
        raise ProtocolError(f"dtype {dtype_name!r} is not one of {DTYPES}")
    dtype = np.dtype(dtype_name)
    components = field(fields, "components", int)
    if components not in (3, 4):
        raise ProtocolError(f"components must be 3 or 4, got {components}")
    src = checked_rect(fields, "src_bounds")
    dst = checked_rect(fields, "dst_bounds")
    window = checked_rect(fields, "window")
    if not (dst[0] <= window[0] and dst[1] <= window[1] and window[2] <= dst[2] and window[3] <= dst[3]):
        raise ProtocolError(f"the render window {window} is not inside the output's bounds {dst}")
    scale = field(fields, "render_scale", tuple, 2)
    if not all(isinstance(v, int | float) and 0 < v <= 1e6 for v in scale):
        raise ProtocolError(f"render_scale must be two positive numbers, got {scale}")
    time = field(fields, "time", float)
    if time != time or abs(time) > 1e12:
        raise ProtocolError(f"time {time} is not a usable frame time")
    cuda = field(fields, "cuda", int)
    params = {name[len(PARAM_PREFIX):]: value for name, value in fields.items() if name.startswith(PARAM_PREFIX)}
    request = {
        "time": time,
        "params": params,
        "dtype": dtype_name,
        "components": components,
        "premultiplication": field(fields, "premultiplication", str),
        "src_bounds": src,
        "dst_bounds": dst,
        "window": window,
        "render_scale": tuple(float(v) for v in scale),
        "cuda": bool(cuda),
    }
    frame = FrameRequest(
        request=request,
        dtype=dtype,
        src_shape=(src[3] - src[1], src[2] - src[0], components),
        dst_shape=(window[3] - window[1], window[2] - window[0], components),
        src_offset=0 if cuda else field(fields, "src_offset", int),
        dst_offset=0 if cuda else field(fields, "dst_offset", int),
        purge=bool(fields.get("purge", 0)),
    )
    if not cuda:
        src_end, dst_end = frame.src_offset + frame.src_bytes, frame.dst_offset + frame.dst_bytes
        if frame.src_offset < dst_end and frame.dst_offset < src_end:
            raise ProtocolError(f"the source (bytes {frame.src_offset}-{src_end}) and the window (bytes "
                                f"{frame.dst_offset}-{dst_end}) overlap in the segment")
    return frame
