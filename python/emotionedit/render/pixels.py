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

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .detail import shade_into
from .field import Region

_NATIVE = (np.uint8, np.uint16, np.float32)
_PAIR = np.ones((2, 2), np.uint8)  # a sample's bilinear neighbours
_FOOTPRINT = np.ones((4, 4), np.uint8)  # a bicubic sample's footprint
# Output rows per band of resample_into and of the map's blend: their intermediates stay in cache.
_BAND = 32
_BLEND_BAND = 64


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
                    height: int, overwrite: bool = False) -> Resampling:
    """Blend the backward map toward identity by the matte and find the source window it samples.

    map_x, map_y: (h, w) float32 absolute source coordinates over ``region``; matte: (h, w) float32.
    width, height: the plate's size in pixels. overwrite: the blend may be written over map_x and map_y
    (the caller's own, not used after). Reads no pixels.
    """
    # Blend the map toward identity by the matte (a soft edge, never a cross-fade of two images):
    # xs + matte * (map_x - xs), in bands of rows that stay in cache, with the blend's bounds.
    xs = np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    ys = np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    overwrite = overwrite and map_x.dtype == np.float32 and map_y.dtype == np.float32
    blend_x = map_x if overwrite else np.empty(matte.shape, np.float32)
    blend_y = map_y if overwrite else np.empty(matte.shape, np.float32)
    low, high = [np.inf, np.inf], [-np.inf, -np.inf]
    for r0 in range(0, matte.shape[0], _BLEND_BAND):
        rows = slice(r0, r0 + _BLEND_BAND)
        for axis, (values, grid, out) in enumerate(((map_x, xs, blend_x), (map_y, ys[rows], blend_y))):
            out = out[rows]
            np.subtract(values[rows], grid, out=out)
            out *= matte[rows]
            out += grid
            low[axis] = float(np.minimum(low[axis], out.min()))  # NaN stays NaN (and fails below)
            high[axis] = float(np.maximum(high[axis], out.max()))
    # Sample from a window just big enough for the map.
    wx0 = max(0, int(np.floor(low[0])) - 1)
    wy0 = max(0, int(np.floor(low[1])) - 1)
    wx1 = min(width, int(np.ceil(high[0])) + 2)
    wy1 = min(height, int(np.ceil(high[1])) + 2)
    blend_x -= np.float32(wx0)
    blend_y -= np.float32(wy0)
    return Resampling(region, Region(wx0, wy0, wx1, wy1), blend_x, blend_y, matte > 0)


