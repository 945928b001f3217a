"""Stage 4c: resample the plate through the backward map, inside the matte only.

Every channel is warped (RGB or RGBA; uint8, uint16, float16, float32) with
bicubic sampling clamped to the range of the four pixels around the sample: bilinear
sampling at a fractional offset is a blur (it took a tenth of the skin's fine detail off a
warped face, and blind viewers called edits "smoothed, waxy"), the cubic keeps the plate's
sharpness, and the clamp keeps its overshoot from making halos or new extremes, so values
above 1 and negative values survive and nothing leaves its neighbours' range. Non-finite
samples (NaN, inf) are not spread: an output pixel whose footprint (the cubic's 4x4) touches
one keeps its source value, and a non-finite pixel stays where it is (the edit neither moves
nor hides a plate's defects).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .field import Region

_NATIVE = (np.uint8, np.uint16, np.float32)
_PAIR = np.ones((2, 2), np.uint8)  # a sample's bilinear neighbours
_FOOTPRINT = np.ones((4, 4), np.uint8)  # a bicubic sample's footprint


@dataclass(frozen=True)
class Resampling:
    """Where each pixel of ``region`` samples the source: the pixel-free half of :func:`warp_into`.

    region: the output pixels (the maps' rectangle); window: the source pixels the samples reach
    (the map's bounds plus the bilinear footprint), clipped to the plate.
    map_x, map_y: (region.height, region.width) float32 sampling coordinates relative to the
    window's top-left, blended toward identity by the matte; edit: (h, w) bool, where matte > 0.
    """

    region: Region
    window: Region
    map_x: np.ndarray
    map_y: np.ndarray
    edit: np.ndarray

    def cropped(self, part: Region) -> Resampling:
        """The same resampling for ``part`` of the region only (same window: same samples, bit for bit)."""
        inside = part.within(self.region)
        return Resampling(part, self.window, self.map_x[inside], self.map_y[inside], self.edit[inside])


def plan_resampling(map_x: np.ndarray, map_y: np.ndarray, matte: np.ndarray, region: Region, width: int,
                    height: int) -> Resampling:
    """Blend the backward map toward identity by the matte and find the source window it samples.

    map_x, map_y: (h, w) float32 absolute source coordinates over ``region``; matte: (h, w) float32.
    width, height: the plate's size in pixels. Reads no pixels.
    """
    # Blend the map toward identity by the matte (a soft edge, never a cross-fade of two images).
    xs = np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    ys = np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    map_x = xs + matte * (map_x - xs)
    map_y = ys + matte * (map_y - ys)
    # Sample from a window just big enough for the map.
    wx0 = max(0, int(np.floor(map_x.min())) - 1)
    wy0 = max(0, int(np.floor(map_y.min())) - 1)
    wx1 = min(width, int(np.ceil(map_x.max())) + 2)
    wy1 = min(height, int(np.ceil(map_y.max())) + 2)
    return Resampling(region, Region(wx0, wy0, wx1, wy1), map_x - wx0, map_y - wy0, matte > 0)


def resample_into(target: np.ndarray, window: np.ndarray, plan: Resampling) -> int:
    """The pixel half of :func:`warp_into`: write the warped face into ``target`` where ``plan.edit``.

    target: (h, w, C) the output over ``plan.region``, holding the source's pixels there on entry
    (it may be the source itself). window: (h', w', C) the source over ``plan.window``, same dtype
    (it may overlap ``target``: it is read before ``target`` is written).
    Returns the number of pixels left unedited because they or their footprint held NaN or inf.
    """
    native = window.dtype.type in _NATIVE
    work = np.ascontiguousarray(window if native else window.astype(np.float32))
    skipped = 0
    finite = None
    # cv2.checkRange is one pass with no temporaries: the exact per-pixel test runs only on
    # the rare plate that holds NaN or inf.
    if work.dtype.kind == "f" and not cv2.checkRange(work)[0]:
        finite_px = np.isfinite(work).all(axis=2)
        if not finite_px.all():
            finite = finite_px.astype(np.float32)
            work = np.where(finite_px[..., None], work, 0).astype(work.dtype)
    mx, my = plan.map_x, plan.map_y
    warped = cv2.remap(work, mx, my, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    # The sample's 2x2 neighbours (top-left at floor(x), floor(y)): their min and max bound the cubic.
    corner_x, corner_y = mx - 0.5, my - 0.5  # nearest sampling rounds: this picks floor(x), floor(y)
    low = cv2.remap(cv2.erode(work, _PAIR, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE), corner_x, corner_y,
                    interpolation=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    high = cv2.remap(cv2.dilate(work, _PAIR, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE), corner_x, corner_y,
                     interpolation=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    np.clip(warped, low, high, out=warped)
    if warped.ndim == 2:
        warped = warped[..., None]
    edit = plan.edit
    if finite is not None:
        # Clean where the cubic's whole 4x4 footprint (floor - 1 .. floor + 2) is finite.
        whole = cv2.erode(finite, _FOOTPRINT, anchor=(1, 1), borderType=cv2.BORDER_REPLICATE)
        reach = cv2.remap(whole, corner_x, corner_y, interpolation=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        clean = (reach >= 1.0 - 1e-6) & np.isfinite(target).all(axis=2)
        skipped = int((edit & ~clean).sum())
        edit = edit & clean
    _copy_where(target, warped.astype(target.dtype, copy=False), edit)
    return skipped


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
    plan = plan_resampling(map_x, map_y, matte, region, width, height)
    target = dst[region.y0 : region.y1, region.x0 : region.x1]
    window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
    if dst is not src:
        # dst's region must hold the source first where the edit does not reach.
        target[...] = src[region.y0 : region.y1, region.x0 : region.x1]
    return resample_into(target, window, plan)


def _copy_where(target: np.ndarray, values: np.ndarray, mask: np.ndarray) -> None:
    """``target[mask] = values[mask]`` for (h, w, C) arrays and an (h, w) mask.

    A masked copy broadcast over channels is several times slower than plain slice
    copies, and the matte is one convex-ish blob: copy each row's span from its first to
    its last masked pixel, then put back the few unmasked pixels a span swept over.
    """
    covered = mask.any(axis=1)
    rows = np.flatnonzero(covered)
    if rows.size == 0:
        return
    width = mask.shape[1]
    first = mask.argmax(axis=1)
    last = width - mask[:, ::-1].argmax(axis=1)
    cols = np.arange(width)
    swept = (cols[None, :] >= first[:, None]) & (cols[None, :] < last[:, None]) & ~mask & covered[:, None]
    ys, xs = np.nonzero(swept)
    kept = target[ys, xs].copy() if ys.size else None
    for y in rows:
        target[y, first[y] : last[y]] = values[y, first[y] : last[y]]
    if kept is not None:
        target[ys, xs] = kept
