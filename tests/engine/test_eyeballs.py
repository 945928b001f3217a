"""The eyeballs are a layer of their own: the lids open and close over a ball that does not stretch.

On franck talking, a surprise (lids raised) and a smile (lower lids raised) must leave the iris and the
white that the source shows where they are, bit for bit, fill what the raised lids uncover from the ball
itself (never from the lid), and leave an eye whose lids do not move to the smooth field.
"""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion, Region
from emotionedit.engine import ShotEditor
from emotionedit.fit import topology as topo
from emotionedit.render import Region as Rect
from emotionedit.render import warp_region
from emotionedit.render.eyes import LID_MARGIN_IOD, ball_map, eye_polygon, eyeball_layers, eyeballs
from emotionedit.render.matte import polygon_mask

SURPRISED = EditParams(emotion=Emotion.SURPRISED, intensity=1.0)
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0)


def _clean_band(source: np.ndarray, eye: int, region, iod: float) -> np.ndarray:
    """(h, w) bool over ``region``: the source's eye opening shrunk by the lid margin (the ball in view)."""
    ring = eye_polygon(source, eye)
    centre = ring.mean(axis=0)
    inner = centre + (ring - centre) * 0.6  # well inside the lids on every side
    band = polygon_mask(inner, region, antialias=False) > 0.5
    margin = LID_MARGIN_IOD * iod
    assert margin < 0.2 * np.ptp(ring[:, 1]), "the test's band must lie inside the clean band"
    return band


@pytest.mark.parametrize("params", [SURPRISED, HAPPY], ids=["surprised", "happy"])
def test_the_ball_in_view_keeps_its_pixels(talking, params):
    """Where the source shows the ball and the edited lids still do, the edited frame holds the source's
    own pixels: the iris is not stretched by the lids' motion (without the layer these pixels change)."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    checked = 0
    for index in range(0, len(frames), 8):
        number = analysis.plate.frame_numbers[index]
        found = editor.targets(number, params)
        src = frames[index]
        height, width = src.shape[:2]
        region = warp_region(found.source, width, height)
        iod = float(topo.interocular(found.source[None])[0])
        layer = eyeballs(found.source, found.target, region)
        assert layer is not None, "the edit moves the lids: the eyes are a layer"
        weight = layer[0]
        out = editor.render(src, number, params)
        for eye in (0, 1):
            held = _clean_band(found.source, eye, region, iod) & (weight >= 1.0)
            if held.sum() < 10:
                continue
            mask = np.zeros((height, width), bool)
            mask[region.y0 : region.y1, region.x0 : region.x1] = held
            assert np.array_equal(out[mask], src[mask]), f"frame {number}: the ball in view moved"
            checked += 1
    assert checked >= 6, "too few eyes measured"


def test_without_the_layer_the_lids_drag_the_ball(talking, monkeypatch):
    """The same pixels do change when the eyes are left to the smooth field (so the test above can fail)."""
    import emotionedit.render.frame as frame_module

    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    found = editor.targets(number, SURPRISED)
    src = frames[0]
    height, width = src.shape[:2]
    region = warp_region(found.source, width, height)
    iod = float(topo.interocular(found.source[None])[0])
    weight = eyeballs(found.source, found.target, region)[0]
    monkeypatch.setattr(frame_module, "eyeball_layers", lambda *args: [])
    out = editor.render(src, number, SURPRISED)
    changed = 0
    for eye in (0, 1):
        mask = np.zeros((height, width), bool)
        mask[region.y0 : region.y1, region.x0 : region.x1] = _clean_band(found.source, eye, region, iod) & (weight >= 1)
        changed += int((np.abs(out[mask].astype(int) - src[mask]).max(axis=-1) > 0).sum())
    assert changed > 10


def test_what_the_lids_uncover_comes_from_the_ball(talking):
    """Every sample of the layer lies inside the source's lids by at least half the lid margin: the raised
    upper lid uncovers white and iris, never a copy of the lid's lashes."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[10]
    found = editor.targets(number, SURPRISED)
    source, target = found.source, found.target
    iod = float(topo.interocular(source[None])[0])
    raised = (source[list(topo.RIGHT_UPPER_LID), 1] - target[list(topo.RIGHT_UPPER_LID), 1]).max() / iod
    assert raised > 0.02, f"surprise should raise the upper lids, raised {raised:.3f} IOD"
    height, width = frames[10].shape[:2]
    region = warp_region(source, width, height)
    weight, map_x, map_y = eyeballs(source, target, region)
    inner = np.zeros((height, width), np.float32)
    for eye in (0, 1):
        # The source's opening shrunk by half a margin, as a coverage mask on the plate.
        ring = eye_polygon(source, eye)
        inner = np.maximum(inner, polygon_mask(ring, Rect(0, 0, width, height)))
    uncovered = (weight > 0) & (np.abs(map_y - np.arange(region.y0, region.y1)[:, None]) > 0.5)
    assert uncovered.sum() > 5, "the raised lids should uncover some of the ball"
    # The coverage of the source's opening where each sample lands (bilinear): mostly inside, never on a lid.
    xs, ys = map_x[weight > 0], map_y[weight > 0]
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    inside = ((1 - fx) * (1 - fy) * inner[y0, x0] + fx * (1 - fy) * inner[y0, x0 + 1]
              + (1 - fx) * fy * inner[y0 + 1, x0] + fx * fy * inner[y0 + 1, x0 + 1])
    assert inside.min() > 0.5, f"a sample of the eyeball layer lies on a lid (coverage {inside.min():.2f})"


