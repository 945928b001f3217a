"""The mouth's interior is a layer of its own: teeth move rigidly whatever the lips do.

On franck laughing (open mouth, teeth showing), edits that drag the lip corners down must leave
what shows between the lips rigid (upper row still, lower row with the jaw), fill what the lips
uncover from the interior itself without streaks, and leave a closed mouth to the smooth field.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.fit import topology as topo
from emotionedit.render import Region, mouth, warp_region
from emotionedit.render.matte import polygon_mask
from emotionedit.render.mouth import (
    corridor_gain,
    inner_lip_polygon,
    mouth_interior,
    mouth_layer,
    mouth_openness,
    row_shifts,
    teeth_rows,
)
from emotionedit.render.pixels import warp_into

SAD = EditParams(emotion=Emotion.SAD, intensity=1.0, mode="replace", lip_preservation=0.0)
SADDER = EditParams(emotion=Emotion.SAD, intensity=1.6, mode="replace", lip_preservation=0.0)
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)
FLOW_SCALE = 4  # the mouth crop is upsampled this much for the optical flow


def open_frames(analysis, count: int = 4) -> list[int]:
    """Indices of the clip's frames with the widest-open mouths (inner-lip aperture in IOD)."""
    points = analysis.track.landmarks[:, :, :2]
    aperture = np.linalg.norm(points[:, 14] - points[:, 13], axis=1) / topo.interocular(points)
    chosen = np.argsort(aperture)[::-1][:count]
    assert aperture[chosen].min() > 0.12, "the smiling clip should hold open-mouth frames"
    return sorted(chosen.tolist())


