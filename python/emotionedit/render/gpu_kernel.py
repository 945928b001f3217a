"""The pixel step on an NVIDIA GPU as one kernel launch: ``cuda/resample.cu``, compiled at run time by NVRTC
through CuPy.

The torch operations of :mod:`.device` express the same rule in some sixty launches over the face's pixels,
each reading and writing its temporaries in device memory; this kernel reads each pixel's footprint once and
writes the pixel once. Its code is also compiled into the CPU module (``_resample.resample_gpu_code``), where
the tests check it against the CPU kernel on every commit; on a GPU the pixels are the CPU's bit for bit
(no FMA contraction, the same float32 operations in the same order, the same half-float conversions).

The plan's arrays (the matte, the field's compact grid and layers, the shading gain) go up in one asynchronous
copy from pinned memory; the kernel and the copy are queued on torch's current stream (an OpenFX host's stream,
under the node's ``torch.cuda.ExternalStream``); nothing waits for the device.
"""

from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from .pixels import Resampling
from .shading import Shading

log = logging.getLogger(__name__)

_SOURCE = Path(__file__).with_name("cuda")
_RULE_MARK = "/* rule.h */"
# The kernel's pixel types (resample.cu's EE_PIXEL).
_PIXEL = {torch.uint8: 0, torch.uint16: 1, torch.float16: 2, torch.float32: 3}
_NUMPY = {torch.uint8: np.uint8, torch.uint16: np.uint16, torch.float16: np.float16, torch.float32: np.float32}
_BLOCK = 256
#: Whether the fused kernel is used where it can be (tests switch it off to run the torch operations on a GPU).
ENABLED = True


def source() -> str:
    """The kernel's CUDA source with rule.h pasted in (CuPy's compile cache keys on the text itself)."""
    text = (_SOURCE / "resample.cu").read_text()
    if _RULE_MARK not in text:
        raise RuntimeError(f"{_SOURCE / 'resample.cu'} lost its {_RULE_MARK} mark")
    return text.replace(_RULE_MARK, (_SOURCE / "rule.h").read_text().replace("#pragma once", ""))


@functools.cache
def _function(pixel: int, channels: int, device_index: int):
    import cupy

    with cupy.cuda.Device(device_index):
        module = cupy.RawModule(code=source(), options=("--fmad=false", "--std=c++14", f"-DEE_PIXEL={pixel}",
                                                        f"-DEE_CHANNELS={channels}"))
        return module.get_function("resample")


@functools.cache
def usable(device_index: int) -> bool:
    """Whether CuPy is there and compiles the kernel for this GPU (else the torch operations render; said once)."""
    try:
        _function(_PIXEL[torch.float32], 4, device_index)
        return True
    except Exception as exc:  # no CuPy, no NVRTC, a driver too old for the GPU: the torch path still renders
        log.warning("the fused CUDA kernel is not available (%s: %s); the GPU renders through torch operations",
                    type(exc).__name__, exc)
        return False


def applies(target: torch.Tensor) -> bool:
    """Whether :func:`resample` renders into ``target`` (a CUDA tensor of a plate type, channels adjacent)."""
    return (ENABLED and target.device.type == "cuda" and target.dtype in _PIXEL and 1 <= target.shape[2] <= 4
            and target.stride(2) == 1 and usable(_index(target.device)))


def _index(device: torch.device) -> int:
    return device.index if device.index is not None else torch.cuda.current_device()


def _pinned(count: int) -> torch.Tensor:
    """float32 host memory the GPU copies from asynchronously (page-locked, from torch's caching host allocator)."""
    return torch.empty(count, dtype=torch.float32, pin_memory=True)


def _tensor(values: np.ndarray) -> torch.Tensor:
    """A host array as a torch tensor over the same memory (torch wants writable arrays: a read-only one is copied)."""
    return torch.from_numpy(values if values.flags.writeable else values.copy())


def _view(pixels: torch.Tensor, flipped: bool) -> tuple[int, int, int]:
    """(address of the picture's top-left pixel, row stride, pixel stride) in bytes; rows bottom-up when flipped."""
    size = pixels.element_size()
    row, pixel = pixels.stride(0) * size, pixels.stride(1) * size
    if flipped:
        return pixels.data_ptr() + (pixels.shape[0] - 1) * row, -row, pixel
    return pixels.data_ptr(), row, pixel


