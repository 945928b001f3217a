"""A frame planned without pixels, then rendered from its read rectangle into its write rectangle.

ShotEditor.plan_frame decides the field, the matte and the rectangles; FramePlan.apply is the only
step that touches pixels. These tests hold the windowed path (the source's read_rect in, the output's
write_rect out, everything else the background) to the whole-plate render, bit for bit, on real footage.
"""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.render import Output, Region, face_matte, warp_region
from emotionedit.render.detail import detail_gain, shade_into
from emotionedit.render.eyes import eyeballs
from emotionedit.render.field import backward_offsets
from emotionedit.render.mouth import corridor_gain, mouth_interior, mouth_openness
from emotionedit.render.overlay import composite
from emotionedit.render.pixels import plan_resampling, resample_into
from emotionedit.render.upper_teeth import teeth_overlay

EDITS = [EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0),
         EditParams(emotion=Emotion.SAD, intensity=1.4, lip_preservation=0.3),
         EditParams(emotion=Emotion.SURPRISED, intensity=0.8, lip_preservation=0.0)]
DTYPES = [np.uint8, np.uint16, np.float16, np.float32]


def plate(frame: np.ndarray, dtype, channels: int, defects: bool = False) -> np.ndarray:
    """franck's 8-bit frame in ``dtype``; float plates scene-linear past [0, 1], optionally with NaN and inf
    scattered over the face (where the NaN rule decides pixels)."""
    x = frame.astype(np.float32) / 255.0
    if channels == 1:
        x = x.mean(axis=2, keepdims=True)
    if channels == 4:
        ramp = np.linspace(0.2, 1.0, x.shape[1], dtype=np.float32)[None, :, None].repeat(x.shape[0], 0)
        x = np.concatenate([x, ramp], axis=2)
    if dtype == np.uint8:
        return np.round(x * 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.round(x * 65535).astype(np.uint16)
    out = (x**2.2 * 6.0 - 0.25).astype(dtype)
    if defects:
        rng = np.random.default_rng(7)
        height, width = out.shape[:2]
        for value in [np.nan, np.inf, -np.inf] * 12:
            y, col = rng.integers(height // 4, 3 * height // 4), rng.integers(width // 4, 3 * width // 4)
            out[y, col, rng.integers(0, channels)] = value
    return out


def poison_like(array: np.ndarray, value: float | None = None) -> np.ndarray:
    """``value``, or poison: NaN for floats, a sentinel for integers."""
    if value is None:
        value = np.nan if array.dtype.kind == "f" else 77
    return np.full_like(array, value)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.ascontiguousarray(a).tobytes() == \
        np.ascontiguousarray(b).tobytes()


def rows_cols(rect: Region) -> tuple[slice, slice]:
    return slice(rect.y0, rect.y1), slice(rect.x0, rect.x1)


def windowed(plan, src: np.ndarray) -> tuple[np.ndarray, int]:
    """The frame as the OFX node renders it: only read_rect of the source reaches the pixel step (the rest of
    the plate it is given is poison), it writes into write_rect of a poisoned plate, and everything else is
    the background. Checks nothing outside write_rect is written and every pixel inside it is."""
    given = poison_like(src)
    skipped = 0
    out = np.zeros_like(src) if plan.background == "zero" else src.copy()
    if plan.write_rect is not None:
        src_read = None
        if plan.read_rect is not None:
            given[rows_cols(plan.read_rect)] = src[rows_cols(plan.read_rect)]
            src_read = given[rows_cols(plan.read_rect)]
        written = []
        # A pixel left unwritten would keep the fill, and differ between the two.
        for fill in (None, 78):
            target = poison_like(src, fill)
            before = target.copy()
            dst_write = target[rows_cols(plan.write_rect)]
            skipped = plan.apply(dst_write, src_read)
            outside = np.ones(src.shape[:2], bool)
            outside[rows_cols(plan.write_rect)] = False
            assert same_bits(target[outside], before[outside]), "apply wrote outside write_rect"
            written.append(dst_write)
        assert same_bits(*written), "apply left pixels of write_rect unwritten"
        out[rows_cols(plan.write_rect)] = written[0]
    return out, skipped


def whole_plate_reference(editor: ShotEditor, src: np.ndarray, number: int, params: EditParams) -> np.ndarray:
    """The Edited output composed from the stage functions on the whole plate, as render_into did before the
    pixel step was split off: copy, then warp the face (its layers blended into the field) in place, then shade
    its skin detail."""
    out = src.copy()
    found = editor.targets(number, params)
    if found is None or params.is_identity:
        return out
    region = warp_region(found.source, src.shape[1], src.shape[0])
    offset_x, offset_y = backward_offsets(found.source, found.target, region)
    xs = np.arange(region.x0, region.x1, dtype=np.float32)[None, :]
    ys = np.arange(region.y0, region.y1, dtype=np.float32)[:, None]
    # The layers behind the face (the mouth's interior, the eyeballs), each exactly itself where its weight is 1.
    for layer in (mouth_interior(found.source, found.target, region), eyeballs(found.source, found.target, region)):
        if layer is not None:
            weight, lx, ly = layer
            offset_x = (1.0 - weight) * offset_x + weight * (lx - xs)
            offset_y = (1.0 - weight) * offset_y + weight * (ly - ys)
    matte = face_matte(found.source, region)
    plan = plan_resampling(offset_x, offset_y, matte, region, src.shape[1], src.shape[0])
    resample_into(out[region.y0 : region.y1, region.x0 : region.x1],
                  src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1], plan)
    # The shading: the skin detail's gain (one per colour channel) times the mouth corridor's, over the rectangle
    # that holds both, faded with the matte (1 + matte (gain - 1)) and multiplied into the edited pixels.
    colour = src.shape[2] >= 3  # a grey plate's creases: one gain, their luminance ratio
    parts = [part for part in (detail_gain(found.target, region, found.detail, colour=colour),
                               corridor_gain(found.source, found.target, region)) if part is not None]
    if parts:
        x0, y0 = min(r.x0 for r, _ in parts), min(r.y0 for r, _ in parts)
        x1, y1 = max(r.x1 for r, _ in parts), max(r.y1 for r, _ in parts)
        gain = np.ones((y1 - y0, x1 - x0, *((3,) if colour else ())), np.float32)
        for r, g in parts:
            gain[r.y0 - y0 : r.y1 - y0, r.x0 - x0 : r.x1 - x0] *= g if g.ndim == gain.ndim else g[..., None]
        fade = matte[y0 - region.y0 : y1 - region.y0, x0 - region.x0 : x1 - region.x0]
        shade_into(out[y0:y1, x0:x1], gain, fade=fade)
    # Last, the shot's upper teeth over what the edit uncovers of them (render/upper_teeth.py).
    teeth = editor._upper_teeth(editor.analysis.index_of(number))
    if teeth is not None and mouth_openness(found.source) > 0.0:
        largest = float(np.iinfo(src.dtype).max) if src.dtype.kind == "u" else 1.0
        donor, affine, weight, gain = teeth
        composite(out, (0, 0), teeth_overlay(donor, affine, weight, found.source, found.target, region, matte,
                                             mouth_openness(found.source), largest, src.shape[2], gain))
    return out


@pytest.fixture(params=["talking", "smiling"])
def shot(request):
    frames, analysis = request.getfixturevalue(request.param)
    return frames, analysis, ShotEditor(analysis)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 3, 4], ids=["grey", "RGB", "RGBA"])