def shown_rigid(found, shape) -> tuple[list[np.ndarray], float]:
    """Where the edited frame shows a row of the interior layer in full, sampled where the row puts it
    (not mirrored), inside the source's opening: [(H, W) bool for the upper row, for the lower row];
    and the face's IOD in pixels."""
    source, target = found.source, found.target
    height, width = shape[:2]
    region = warp_region(source, width, height)
    weight, map_x, map_y = mouth_interior(source, target, region)
    rows_x, rows_y = teeth_rows(source, target, region)
    xs = np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    ys = np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    kept = (weight > 0.999) & (np.abs(map_x - rows_x) < 1e-3) & (np.abs(map_y - rows_y) < 1e-3)
    opening = np.zeros((height, width), np.uint8)
    cv2.fillPoly(opening, [np.round(inner_lip_polygon(source) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    opening = cv2.erode(opening, np.ones((3, 3), np.uint8)) > 0
    masks = []
    for shift in row_shifts(source, target):
        shift = -shift
        row = kept & (np.abs(map_x - xs - shift[0]) < 1e-3) & (np.abs(map_y - ys - shift[1]) < 1e-3)
        mask = np.zeros((height, width), bool)
        mask[region.y0 : region.y1, region.x0 : region.x1] = row
        masks.append(mask & opening)
    return masks, float(topo.interocular(source[None])[0])


def _translated(src: np.ndarray, shift: np.ndarray, region: Region) -> np.ndarray:
    """The plate moved rigidly by ``shift`` (forward, plate pixels) over ``region``, through the engine's own
    resampling."""
    grid_x, grid_y = np.meshgrid(np.arange(region.x0, region.x1, dtype=np.float32),
                                 np.arange(region.y0, region.y1, dtype=np.float32))
    shifted = src.copy()
    warp_into(shifted, src, grid_x - shift[0], grid_y - shift[1], np.ones(grid_x.shape, np.float32), region)
    return shifted


def test_teeth_stay_rigid_when_the_lip_corners_are_dragged_down(smiling):
    """Where the edited frame shows the teeth rows, its pixels are the source's moved rigidly (each row by
    one translation, with the middle of its lip), however the corners moved."""
    frames, analysis = smiling
    editor = ShotEditor(analysis)
    for index in open_frames(analysis):
        number = analysis.plate.frame_numbers[index]
        found = editor.targets(number, SAD)
        iod = float(topo.interocular(found.source[None])[0])
        corners = [topo.INNER_CORNER_RIGHT, topo.INNER_CORNER_LEFT]
        drop = (found.target[corners, 1] - found.source[corners, 1]).min() / iod
        assert drop > 0.08, f"the edit should drag the corners down, moved them {drop:.3f} IOD"
        (upper, lower), _ = shown_rigid(found, frames[index].shape)
        assert upper.sum() + lower.sum() > 40, "too little of the interior left to measure"
        src = frames[index]
        out = editor.render(src, number, SAD)
        shift_upper, shift_lower = row_shifts(found.source, found.target)
        region = warp_region(found.source, src.shape[1], src.shape[0])
        for mask, shift, row in ((upper, shift_upper, "upper"), (lower, shift_lower, "lower")):
            moved = _translated(src, shift, region)
            # Up to 8 codes on a few pixels: the rows' maps agree with the translation to 1e-3 px (shown_rigid), and
            # where a sample lies that close to a pixel column the 2x2 neighbours that bound the bicubic switch from
            # one side of the column to the other. A bent row moves tens of codes over most of the row.
            diff = np.abs(out[mask].astype(int) - moved[mask]).max(axis=1)
            assert diff.max() <= 8 and (diff > 1).mean() < 0.05, f"the {row} teeth did not move as one"


def test_rows_are_rigid_and_split_at_the_gap(smiling):
    frames, analysis = smiling
    index = open_frames(analysis, 1)[0]
    source = analysis.track.landmarks[index, :, :2].astype(np.float64)
    iod = float(topo.interocular(source[None])[0])
    lower_lip = [87, 14, 317]
    for drop in (0.08, -0.03):  # the jaw opens, then closes, by this many IOD, and the lower lip with it
        target = source.copy()
        target[topo.CHIN] += [0.01 * iod, drop * iod]
        target[lower_lip, 1] += drop * iod
        jaw = target[topo.CHIN] - source[topo.CHIN]
        region = warp_region(source, frames[index].shape[1], frames[index].shape[0])
        map_x, map_y = teeth_rows(source, target, region)
        xs = np.arange(region.x0, region.x1)[None, :]
        ys = np.arange(region.y0, region.y1)[:, None]
        dx, dy = map_x - xs, map_y - ys
        upper = (np.abs(dx) < 1e-4) & (np.abs(dy) < 1e-4)
        fall = row_shifts(source, target)[1][1]
        assert abs(fall - drop * iod) < 1e-3, "the lower row should follow a dropping jaw, and a closing one a way"
        lower = (np.abs(dx + jaw[0]) < 1e-3) & (np.abs(dy + fall) < 1e-3)
        # Every pixel is one row or the other except in a band under 0.05 IOD per column, and the gap the
        # rows part by (the band about the source's gap is stretched over it, so nothing shows twice).
        between = ~(upper | lower)
        assert between.sum(axis=0).max() <= (0.05 + max(drop, 0.0)) * iod + 2, between.sum(axis=0).max()
        assert (np.diff(map_y, axis=0) > 0).all(), "down each column the rows never turn back"
        centre = np.round(source[[13, 14]].mean(axis=0)).astype(int) - [region.x0, region.y0]
        column = centre[0]
        above, below = np.flatnonzero(upper[:, column]), np.flatnonzero(lower[:, column])
        assert above.max() < below.min(), "the upper row must lie above the lower row"
        gap = source[13, 1] + 0.5 * (source[14, 1] - source[13, 1]) - region.y0
        assert abs(0.5 * (above.max() + below.min()) - gap - 0.5 * max(drop * iod, 0.0)) < 2.0


def test_a_smile_lifting_both_lips_shows_the_interior_the_source_filmed(smiling):
    """At full lip preservation a smile lifts both lips (about 0.05 IOD): the rows move with them, so the
    opening shows the source's own interior, sampled past its lips' inner edge, not the lip's edge repeated
    down a band the source never filmed (the "red rubbery lips" of blind look tests 8 and 9: 60 % of the
    opening's core sampled past the lips then, 80 % now)."""
    frames, analysis = smiling
    editor = ShotEditor(analysis)
    for index in open_frames(analysis, 3):
        found = editor.targets(analysis.plate.frame_numbers[index], HAPPY)
        source, target = found.source, found.target
        iod = float(topo.interocular(source[None])[0])
        upper, lower = row_shifts(source, target)
        assert upper[1] < -0.02 * iod and lower[1] < -0.02 * iod, "the smile should lift both lips"
        region = warp_region(source, frames[index].shape[1], frames[index].shape[0])
        weight, map_x, map_y = mouth_interior(source, target, region)
        core = cv2.erode((polygon_mask(inner_lip_polygon(target), region) > 0.5).astype(np.uint8), np.ones((3, 3)))
        ys, xs = np.nonzero(core)
        polygon = inner_lip_polygon(source).astype(np.float32)
        inside = np.array([cv2.pointPolygonTest(polygon, (float(map_x[y, x]), float(map_y[y, x])), True)
                           for y, x in zip(ys, xs, strict=True)])
        margin = max(1.0, 0.02 * iod)
        assert (inside >= margin - 0.25).mean() >= 0.72


def _held_run(map_y: np.ndarray, ys: np.ndarray, xs: np.ndarray, iod: float) -> int:
    """The longest run of pixels down a column of the opening that sample one source row (a streak)."""
    longest = 0
    for col in np.unique(xs):
        column = map_y[np.sort(ys[xs == col]), col]
        # Where the rigid rows blend into the fill (measured against a neighbouring column, nearer the
        # source's corner once the rows moved with the lips) the map may turn back a little: a sliver at a
        # corner, not a second row of teeth (that turns back by a tooth's height, about 0.1 IOD).
        assert np.all(np.diff(column) > -max(1.0, 0.04 * iod)), f"the interior folds back in column {col}"
        run = 0
        for held in np.abs(np.diff(column)) < 0.3:
            run = run + 1 if held else 0
            longest = max(longest, run)
    return longest


def test_uncovered_interior_is_filled_from_inside_the_opening_without_streaks(smiling):
    frames, analysis = smiling
    editor = ShotEditor(analysis)
    for index in open_frames(analysis, 2):
        number = analysis.plate.frame_numbers[index]
        for params in (SAD, SADDER):
            found = editor.targets(number, params)
            source, target = found.source, found.target
            region = warp_region(source, frames[index].shape[1], frames[index].shape[0])
            weight, map_x, map_y = mouth_interior(source, target, region)
            rows_x, rows_y = teeth_rows(source, target, region)
            shown = weight > 0.5
            moved = np.hypot(map_x - rows_x, map_y - rows_y) > 0.5
            # (Fewer since the rows move with the lips: what is left is at the corners.)
            assert (shown & moved).sum() > 15, "the edit should uncover interior the source does not show"
            polygon = inner_lip_polygon(source).astype(np.float32)
            # The opening's core (a pixel in from the edited lips, where the lips' own edge no longer shows).
            core = cv2.erode((polygon_mask(inner_lip_polygon(target), region) > 0.5).astype(np.uint8),
                             np.ones((3, 3)))
            ys, xs = np.nonzero(core)
            inside = [cv2.pointPolygonTest(polygon, (float(map_x[y, x]), float(map_y[y, x])), True)
                      for y, x in zip(ys, xs, strict=True)]
            assert min(inside) > -0.5, "every interior sample must come from inside the source's opening"
            # No part of the interior shows twice (a second row of teeth under a lowered lip): down each
            # column the map never turns back up (checked in _held_run, for any edit). Where a lip uncovers
            # more than the source shows, the interior's edge is held: a short run for sad at intensity 1.
            # (Sad at 1.6 with the lips free uncovers ~0.13 IOD that was never filmed; the held edge there
            # is a visible streak, and frames of the shot that show it would be the fix: issue 10, item 3.)
            iod = float(topo.interocular(source[None])[0])
            longest = _held_run(map_y, ys, xs, iod)
            if params is SAD:
                assert longest <= max(3, 0.1 * iod), longest


def test_an_unmoved_mouth_shows_its_own_interior_unmoved(smiling):
    frames, analysis = smiling
    index = open_frames(analysis, 1)[0]
    source = analysis.track.landmarks[index, :, :2].astype(np.float64)
    region = warp_region(source, frames[index].shape[1], frames[index].shape[0])
    weight, map_x, map_y = mouth_interior(source, source.copy(), region)
    xs = np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    ys = np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    shown = weight > 0
    assert shown.sum() > 50
    assert np.abs(map_x - xs)[shown].max() < 1e-3 and np.abs(map_y - ys)[shown].max() < 1e-3


@pytest.mark.parametrize("params", [HAPPY, SAD], ids=["happy", "sad"])
def test_the_interior_layer_spans_only_the_pixels_it_covers(smiling, params):
    """The layer's box is its weight's bounding box (every edge row and column holds a pixel of the interior):
    the interior's map is made, and handed to the pixel step, only where it is used."""
    frames, analysis = smiling
    editor = ShotEditor(analysis)
    for index in open_frames(analysis):
        found = editor.targets(analysis.plate.frame_numbers[index], params)
        region = warp_region(found.source, frames[index].shape[1], frames[index].shape[0])
        box, weight, map_x, map_y = mouth_layer(found.source, found.target, region)
        assert weight.shape == map_x.shape == map_y.shape == (box.height, box.width)
        for edge in (weight[0], weight[-1], weight[:, 0], weight[:, -1]):
            assert edge.max() > 0.0, f"frame {index}: a row or column of the layer's box is empty"


def test_a_closed_mouth_has_no_interior_layer(talking):
    frames, analysis = talking
    points = analysis.track.landmarks[:, :, :2].astype(np.float64)
    closed = [i for i in range(len(points)) if mouth_openness(points[i]) == 0.0]
    if not closed:
        pytest.fail("the talking clip should hold frames with closed lips")
    editor = ShotEditor(analysis)
    for index in closed[:3]:
        found = editor.targets(analysis.plate.frame_numbers[index], SADDER)
        region = warp_region(found.source, frames[index].shape[1], frames[index].shape[0])
        assert mouth_interior(found.source, found.target, region) is None
        assert corridor_gain(found.source, found.target, region) is None



def test_a_smile_shades_the_corridor_it_uncovers(smiling, monkeypatch):
    """A smile lifts the lip corners far more than the teeth rows and draws them outward: the pockets it
    opens beside the rows are the buccal corridor, in shadow, not the source's red inner lip stretched
    (the "dark red ring inside the lips" of cap12 415 made happy). Only those pockets darken: the rest of
    the opening shows the source's interior at its own light, and nothing outside the edited lips changes."""
    frames, analysis = smiling
    editor = ShotEditor(analysis)
    index = open_frames(analysis, 1)[0]
    number = analysis.plate.frame_numbers[index]
    found = editor.targets(number, HAPPY)
    source, target = found.source, found.target
    region = warp_region(source, frames[index].shape[1], frames[index].shape[0])
    rect, gain = corridor_gain(source, target, region)
    assert gain.min() <= 1.0 - 0.5 * mouth.CORRIDOR_SHADE, "a smile should uncover some corridor"
    opening = polygon_mask(inner_lip_polygon(target), rect)
    feather = cv2.dilate((opening > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.all(gain[~feather] == 1.0), "outside the edited lips the light must stay the plate's"
    # The shaded pixels are those whose rows' sample falls on the source's lips or on the upper lip's red inner
    # edge just inside them (shaded with the pocket over it, not left lit as a second lip line), never the
    # opening's core.
    rows_x, rows_y = teeth_rows(source, target, rect)
    polygon = inner_lip_polygon(source).astype(np.float32)
    band = mouth.LIP_EDGE_BAND_IOD * float(topo.interocular(source[None])[0])
    ys, xs = np.nonzero(gain < 1.0 - 0.5 * mouth.CORRIDOR_SHADE)
    inside = np.array([cv2.pointPolygonTest(polygon, (float(rows_x[y, x]), float(rows_y[y, x])), True)
                       for y, x in zip(ys, xs, strict=True)])
    assert inside.max() < band
    assert (inside > 0.5).any(), "the lip's red edge under a pocket should be shaded with it"
    # In the rendered frame those pixels are darker than the same edit without the shade.
    shaded = editor.render(frames[index], number, HAPPY).astype(np.float64)
    monkeypatch.setattr(mouth, "CORRIDOR_SHADE", 0.0)
    plain = editor.render(frames[index], number, HAPPY).astype(np.float64)
    dark = np.zeros(frames[index].shape[:2], bool)
    dark[rect.y0:rect.y1, rect.x0:rect.x1] = gain < 0.7
    assert dark.sum() >= 5
    assert shaded[dark].mean() < 0.85 * plain[dark].mean()
    # Wherever the gain is exactly 1 (the rest of the mouth's box and beyond) the frame is the unshaded one.
    unshaded = np.ones(frames[index].shape[:2], bool)
    unshaded[rect.y0:rect.y1, rect.x0:rect.x1] = gain == 1.0
    assert np.array_equal(shaded[unshaded], plain[unshaded])


def test_an_unmoved_mouth_has_no_corridor(smiling):
    frames, analysis = smiling
    index = open_frames(analysis, 1)[0]
    source = analysis.track.landmarks[index, :, :2].astype(np.float64)
    region = warp_region(source, frames[index].shape[1], frames[index].shape[0])
    assert corridor_gain(source, source.copy(), region) is None



def test_corners_drawn_down_are_not_shaded(smiling):
    """Sadness draws the corners down: what that uncovers is the lower lip's inner side beside the lower teeth,
    not a corridor in shadow (shaded, it drew dark strokes at the corners: look test 16)."""
    frames, analysis = smiling
    editor = ShotEditor(analysis)
    for index in open_frames(analysis, 3):
        for params in (SAD, EditParams(emotion=Emotion.SAD, intensity=1.0, lip_preservation=1.0)):
            found = editor.targets(analysis.plate.frame_numbers[index], params)
            region = warp_region(found.source, frames[index].shape[1], frames[index].shape[0])
            shading = corridor_gain(found.source, found.target, region)
            assert shading is None or shading[1].min() > 0.98
