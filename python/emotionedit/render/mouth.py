"""Stage 4b': the mouth's interior, a layer of its own behind the lips.

Teeth are rigid: each row is one translation. The upper row keeps its columns (the head's pose is
not edited) and moves up or down with the middle of the upper lip, the lower row with the middle of
the lower lip and sideways with the jaw (:func:`row_shifts`: what the edit shows of the interior is
then what the source filmed); the tongue and the dark cavity are sampled with whichever row they
lie behind. The lips move over that layer: the smooth field
(:func:`~emotionedit.render.field.backward_map`) moves them, and inside the *edited* inner-lip
contour the interior layer is sampled instead.

Each pixel belongs to one row, decided by where it lies relative to the gap between the rows
(a narrow soft band, so the map never bends across a tooth). Where the edit uncovers more than
the source shows (a wider smile, corners drawn down, the lips parted wider), the rigid layer
would sample the source's lips: there the layer is the source's own opening stretched onto the
edited one (the dark corridor at a smile's corners, the side teeth receding into it). A first
version mirrored samples back across the lips instead; it drew kaleidoscope seams and a pink
copy of the lip's inner surface at the corners (seen at 5x on cap12 made happy and sad).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..fit import topology as topo
from .field import Region, opening_columns, padded_bounds, spread_layers
from .matte import polygon_mask

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
# The rigid rows are used where their sample lies at least this far (IOD) inside the source's
# opening; nearer its lips they blend into the stretched opening over the same distance.
RIGID_MARGIN_IOD = 0.02
# The inner lips' three middle points: the teeth rows move up and down with them (row_shifts).
_UPPER_MIDDLE = [82, 13, 312]
_LOWER_MIDDLE = [87, 14, 317]
# The most a teeth row follows its lip (IOD), beyond a jaw's drop: a smile's lift at full lip preservation
# (about 0.05); a lip moved further (an edit at 1.6 with the lips free) uncovers what the fill has to make.
MAX_ROW_SHIFT_IOD = 0.05
# The middle share of the opening's width whose columns the stretched opening keeps in place.
OPENING_RIGID_SHARE = 0.6
# How much darker (a linear-light gain of 1 - this) the interior is where the edit uncovers what the source
# never filmed beside the teeth rows: a real smile's buccal corridor lies in the cheeks' shadow (corridor_gain).
CORRIDOR_SHADE = 0.6
# How far below the source's upper inner lip (IOD) its red inner edge shows on the rows: shaded with a pocket
# a smile opens above it (corridor_gain). The tracked contour lies on the lip's outer rim of that edge.
LIP_EDGE_BAND_IOD = 0.1


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
    :func:`mouth_layer` spread over the whole region.
    """
    layer = mouth_layer(source, target, region)
    return None if layer is None else spread_layers([layer], region)


