"""Stage 4b'': the eyeballs, a layer of their own behind the lids.

An eye is a rigid ball under two sheets. When the lids open (surprise, fear) they uncover more of the
ball: white above the iris and the iris's hidden top; when they close in (a smile's raised lower lids,
a squint) they cover it. The ball itself does not stretch. A smooth field through the lid landmarks
does stretch it: it pulled the upper lid's dark lash line and the iris down into the widened opening
(dark "sockets" and tall irises on cap12 and cap13 made surprised, seen at 5x), so inside the *edited*
lid contour this layer samples the ball instead.

The ball does not move (an edit changes neither the head's pose nor the gaze): inside the source's
opening the layer is the identity. What the edit uncovers is filled from the ball itself, column by
column: a pixel of the iris disc (centre and radius from the iris landmarks) hidden in the source takes
the same ring of the iris where the ring shows, just inside the lid (an iris is close to radially
symmetric; a mirror image across its centre instead put the bright lower rim and the catchlight on top,
a speckled white arc), a pixel of white takes the nearest clean white of its column, moved to the side
of the iris where the iris reaches that row.
"""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo
from .field import Region, opening_columns, padded_bounds, spread_layers

# (outer corner, upper lid, inner corner, lower lid, iris) of each eye; the lids run outer to inner.
EYES = (
    (topo.RIGHT_EYE_OUTER, topo.RIGHT_UPPER_LID, topo.RIGHT_EYE_INNER, topo.RIGHT_LOWER_LID, topo.RIGHT_IRIS),
    (topo.LEFT_EYE_OUTER, topo.LEFT_UPPER_LID, topo.LEFT_EYE_INNER, topo.LEFT_LOWER_LID, topo.LEFT_IRIS),
)
# The lid landmarks sit on the lid margin; the lashes and the margin's shadow reach this far (IOD) into the
# opening: the ball is sampled at least this far inside the source's lids.
LID_MARGIN_IOD = 0.015
# What the ball's fill samples lies at least this far (IOD) inside the source's lids: past the lashes, the
# lid's shadow darkens the iris's top and the white under it, and a raised lid filled from there drew a dark
# band above the iris (surprise's wide eyes read as dark sockets at 14x; dlib put the raised lid lower).
LID_SHADOW_IOD = 0.04
# Lids closer than this (pixels) show no ball to sample (a blink): the eye is left to the smooth field.
OPEN_EYE_PX = 2.0
# An edit that moves no lid landmark more than this (pixels) leaves the eye to the field.
MOVED_PX = 0.05


def eye_polygon(points: np.ndarray, eye: int) -> np.ndarray:
    """The lid contour of eye 0 (the subject's right) or 1 as a closed ring, (16, 2) in the points' units."""
    outer, upper, inner, lower, _ = EYES[eye]
    ring = [outer, *upper, inner, *lower[::-1]]
    return points[ring, :2]