def test_windowed_edit_equals_the_whole_plate_render(shot, dtype, channels):
    frames, analysis, editor = shot
    for index, params in zip((4, 21, 38), EDITS, strict=True):
        number = analysis.plate.frame_numbers[index]
        for defects in (False, True) if np.dtype(dtype).kind == "f" else (False,):
            src = plate(frames[index], dtype, channels, defects)
            plan = editor.plan_frame(src.shape, src.dtype, number, params)
            assert plan.write_rect is not None and plan.background == "source"
            whole = np.empty_like(src)
            whole_skipped = editor.render_into(whole, src, number, params)
            got, skipped = windowed(plan, src)
            assert same_bits(got, whole), (index, defects)
            assert skipped == whole_skipped
            assert same_bits(whole, whole_plate_reference(editor, src, number, params)), (index, defects)
            if defects:
                assert skipped > 0, "the defects should have reached the face"
            # The point of the split: the pixel step sees a fraction of the plate.
            area = plan.read_rect.width * plan.read_rect.height
            assert area < 0.5 * src.shape[0] * src.shape[1], plan.read_rect
            assert (got != src).any(), "the edit changed nothing"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("output", [Output.MATTE, Output.LANDMARKS], ids=["matte", "landmarks"])
def test_windowed_check_outputs_equal_the_whole_plate_render(shot, dtype, output):
    frames, analysis, editor = shot
    number = analysis.plate.frame_numbers[12]
    for channels in (3, 4):
        src = plate(frames[12], dtype, channels)
        plan = editor.plan_frame(src.shape, src.dtype, number, EDITS[0], output)
        whole = np.empty_like(src)
        editor.render_into(whole, src, number, EDITS[0], output)
        got, _ = windowed(plan, src)
        assert same_bits(got, whole)
        if output == Output.MATTE:
            assert plan.background == "zero" and plan.read_rect is None  # the matte reads no pixel
        else:
            assert plan.background == "source" and plan.read_rect == plan.write_rect