@pytest.mark.parametrize("params", [SURPRISED, HAPPY], ids=["surprised", "happy"])
def test_each_eyes_layer_spans_only_the_pixels_it_covers(talking, params):
    """A layer's box is its weight's bounding box: every edge row and column of it holds a pixel of the ball (the
    pixel step and a GPU's upload never carry rows the field alone decides), and the ball's map is made there."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    height, width = frames[0].shape[:2]
    for index in range(0, len(frames), 16):
        found = editor.targets(analysis.plate.frame_numbers[index], params)
        layers = eyeball_layers(found.source, found.target, warp_region(found.source, width, height))
        assert len(layers) == 2, "the edit moves both eyes' lids"
        for box, weight, map_x, map_y in layers:
            assert weight.shape == map_x.shape == map_y.shape == (box.height, box.width)
            for edge in (weight[0], weight[-1], weight[:, 0], weight[:, -1]):
                assert edge.max() > 0.0, f"frame {index}: a row or column of the layer's box is empty"


def test_ball_map_keeps_the_iris_round(talking):
    """A hidden pixel of the iris takes a pixel of the iris at the same distance from its centre."""
    frames, analysis = talking
    source = analysis.track.landmarks[0, :, :2].astype(np.float64)
    iod = float(topo.interocular(source[None])[0])
    region = warp_region(source, frames[0].shape[1], frames[0].shape[0])
    for eye, iris in ((0, topo.RIGHT_IRIS), (1, topo.LEFT_IRIS)):
        centre = source[iris[0]]
        radius = float(np.linalg.norm(source[list(iris[1:])] - centre, axis=1).mean())
        map_x, map_y = ball_map(source, eye, region, iod)
        xs = np.arange(region.x0, region.x1)[None, :]
        ys = np.arange(region.y0, region.y1)[:, None]
        rho = np.hypot(xs - centre[0], ys - centre[1])
        moved = (rho < radius) & (np.hypot(map_x - xs, map_y - ys) > 0.5)
        sampled = np.hypot(map_x - centre[0], map_y - centre[1])
        assert moved.any(), "the lids hide part of this iris"
        error = np.abs(sampled[moved] - rho[moved])
        assert np.median(error) < 1e-3 and np.mean(error < 0.5) > 0.9, f"iris samples off their ring: {error.max():.2f}"


def test_unmoved_lids_and_closed_eyes_leave_the_eyes_to_the_field(talking):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    mouth_only = EditParams(emotion=Emotion.HAPPY, intensity=1.0, regions=frozenset({Region.MOUTH}))
    found = editor.targets(number, mouth_only)
    height, width = frames[0].shape[:2]
    region = warp_region(found.source, width, height)
    assert eyeballs(found.source, found.target, region) is None
    # A blink: both lids on one line.
    closed = found.source.copy()
    for upper, lower in ((topo.RIGHT_UPPER_LID, topo.RIGHT_LOWER_LID), (topo.LEFT_UPPER_LID, topo.LEFT_LOWER_LID)):
        closed[list(upper), 1] = closed[list(lower), 1]
    moved = closed.copy()
    moved[list(topo.RIGHT_UPPER_LID), 1] -= 2.0
    assert eyeballs(closed, moved, region) is None
