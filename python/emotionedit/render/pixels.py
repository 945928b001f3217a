"""Stage 4c: resample the plate through the backward map, inside the matte only.

Every channel is warped (RGB or RGBA; uint8, uint16, float16, float32, in the plate's own type) with
bicubic sampling clamped to the range of the four pixels around the sample: bilinear sampling at a
fractional offset is a blur (it took a tenth of the skin's fine detail off a warped face, and blind viewers
called edits "smoothed, waxy"), the cubic keeps the plate's sharpness, and the clamp keeps its overshoot
from making halos or new extremes, so values above 1 and negative values survive and nothing leaves its
neighbours' range. Non-finite samples (NaN, inf) are not spread: an output pixel whose footprint (the
cubic's 4x4) touches one keeps its source value, and a non-finite pixel stays where it is (the edit neither
moves nor hides a plate's defects).

The per-pixel work is one compiled pass (``cpp/engine/resample.cpp``, :mod:`._resample`): each edited pixel
is computed once from its footprint and written with the skin detail's shading, on all the CPU threads
OpenCV uses. A chain of OpenCV calls took 6-8x a plain copy of a 4K float frame; see docs/design.md.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from .field import Field, Region
from .shading import Shading

try:
    from . import _resample
except ImportError as exc:  # a source checkout whose C++ was never built
    raise ImportError("EmotionEdit's compiled resampling kernel (cpp/engine) is not built: run `make setup` "
                      "(or `pip install -e .`) in the repository") from exc


@dataclass(frozen=True)
class Resampling:
    """Where each pixel of ``region`` samples the source: the pixel-free half of :func:`warp_into`.

    region: the output pixels; window: the source pixels the samples reach (their bounds plus the cubic's
    footprint), clipped to the plate. field: the backward map (compact; the kernels expand it per pixel);
    matte: (region.height, region.width) float32: the pixel at (x, y) with displacement (dx, dy) samples
    (x + matte * dx, y + matte * dy), and is edited where matte > 0.
    """

    region: Region
    window: Region
    field: Field
    matte: np.ndarray

    @functools.cached_property
    def _offsets(self) -> tuple[np.ndarray, np.ndarray]:
        return self.field.offsets(self.region)

    @property
    def offset_x(self) -> np.ndarray:
        """The field's x displacement at every pixel of the region, (h, w) float32 (spelled out on first use)."""
        return self._offsets[0]

    @property
    def offset_y(self) -> np.ndarray:
        """The field's y displacement at every pixel of the region."""
        return self._offsets[1]

    def cropped(self, part: Region) -> Resampling:
        """The same resampling for ``part`` of the region only (same field and window: same samples, bit for bit)."""
        return Resampling(part, self.window, self.field, self.matte[part.within(self.region)])


def threads() -> int:
    """The kernel's worker threads: as many as OpenCV uses (the process's choice, cv2.setNumThreads)."""
    return max(1, cv2.getNumThreads())


def plan_resampling(offset_x: np.ndarray, offset_y: np.ndarray, matte: np.ndarray, region: Region, width: int,
                    height: int) -> Resampling:
    """:func:`resampling_of` a map given at every pixel: offset_x, offset_y (h, w) over ``region``."""
    return resampling_of(Field.of_offsets(offset_x, offset_y, region), matte, region, width, height)


def resampling_of(field: Field, matte: np.ndarray, region: Region, width: int, height: int) -> Resampling:
    """The resampling of ``region`` by a backward map faded out with the matte, and the source window it reads.

    field: the map; its pixel (x, y) samples (x + dx, y + dy) where the matte is 1, (x + matte * dx, ...) where it
    is between 0 and 1; matte: (h, w) over ``region`` in [0, 1]. width, height: the plate's size in pixels.
    Reads no pixels; keeps the matte (a float32 one without a copy). The window holds every sample the field
    can reach from the region (from the map's extremes, a pixel to spare for rounding): a larger window than the
    samples need reads the same pixels.
    """
    matte = np.asarray(matte, dtype=np.float32)
    low_x, low_y, high_x, high_y = field.reach()
    if math.isnan(low_x):
        raise ValueError("the backward map holds NaN")
    # Sample from a window just big enough for the map: the cubic reads floor - 1 .. floor + 2.
    wx0 = max(0, _floor(region.x0 + low_x) - 2)
    wy0 = max(0, _floor(region.y0 + low_y) - 2)
    wx1 = min(width, _floor(region.x1 - 1 + high_x) + 4)
    wy1 = min(height, _floor(region.y1 - 1 + high_y) + 4)
    # A map entirely off the plate still samples its border pixels (replicated): keep the window non-empty.
    wx0, wy0 = min(wx0, width - 1), min(wy0, height - 1)
    wx1, wy1 = max(wx1, wx0 + 1), max(wy1, wy0 + 1)
    return Resampling(region, Region(wx0, wy0, wx1, wy1), field, matte)


