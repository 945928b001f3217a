"""How deep the skin detail shades a shot: a soft plate takes the measured creases shallower (render/skin_depth.py)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.render import detail, skin_depth
from emotionedit.render.field import Region

HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def _measure(image: np.ndarray, points: np.ndarray) -> dict[str, float]:
    shipped = detail.detail_maps()
    return skin_depth.fine_shading(image, points, shipped.layout, skin_depth.crease_weights(shipped.maps,
                                                                                            shipped.layout))


def test_a_flatter_lit_or_softer_plate_of_the_same_face_reads_less_and_a_larger_one_the_same(talking):
    """The measure reads how much shading the plate shows at the creases' scale, not the face's size in pixels:
    franck's frame with its shading's contrast halved (in log: the values' square root, a flatter light) reads
    about half; blurred by 2 pixels (a softer lens) clearly less; enlarged twice (the face twice as many pixels, no
    finer detail) about the same."""
    frames, analysis = talking
    i = 10
    frame, points = frames[i], analysis.track.landmarks[i, :, :2]
    sharp = _measure(frame, points)
    flat = _measure(np.round(255.0 * (frame / 255.0) ** 0.5).astype(np.uint8), points)
    soft = _measure(cv2.GaussianBlur(frame, (0, 0), 2.0), points)
    large = _measure(cv2.resize(frame, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), 2 * points + 0.5)
    for name in ("smile", "brow_raise"):
        assert 0.4 < flat[name] / sharp[name] < 0.65, (name, flat[name], sharp[name])
        assert soft[name] < 0.9 * sharp[name], (name, soft[name], sharp[name])
        assert large[name] == pytest.approx(sharp[name], rel=0.05), name


def test_a_face_off_the_plate_gives_no_figure(talking):
    frames, analysis = talking
    points = analysis.track.landmarks[10, :, :2] + (1000.0, 0.0)
    assert _measure(frames[10], points) == {}


def test_the_shot_figure_is_read_on_its_frames_nearest_rest():
    """A smile's own creases are what the smile's figure reads, so the frames furthest from rest do not count."""
    frames = [{"smile": 0.09}, {"smile": 0.14}, {"smile": 0.095}, {"smile": 0.15, "brow_raise": 0.1}]
    expression = [0.1, 2.0, 0.2, 2.5]
    assert skin_depth.shot_fine_shading(frames, expression) == {"smile": 0.0925, "brow_raise": 0.1}


def test_depth_is_never_deeper_than_measured_nor_shallower_than_the_floor():
    assert skin_depth.depth_scale(0.2, 0.1) == 1.0
    assert skin_depth.depth_scale(0.07, 0.1) == pytest.approx(0.7)
    assert skin_depth.depth_scale(0.01, 0.1) == skin_depth.MIN_DEPTH
    assert skin_depth.depth_scale(None, 0.1) == 1.0 and skin_depth.depth_scale(0.05, None) == 1.0


def test_the_shipped_maps_record_the_fine_shading_of_the_plates_they_were_measured_on():
    """The smile's map is franck's (a plate as sharp as its size allows), the raised brows' the webcam actor's: the
    smile's plates read more fine shading on the cheeks than the brows' on the forehead."""
    shipped = detail.detail_maps()
    assert set(shipped.fine_shading) == set(shipped.maps)
    assert 0.05 < shipped.fine_shading["brow_raise"] < shipped.fine_shading["smile"] < 0.2


def _cheek_log_gain(editor: ShotEditor, frame: np.ndarray, number: int, params: EditParams) -> float:
    """How much the skin detail darkens the cheeks' folds of a rendered frame (log of shaded over geometry)."""
    targets = editor.targets(number, params)
    found = detail.detail_gain(targets.target, Region(0, 0, frame.shape[1], frame.shape[0]), targets.detail)
    assert found is not None
    _, gain = found
    return float(np.log(gain.astype(np.float64)).min())


def test_the_webcam_actors_soft_plate_takes_the_smile_shallower_and_franck_his_own_depth(talking, webcam_talking):
    """The webcam actor's real smiles crease his cheeks about half as deeply as franck's do his (rms 0.051-0.059
    against 0.110-0.114), and franck's smile map at its full depth made his edits "waxy" to blind viewers. His plate
    reads 0.65-0.75 of franck's fine shading on the cheeks: his smile is shaded at that share, franck's at its
    full depth; the raised brows, measured on the webcam actor's own plates, keep their full depth on both."""
    franck = ShotEditor(talking[1])
    webcam = ShotEditor(webcam_talking[1])
    assert franck.detail_depth["smile"] > 0.95
    assert 0.55 < webcam.detail_depth["smile"] < 0.85
    assert franck.detail_depth["brow_raise"] == webcam.detail_depth["brow_raise"] == 1.0
    # The render takes the share: the folds' log gain scales by it against the same shot analysed before the measure.
    frames, analysis = webcam_talking
    unmeasured = ShotEditor(dataclasses.replace(analysis, fine_shading=None))
    assert unmeasured.detail_depth == {}
    i = 20
    number = analysis.plate.frame_numbers[i]
    ratio = (_cheek_log_gain(webcam, frames[i], number, HAPPY) / _cheek_log_gain(unmeasured, frames[i], number, HAPPY))
    assert ratio == pytest.approx(webcam.detail_depth["smile"], rel=0.02)
    # skin_detail still scales on top of it.
    half = dataclasses.replace(HAPPY, skin_detail=0.5)
    assert _cheek_log_gain(webcam, frames[i], number, half) == pytest.approx(
        0.5 * _cheek_log_gain(webcam, frames[i], number, HAPPY), rel=0.02)