def resample_into(target: np.ndarray, window: np.ndarray, plan: Resampling,
                  shading: tuple[Region, np.ndarray] | None = None) -> int:
    """The pixel half of :func:`warp_into`: write the warped face into ``target`` where ``plan.edit``.

    target: (h, w, C) the output over ``plan.region``, holding the source's pixels there on entry
    (it may be the source itself). window: (h', w', C) the source over ``plan.window``, same dtype
    (it may overlap ``target``: it is read before ``target`` is written).
    shading: (rect, gain) multiplied into the colour channels afterwards (:func:`.detail.shade_into`):
    a rectangle of plate pixels inside the region and its (h, w) float32 gain, which must be exactly 1
    wherever ``plan.edit`` is False. None: none.
    Returns the number of pixels left unedited because they or their footprint held NaN or inf.

    The work runs in bands of output rows, each on the source rows and columns its samples reach (so
    every intermediate stays in cache) and on the columns its edited pixels span; each sample is
    computed exactly as on the whole window. A band whose samples or pixels hold NaN or inf hands the
    rest of the region to :func:`_resample_whole`, the exact per-pixel treatment.
    """
    native = window.dtype.type in _NATIVE
    if not native:
        work = window.astype(np.float32)
    elif np.may_share_memory(target, window) or not _cv_layout(window):
        # An in-place render (later bands read what earlier ones overwrite), or a layout cv2 would copy on
        # every call (the OFX bridge's bottom-up rows).
        work = window.copy()
    else:
        work = window
    direct = _cv_layout(target)  # else each band is written through a copy cv2 can write into
    checked = work.dtype.kind == "f"
    fused = shading is not None and target.dtype == np.float32
    edit, map_x, map_y = plan.edit, plan.map_x, plan.map_y
    height = edit.shape[0]
    for r0 in range(0, height, _BAND):
        r1 = min(height, r0 + _BAND)
        cols = np.flatnonzero(edit[r0:r1].any(axis=0))
        if cols.size == 0:
            continue
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        mx, my = map_x[r0:r1, c0:c1], map_y[r0:r1, c0:c1]
        out = target[r0:r1, c0:c1] if direct else np.ascontiguousarray(target[r0:r1, c0:c1])
        # The part of the window the band's samples reach, and the maps relative to it: offsets by whole
        # pixels are exact in float32, so the samples are the whole window's.
        sx0, sx1 = _reach(mx, work.shape[1])
        sy0, sy1 = _reach(my, work.shape[0])
        source = work[sy0:sy1, sx0:sx1]
        mx = mx - np.float32(sx0)
        my = my - np.float32(sy0)
        # An opaque band (alpha exactly 1 wherever it samples) keeps alpha 1: the clamp bounds it to [1, 1].
        # Its colour alone is sampled (a quarter of the work).
        opaque = source.shape[2] == 4 and source.dtype == np.float32 and _all_one(source)
        samples = cv2.cvtColor(source, cv2.COLOR_RGBA2RGB) if opaque else source
        warped = cv2.remap(samples, mx, my, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        # Every sample weighs all 16 pixels of its footprint (0 * inf is NaN): finite samples mean finite
        # footprints. With finite pixels under them too, the exact treatment would write the same.
        if checked and not (_finite(warped) and _finite(out)):
            # The exact NaN/inf treatment from here on (bands above are already what it writes).
            rest = Region(plan.region.x0, plan.region.y0 + r0, plan.region.x1, plan.region.y1)
            skipped = _resample_whole(target[r0:], work, plan.cropped(rest))
            if shading is not None:
                _shade_rows(target, plan.region, shading, r0 if fused else 0, height)
            return skipped
        if warped.ndim == 2:
            warped = warped[..., None]
        # The sample's 2x2 neighbours (top-left at floor(x), floor(y)): their min and max bound the cubic.
        mx -= 0.5  # nearest sampling rounds: this picks floor(x), floor(y)
        my -= 0.5
        low = cv2.remap(cv2.erode(samples, _PAIR, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE), mx, my,
                        interpolation=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        high = cv2.remap(cv2.dilate(samples, _PAIR, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE), mx, my,
                         interpolation=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        # np.clip's max-then-min (low <= high, and every value is finite here).
        cv2.max(warped, low.reshape(warped.shape), dst=warped)
        cv2.min(warped, high.reshape(warped.shape), dst=warped)
        if opaque:
            warped = cv2.cvtColor(warped, cv2.COLOR_RGB2RGBA)  # alpha 1.0 exactly
        if fused:
            _shade_band(warped, plan.region, shading, r0, r1, c0, c1)
        mask = edit[r0:r1, c0:c1].view(np.uint8)
        cv2.copyTo(warped.astype(target.dtype, copy=False), mask, dst=out)
        if not direct:
            target[r0:r1, c0:c1] = out
    if shading is not None and not fused:
        _shade_rows(target, plan.region, shading, 0, height)
    return 0


def _reach(coords: np.ndarray, size: int) -> tuple[int, int]:
    """[start, stop) of the source pixels that samples at ``coords`` read along an axis of ``size`` pixels:
    the cubic's footprint around the rounded sample (floor - 1 .. floor + 2, floor + 3 once rounded up;
    the clamp's 2x2 lies inside it) with a pixel to spare, clipped, so the sub-window's edge is the
    window's wherever a footprint crosses it. The start is even: cv2 rounds half to even, so an odd shift
    would round a sample's ties the other way."""
    lo, hi = (math.floor(float(v)) for v in (coords.min(), coords.max()))
    return min(max(0, lo - 2), size - 1) & ~1, max(1, min(size, hi + 5))


def _cv_layout(pixels: np.ndarray) -> bool:
    """Whether cv2 reads and writes (h, w, C) ``pixels`` in place: whole pixels, rows top-down."""
    item = pixels.itemsize
    return pixels.strides[2] == item and pixels.strides[1] == item * pixels.shape[2] and \
        pixels.strides[0] >= item * pixels.shape[2] * pixels.shape[1]


def _all_one(pixels: np.ndarray) -> bool:
    """Whether the alpha (the fourth channel) of float32 ``pixels`` is exactly 1 everywhere (NaN is not)."""
    alpha = cv2.extractChannel(pixels, 3)
    return cv2.countNonZero(cv2.compare(alpha, 1.0, cv2.CMP_NE)) == 0


def _finite(values: np.ndarray) -> bool:
    """Whether every value is finite (integers always are)."""
    if values.dtype == np.float32:
        # A sum in float64 cannot overflow on finite float32 values: only NaN or inf make it non-finite
        # (a few times faster than cv2.checkRange).
        return math.isfinite(sum(cv2.sumElems(values)))
    return values.dtype.kind != "f" or bool(np.isfinite(values).all())


def _shade_band(warped: np.ndarray, region: Region, shading: tuple[Region, np.ndarray], r0: int, r1: int,
                c0: int, c1: int) -> None:
    """Multiply a band's float32 samples (rows r0:r1, columns c0:c1 of ``region``) by the shading gain
    there, alpha by exactly 1; as :func:`.detail.shade_into` on the written pixels, bit for bit."""
    rect, gain = shading
    band = Region(region.x0 + c0, region.y0 + r0, region.x0 + c1, region.y0 + r1)
    part = rect.intersection(band)
    if part.empty:
        return
    factor = gain[part.within(rect)]
    channels = warped.shape[2]
    if channels == 4:
        factor = cv2.cvtColor(factor, cv2.COLOR_GRAY2BGRA)  # alpha's factor is 1.0
    elif channels == 3:
        factor = cv2.cvtColor(factor, cv2.COLOR_GRAY2BGR)
    else:
        factor = np.ascontiguousarray(np.broadcast_to(factor[..., None], factor.shape + (channels,)))
    samples = warped[part.within(band)]
    cv2.multiply(samples, factor.reshape(samples.shape), dst=samples)


def _shade_rows(target: np.ndarray, region: Region, shading: tuple[Region, np.ndarray], r0: int, r1: int) -> None:
    """:func:`.detail.shade_into` on rows r0:r1 of ``target`` (the pixels of ``region``)."""
    rect, gain = shading
    part = rect.intersection(Region(region.x0, region.y0 + r0, region.x1, region.y0 + r1))
    if not part.empty:
        shade_into(target[part.within(region)], gain[part.within(rect)])


def _resample_whole(target: np.ndarray, work: np.ndarray, plan: Resampling) -> int:
    """:func:`resample_into` on the whole window at once, with the exact per-pixel NaN/inf treatment.

    work: the window's pixels in a dtype cv2 samples (uint8, uint16 or float32); target as there.
    """
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
