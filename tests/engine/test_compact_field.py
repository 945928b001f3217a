"""The plan's compact backward map (render/field.py's Field), which the kernels expand per pixel (cuda/rule.h).

What a pixel samples with must be what the plan meant: the coarse grid upsampled as cv2.resize upsamples an image
(bilinear, cell centres, edges held), then each layer behind the face (the mouth's interior, the eyeballs) blended
in by its weight; and the window the samples read must hold every sample the map can reach.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.render import Region
from emotionedit.render.field import Field
from emotionedit.render.pixels import resampling_of

F = np.float32


def test_the_grid_is_upsampled_as_opencv_upsamples_an_image():
    rng = np.random.default_rng(7)
    grid = (rng.random((9, 13, 2), dtype=F) - F(0.5)) * F(20)
    region = Region(31, 17, 31 + 205, 17 + 122)
    dx, dy = Field(region, grid).offsets(region)
    for k, plane in enumerate((dx, dy)):
        want = cv2.resize(np.ascontiguousarray(grid[..., k]), (region.width, region.height),
                          interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(plane, want, rtol=0, atol=2e-5)  # float32 rounding, not another layout
    # Any part of the region gets its own pixels' displacements (a render window's crop is the same map).
    part = Region(60, 40, 100, 90)
    np.testing.assert_array_equal(Field(region, grid).offsets(part)[0], dx[part.within(region)])


def test_a_grid_the_size_of_its_region_is_the_map_itself():
    rng = np.random.default_rng(8)
    region = Region(5, 3, 45, 33)
    offset_x, offset_y = ((rng.random((30, 40), dtype=F) - F(0.5)) * F(9) for _ in range(2))
    dx, dy = Field.of_offsets(offset_x, offset_y, region).offsets(region)
    np.testing.assert_array_equal(dx, offset_x)
    np.testing.assert_array_equal(dy, offset_y)


def test_layers_pull_the_map_toward_their_own_by_their_weight():
    region = Region(0, 0, 60, 40)
    grid = np.full((4, 6, 2), F(2.0))
    box = Region(10, 10, 30, 20)
    ys, xs = np.mgrid[box.y0 : box.y1, box.x0 : box.x1].astype(F)
    weight = np.linspace(0, 1, box.width, dtype=F)[None, :].repeat(box.height, axis=0)
    map_x, map_y = xs - F(5), ys + F(3)  # the layer samples 5 px left and 3 px down
    second = Region(25, 12, 40, 18)  # overlaps the first: a later layer covers an earlier one
    field = Field(region, grid).with_layers([(box, weight, map_x, map_y),
                                             (second, np.ones((6, 15), F), *np.mgrid[12:18, 25:40].astype(F)[::-1])])
    dx, dy = field.offsets(region)
    inside = box.within(region)
    np.testing.assert_array_equal(dx[inside][:, :15], (F(2) * (F(1) - weight) + weight * F(-5))[:, :15])
    np.testing.assert_array_equal(dy[inside][:, :15], (F(2) * (F(1) - weight) + weight * F(3))[:, :15])
    assert (dx[second.within(region)] == 0).all() and (dy[second.within(region)] == 0).all()
    outside = np.ones(dx.shape, bool)
    outside[inside] = False
    outside[second.within(region)] = False
    assert (dx[outside] == 2).all() and (dy[outside] == 2).all()


def test_the_window_holds_every_sample_of_a_real_frames_map(talking):
    """franck's frames edited: the window from the map's extremes holds every sample the expanded map reaches."""
    from emotionedit.edit import EditParams, Emotion
    from emotionedit.engine import ShotEditor

    frames, analysis = talking
    editor = ShotEditor(analysis)
    height, width = frames[0].shape[:2]
    for index in (4, 20):
        number = analysis.plate.frame_numbers[index]
        plan = editor.plan_frame(frames[index].shape, np.uint8, number,
                                 EditParams(emotion=Emotion.HAPPY, intensity=1.5, lip_preservation=0.0))
        r = plan.resampling
        edited = r.matte > 0
        ys, xs = np.mgrid[r.region.y0 : r.region.y1, r.region.x0 : r.region.x1].astype(F)
        x = (xs + r.matte * r.offset_x)[edited]
        y = (ys + r.matte * r.offset_y)[edited]
        assert np.floor(x.min()) - 1 >= r.window.x0 or r.window.x0 == 0
        assert np.floor(y.min()) - 1 >= r.window.y0 or r.window.y0 == 0
        assert np.floor(x.max()) + 3 <= r.window.x1 or r.window.x1 == width
        assert np.floor(y.max()) + 3 <= r.window.y1 or r.window.y1 == height
        assert len(r.field.boxes) >= 2  # the eyes' layers are in the map


def layered_field(rng) -> tuple[Region, Field, Region]:
    """A field over a region with two layers, the first with part of its weight 0 (those pixels' own maps far off)."""
    region = Region(20, 10, 100, 70)
    grid = (rng.random((5, 7, 2), dtype=F) - F(0.5)) * F(6)
    box = Region(30, 20, 60, 40)
    ys, xs = np.mgrid[box.y0 : box.y1, box.x0 : box.x1].astype(F)
    weight = rng.random((box.height, box.width), dtype=F)
    weight[:, :10] = 0  # unused: what its map says there must not count
    map_x, map_y = xs + F(9) * (weight - F(0.4)), ys - F(4)
    map_x[:, :10] = F(1e6)
    second = Region(50, 30, 80, 60)
    ys2, xs2 = np.mgrid[second.y0 : second.y1, second.x0 : second.x1].astype(F)
    field = Field(region, grid).with_layers([(box, weight, map_x, map_y),
                                             (second, np.full((30, 30), F(0.5)), xs2 + F(12), ys2 + F(1))])
    return region, field, box


def test_the_maps_reach_bounds_its_displacements():
    """The window is sized from Field.reach: bounds of the displacement at every pixel (0 included), layers and
    all: the grid's extremes and those of the layers' own displacements where their weight is used (the blends and
    the interpolation stay between them), nothing from a layer's pixels of weight 0."""
    region, field, box = layered_field(np.random.default_rng(11))
    low_x, low_y, high_x, high_y = field.reach()
    dx, dy = field.offsets(region)
    assert low_x <= min(dx.min(), 0) and low_y <= min(dy.min(), 0)
    assert high_x >= max(dx.max(), 0) and high_y >= max(dy.max(), 0)
    size = box.width * box.height
    start = field.boxes[0][4]
    weight, map_x, map_y = (field.values[start + k * size : start + (k + 1) * size].reshape(box.height, box.width)
                            for k in range(3))
    ys, xs = np.mgrid[box.y0 : box.y1, box.x0 : box.x1].astype(F)
    used = weight != 0
    layer_x, layer_y = (map_x - xs)[used], (map_y - ys)[used]
    grid = field.grid.reshape(-1, 2)
    want = (min(grid[:, 0].min(), layer_x.min(), 0), min(grid[:, 1].min(), layer_y.min(), 0),
            max(grid[:, 0].max(), layer_x.max(), 12), max(grid[:, 1].max(), layer_y.max(), 1))  # the second: (12, 1)
    np.testing.assert_allclose((low_x, low_y, high_x, high_y), want, rtol=0, atol=1e-4)


def test_a_map_holding_nan_is_refused():
    region = Region(0, 0, 8, 8)
    grid = np.zeros((2, 2, 2), F)
    grid[1, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        resampling_of(Field(region, grid), np.ones((8, 8), F), region, 10, 10)
    # A layer's map holding NaN where its weight is used, too.
    region, field, box = layered_field(np.random.default_rng(12))
    values = field.values.copy()
    size = box.width * box.height
    values[field.boxes[0][4] + size + 5 * box.width + 20] = np.nan  # its map_x at (row 5, column 20)
    with pytest.raises(ValueError, match="NaN"):
        resampling_of(Field(region, field.grid, field.boxes, values), np.ones((60, 80), F), region, 120, 80)


def test_the_plans_field_is_compact(talking):
    """A plan's map is its coarse grid and the layers' boxes, not planes the size of the face."""
    from emotionedit.edit import EditParams, Emotion
    from emotionedit.engine import ShotEditor

    frames, analysis = talking
    plan = ShotEditor(analysis).plan_frame(frames[4].shape, np.uint8, analysis.plate.frame_numbers[4],
                                           EditParams(emotion=Emotion.SAD, intensity=1.0, lip_preservation=1.0))
    r = plan.resampling
    assert r.field.grid.size + r.field.values.size < r.region.width * r.region.height
