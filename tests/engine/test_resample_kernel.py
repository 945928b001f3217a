"""The compiled resampling kernel (cpp/engine/resample.cpp) against a numpy transcription of its rule.

The rule: each pixel where the matte is above 0 samples itself plus the matte times the field's displacement;
Keys' cubic (a = -0.75) at the sample's exact position, borders replicated, clamped to the 2x2
pixels around the sample, stored in the plate's type, then the colour multiplied by the shading gain faded
with the matte (1 + m (g - 1)); a
pixel whose footprint or own value holds NaN or inf keeps its value (and is counted). The transcription
below does the same float32 operations in the same order, so the two agree bit for bit; it is slow and
plain, the kernel is fast and threaded.
"""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit.render import Region, _resample
from emotionedit.render.field import Field
from emotionedit.render.pixels import plan_resampling, resample_into

F = np.float32
DTYPES = [np.uint8, np.uint16, np.float16, np.float32]


def split(coords: np.ndarray, origin: int) -> tuple[np.ndarray, np.ndarray]:
    usable = np.where(coords - coords == 0, coords, F(0))
    limited = np.minimum(np.maximum(usable, F(-1e7)), F(1e7))
    whole = limited.astype(np.int64)  # toward 0
    whole -= (whole.astype(F) > limited).astype(np.int64)
    return whole - origin, limited - whole.astype(F)


def weights(t: np.ndarray) -> list[np.ndarray]:
    a, one = F(-0.75), F(1)
    t1, u = t + one, one - t
    w0 = ((a * t1 - F(5) * a) * t1 + F(8) * a) * t1 - F(4) * a
    w1 = ((a + F(2)) * t - (a + F(3))) * t * t + one
    w2 = ((a + F(2)) * u - (a + F(3))) * u * u + one
    return [w0, w1, w2, one - w0 - w1 - w2]


def store(values: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype).kind == "u":
        return np.clip(np.rint(values), 0, np.iinfo(dtype).max).astype(dtype)
    return values.astype(dtype)


def xs_of(region: Region) -> np.ndarray:
    return np.arange(region.x0, region.x1, dtype=F)[None, :]


def ys_of(region: Region) -> np.ndarray:
    return np.arange(region.y0, region.y1, dtype=F)[:, None]


@np.errstate(invalid="ignore", over="ignore")  # inf * 0 and inf - inf are part of the rule (they make NaN)
def reference(target, window, origin, plan, gain=None, gain_origin=(0, 0)):
    """The kernel's rule, pixel array by pixel array: (output, skipped)."""
    out = target.copy()
    region, matte = plan.region, plan.matte
    edit = matte > 0
    map_x = xs_of(region) + matte * plan.offset_x
    map_y = ys_of(region) + matte * plan.offset_y
    ix, tx = split(map_x, origin[0])
    iy, ty = split(map_y, origin[1])
    wx, wy = weights(tx), weights(ty)
    height, width = window.shape[:2]
    source = window.astype(F)
    rows = []
    corner = []
    for r in range(4):
        yy = np.clip(iy - 1 + r, 0, height - 1)
        taps = [source[yy, np.clip(ix - 1 + k, 0, width - 1)] for k in range(4)]
        rows.append(((wx[0][..., None] * taps[0] + wx[1][..., None] * taps[1]) + wx[2][..., None] * taps[2])
                    + wx[3][..., None] * taps[3])
        if r in (1, 2):
            corner += [taps[1], taps[2]]
    value = ((wy[0][..., None] * rows[0] + wy[1][..., None] * rows[1]) + wy[2][..., None] * rows[2]) \
        + wy[3][..., None] * rows[3]
    low = np.minimum(np.minimum(corner[0], corner[1]), np.minimum(corner[2], corner[3]))
    high = np.maximum(np.maximum(corner[0], corner[1]), np.maximum(corner[2], corner[3]))
    clean = np.isfinite(map_x) & np.isfinite(map_y) & np.isfinite(value).all(axis=2)
    if out.dtype.kind == "f":
        clean &= np.isfinite(out.astype(F)).all(axis=2)
    sampled = store(np.minimum(np.maximum(value, low), high), out.dtype)
    write = edit & clean
    out[write] = sampled[write]
    if gain is not None:  # (h, w): one gain for the colour channels; (h, w, 3): one each
        colour = min(3, out.shape[2])
        g = np.ones((*edit.shape, colour), F)
        gx, gy = gain_origin
        g[gy : gy + gain.shape[0], gx : gx + gain.shape[1]] = gain if gain.ndim == 3 else gain[..., None]
        shaded = edit[..., None] & (g != 1)
        values = out[..., :colour].astype(F) * (F(1) + matte[..., None] * (g - F(1)))  # faded with the matte
        out[..., :colour] = np.where(shaded, store(values, out.dtype), out[..., :colour])
    return out, int((edit & ~clean).sum())


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.ascontiguousarray(a).tobytes() == \
        np.ascontiguousarray(b).tobytes()