def eyeballs(source: np.ndarray, target: np.ndarray, region: Region
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the edited frame shows the eyeballs, and the balls' backward map.

    source, target: (478, 2) float plate pixels of the tracked face and its edited position.
    Returns (weight, map_x, map_y), each (region.height, region.width) float32: weight in [0, 1] (the
    edited lid contours, feathered), map_x/map_y absolute source coordinates (identity where weight is 0).
    None when the edit moves neither eye's lids or both eyes are closed. The caller blends its field
    toward this map by the weight: ``map += weight * (ball - map)``. :func:`eyeball_layers` spread over
    the whole region.
    """
    layers = eyeball_layers(source, target, region)
    return spread_layers(layers, region) if layers else None


def eyeball_layers(source: np.ndarray, target: np.ndarray, region: Region
                   ) -> list[tuple[Region, np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`eyeballs` over each eye's own rectangle: (box, weight, map_x, map_y) per eye whose layer is
    used, the arrays (box.height, box.width), the weight 0 outside the boxes."""
    iod = float(topo.interocular(source[None])[0])
    layers = []
    for eye in (0, 1):
        lids = list(EYES[eye][1]) + list(EYES[eye][3])
        if np.abs(target[lids, :2] - source[lids, :2]).max() <= MOVED_PX:
            continue
        box = _eye_box(source, target, eye, region, iod)
        if box.empty:
            continue
        weight = lid_weight(target, eye, box, iod)
        # The layer only over the pixels it covers: where its weight is 0 the field is its own, so the ball's map
        # is made for the edited opening alone (both eyes of a 4K face: 3.7 -> 2.2 ms; the pixels are the same).
        rows, columns = np.flatnonzero(weight.any(axis=1)), np.flatnonzero(weight.any(axis=0))
        if rows.size == 0:
            continue
        tight = Region(box.x0 + int(columns[0]), box.y0 + int(rows[0]),
                       box.x0 + int(columns[-1]) + 1, box.y0 + int(rows[-1]) + 1)
        found = ball_map(source, eye, tight, iod)
        if found is None:
            continue
        layers.append((tight, np.ascontiguousarray(weight[tight.within(box)]), found[0], found[1]))
    return layers


def lid_weight(target: np.ndarray, eye: int, box: Region, iod: float) -> np.ndarray:
    """How much of each pixel of ``box`` is the ball in the edited frame, (h, w) float32 in [0, 1].

    0 on and outside the edited lids, rising to 1 over ``LID_MARGIN_IOD`` from half a margin inside them:
    the lid margin, its lashes and its shadow stay the smooth field's (they move with the lid), only the
    ball between them is this layer's. An unmoved lid therefore keeps its own pixels.
    """
    columns, top, bottom = _aperture_columns(target, eye)
    margin = max(0.5, LID_MARGIN_IOD * iod)
    xs = np.arange(box.x0, box.x1, dtype=np.float64)
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None]
    upper = np.interp(xs, columns, top, left=np.inf, right=np.inf)[None, :]
    lower = np.interp(xs, columns, bottom, left=-np.inf, right=-np.inf)[None, :]
    inside = np.minimum(ys - upper, lower - ys)  # pixels inside the edited lids (negative: outside)
    t = np.clip(inside / margin - 0.5, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def ball_map(source: np.ndarray, eye: int, box: Region, iod: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Backward map of one eyeball over ``box``: the identity where the source shows the ball, the ball's
    own iris or white where the source's lids cover it (see the module's docstring). Returns map_x, map_y
    (box.height, box.width) float32 absolute source coordinates, or None for a closed eye."""
    columns, top, bottom = _aperture_columns(source, eye)
    if float((bottom - top).max()) < OPEN_EYE_PX:
        return None
    margin = max(0.5, LID_MARGIN_IOD * iod)
    deeper = max(0.0, LID_SHADOW_IOD * iod - margin)
    iris = source[list(EYES[eye][4]), :2].astype(np.float64)
    centre = iris[0]
    radius = float(np.linalg.norm(iris[1:] - centre, axis=1).mean())
    xs = np.arange(box.x0, box.x1, dtype=np.float64)
    ys = np.arange(box.y0, box.y1, dtype=np.float64)
    # The clean band of each column: inside the source's lids by the margin (a thin column: its middle).
    x_in = np.clip(xs, columns[0], columns[-1])
    low = np.interp(x_in, columns, top) + margin
    high = np.interp(x_in, columns, bottom) - margin
    middle = 0.5 * (low + high)
    low, high = np.minimum(low, middle), np.maximum(high, middle)
    y = np.broadcast_to(ys[:, None], (ys.size, xs.size))
    x = np.broadcast_to(xs[None, :], y.shape)
    covered = (y < low[None, :]) | (y > high[None, :])
    in_iris = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 < radius * radius
    # Samples for covered pixels move deeper, out of the lid's shadow, as they lie further past the band
    # (over one margin): continuous at the band's edge, where the ball in view keeps its own pixels.
    past_top = np.clip((low[None, :] - y) / margin, 0.0, 1.0)
    past_bottom = np.clip((y - high[None, :]) / margin, 0.0, 1.0)
    shade = deeper * (past_top - past_bottom)
    # The iris's hidden part: the same ring of the iris (same distance from its centre, so the dark rim stays
    # the rim) where that ring crosses the clean band's nearest row, on the pixel's side; a pixel nearer the
    # centre than that row (a heavily hooded eye) takes its mirror image across the centre's row instead.
    clean_y = np.clip(np.clip(y, low[None, :], high[None, :]) + shade, low[None, :], high[None, :])
    rho2 = (x - centre[0]) ** 2 + (y - centre[1]) ** 2
    across = rho2 - (clean_y - centre[1]) ** 2
    ring_x = centre[0] + np.where(x < centre[0], -1.0, 1.0) * np.sqrt(np.clip(across, 0.0, None))
    mirror_y = np.clip(2.0 * centre[1] - y, low[None, :], high[None, :])
    iris_x = np.where(covered & (across >= 0.0), ring_x, x)
    iris_y = np.where(covered & (across < 0.0), mirror_y, clean_y)
    # The white: the clean band's nearest row, moved sideways out of the iris where the iris reaches that row.
    white_y = clean_y
    reach = np.sqrt(np.clip(radius * radius - (white_y - centre[1]) ** 2, 0.0, None))
    side = np.where(x < centre[0], -1.0, 1.0)
    inside_iris_x = np.abs(x - centre[0]) < reach + 1.0
    white_x = np.where(covered & inside_iris_x, centre[0] + side * (reach + 1.0), x)
    white_x = np.clip(white_x, columns[0], columns[-1])
    map_x = np.where(in_iris, iris_x, white_x)
    map_y = np.where(in_iris, iris_y, white_y)
    return map_x.astype(np.float32), map_y.astype(np.float32)


def _aperture_columns(source: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The source's opening of one eye per column (:func:`~.field.opening_columns`), float64 plate pixels."""
    outer, upper, inner, lower, _ = EYES[eye]
    return opening_columns(source[[outer, *upper, inner], :2].astype(np.float64),
                           source[[outer, *lower, inner], :2].astype(np.float64))


def _eye_box(source: np.ndarray, target: np.ndarray, eye: int, region: Region, iod: float) -> Region:
    """Both lid contours of one eye with room for the feather, clipped to ``region``."""
    rings = np.concatenate([eye_polygon(source, eye), eye_polygon(target, eye)])
    return padded_bounds(rings, 0.05 * iod + 3.0, region)
