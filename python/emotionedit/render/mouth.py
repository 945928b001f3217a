"""Stage 4b': the mouth's interior, a layer of its own behind the lips.

Teeth are rigid. The upper row stays with the skull (the head's pose is not edited, so it does
not move), the lower row moves with the jaw (a translation by the chin's displacement); the
tongue and the dark cavity are sampled with whichever row they lie behind. The lips move over
that layer: the smooth field (:func:`~emotionedit.render.field.backward_map`) moves them, and
inside the *edited* inner-lip contour the interior layer is sampled instead.

Each pixel belongs to one row, decided by where it lies relative to the gap between the rows
(a narrow soft band, so the map never bends across a tooth). Where the edit uncovers more than
the source shows (a wider smile, corners drawn down, the lips parted wider), the rigid layer
would sample the source's lips: there it is continued by reflecting the sample back into the
source's opening across its edge. A mirror keeps the interior's texture at its own scale (dark
cavity next to a corner stays dark cavity; no pixel is stretched into a streak) and meets the
rigid part without a seam; far from the edge the reflection's depth saturates, so it never
crosses the opening.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..fit import topology as topo
from .field import Region

# Lips closer than this (pixels) show no teeth: the mouth's interior is then left to the smooth
# field, or the sliver between the lips would be sampled from the unmoved source (a double edge).
OPEN_MOUTH_PX = (2.0, 5.0)
# Feather of the interior layer's edge, the edited inner lips (IOD): ~1 px on a 360p face, 4 px at 4K.
MOUTH_FEATHER_IOD = 0.015
# Where the gap between the teeth rows is assumed: this fraction of the way from the source's
# upper inner lip down to its lower inner lip (per column).
TEETH_GAP = 0.5
# Width of the soft band between the upper and the lower row (IOD): narrow, so no tooth bends.
ROW_BAND_IOD = 0.02
# Samples that leave the source's opening are mirrored back this far inside its inner-lip contour
# (IOD). 0: a margin would also move the rim where the lips did not move (0.03 kept more lip colour
# out of the fill but changed unmoved mouths, and read worse in the rigidity measure).
LIP_MARGIN_IOD = 0.0
# Past the opening's corners, samples are mirrored into this outer fraction of its width.
FILL_SIDE = 0.25


def inner_lip_polygon(points: np.ndarray) -> np.ndarray:
    """The inner-lip contour of (478, 2) points as a closed ring, (20, 2) in the points' units."""
    ring = list(topo.LIPS_INNER_UPPER) + list(topo.LIPS_INNER_LOWER[-2:0:-1])
    return points[ring, :2]


def mouth_openness(source: np.ndarray) -> float:
    """0 for closed lips, 1 for lips far enough apart to show the interior, from (478, 2) plate pixels."""
    aperture = float(np.linalg.norm(source[14, :2] - source[13, :2]))
    low, high = OPEN_MOUTH_PX
    return float(np.clip((aperture - low) / (high - low), 0.0, 1.0))