def random_case(rng, dtype, channels: int, trial: int):
    """A source plate with values past [0, 1] (floats), NaN and inf on odd trials, a map with small, large and
    off-plate displacements and exact ties, a ragged edit mask and a gain over part of the region."""
    height, width = (int(v) for v in rng.integers(40, 110, size=2))
    src = rng.random((height, width, channels), dtype=F) * 3 - 1
    if np.dtype(dtype).kind == "u":
        src = np.round(np.clip(src, 0, 1) * np.iinfo(dtype).max)
    elif trial % 2:
        for value in (np.nan, np.inf, -np.inf) * 3:
            src[rng.integers(height), rng.integers(width), rng.integers(channels)] = value
    if channels == 4 and trial % 3 == 2:
        src[..., 3] = 1.0  # an opaque plate: alpha stays exactly 1
    src = src.astype(dtype)
    region = Region(int(rng.integers(0, 15)), int(rng.integers(0, 15)), width - int(rng.integers(0, 15)),
                    height - int(rng.integers(0, 15)))
    ys, xs = np.mgrid[region.y0 : region.y1, region.x0 : region.x1].astype(F)
    reach = (0.7, 5.0, 60.0)[trial % 3]  # the last reaches past the plate's edges
    map_x = xs + (rng.random(xs.shape, dtype=F) - F(0.5)) * F(reach)
    map_y = ys + (rng.random(xs.shape, dtype=F) - F(0.5)) * F(reach)
    map_x[::3] = np.round(map_x[::3])  # whole pixels (weights 0 on the outer taps) and halves
    map_y[::5] = np.round(map_y[::5] * 2) / 2
    matte = np.clip(rng.random(xs.shape, dtype=F) * 2 - F(0.3), 0, 1)
    gain = None
    if trial % 2 == 0:  # one gain for the colours, or (trial 2, plates with colours) one per colour channel
        colours = (3,) if trial == 2 and channels >= 3 else ()
        gain = (1 + (rng.random((region.height // 2, region.width // 2, *colours), dtype=F) - F(0.5))
                * F(0.6)).astype(F)
        if colours:
            gain[::4, :, 1] = 1  # a channel left alone where the others are shaded
    return src, region, map_x, map_y, matte, gain


# Half floats through the CPU's F16C conversions where it has them, and through the portable kernel.
KERNELS = [(np.uint8, "auto"), (np.uint16, "auto"), (np.float16, "auto"), (np.float16, "portable"),
           (np.float32, "auto")]


@pytest.mark.parametrize(("dtype", "kernel"), KERNELS, ids=lambda v: v if isinstance(v, str) else np.dtype(v).name)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_kernel_follows_its_rule_bit_for_bit(dtype, kernel, channels):
    _resample.use_portable_half(kernel == "portable")
    try:
        _check_kernel(dtype, channels)
    finally:
        _resample.use_portable_half(False)


def _check_kernel(dtype, channels):
    rng = np.random.default_rng(channels * 10 + DTYPES.index(dtype))
    for trial in range(6):
        src, region, map_x, map_y, matte, gain = random_case(rng, dtype, channels, trial)
        height, width = src.shape[:2]
        plan = plan_resampling(map_x - xs_of(region), map_y - ys_of(region), matte, region, width, height)
        gain_origin = (region.width // 4, region.height // 3)  # a gain over unedited pixels too: they stay
        window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
        target = src[region.y0 : region.y1, region.x0 : region.x1].copy()
        want, want_skipped = reference(target, window, (plan.window.x0, plan.window.y0), plan, gain, gain_origin)
        for threads in (1, 3):
            got = target.copy()
            skipped = _resample.resample(got, window, plan.window.x0, plan.window.y0, plan.field.arguments(),
                                         plan.matte, region.x0, region.y0, gain, *gain_origin, threads)
            assert skipped == want_skipped
            assert same_bits(got, want), f"trial {trial}, {threads} threads"
        if np.dtype(dtype).kind == "f" and trial % 2:
            assert want_skipped > 0, "the case should exercise the NaN/inf rule"
        # Through resample_into: in place on the plate, and from bottom-up views (the OFX bridge's rows).
        shading = None
        if gain is not None:
            rect = Region(region.x0 + gain_origin[0], region.y0 + gain_origin[1],
                          region.x0 + gain_origin[0] + gain.shape[1], region.y0 + gain_origin[1] + gain.shape[0])
            shading = (rect, gain)
        encoded = shading
        if shading is not None and np.dtype(dtype).kind == "u":
            encoded = None  # integer plates shade in their display encoding: compared with the kernel's own run
        if encoded is shading:
            in_place = src.copy()
            assert resample_into(in_place[region.y0 : region.y1, region.x0 : region.x1],
                                 in_place[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1],
                                 plan, shading) == want_skipped
            assert same_bits(in_place[region.y0 : region.y1, region.x0 : region.x1], want)
            flipped, given = src[::-1].copy()[::-1], src[::-1].copy()[::-1]
            resample_into(flipped[region.y0 : region.y1, region.x0 : region.x1],
                          given[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan, shading)
            assert same_bits(flipped[region.y0 : region.y1, region.x0 : region.x1], want)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_the_gpu_kernels_code_gives_the_cpu_kernels_pixels(dtype, channels):
    """render/cuda/resample.cu, the code NVRTC compiles for a GPU, run here pixel by pixel: the CPU kernel's
    pixels and count of kept pixels, bit for bit (NaN payloads included), on plates stored top row first and
    bottom row first (OpenFX's order, negative row strides), with and without shading."""
    rng = np.random.default_rng(300 + channels * 10 + DTYPES.index(dtype))
    for trial in range(6):
        src, region, map_x, map_y, matte, gain = random_case(rng, dtype, channels, trial)
        if gain is not None and gain.ndim == 3:  # the GPU's layout: a plane per colour, as plans make them
            gain = gain[..., 0].copy() if channels < 3 else np.moveaxis(np.ascontiguousarray(np.moveaxis(gain, -1, 0)),
                                                                        0, -1)
        height, width = src.shape[:2]
        plan = plan_resampling(map_x - xs_of(region), map_y - ys_of(region), matte, region, width, height)
        origin = (region.width // 4, region.height // 3)
        for flipped in (False, True):
            plate = src[::-1].copy()[::-1] if flipped else src
            window = plate[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
            cpu = plate[region.y0 : region.y1, region.x0 : region.x1].copy()
            gpu = plate[::-1].copy()[::-1][region.y0 : region.y1, region.x0 : region.x1] if flipped else cpu.copy()
            arguments = (window, plan.window.x0, plan.window.y0, plan.field.arguments(), plan.matte,
                         region.x0, region.y0, gain, *origin)
            want = _resample.resample(cpu, *arguments, 2)
            assert _resample.resample_gpu_code(gpu, *arguments) == want
            assert same_bits(gpu, cpu), f"trial {trial}, {'bottom-up' if flipped else 'top-down'}"
            if np.dtype(dtype).kind == "f" and trial % 2:
                assert want > 0, "the case should exercise the NaN/inf rule"


def test_integer_plates_are_shaded_in_their_display_encoding():
    """shade_into's rule for 8- and 16-bit plates: the linear gain raised to 1/2.2, applied to the stored value."""
    rng = np.random.default_rng(3)
    src = (rng.random((50, 60, 3)) * 255).round().astype(np.uint8)
    region = Region(5, 5, 55, 45)
    ys, xs = np.mgrid[5:45, 5:55].astype(F)
    plan = plan_resampling(np.full(xs.shape, F(0.3)), np.full(xs.shape, F(-0.6)), np.ones(xs.shape, F), region, 60, 50)
    gain = np.full((40, 50), F(0.5))
    out = src.copy()
    resample_into(out[5:45, 5:55], src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan,
                  (region, gain))
    plain = src.copy()
    resample_into(plain[5:45, 5:55], src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan)
    expected = np.clip(np.rint(plain[5:45, 5:55].astype(F) * np.power(F(0.5), F(1 / 2.2))), 0, 255)
    assert np.array_equal(out[5:45, 5:55], expected.astype(np.uint8))


def test_half_floats_convert_as_numpy_does():
    every = np.arange(65536, dtype=np.uint16)
    assert same_bits(_resample.half_to_float(every), every.view(np.float16).astype(F))
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.integers(0, 2**32, 400_000, dtype=np.uint64).astype(np.uint32).view(F),
                             every.view(np.float16).astype(F), np.float32(65504) + np.arange(-40, 40, dtype=F),
                             (rng.standard_normal(100_000) * 1e-6).astype(F)])
    finite = ~np.isnan(values)
    with np.errstate(over="ignore"):
        want = values.astype(np.float16).view(np.uint16)
    got = _resample.float_to_half(values)
    assert np.array_equal(got[finite], want[finite])
    assert np.isnan(got[~finite].view(np.float16)).all()


def test_a_grey_plate_takes_the_luminance_of_a_gain_per_colour():
    """A one-channel plate cannot take a redder shadow: it is multiplied by the colours' luminance gain."""
    src = np.full((20, 20, 1), 0.5, F)
    region = Region(2, 2, 18, 18)
    zero = np.zeros((16, 16), F)
    plan = plan_resampling(zero, zero, np.ones((16, 16), F), region, 20, 20)
    gain = np.ones((16, 16, 3), F)
    gain[4:8, 4:8] = (0.9, 0.7, 0.6)
    out = src.copy()
    resample_into(out[2:18, 2:18], src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan,
                  (region, gain))
    want = 0.5 * np.exp(np.log([0.9, 0.7, 0.6]) @ [0.2126, 0.7152, 0.0722])
    assert out[6:10, 6:10].ravel() == pytest.approx(np.full(16, want), rel=1e-5)
    assert (out[2:6, 2:18] == 0.5).all()  # gain 1: untouched


def test_bad_arguments_are_errors_not_crashes():
    target = np.zeros((8, 8, 4), F)
    window = np.zeros((10, 10, 4), F)
    maps = np.zeros((8, 8), F)
    matte = np.ones((8, 8), F)
    field = Field.of_offsets(maps, maps, Region(1, 1, 9, 9))
    grid, scale_x, scale_y, x0, y0, boxes, values = field.arguments()
    ok = dict(target=target, window=window, window_x0=0, window_y0=0, field=field.arguments(), matte=matte,
              region_x0=1, region_y0=1, gain=None, gain_x0=0, gain_y0=0, threads=2)
    assert _resample.resample(**ok) == 0
    bad = [dict(target=target.astype(np.float64), window=window.astype(np.float64)),
           dict(window=window.astype(np.float16)),
           dict(target=np.zeros((8, 8, 5), F), window=np.zeros((10, 10, 5), F)),
           dict(field=(grid.astype(np.float64), scale_x, scale_y, x0, y0, boxes, values)),
           dict(field=(grid[:, ::2], scale_x, scale_y, x0, y0, boxes, values)),
           dict(field=(grid, scale_x, scale_y, x0, y0, np.array([[0, 0, 4, 4, 0]], np.int32), values)),
           dict(field=(grid, scale_x, scale_y, x0, y0, np.array([[0, 0, 2, 2, 0]], np.int32), np.zeros(11, F))),
           dict(field=(grid, scale_x, scale_y)),
           dict(matte=matte.astype(bool)),
           dict(gain=np.ones((3, 3), np.float64)),
           dict(gain=np.ones((3, 3, 2), F)),
           dict(gain=np.ones((3, 3, 3), F), target=np.zeros((8, 8, 1), F), window=np.zeros((10, 10, 1), F)),
           dict(target=np.zeros((8, 8), F)),
           dict(window=np.zeros((0, 10, 4), F)),
           dict(target=np.lib.stride_tricks.as_strided(target, writeable=False))]
    for change in bad:
        with pytest.raises(ValueError):
            _resample.resample(**{**ok, **change})
    with pytest.raises(ValueError, match="NaN"):
        plan_resampling(np.full((8, 8), np.nan, F), maps, np.ones((8, 8), F), Region(0, 0, 8, 8), 10, 10)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_whole_pixel_displacements_move_pixels_exactly(dtype):
    """No displacement keeps every pixel bit for bit; a displacement by whole pixels moves them bit for bit (the
    cubic's weights are 0, 1, 0, 0 there), half a matte samples halfway, and nothing is shifted by a half pixel."""
    rng = np.random.default_rng(5)
    src = (rng.random((40, 50, 4), dtype=F) * 2 - 0.5)
    src = np.round(np.clip(src, 0, 1) * np.iinfo(dtype).max).astype(dtype) if np.dtype(dtype).kind == "u" \
        else src.astype(dtype)
    region = Region(10, 8, 40, 30)
    shape = (region.height, region.width)
    for dx, dy in ((0, 0), (3, -2), (-5, 4)):
        plan = plan_resampling(np.full(shape, F(dx)), np.full(shape, F(dy)), np.ones(shape, F), region, 50, 40)
        out = src.copy()
        resample_into(out[8:30, 10:40], src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan)
        assert same_bits(out[8:30, 10:40], src[8 + dy : 30 + dy, 10 + dx : 40 + dx])
    # Half the matte, a 2-pixel displacement: the pixel one over, exactly.
    plan = plan_resampling(np.full(shape, F(2)), np.zeros(shape, F), np.full(shape, F(0.5)), region, 50, 40)
    out = src.copy()
    resample_into(out[8:30, 10:40], src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan)
    assert same_bits(out[8:30, 10:40], src[8:30, 11:41])
