"""The plate's fingerprint (issue 11, defects 4 and 12): an analysis refuses pixels that are not its frames.

Another take with the same size and frame numbers, and the right plate with its frames offset by one or
more (a renumbered sequence, a host's wrong Frame Offset) inside the analysis, are refused frame by frame
before anything is written; the same plate re-graded or re-encoded, or handed over in another pixel format,
renders. All on real footage (franck talking and smiling, :mod:`tests.conftest`).
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.fingerprint import (
    FLOOR,
    LIMIT,
    MIN_CELLS,
    MIN_SIDE,
    Fingerprint,
    PlateMismatchError,
    cells_region,
    grid,
    thumbnail,
    thumbnail_cells,
)

HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)
SENTINEL = 77


def graded(frame: np.ndarray, gain: float = 1.0, gamma: float = 1.0, lift: float = 0.0) -> np.ndarray:
    x = frame.astype(np.float32) / 255.0
    return np.clip(255.0 * (lift + gain * x**gamma), 0, 255).round().astype(np.uint8)


def reencoded(frames: list[np.ndarray], path) -> list[np.ndarray]:
    """The frames through a lossy mp4 (OpenCV's mp4v), as a re-delivered plate would come back."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 24, (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    capture = cv2.VideoCapture(str(path))
    back = []
    for _ in frames:
        ok, frame = capture.read()
        assert ok
        back.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return back


def test_analyze_records_a_thumbnail_of_every_frame(talking):
    frames, analysis = talking
    rows, columns = grid(288, 360)
    assert analysis.thumbnails.shape == (len(frames), rows, columns) and analysis.thumbnails.dtype == np.uint8
    assert rows * columns <= 576  # bytes a frame: "a few hundred at most"
    for index in (0, 17, 47):
        np.testing.assert_array_equal(analysis.thumbnails[index], thumbnail(frames[index]))


def test_the_analysed_frames_match_exactly(talking):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    for index, frame in enumerate(frames):
        match = editor.check_pixels(frame, analysis.plate.frame_numbers[index])
        assert match.judged and match.ok and match.distance <= FLOOR, match  # the same picture, to rounding


def test_regraded_reencoded_and_converted_plates_still_match(talking, tmp_path):
    """Gain, gamma and lift (a colourist's global changes), a vignette, colour premultiplied by an alpha ramp,
    the same frames back from a lossy mp4, and 16-bit or scene-linear float versions of the analysed 8-bit
    frames: every frame renders."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    versions = {f"grade {g}": [graded(f, *g) for f in frames]
                for g in [(0.7, 1, 0), (1.3, 1, 0), (1, 0.8, 0), (1, 1.3, 0), (0.9, 1.15, 0.03), (1, 1, 0.05)]}
    versions["mp4"] = reencoded(frames, tmp_path / "again.mp4")
    versions["mp4 graded"] = [graded(f, 0.85, 1.2) for f in versions["mp4"]]
    yy, xx = np.mgrid[-1:1:288j, -1:1:360j]
    vignette = (1.0 - 0.35 * (xx**2 + yy**2))[..., None]
    versions["vignette"] = [np.round(f * vignette).astype(np.uint8) for f in frames]
    ramp = np.linspace(0.25, 1.0, 360)[None, :, None]  # colour premultiplied by an alpha ramp
    versions["alpha ramp"] = [np.round(f * ramp).astype(np.uint8) for f in frames]
    versions["16-bit"] = [f.astype(np.uint16) * 257 for f in frames]
    versions["linear half"] = [((f / 255.0) ** 2.2).astype(np.float16) for f in frames]
    versions["linear float, exposed up"] = [((f / 255.0) ** 2.2 * 4.0).astype(np.float32) for f in frames]
    for name, plate in versions.items():
        worst = 0.0
        for index, frame in enumerate(plate):
            match = editor.check_pixels(frame, analysis.plate.frame_numbers[index])  # raises when refused
            worst = max(worst, match.distance)
        assert worst < LIMIT / 2, (name, worst)
    out = np.empty_like(frames[0])
    editor.render_into(out, versions["mp4 graded"][10], analysis.plate.frame_numbers[10], HAPPY)


def test_another_shot_with_the_same_size_and_frame_numbers_is_refused(talking, smiling):
    """franck smiling, two minutes later, numbered as the talking analysis: same actor, set-up and size.
    Every frame is refused, before its output is touched."""
    frames, analysis = talking
    other, _ = smiling
    editor = ShotEditor(analysis)
    out = np.full_like(frames[0], SENTINEL)
    for index, number in enumerate(analysis.plate.frame_numbers):
        with pytest.raises(PlateMismatchError) as refused:
            editor.render_into(out, other[index], number, HAPPY)
        assert refused.value.offset is None and refused.value.match.distance > 2 * LIMIT
        assert (out == SENTINEL).all()
    text = str(refused.value)
    assert f"frame {number} of the plate is not the frame the analysis" in text and "another shot" in text
    assert "--ignore-plate-mismatch" in text and "EMOTIONEDIT_IGNORE_PLATE_MISMATCH=1" in text


@pytest.mark.parametrize("offset", [1, -1, 2, 5, 24, 47])
def test_a_frame_offset_inside_the_analysis_is_named_in_every_frame(talking, offset):
    """Plate frame n holds the picture of analysed frame n + offset (a renumbered sequence, or a host's Frame
    Offset off by -offset): every frame is refused, naming the analysed frame the pixels are."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    numbers = analysis.plate.frame_numbers
    refused = []
    for index, number in enumerate(numbers):
        if not 0 <= index + offset < len(frames):
            continue
        with pytest.raises(PlateMismatchError) as caught:
            editor.check_pixels(frames[index + offset], number)
        assert caught.value.offset == offset and caught.value.match.closest == number + offset
        refused.append(number)
    assert len(refused) == len(frames) - abs(offset)
    text = str(caught.value)
    assert f"frame {refused[-1]} of the plate is not frame {refused[-1]} of the analysis" in text
    assert f"its pixels are analysed frame {refused[-1] + offset}" in text
    assert f"frame numbers run {abs(offset)} {'below' if offset > 0 else 'above'} the analysed plate's" in text


def test_the_override_renders_any_plate(talking, smiling):
    frames, analysis = talking
    other, _ = smiling
    editor = ShotEditor(analysis, check_plate=False)
    assert editor.check_pixels(other[3], analysis.plate.frame_numbers[3]) is None
    out = np.empty_like(other[3])
    editor.render_into(out, other[3], analysis.plate.frame_numbers[3], HAPPY)
    assert (out != other[3]).any()


def test_a_crop_around_the_face_is_checked_on_its_cells(talking, smiling):
    """The OpenFX node reads only the face's neighbourhood: a crop of at least MIN_SIDE cells each way
    (cells_region) is judged on the cells it holds; a smaller one is not judged."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[20]
    y0, x0, y1, x1 = cells_region((288, 360), (120, 160, 130, 170))
    cells, _ = thumbnail_cells(frames[20][y0:y1, x0:x1], (288, 360), (y0, x0))
    assert len(cells) >= MIN_SIDE * MIN_SIDE and (y1 - y0) * (x1 - x0) < 0.2 * 288 * 360
    assert editor.check_pixels(frames[20][y0:y1, x0:x1], number, (y0, x0)).ok
    with pytest.raises(PlateMismatchError) as caught:
        editor.check_pixels(frames[21][y0:y1, x0:x1], number, (y0, x0))
    assert caught.value.offset == 1
    with pytest.raises(PlateMismatchError):
        editor.check_pixels(smiling[0][20][y0:y1, x0:x1], number, (y0, x0))
    tiny = editor.check_pixels(smiling[0][20][100:140, 150:190], number, (100, 150))
    assert not tiny.judged and tiny.cells < MIN_CELLS


def test_transparent_and_non_finite_samples_are_left_out(talking):
    """Straight alpha may hold any colour where alpha is 0, and a float plate may hold NaN or inf: cells
    with such samples are not compared, the rest still are."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[5]
    rgba = np.concatenate([frames[5], np.full((288, 360, 1), 255, np.uint8)], axis=2)
    rgba[:, 0::4] = (255, 0, 255, 0)  # hidden magenta under alpha 0 in every fourth column
    assert editor.check_pixels(rgba, number).ok
    linear = (frames[5] / 255.0).astype(np.float32) ** 2.2
    linear[::7, ::5, 1] = np.nan
    linear[3::7, 2::5, 1] = np.inf
    assert editor.check_pixels(linear, number).ok
    with pytest.raises(PlateMismatchError):
        editor.check_pixels(linear[:, ::-1].copy(), number)  # a flipped picture is another picture


def test_the_check_is_small_next_to_a_render(talking):
    """Well under 1 ms a frame at 360x288 and a few ms at 4K (measured: 0.3-0.5 ms at both)."""
    frames, analysis = talking
    editor = ShotEditor(analysis)

    def best_of(runs, check) -> float:
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            check()
            best = min(best, time.perf_counter() - started)
        return best

    number = analysis.plate.frame_numbers[24]
    small = best_of(50, lambda: editor.check_pixels(frames[24], number))
    assert small < 1e-3, f"{small * 1e3:.2f} ms at 360x288"
    uhd = [(cv2.resize(f, (3840, 2160), interpolation=cv2.INTER_LINEAR) / 255.0).astype(np.float32) ** 2.2
           for f in frames[:3]]
    fingerprint = Fingerprint(np.stack([thumbnail(f) for f in uhd]), [1001, 1002, 1003])
    large = best_of(20, lambda: fingerprint.check(uhd[1], 1, (2160, 3840)))
    assert large < 5e-3, f"{large * 1e3:.2f} ms at 3840x2160 float"