def test_cropped_plans_write_the_same_pixels(talking):
    """A host's render window cutting through the face (tiles): the cropped plan writes only inside the
    window, reads no more than the whole plan, and its pixels are the whole render's, NaN rule included."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[30]
    for output in Output:
        for dtype in DTYPES:
            src = plate(frames[30], dtype, 4, defects=True)
            plan = editor.plan_frame(src.shape, src.dtype, number, EDITS[1], output)
            whole = np.empty_like(src)
            editor.render_into(whole, src, number, EDITS[1], output)
            w = plan.write_rect
            cx, cy = (w.x0 + w.x1) // 2, (w.y0 + w.y1) // 2
            tiles = [Region(0, 0, cx, cy), Region(cx, 0, 360, cy), Region(0, cy, cx, 288), Region(cx, cy, 360, 288),
                     Region(w.x0 + 5, w.y0 + 7, w.x0 + 40, w.y1 - 3), Region(0, 0, 10, 10)]
            for tile in tiles:
                part = plan.cropped(tile)
                got, _ = windowed(part, src)
                if part.write_rect is None:
                    assert (tile.x1 <= w.x0 or tile.y1 <= w.y0), tile  # only tiles away from the face
                    continue
                t = part.write_rect
                assert tile.x0 <= t.x0 and tile.y0 <= t.y0 and t.x1 <= tile.x1 and t.y1 <= tile.y1
                if part.read_rect is not None:
                    r, whole_read = part.read_rect, plan.read_rect
                    assert whole_read.x0 <= r.x0 and whole_read.y0 <= r.y0
                    assert r.x1 <= whole_read.x1 and r.y1 <= whole_read.y1
                assert same_bits(got[rows_cols(tile)], whole[rows_cols(tile)]), (output, dtype, tile)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_intensity_zero_and_lost_faces_plan_no_pixel_step(talking, dtype):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    src = plate(frames[8], dtype, 4)
    number = analysis.plate.frame_numbers[8]
    plan = editor.plan_frame(src.shape, src.dtype, number, EditParams(intensity=0.0))
    assert (plan.read_rect, plan.write_rect, plan.background) == (None, None, "source")
    out = np.empty_like(src)
    assert plan.render_into(out, src) == 0
    assert same_bits(out, src)
    analysis.fit.flags[8] |= 1  # as if the face had been lost in this frame
    try:
        lost = ShotEditor(analysis)
        assert lost.plan_frame(src.shape, src.dtype, number, EDITS[0]).write_rect is None
        matte = lost.plan_frame(src.shape, src.dtype, number, EDITS[0], Output.MATTE)
        assert (matte.write_rect, matte.background) == (None, "zero")
    finally:
        analysis.fit.flags[8] &= ~np.uint8(1)


def test_apply_says_what_it_expected(talking):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    src = plate(frames[2], np.float32, 4)
    plan = editor.plan_frame(src.shape, src.dtype, analysis.plate.frame_numbers[2], EDITS[0])
    r, w = plan.read_rect, plan.write_rect
    with pytest.raises(ValueError, match=r"dst_write must be \(\d+, \d+, 4\)"):
        plan.apply(np.empty((w.height + 1, w.width, 4), np.float32), src[rows_cols(r)])
    with pytest.raises(ValueError, match="src_read must be"):
        plan.apply(np.empty((w.height, w.width, 4), np.float32), src)
    with pytest.raises(ValueError, match="src_read is float16 but dst_write is float32"):
        plan.apply(np.empty((w.height, w.width, 4), np.float32), src[rows_cols(r)].astype(np.float16))
    with pytest.raises(ValueError, match="this plan is for"):
        plan.render_into(np.empty((10, 10, 4), np.float32), src)