def mouth_interior(source: np.ndarray, target: np.ndarray, region: Region
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the edited frame shows the mouth's interior, and the interior's backward map.

    source, target: (478, 2) float plate pixels of the tracked face and its edited position.
    Returns (weight, map_x, map_y), each (region.height, region.width) float32: weight in [0, 1]
    (the edited inner lips, feathered, times the source's openness), map_x/map_y absolute source
    coordinates of :func:`interior_map` (identity where weight is 0). None for a closed mouth.
    The caller blends its field toward this map by the weight: ``map += weight * (interior - map)``.
    """
    openness = mouth_openness(source)
    if openness == 0.0:
        return None
    iod = float(topo.interocular(source[None])[0])
    box = _mouth_box(source, target, region, iod)
    if box.empty:
        return None
    sigma = max(0.5, MOUTH_FEATHER_IOD * iod)
    weight = cv2.GaussianBlur(_polygon_mask(inner_lip_polygon(target), box), (0, 0), sigma) * np.float32(openness)
    found = interior_map(source, target, box)
    if found is None:
        return None
    xs = np.arange(region.x0, region.x1, dtype=np.float32)
    ys = np.arange(region.y0, region.y1, dtype=np.float32)
    full_w = np.zeros((region.height, region.width), np.float32)
    full_x = np.repeat(xs[None, :], region.height, axis=0)
    full_y = np.repeat(ys[:, None], region.width, axis=1)
    inside = (slice(box.y0 - region.y0, box.y1 - region.y0), slice(box.x0 - region.x0, box.x1 - region.x0))
    full_w[inside], full_x[inside], full_y[inside] = weight, found[0], found[1]
    return full_w, full_x, full_y


def interior_map(source: np.ndarray, target: np.ndarray, box: Region) -> tuple[np.ndarray, np.ndarray] | None:
    """Backward map of the interior layer over ``box``: rigid rows, kept inside the source's opening.

    :func:`teeth_rows`, then :func:`keep_inside_opening`. Returns map_x, map_y (box.height,
    box.width) float32 absolute source coordinates, or None when the source shows no opening.
    """
    map_x, map_y = teeth_rows(source, target, box)
    return keep_inside_opening(source, map_x, map_y)


def teeth_rows(source: np.ndarray, target: np.ndarray, box: Region) -> tuple[np.ndarray, np.ndarray]:
    """Backward map of the two rigid rows over ``box``: upper teeth still, lower teeth with the jaw.

    A pixel belongs to the upper row above the gap between the rows (``TEETH_GAP`` of the way from
    the source's upper to its lower inner lip, per column) and to the lower row below it, with a
    soft band ``ROW_BAND_IOD`` wide between them. Where the jaw closes, the rows overlap and the
    upper row is in front (the upper incisors close over the lower ones); where it opens, each
    row reaches half-way into the widened gap. Returns map_x, map_y (box.height, box.width)
    float32 absolute source coordinates: p for the upper row, p - jaw for the lower one.
    """
    iod = float(topo.interocular(source[None])[0])
    jaw = (target[topo.CHIN, :2] - source[topo.CHIN, :2]).astype(np.float32)  # forward, plate pixels
    xs = np.arange(box.x0, box.x1, dtype=np.float32)
    ys = np.arange(box.y0, box.y1, dtype=np.float32)
    gap = _column_gap(source, xs) + 0.5 * max(float(jaw[1]), 0.0)
    band = max(1.0, ROW_BAND_IOD * iod)
    t = np.clip((ys[:, None] - gap[None, :]) / band + 0.5, 0.0, 1.0)
    lower = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return xs[None, :] - lower * jaw[0], ys[:, None] - lower * jaw[1]


def keep_inside_opening(source: np.ndarray, map_x: np.ndarray, map_y: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    """Move samples that fall outside the source's opening back inside it, by mirroring.

    map_x, map_y: (h, w) float32 absolute source coordinates (plate pixels). The source's opening,
    per column, runs from its upper to its lower inner lip (less ``LIP_MARGIN_IOD`` at each lip).
    A sample past the lower lip is mirrored back across it into the opening's lower part (below
    the teeth gap), repeatedly if it is further past than that part is high (a mirror-repeat, as
    in a reflecting border); past the upper lip, into the upper part. So what a lowered lip
    uncovers is what lay just above it (the dark cavity, or the edge of a row of teeth, whose
    mirror reads as the other row's edge), at the interior's own scale: nothing is stretched
    into a streak, nothing bends, and the fill is continuous with the samples left in place.
    Beyond the columns where the opening is thick enough to sample (near its corners), x is
    first mirrored the same way into the outer ``FILL_SIDE`` of the opening's width (what a
    widened mouth shows at its corners: the dark corridor and the receding side teeth, not the
    front teeth again). Returns the moved maps (same shapes, float32), or None when the source's
    lips are too close to show anything between them.
    """
    iod = float(topo.interocular(source[None])[0])
    columns, top, bottom = _opening_columns(source)
    thickness = bottom - top
    margin = min(LIP_MARGIN_IOD * iod, 0.25 * float(thickness.max()))
    usable = np.flatnonzero(thickness - 2.0 * margin >= max(1.0, 0.25 * (float(thickness.max()) - 2.0 * margin)))
    if usable.size == 0:
        return None
    left, right = float(columns[usable[0]]), float(columns[usable[-1]])
    xs = map_x.astype(np.float64)
    side = FILL_SIDE * (right - left)
    outer = np.where(xs < left, _reflect(xs, left, left + side), _reflect(xs, right - side, right))
    xs = np.where((xs < left) | (xs > right), outer, xs)
    upper = np.interp(xs, columns, top) + margin
    lower = np.maximum(np.interp(xs, columns, bottom) - margin, upper)
    gap = upper + TEETH_GAP * (lower - upper)
    ys = map_y.astype(np.float64)
    outer = np.where(ys < upper, _reflect(ys, upper, gap), _reflect(ys, gap, lower))
    ys = np.where((ys < upper) | (ys > lower), outer, ys)
    return xs.astype(np.float32), ys.astype(np.float32)


def _reflect(values: np.ndarray, low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
    """``values`` folded into [low, high] by mirror-repeat (a triangle wave); unchanged inside."""
    span = np.maximum(np.asarray(high) - np.asarray(low), 1e-3)
    folded = np.mod(values - low, 2.0 * span)
    return low + np.where(folded > span, 2.0 * span - folded, folded)


def _opening_columns(source: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The source's opening per column: x (quarter-pixel steps from corner to corner), the y of the
    upper and of the lower inner lip there (the lower never above the upper), float64 plate pixels."""
    top = source[list(topo.LIPS_INNER_UPPER), :2]
    bottom = source[list(topo.LIPS_INNER_LOWER), :2]
    both = np.concatenate([top, bottom])
    columns = np.arange(both[:, 0].min(), both[:, 0].max() + 0.25, 0.25)
    order = np.argsort(top[:, 0])
    y_top = np.interp(columns, top[order, 0], top[order, 1])
    order = np.argsort(bottom[:, 0])
    y_bottom = np.interp(columns, bottom[order, 0], bottom[order, 1])
    return columns, y_top, np.maximum(y_bottom, y_top)


def _column_gap(source: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of the gap between the teeth rows at each x (plate pixels), from the source's inner lips."""
    columns, top, bottom = _opening_columns(source)
    return np.interp(xs, columns, top + TEETH_GAP * (bottom - top)).astype(np.float32)


def _mouth_box(source: np.ndarray, target: np.ndarray, region: Region, iod: float) -> Region:
    """Both inner-lip contours with room for the feather and the jaw, clipped to ``region``."""
    rings = np.concatenate([inner_lip_polygon(source), inner_lip_polygon(target)])
    pad = 0.1 * iod + 4.0
    x0, y0 = np.floor(rings.min(axis=0) - pad).astype(int)
    x1, y1 = np.ceil(rings.max(axis=0) + pad).astype(int) + 1
    return Region(max(region.x0, x0), max(region.y0, y0), min(region.x1, x1), min(region.y1, y1))


def _polygon_mask(polygon: np.ndarray, region: Region, antialias: bool = True) -> np.ndarray:
    """(h, w) float32 coverage in [0, 1] of a polygon in plate pixels over ``region``."""
    bits = 4
    mask = np.zeros((region.height, region.width), dtype=np.uint8)
    pts = np.round((polygon - [region.x0, region.y0]) * (1 << bits)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA if antialias else cv2.LINE_8, shift=bits)
    return mask.astype(np.float32) / 255.0