def _floor(value: float) -> int:
    """floor, for the bounds of sample positions (inf: far past any plate)."""
    return math.floor(min(max(value, -1e9), 1e9))


def resample_into(target: np.ndarray, window: np.ndarray, plan: Resampling,
                  shading: Shading | tuple[Region, np.ndarray] | None = None) -> int:
    """The pixel half of :func:`warp_into`: write the warped face into ``target`` where ``plan.matte > 0``.

    target: (h, w, C) the output over ``plan.region``, holding the source's pixels there on entry
    (it may be the source itself). window: (h', w', C) the source over ``plan.window``, same dtype
    (it may overlap ``target``: it is read before ``target`` is written).
    shading: the linear-light gain multiplied into the colour channels of the written pixels
    (:func:`.detail.shade_into`'s rule) after fading it with the matte, 1 + matte * (gain - 1): a
    :class:`.shading.Shading`, or a rectangle of plate pixels inside the region and its (h, w) float32 gain (or
    (h, w, 3), one per colour channel). None: none.
    Returns the number of pixels left unedited because they or their footprint held NaN or inf.
    """
    if np.may_share_memory(target, window):
        window = window.copy()  # an in-place render: samples must be read before their pixels are written
    gain, gx0, gy0, grid = None, 0, 0, None
    shading = Shading.of(shading)
    if shading is not None:
        shading = shading.for_plate(target.shape[2], np.dtype(target.dtype).kind == "u")
        grid = shading.grid_arguments()
        if shading.plane is not None:
            gain, gx0, gy0 = shading.plane, shading.rect.x0 - plan.region.x0, shading.rect.y0 - plan.region.y0
    return _resample.resample(target, _channels_adjacent(window), plan.window.x0, plan.window.y0,
                              plan.field.arguments(), plan.matte, plan.region.x0, plan.region.y0, gain, gx0, gy0,
                              threads(), grid)


def _channels_adjacent(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` itself when its channels lie side by side in memory (rows and pixels at any stride), else a copy."""
    return pixels if pixels.strides[2] == pixels.itemsize else np.ascontiguousarray(pixels)


def warp_into(dst: np.ndarray, src: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, matte: np.ndarray,
              region: Region) -> int:
    """Write the warped face into ``dst`` over ``region``; pixels where ``matte == 0`` are left alone.

    dst, src: (H, W, C) arrays of one dtype and shape (``dst`` may be ``src`` only if the
    caller does not need the source afterwards: sampling reads a private window copy).
    map_x, map_y: (h, w) float32 absolute source coordinates; matte: (h, w) float32.
    Returns the number of pixels left unedited because they or their footprint held NaN or inf.
    :func:`plan_resampling` then :func:`resample_into`, on the whole plate.
    """
    if dst.shape != src.shape or dst.dtype != src.dtype:
        raise ValueError(f"dst {dst.shape} {dst.dtype} must match src {src.shape} {src.dtype}")
    height, width = src.shape[:2]
    offset_x = map_x - np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    offset_y = map_y - np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    plan = plan_resampling(offset_x, offset_y, matte, region, width, height)
    target = dst[region.y0 : region.y1, region.x0 : region.x1]
    window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
    if dst is not src:
        # dst's region must hold the source first where the edit does not reach.
        target[...] = src[region.y0 : region.y1, region.x0 : region.x1]
    return resample_into(target, window, plan)
