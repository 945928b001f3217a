"""The engine's guarantees on real footage: untouched pixels stay bit-identical, precision survives."""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit import engine
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.errors import UserError
from emotionedit.render import Output, detail, face_matte, warp_region

HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def _as(frame: np.ndarray, dtype, alpha: bool) -> np.ndarray:
    x = frame.astype(np.float32) / 255.0
    if alpha:
        x = np.concatenate([x, np.linspace(0.2, 1.0, x.shape[1], dtype=np.float32)[None, :, None].repeat(
            x.shape[0], 0)], axis=2)
    if dtype == np.uint8:
        return frame if not alpha else (x * 255 + 0.5).astype(np.uint8)
    if dtype == np.uint16:
        return (x * 65535 + 0.5).astype(np.uint16)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float16, np.float32])
@pytest.mark.parametrize("alpha", [False, True])
def test_intensity_zero_is_bit_identical_and_outside_face_untouched(talking, dtype, alpha):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[10]
    src = _as(frames[10], dtype, alpha)
    zero = editor.render(src, number, EditParams(intensity=0.0))
    assert zero.dtype == src.dtype and zero.shape == src.shape
    assert zero.tobytes() == src.tobytes()

    edited = editor.render(src, number, HAPPY)
    points = analysis.track.landmarks[10, :, :2]
    region = warp_region(points, src.shape[1], src.shape[0])
    matte = np.zeros(src.shape[:2], np.float32)
    matte[region.y0 : region.y1, region.x0 : region.x1] = face_matte(points, region)
    outside = matte == 0
    assert outside.mean() > 0.5  # the face is a small part of the frame
    assert np.array_equal(edited[outside], src[outside])
    changed = np.any(edited != src, axis=2)
    assert changed.sum() > 500, "a full-intensity edit should change the face"
    assert not changed[outside].any()


def test_float_plate_keeps_range_and_does_not_spread_nan(talking, monkeypatch):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[5]
    # A scene-linear plate with highlights above 1 and negative values (as after a grade).
    src = (frames[5].astype(np.float32) / 255.0) ** 2.2 * 6.0 - 0.25
    mouth = analysis.track.landmarks[5, 13, :2].round().astype(int)
    src[mouth[1], mouth[0] + 3] = np.nan
    src[mouth[1] - 20, mouth[0]] = np.inf
    out = editor.render(src, number, HAPPY)
    assert out.dtype == np.float32
    finite = np.isfinite(out).all(axis=2)
    # Non-finite pixels stay exactly where they were, and nowhere else.
    assert np.array_equal(~finite, ~np.isfinite(src).all(axis=2))
    assert np.isnan(out[mouth[1], mouth[0] + 3]).all()
    assert out[finite].max() > 1.0 and out[finite].min() < 0.0
    # The skin detail multiplies by bounded ratios; without it, bilinear resampling never leaves the source's range.
    monkeypatch.setattr(detail, "detail_maps", lambda: None)
    warped = editor.render(src, number, HAPPY)
    assert np.array_equal(np.isfinite(warped), np.isfinite(out))
    assert warped[finite].max() <= src[np.isfinite(src)].max() and warped[finite].min() >= src[np.isfinite(src)].min()
    shading = out[finite] / np.where(warped[finite] == 0, 1, warped[finite])
    # Per channel: the deepest fold's luminance ratio (about 0.62) raised to blue's slope (1.16) is about 0.57.
    assert shading.min() > 0.5 and shading.max() < 1.6


def test_matte_output_and_landmarks_output(talking):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    src = frames[0].astype(np.float32) / 255.0
    matte = editor.render(src, number, HAPPY, Output.MATTE)
    nose = analysis.track.landmarks[0, 1, :2].round().astype(int)
    assert matte[nose[1], nose[0]].tolist() == [1.0, 1.0, 1.0]
    assert matte[0, 0].tolist() == [0.0, 0.0, 0.0]
    overlay = editor.render(frames[0], number, HAPPY, Output.LANDMARKS)
    assert (np.any(overlay != frames[0], axis=2)).sum() > 400


def test_frames_without_a_face_pass_through(talking):
    frames, analysis = talking
    analysis.fit.flags[3] |= 1  # as if the face had been lost in this frame
    try:
        editor = ShotEditor(analysis)
        out = editor.render(frames[3], analysis.plate.frame_numbers[3], HAPPY)
        assert np.array_equal(out, frames[3])
    finally:
        analysis.fit.flags[3] &= ~np.uint8(1)


@pytest.fixture(params=["serial", "copy while planning"])
def copy_mode(request, monkeypatch):
    """Render with the frame's copy after its plan, or on another thread while it is planned (every plate
    counts as large enough: the test plates are under the size where the engine starts doing so)."""
    if request.param == "copy while planning":
        monkeypatch.setattr(engine, "COPY_WHILE_PLANNING_BYTES", 0)
    return request.param


def test_a_refused_frame_leaves_the_output_untouched(talking, copy_mode):
    """Whatever refuses the frame (not analysed, a holdout of another size, pixels of another frame) refuses it
    before the output is touched."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[3]
    src = frames[3].astype(np.float32) / 255.0
    refusals = [
        dict(frame_number=analysis.plate.frame_numbers[-1] + 50),
        dict(holdout=np.zeros((7, 7), np.float32)),
        dict(src=frames[30].astype(np.float32) / 255.0),  # another frame's pixels (the plate check)
    ]
    for change in refusals:
        args = dict(src=src, frame_number=number, params=HAPPY) | change
        dst = np.full_like(src, 7.0)
        with pytest.raises(UserError):
            editor.render_into(dst, **args)
        assert (dst == 7.0).all(), f"the output was written although {sorted(change)} was refused"


@pytest.mark.parametrize("dtype, channels", [(np.float32, 4), (np.uint8, 3)], ids=["float RGBA", "8-bit RGB"])
def test_copying_while_planning_renders_the_same_bits(talking, monkeypatch, dtype, channels):
    """The frame's copy on another thread while it is planned changes nothing in the output: edited frames,
    a frame left as it is (intensity 0) and an edit rendered in place, against the plan rendered after it."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    monkeypatch.setattr(engine, "COPY_WHILE_PLANNING_BYTES", 0)
    for index, params in ((5, HAPPY), (20, EditParams(emotion=Emotion.SAD, intensity=1.4)),
                          (33, EditParams(intensity=0.0))):
        number = analysis.plate.frame_numbers[index]
        src = _as(frames[index], dtype, channels == 4)
        expected = np.empty_like(src)
        editor.plan_frame(src.shape, src.dtype, number, params).render_into(expected, src)
        got = np.full_like(src, 3)
        editor.render_into(got, src, number, params)
        assert np.array_equal(got, expected), index
        in_place = src.copy()
        editor.render_into(in_place, in_place, number, params)
        assert np.array_equal(in_place, expected), index
