"""The shading as the pixel step takes it (render/shading.py): the skin detail's gain on its coarse grid, which the
kernels interpolate per pixel (cuda/rule.h's grid_gain), times the mouth corridor's plane.

The grid is laid over its region as cv2.resize lays a small image over a large one; a grid of ones leaves pixels
exactly alone; every kernel (the CPU's, the GPU's code, the torch path) multiplies the grid's gain by the plane's in
that order and fades the product with the matte, bit for bit alike; and the plan keeps the gain compact.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_resample_kernel import DTYPES, F, random_case, reference, same_bits, xs_of, ys_of

from emotionedit.render import Region, _resample
from emotionedit.render.pixels import plan_resampling, resample_into
from emotionedit.render.shading import Shading


def test_the_grid_is_upsampled_as_opencv_upsamples_an_image():
    rng = np.random.default_rng(3)
    grid = (F(1) + (rng.random((11, 9, 3), dtype=F) - F(0.5)) * F(0.4))
    region = Region(40, 25, 40 + 173, 25 + 211)
    gains = Shading(over=region, grid=grid).gains(region)
    want = cv2.resize(grid, (region.width, region.height), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(gains, want, rtol=0, atol=2e-6)  # float32 rounding, not another layout
    # A part of the region gets its own pixels' gains (a render tile's crop is the same shading).
    part = Region(70, 60, 150, 120)
    np.testing.assert_array_equal(Shading(over=region, grid=grid).gains(part), gains[part.within(region)])


def test_a_grid_of_ones_leaves_the_pixels_alone():
    """Around a crease the gain differs from 1; a cell's width from it, the gains are exactly 1 (so the kernels
    leave those pixels' bits alone)."""
    grid = np.ones((20, 16, 3), F)
    grid[8:10, 6:8] = (0.8, 0.75, 0.7)
    region = Region(0, 0, 160, 200)
    gains = Shading(over=region, grid=grid).gains(region)
    assert (gains[:60] == 1).all() and (gains[120:] == 1).all() and (gains[:, :45] == 1).all()
    assert (gains[90, 70] < 1).all()


def test_cropping_keeps_the_grid_and_cuts_the_plane():
    region = Region(0, 0, 100, 80)
    shading = Shading(over=region, grid=np.full((4, 5, 1), F(0.9)), rect=Region(20, 30, 60, 50),
                      plane=np.full((20, 40), F(0.5)))
    part = shading.cropped(Region(50, 0, 100, 40))
    assert part.grid is shading.grid and part.over == region
    assert part.rect == Region(50, 30, 60, 40) and part.plane.shape == (10, 10)
    assert shading.cropped(Region(0, 0, 10, 10)).plane is None  # the grid alone is left
    assert Shading(rect=Region(20, 30, 60, 50), plane=np.ones((20, 40), F)).cropped(Region(0, 0, 10, 10)) is None