def mouth_layer(source: np.ndarray, target: np.ndarray, region: Region
                ) -> tuple[Region, np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`mouth_interior` over the mouth's own rectangle only, (box, weight, map_x, map_y): the weight is
    0 outside ``box`` (a rectangle of plate pixels inside ``region``), the arrays are (box.height, box.width)."""
    found = _open_mouth(source, target, region)
    if found is None:
        return None
    openness, iod, box = found
    sigma = max(0.5, MOUTH_FEATHER_IOD * iod)
    weight = cv2.GaussianBlur(polygon_mask(inner_lip_polygon(target), box), (0, 0), sigma) * np.float32(openness)
    # The layer only over the pixels its weight reaches (two thirds of the padded box): the field is its own
    # elsewhere, so the interior's map is made where it is used (an open 4K mouth: 4.8 -> 3.7 ms; same pixels).
    rows, columns = np.flatnonzero(weight.any(axis=1)), np.flatnonzero(weight.any(axis=0))
    if rows.size == 0:
        return None
    tight = Region(box.x0 + int(columns[0]), box.y0 + int(rows[0]),
                   box.x0 + int(columns[-1]) + 1, box.y0 + int(rows[-1]) + 1)
    found = interior_map(source, target, tight)
    if found is None:
        return None
    return tight, np.ascontiguousarray(weight[tight.within(box)]), found[0], found[1]


def corridor_gain(source: np.ndarray, target: np.ndarray, region: Region) -> tuple[Region, np.ndarray] | None:
    """The shadow over what a wider mouth uncovers: a linear-light gain over the part of the edited opening
    whose rigid rows would sample past the source's corners or above its upper lip (the source never
    filmed the interior there).

    A smile lifts the lip corners far more than the middle, and draws them outward: beside the teeth rows
    (which move with the lips' middle) it opens pockets under the lifted upper lip and past the source's
    corners. A real smile shows the buccal corridor there, in the shadow of the cheeks; the stretched
    opening that fills them (:func:`interior_map`) shows the source's lip's red inner edge instead, which
    read as a dark red ring inside the lips (cap12 415 made happy, every blind viewer). The gain falls to
    ``1 - CORRIDOR_SHADE`` over one margin (``RIGID_MARGIN_IOD``) past the source's corners, and wherever the
    edited upper lip lies above the source's from there down through the lip's red edge on the rows
    (``LIP_EDGE_BAND_IOD``); inside the edited inner lips only (from one margin inside them, times the source's
    openness). The fill still supplies the texture (grain, the side teeth receding); this only its light.
    Returns (rectangle of plate pixels, (h, w) float32 gain there), or None where nothing is uncovered (an
    unmoved mouth: the rows then sample each pixel itself, inside the source's opening) or the mouth is closed.
    """
    found = _open_mouth(source, target, region)
    if found is None:
        return None
    openness, iod, box = found
    columns, top, bottom = lip_opening(source)
    if float((bottom - top).max()) < 1.0:
        return None
    # The shade lies inside the edited opening only: worked out over the edited inner lips' box, not the mouth's
    # (an open 4K mouth: a third of the pixels).
    box = padded_bounds(inner_lip_polygon(target), 1.0, box)
    if box.empty:
        return None
    margin = max(1.0, RIGID_MARGIN_IOD * iod)
    rigid_x, rigid_y = teeth_rows(source, target, box)
    # Past the source's corners, or under a lifted upper lip; not below the lower lip: a corner drawn down
    # (sadness) uncovers the lower lip's inner side beside the lower teeth, and shaded it drew dark strokes at
    # the corners (cap12 440 made sad, look test 16). Each fades in over one margin (a step at the source's
    # corner column was a seam at 4K).
    beside = np.clip(np.maximum(columns[0] - rigid_x, rigid_x - columns[-1]) / margin, 0.0, 1.0)
    # Under a lip lifted off the rows: where the edited upper lip lies above the source's (moved with the upper
    # row) there is a pocket, and down to LIP_EDGE_BAND_IOD below the source's lip the rows show that lip's red
    # inner edge. Lit, that edge drew a second red lip line inside the mouth under the shaded pocket (cap12 415
    # made happy, look test 17: "a doubled red lip contour", six viewers of six); shaded with the pocket, the
    # lifted lip meets the dark and then the teeth, as over a real smile's corridor.
    xs = np.arange(box.x0, box.x1, dtype=np.float64)[None, :]
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None]
    columns_e, top_e, _ = lip_opening(target)
    rise = float(row_shifts(source, target)[0][1])
    source_top = np.interp(rigid_x, columns, top)
    # From a pocket of one margin, full at two: a lip that follows its row to within a pixel lifts off nothing
    # (sadness moves the rows down with the upper lip's middle, its sides a little less).
    pocket = np.clip((source_top + rise - np.interp(xs, columns_e, top_e)) / margin - 1.0, 0.0, 1.0)
    # The band never reaches past the gap between the rows (a barely parted mouth keeps its lower row's light).
    band = np.clip(TEETH_GAP * (np.interp(rigid_x, columns, bottom) - source_top), 1.0, LIP_EDGE_BAND_IOD * iod)
    under_lip = np.clip(1.0 - (rigid_y - source_top) / band, 0.0, 1.0)
    past = np.maximum(beside, _smoothstep(pocket) * under_lip)
    if not past.any():
        return None
    # Inside the edited opening, rising over one margin from its lips: an unmoved mouth's rows sample every
    # pixel there inside the source's opening and lift no lip off them, so its gain is exactly 1.
    within = np.clip(_inside_opening(xs, ys, *lip_opening(target)) / margin, 0.0, 1.0)
    shade = _smoothstep(past) * _smoothstep(within) * openness
    if not shade.any():
        return None
    return box, (1.0 - CORRIDOR_SHADE * shade).astype(np.float32)


def interior_map(source: np.ndarray, target: np.ndarray, box: Region) -> tuple[np.ndarray, np.ndarray] | None:
    """Backward map of the interior layer over ``box``: rigid rows where they see the source's interior,
    the source's opening stretched onto the edited one elsewhere.

    The rigid rows (:func:`teeth_rows`) are used where their sample lands inside the source's opening,
    at least ``RIGID_MARGIN_IOD`` from its lips; where an edit uncovers more than the source shows
    (the corners of a wider smile, a lip drawn down) the layer is :func:`opening_map`, which samples
    only the source's own interior: what a real mouth shows there is the dark corridor and the side
    teeth receding into it, and a smooth stretch of that reads as such (no mirror seams, no lip
    colour inside the mouth). The two are blended over a narrow band. Returns map_x, map_y
    (box.height, box.width) float32 absolute source coordinates, or None when the source's lips are
    too close to show anything between them.
    """
    iod = float(topo.interocular(source[None])[0])
    columns, top, bottom = lip_opening(source)
    if float((bottom - top).max()) < 1.0:
        return None
    rigid_x, rigid_y = teeth_rows(source, target, box)
    stretch_x, stretch_y = opening_map(source, target, box)
    inside = _inside_opening(rigid_x, rigid_y, columns, top, bottom)
    margin = max(1.0, RIGID_MARGIN_IOD * iod)
    t = np.clip(inside / margin, 0.0, 1.0)
    rigid = _smoothstep(t).astype(np.float32)
    # Down each column the fill keeps the rigid rows' height, held inside the source's opening at the
    # stretched column: the rows continue to the new corners instead of the whole column being squeezed
    # into the uncovered part (which drew a second row of teeth under a lowered lip).
    # Outside the edited opening (where only the layer's feather reaches) the stretched map goes on, so
    # an unmoved mouth's rim stays exactly where it is.
    low = np.interp(stretch_x, columns, top)
    high = np.maximum(np.interp(stretch_x, columns, bottom), low)
    columns_e, top_e, bottom_e = lip_opening(target)
    xs = np.arange(box.x0, box.x1, dtype=np.float64)[None, :]
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None]
    in_edited = (ys >= np.interp(xs, columns_e, top_e)) & (ys <= np.interp(xs, columns_e, bottom_e))
    # Where the rows' sample lies above the source's upper lip (a smile lifted it off the teeth further than
    # the rows follow), the fill is held up to a margin below that lip, not on it: it shows the dark of the
    # opening rather than the lip's own red edge repeated (the "red band" over a smile's teeth). Growing over
    # one margin past the lip, so an unmoved mouth keeps its own pixels. (Under a lowered lower lip the
    # same hold turned the fill back on itself at the corners.)
    inset = np.minimum(margin, 0.25 * (high - low))
    above = np.clip((low - rigid_y) / margin, 0.0, 1.0)
    fill_y = np.clip(rigid_y, low + inset * above, high)
    fill_y = np.where(in_edited, fill_y, stretch_y)
    return (stretch_x + rigid * (rigid_x - stretch_x)).astype(np.float32), \
        (fill_y + rigid * (rigid_y - fill_y)).astype(np.float32)


def opening_map(source: np.ndarray, target: np.ndarray, box: Region) -> tuple[np.ndarray, np.ndarray]:
    """The source's opening mapped onto the edited one, column by column, over ``box``.

    Across the mouth, the middle (``OPENING_RIGID_SHARE`` of the narrower opening's width) keeps its
    columns and the sides stretch (or shrink) from there to the corners; down each column, a pixel
    a fraction t of the way from the edited upper inner lip to the lower one samples the source's
    opening at the same fraction. Every sample inside the edited opening lies inside the source's
    (beyond it, where only the layer's feather reaches, the map continues linearly). Returns map_x,
    map_y (box.height, box.width) float32 absolute source coordinates.
    """
    columns_s, top_s, bottom_s = lip_opening(source)
    columns_e, top_e, bottom_e = lip_opening(target)
    left_s, right_s, left_e, right_e = columns_s[0], columns_s[-1], columns_e[0], columns_e[-1]
    centre = 0.5 * (left_s + right_s)
    half = OPENING_RIGID_SHARE * 0.5 * min(right_s - left_s, right_e - left_e)
    knots_e = np.array([left_e, centre - half, centre + half, right_e])
    knots_s = np.array([left_s, centre - half, centre + half, right_s])
    if not (np.all(np.diff(knots_e) > 0) and np.all(np.diff(knots_s) > 0)):
        knots_e, knots_s = np.array([left_e, right_e]), np.array([left_s, right_s])
    xs = np.arange(box.x0, box.x1, dtype=np.float64)
    ys = np.arange(box.y0, box.y1, dtype=np.float64)
    x_src = _interp_extended(xs, knots_e, knots_s)
    upper_e, lower_e = np.interp(xs, columns_e, top_e), np.interp(xs, columns_e, bottom_e)
    upper_s, lower_s = np.interp(x_src, columns_s, top_s), np.interp(x_src, columns_s, bottom_s)
    # Not clipped: the layer's feathered edge, just outside the edited lips, follows the lips' motion.
    t = (ys[:, None] - upper_e[None, :]) / np.maximum(lower_e - upper_e, 1.0)[None, :]
    map_y = upper_s[None, :] + t * np.maximum(lower_s - upper_s, 1.0)[None, :]
    map_x = np.broadcast_to(x_src[None, :], map_y.shape)
    return map_x.astype(np.float32), map_y.astype(np.float32)


def row_shifts(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far the edit moves the upper and the lower teeth row, (2,) forward plate pixels each.

    Each row moves up or down with the middle of its lip (the mean of the inner lip's three middle points);
    the upper row keeps its column (the skull does not move sideways), the lower one moves sideways with
    the jaw (the chin). A smile lifts the whole mouth (at full lip preservation both lips rise together, by
    about 0.05 IOD): rows held still would leave a band under the lifted upper lip that the source never
    filmed, which a fill can only invent (the lip's edge repeated read as "red rubbery lips", the teeth
    stretched up as streaks; blind look tests 8 and 9 and cap12 415 at 6x). Moved with the lips, the
    interior the edit shows is the one the source filmed, each row one rigid translation: teeth never bend.
    """
    jaw_x, jaw_y = (float(v) for v in target[topo.CHIN, :2] - source[topo.CHIN, :2])
    reach = MAX_ROW_SHIFT_IOD * float(topo.interocular(source[None])[0])
    upper = float(np.clip((target[_UPPER_MIDDLE, 1] - source[_UPPER_MIDDLE, 1]).mean(), -reach, reach))
    # A jaw that drops takes the lower row down with it, however far.
    lower = float(np.clip((target[_LOWER_MIDDLE, 1] - source[_LOWER_MIDDLE, 1]).mean(), -reach,
                          reach + max(jaw_y, 0.0)))
    return np.array([0.0, upper], np.float32), np.array([jaw_x, lower], np.float32)


def teeth_rows(source: np.ndarray, target: np.ndarray, box: Region) -> tuple[np.ndarray, np.ndarray]:
    """Backward map of the two rigid rows over ``box``, each moved by :func:`row_shifts`.

    A pixel belongs to the upper row above the gap between the rows (``TEETH_GAP`` of the way from
    the source's upper to its lower inner lip, per column, moved with the upper row) and to the lower
    row below it. Where the rows close on each other they overlap and the upper row is in front (the
    upper incisors close over the lower ones), with a soft band ``ROW_BAND_IOD`` wide between them;
    where they part, the band around the source's gap is stretched over the widened gap (what shows
    between parted teeth is the dark behind them; each row reaching into the gap would show its
    neighbour's edge twice). Returns map_x, map_y (box.height, box.width) float32 absolute source
    coordinates: p - shift of the row.
    """
    iod = float(topo.interocular(source[None])[0])
    upper, lower_shift = row_shifts(source, target)
    xs = np.arange(box.x0, box.x1, dtype=np.float32)
    ys = np.arange(box.y0, box.y1, dtype=np.float32)[:, None]
    gap = _column_gap(source, xs)[None, :]  # source rows
    half = 0.5 * max(1.0, ROW_BAND_IOD * iod)
    rise, fall = float(upper[1]), float(lower_shift[1])
    if fall > rise:  # the rows part: the band about the gap stretched from one row's edge to the other's
        top, bottom = gap + rise - half, gap + fall + half
        t = np.clip((ys - top) / (bottom - top), 0.0, 1.0)
        map_y = np.where(ys < top, ys - rise, np.where(ys > bottom, ys - fall, gap - half + t * (2.0 * half)))
        lower = t
    else:  # they close: the upper row in front, cut at its own gap
        t = np.clip((ys - gap - rise) / (2.0 * half) + 0.5, 0.0, 1.0)
        lower = _smoothstep(t)
        map_y = ys - (rise + lower * (fall - rise))
    return (xs[None, :] - lower * lower_shift[0]).astype(np.float32), map_y.astype(np.float32)


def _inside_opening(x: np.ndarray, y: np.ndarray, columns: np.ndarray, top: np.ndarray, bottom: np.ndarray
                    ) -> np.ndarray:
    """How far inside the source's opening (pixels, per :func:`lip_opening`) each sample (x, y) lands;
    negative on a lip or past a corner."""
    upper = np.interp(x, columns, top, left=np.inf, right=np.inf)
    lower = np.interp(x, columns, bottom, left=-np.inf, right=-np.inf)
    return np.minimum(y - upper, lower - y)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3.0 - 2.0 * t)


def _interp_extended(x: np.ndarray, knots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Piecewise-linear through (knots, values), continued linearly past both ends."""
    out = np.interp(x, knots, values)
    low_slope = (values[1] - values[0]) / (knots[1] - knots[0])
    high_slope = (values[-1] - values[-2]) / (knots[-1] - knots[-2])
    out = np.where(x < knots[0], values[0] + (x - knots[0]) * low_slope, out)
    return np.where(x > knots[-1], values[-1] + (x - knots[-1]) * high_slope, out)


def lip_opening(source: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The opening between the inner lips of (478, >=2) points, per column (:func:`~.field.opening_columns`)."""
    return opening_columns(source[list(topo.LIPS_INNER_UPPER), :2], source[list(topo.LIPS_INNER_LOWER), :2])


def _column_gap(source: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of the gap between the teeth rows at each x (plate pixels), from the source's inner lips."""
    columns, top, bottom = lip_opening(source)
    return np.interp(xs, columns, top + TEETH_GAP * (bottom - top)).astype(np.float32)


def _open_mouth(source: np.ndarray, target: np.ndarray, region: Region) -> tuple[float, float, Region] | None:
    """(openness, IOD in pixels, the mouth's box in ``region``) of an open mouth; None for a closed one or
    a mouth outside the region."""
    openness = mouth_openness(source)
    if openness == 0.0:
        return None
    iod = float(topo.interocular(source[None])[0])
    box = _mouth_box(source, target, region, iod)
    return None if box.empty else (openness, iod, box)


def _mouth_box(source: np.ndarray, target: np.ndarray, region: Region, iod: float) -> Region:
    """Both inner-lip contours with room for the feather and the jaw, clipped to ``region``."""
    rings = np.concatenate([inner_lip_polygon(source), inner_lip_polygon(target)])
    return padded_bounds(rings, 0.1 * iod + 4.0, region)