class Planes:
    """A plan's arrays on the device, in one buffer: the matte over the region, the field's grid and layers
    (compact: the kernel expands them per pixel), the shading as the kernel multiplies it into ``dtype`` plates of
    ``channels`` channels (the skin detail's coarse grid, expanded per pixel too; the mouth corridor's small plane,
    or one per colour), the layers' boxes."""

    def __init__(self, plan: Resampling, shading: Shading | tuple | None, channels: int, dtype: torch.dtype,
                 device: torch.device):
        region = plan.region
        self.plan, self.channels, self.dtype = plan, channels, dtype
        self.count = region.height * region.width
        field = plan.field
        gain, self.gain_shape, self.gain_origin, self.gain_grid = None, None, (0, 0), None
        shading = Shading.of(shading)
        if shading is not None:
            shading = shading.for_plate(channels, np.dtype(_NUMPY[dtype]).kind == "u")
            self.gain_grid = shading.grid_arguments()
            if shading.plane is not None:
                gain = shading.plane.astype(np.float32, copy=False)
                # Plane by plane ((3, h, w)): contiguous copies.
                gain = gain[None] if gain.ndim == 2 else np.moveaxis(gain, -1, 0)
                self.gain_shape = gain.shape
                self.gain_origin = (shading.rect.x0 - region.x0, shading.rect.y0 - region.y0)
        parts = [("matte", plan.matte), ("grid", field.grid), ("values", field.values), ("boxes", field.boxes)]
        if gain is not None:
            parts.append(("gain", gain))
        if self.gain_grid is not None:
            parts.append(("gain_grid", self.gain_grid[0]))
        self.starts, start = {}, 0
        for name, values in parts:
            self.starts[name] = start
            start += values.size
        # One pinned buffer (torch's host allocator keeps it until the copy has run), filled by torch's copies (on
        # all the CPU's threads), then one asynchronous copy up. The boxes travel as their int32 bits.
        host = _pinned(max(start, 1))
        for name, values in parts:
            into = host[self.starts[name] : self.starts[name] + values.size]
            if values.dtype == np.int32:
                into = into.view(torch.int32)
            into.view(values.shape).copy_(_tensor(values))
        # Device memory of torch's, allocated on the current stream: reused only by work queued after ours.
        self.values = host.to(device, non_blocking=True)
        self.field = field

    def address(self, part: str) -> np.uint64:
        """The device address of a part: "matte", "grid", "values", "boxes", "gain" or "gain_grid"."""
        return np.uint64(self.values.data_ptr() + self.starts[part] * self.values.element_size())


def resample(target: torch.Tensor, window: torch.Tensor, plan: Resampling, shading: Shading | tuple | None,
             flipped: bool) -> torch.Tensor:
    """:func:`.device.resample_on_device` in one launch (same arguments, same pixels); returns the count of edited
    pixels kept because of NaN or inf, as a device tensor."""
    return launch(target, window, Planes(plan, shading, target.shape[2], target.dtype, target.device), flipped)


def launch(target: torch.Tensor, window: torch.Tensor, planes: Planes, flipped: bool) -> torch.Tensor:
    """The kernel over ``planes.plan``'s region of ``target`` (see :func:`resample`), queued on torch's current
    stream."""
    import cupy

    device = target.device
    plan = planes.plan
    region = plan.region
    if (target.shape[2], target.dtype) != (planes.channels, planes.dtype):
        raise ValueError("these planes were made for another plate type")
    skipped = torch.zeros((), dtype=torch.int64, device=device)
    _, scale_x, scale_y, field_x0, field_y0, _, _ = planes.field.arguments()
    ny, nx = planes.field.grid.shape[:2]
    field_args = (planes.address("grid"), np.int32(nx), np.int32(ny), np.float32(scale_x), np.float32(scale_y),
                  np.int32(field_x0), np.int32(field_y0), planes.address("boxes"), np.int32(len(planes.field.boxes)),
                  planes.address("values"))
    t_at, t_row, t_pixel = _view(target, flipped)
    w_at, w_row, w_pixel = _view(window, flipped)
    if planes.gain_shape is None:
        gain_args = (np.uint64(0), np.int32(1), np.int32(0), np.int32(0), np.int32(0), np.int32(0), np.int64(0))
    else:
        gain_channels, gain_height, gain_width = planes.gain_shape
        gain_args = (planes.address("gain"), np.int32(gain_channels), np.int32(gain_height), np.int32(gain_width),
                     np.int32(planes.gain_origin[0]), np.int32(planes.gain_origin[1]),
                     np.int64(gain_height * gain_width))
    if planes.gain_grid is None:
        grid_args = (np.uint64(0), np.int32(1), np.int32(1), np.int32(1), np.float32(1), np.float32(1), np.int32(0),
                     np.int32(0))
    else:
        values, grid_scale_x, grid_scale_y, grid_x0, grid_y0 = planes.gain_grid
        grid_args = (planes.address("gain_grid"), np.int32(values.shape[1]), np.int32(values.shape[0]),
                     np.int32(values.shape[2]), np.float32(grid_scale_x), np.float32(grid_scale_y), np.int32(grid_x0),
                     np.int32(grid_y0))
    args = (np.uint64(t_at), np.int64(t_row), np.int64(t_pixel), np.int32(region.height), np.int32(region.width),
            np.uint64(w_at), np.int64(w_row), np.int64(w_pixel), np.int32(window.shape[0]), np.int32(window.shape[1]),
            np.int32(plan.window.x0), np.int32(plan.window.y0), *field_args, planes.address("matte"),
            np.int32(region.x0), np.int32(region.y0), *gain_args, *grid_args, np.uint64(skipped.data_ptr()))
    index = _index(device)
    function = _function(_PIXEL[target.dtype], planes.channels, index)
    stream = torch.cuda.current_stream(device).cuda_stream
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # CuPy 14 deprecates ExternalStream, 13 has no successor
        with cupy.cuda.Device(index), cupy.cuda.ExternalStream(stream, index):
            function(((planes.count + _BLOCK - 1) // _BLOCK,), (_BLOCK,), args)
    return skipped