def random_shading(rng, region: Region, channels: int) -> Shading:
    """A grid over the region (one gain per colour on colour plates, ones on part of it) times a plane over part."""
    colours = 3 if channels >= 3 else 1
    grid = F(1) + (rng.random((7, 6, colours), dtype=F) - F(0.5)) * F(0.5)
    grid[:2] = 1
    rect = Region(region.x0 + region.width // 3, region.y0 + region.height // 4, region.x1, region.y1 - 2)
    plane = F(1) + (rng.random((rect.height, rect.width), dtype=F) - F(0.5)) * F(0.4)
    plane[::3] = 1
    return Shading(over=region, grid=grid, rect=rect, plane=plane)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_the_kernels_shade_by_the_grid_then_the_plane(dtype, channels):
    """The CPU kernel and the GPU kernel's code against the numpy transcription, given the gains spelled out (the
    grid's times the plane's, as Shading.gains computes them): the same bits."""
    rng = np.random.default_rng(700 + channels * 10 + DTYPES.index(dtype))
    integer = np.dtype(dtype).kind == "u"
    for trial in range(4):
        src, region, map_x, map_y, matte, _ = random_case(rng, dtype, channels, trial)
        height, width = src.shape[:2]
        plan = plan_resampling(map_x - xs_of(region), map_y - ys_of(region), matte, region, width, height)
        shading = random_shading(rng, region, channels)
        for_plate = shading.for_plate(channels, integer)
        gains = for_plate.gains(region)
        window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
        target = src[region.y0 : region.y1, region.x0 : region.x1].copy()
        want, want_skipped = reference(target, window, (plan.window.x0, plan.window.y0), plan,
                                       gains if gains.shape[2] == 3 else gains[..., 0])
        plane_origin = (for_plate.rect.x0 - region.x0, for_plate.rect.y0 - region.y0)
        arguments = (window, plan.window.x0, plan.window.y0, plan.field.arguments(), plan.matte, region.x0,
                     region.y0, for_plate.plane, *plane_origin)
        for threads in (1, 3):
            got = target.copy()
            assert _resample.resample(got, *arguments, threads, for_plate.grid_arguments()) == want_skipped
            assert same_bits(got, want), f"trial {trial}, {threads} threads"
        gpu = target.copy()
        assert _resample.resample_gpu_code(gpu, *arguments, for_plate.grid_arguments()) == want_skipped
        assert same_bits(gpu, want), f"trial {trial}, the GPU's code"
        # resample_into takes the Shading itself.
        through = target.copy()
        resample_into(through, window, plan, shading)
        assert same_bits(through, want)


def test_a_grid_per_colour_is_refused_on_a_grey_plate():
    target = np.zeros((8, 8, 1), F)
    zero = np.zeros((8, 8), F)
    plan = plan_resampling(zero, zero, np.ones((8, 8), F), Region(1, 1, 9, 9), 10, 10)
    grid = (np.ones((2, 2, 3), F), 0.25, 0.25, 1, 1)
    with pytest.raises(ValueError, match="three or more channels"):
        _resample.resample(target, np.zeros((10, 10, 1), F), 0, 0, plan.field.arguments(), plan.matte, 1, 1, None,
                           0, 0, 1, grid)
    with pytest.raises(ValueError, match="gain grid"):
        _resample.resample(target, np.zeros((10, 10, 1), F), 0, 0, plan.field.arguments(), plan.matte, 1, 1, None,
                           0, 0, 1, (np.ones((2, 2, 2), F), 0.25, 0.25, 1, 1))


def test_the_plans_shading_is_compact(talking):
    """franck made happy, his face scaled to 4K's size: the skin detail's gain travels as its coarse grid (at most 64
    pixels per IOD), a small fraction of the face's pixels."""
    from emotionedit.edit import EditParams, Emotion
    from emotionedit.engine import ShotEditor
    from emotionedit.render.frame import plan_frame

    frames, analysis = talking
    found = ShotEditor(analysis).targets(analysis.plate.frame_numbers[4],
                                         EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0))
    scale = 7.5  # 288 rows -> 2160
    height, width = frames[4].shape[:2]
    plan = plan_frame((round(height * scale), round(width * scale), 4), np.float32, found.source * scale,
                      found.target * scale, detail=found.detail)
    shading, region = plan.shading, plan.resampling.region
    assert shading is not None and shading.grid is not None and shading.over == region
    assert shading.grid.size < region.width * region.height / 10
    assert (shading.grid != 1).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_every_path_shades_alike(dtype, channels, monkeypatch):
    """The CPU kernel, the torch operations (every pixel of the region, and the matte's gathered) and the GPU kernel's
    launch run on the CPU, for a grid of one gain or one per colour, times a plane of either kind reaching past the
    region: the same bits (a plate with fewer than three channels takes the colours' luminance)."""
    import torch
    from test_device_render import KernelOnTheCpu

    from emotionedit.render import gpu_kernel
    from emotionedit.render.device import resample_on_device, to_device, to_host

    KernelOnTheCpu(monkeypatch)
    rng = np.random.default_rng(800 + channels * 10 + DTYPES.index(dtype))
    cpu_device = torch.device("cpu")
    for grid_channels, plane_channels in ((None, 3), (1, None), (1, 3), (3, 1), (3, 3)):
        src, region, map_x, map_y, matte, _ = random_case(rng, dtype, channels, 0)
        height, width = src.shape[:2]
        plan = plan_resampling(map_x - xs_of(region), map_y - ys_of(region), matte, region, width, height)
        grid = None if grid_channels is None else F(1) + (rng.random((5, 6, grid_channels), dtype=F) - F(0.5)) * F(0.5)
        rect = Region(region.x0 - 3, region.y0 + 4, region.x0 + region.width // 2, region.y1 + 5)
        plane = None
        if plane_channels is not None:
            colours = (3,) if plane_channels == 3 else ()
            plane = F(1) + (rng.random((rect.height, rect.width, *colours), dtype=F) - F(0.5)) * F(0.4)
        shading = Shading(over=region if grid is not None else None, grid=grid,
                          rect=rect if plane is not None else None, plane=plane)
        window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
        base = src[region.y0 : region.y1, region.x0 : region.x1].copy()
        want = base.copy()
        kept = resample_into(want, window, plan, shading)
        for dense in (True, False):
            target = to_device(base.copy(), cpu_device)
            got = resample_on_device(target, to_device(window, cpu_device), plan, shading, False, dense)
            assert int(got) == kept and same_bits(to_host(target), want), f"torch, dense {dense}"
        target = to_device(base.copy(), cpu_device)
        got = gpu_kernel.resample(target, to_device(np.array(window), cpu_device), plan, shading, False)
        assert int(got) == kept and same_bits(to_host(target), want), "the GPU kernel's launch"


def test_a_gain_grid_that_is_not_an_array_or_not_finite_is_refused():
    grid = (np.ones((2, 2, 1), F), 0.25, 0.25, 0, 0)
    with pytest.raises(ValueError, match="numpy array"):
        _resample.expand_gain(([[[1.0], [1.0]], [[1.0], [1.0]]], 0.25, 0.25, 0, 0), 0, 0, 4, 4, 1)
    with pytest.raises(ValueError, match="finite and positive"):
        _resample.expand_gain((grid[0], float("nan"), 0.25, 0, 0), 0, 0, 4, 4, 1)
    bad = np.ones((2, 2, 1), F)
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="finite and positive"):
        _resample.expand_gain((bad, 0.25, 0.25, 0, 0), 0, 0, 4, 4, 1)
