"""An edit against the actor's own real expression: alignment, displacements, features, verdicts, eval CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from emotionedit.cli import main
from emotionedit.evaluate import agreement as A
from emotionedit.evaluate import evaluate_pair
from emotionedit.evaluate.rigidity import apply_similarity
from file_helpers import read_frames as _frames

pytest.importorskip("dlib", reason="the evaluation needs dlib")


@pytest.fixture(scope="module")
def franck_neutral(franck_path) -> np.ndarray:
    """dlib shapes of 16 frames of franck talking at rest (spread over frames 672-767)."""
    return A.measure_shapes(_frames(franck_path, range(672, 768, 6)))


@pytest.fixture(scope="module")
def franck_smile(franck_path) -> np.ndarray:
    """dlib shapes of 20 frames of franck's real smiles (spread over frames 3600-3959)."""
    return A.measure_shapes(_frames(franck_path, range(3600, 3960, 18)))


def _similar(shapes: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = np.radians(angle_deg)
    matrix = np.array([[scale * np.cos(a), -scale * np.sin(a), shift[0]], [scale * np.sin(a), scale * np.cos(a),
                                                                          shift[1]]])
    return apply_similarity(matrix, shapes)


def test_alignment_removes_head_pose_and_size(franck_neutral):
    reference = A.reference_shape(franck_neutral)
    right, left = reference[36:42].mean(axis=0), reference[42:48].mean(axis=0)
    np.testing.assert_allclose(right, [-0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(left, [0.5, 0.0], atol=1e-9)
    moved = _similar(franck_neutral, 8.0, 1.7, (40.0, -25.0))
    np.testing.assert_allclose(A.align(moved, reference), A.align(franck_neutral, reference), atol=1e-9)
    with_gap = franck_neutral.copy()
    with_gap[3] = np.nan
    aligned = A.align(with_gap, reference)
    assert np.all(np.isnan(aligned[3])) and np.all(np.isfinite(aligned[4]))


def test_the_real_smile_against_itself_agrees_perfectly(franck_neutral, franck_smile):
    # One resting frame, so every smile frame pairs with it (real frames pair with the rest frames
    # nearest in head pose) exactly as the "edit" below pairs it: rest -> each real smile.
    neutral, smile = np.repeat(franck_neutral[:1], 16, axis=0), franck_smile[:16]
    result = A.compare(neutral, smile, neutral, smile)
    assert result["cosine"] == pytest.approx(1.0, abs=1e-4)
    assert result["outer_lip_ratio"] == pytest.approx(1.0, abs=1e-4)
    assert all(c == pytest.approx(1.0, abs=1e-4) for c in result["cosine_by_region"].values())
    assert result["all_ok"], result["features"]
    # The opposite edit (smile to rest) points the other way.
    backwards = A.compare(neutral, smile, smile, neutral)
    assert backwards["cosine"] == pytest.approx(-1.0, abs=1e-4)
    assert not backwards["features"]["mouth_width"]["ok"]


def test_franck_real_smile_widens_and_lifts_the_mouth(franck_neutral, franck_smile):
    # Measured with neutral 672-767 and all smiles 3600-3959 (see the issue): width +0.184, corner lift +0.122,
    # philtrum -0.041, lower lip to chin -0.050 IOD.
    features = A.compare(franck_neutral, franck_smile, franck_neutral, franck_neutral)["features"]
    real = {name: row["real"] for name, row in features.items()}
    assert 0.13 < real["mouth_width"] < 0.24
    assert 0.07 < real["corner_lift"] < 0.17
    assert -0.08 < real["philtrum"] < -0.01
    assert -0.10 < real["lip_to_chin"] < -0.01
    assert all(row["real_std_error"] < 0.03 for row in features.values())
    # An untouched source is no edit at all: every change is 0; zero is not a smile.
    assert all(row["edit"] == 0.0 for row in features.values())
    assert not features["mouth_width"]["ok"] and not features["corner_lift"]["ok"]
    assert features["lip_to_chin"]["ok"] and features["philtrum"]["ok"]


def test_verdicts_follow_the_acceptance_rule():
    assert A.verdict("mouth_width", 0.18, 0.15)[0]  # within 35 %
    assert not A.verdict("mouth_width", 0.18, 0.10)[0]  # too little
    assert not A.verdict("mouth_width", 0.18, 0.26)[0]  # too much
    assert not A.verdict("corner_lift", 0.12, -0.02)[0]  # the wrong way
    assert A.verdict("eye_opening", -0.004, 0.005)[0]  # a real change below the noise floor has no sign
    assert A.verdict("philtrum", -0.04, -0.05)[0]  # shortens, within the real amount + 35 %
    assert A.verdict("philtrum", -0.04, 0.0)[0]  # shortening less than the real face is fine
    ok, why = A.verdict("philtrum", -0.04, -0.10)
    assert not ok and "more than the real" in why
    ok, why = A.verdict("lip_to_chin", -0.05, 0.03)
    assert not ok and "may not grow" in why
    assert A.verdict("lip_to_chin", -0.05, -0.04)[0]


def test_a_reference_without_a_face_is_refused(franck_neutral):
    with pytest.raises(ValueError, match="no shape with a face"):
        A.compare(np.full((3, 68, 2), np.nan), franck_neutral, franck_neutral, franck_neutral)
    with pytest.raises(ValueError, match="no expression frame"):
        A.compare(franck_neutral, np.full((3, 68, 2), np.nan), franck_neutral, franck_neutral)


def test_per_frame_ranges_show_a_squash_the_mean_hides(franck_neutral):
    source = franck_neutral.copy()
    edited = source.copy()
    iod = np.linalg.norm(source[:, 36:42].mean(axis=1) - source[:, 42:48].mean(axis=1), axis=1)
    squashed = [2, 7, 11]
    edited[squashed, 51, 1] -= 0.15 * iod[squashed]  # the upper lip's centre pulled up to the nose
    rows = A.anatomy(source, edited)["features"]
    philtrum = rows["philtrum"]["edit"]
    assert philtrum["min"] < -0.12 and philtrum["p5"] < -0.05
    assert -0.04 < philtrum["mean"] < -0.02
    assert rows["mouth_width"]["edit"]["max"] == pytest.approx(0.0, abs=1e-9)
    assert "real" not in rows["philtrum"]


def test_eval_reports_agreement_anatomy_teeth_and_occluders(tmp_path, franck_path, franck_neutral, franck_smile,
                                                            capsys):
    frames = _frames(franck_path, range(720, 724))
    source, edited = tmp_path / "src.####.png", tmp_path / "edt.####.png"
    for k, rgb in enumerate(frames):  # an untouched "edit": the same pixels
        for pattern in (source, edited):
            cv2.imwrite(str(pattern).replace("####", f"{k + 1:04d}"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    mask = np.zeros(frames[0].shape[:2], np.uint8)
    mask[-40:, :] = 255  # the bottom of the picture stands in for an occluder
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    clip = str(franck_path)
    out = tmp_path / "eval.json"
    code = main(["eval", str(source), str(edited), "-o", str(out), "--identity-stride", "10",
                 "--reference", clip, "--reference-neutral", "672-683", "--reference-expression", "3600-3611",
                 "--occluder-mask", str(tmp_path / "mask.png")])
    assert code == 0
    report = json.loads(out.read_text())
    for key in ("emotion", "lip_sync", "identity", "head_pose", "flicker", "outside_face"):
        assert key in report  # the existing fields stay
    assert report["agreement"]["frames"] == {"neutral": 12, "expression": 12, "pairs": 4}
    assert report["agreement"]["cosine"] is None  # an untouched edit has no direction
    assert report["anatomy"]["features"]["mouth_width"]["real"]["mean"] > 0.1
    assert report["occluders"]["mean_flow_px"] == 0.0 and report["occluders"]["frames_measured"] == 4
    assert report["teeth"]["frames_measured"] == 0  # talking with the lips nearly closed
    printed = capsys.readouterr().out
    assert "mouth_width" in printed and "agreement with the actor's real expression" in printed
    assert main(["eval", str(source), str(edited), "-o", str(out), "--overwrite",
                 "--reference-neutral", "1-2"]) == 2
    assert "--reference-expression" in capsys.readouterr().err
    # Same comparison, through the API, with an edit that really moves the face.
    bent = [cv2.warpAffine(rgb, np.array([[1.0, 0, 2.0], [0, 1.0, 0.0]]), rgb.shape[1::-1]) for rgb in frames]
    result = evaluate_pair(frames, bent, identity_stride=10, reference=(franck_neutral, franck_smile))
    assert result["agreement"]["frames"]["pairs"] == 4
    # A whole-frame shift is head motion, which the alignment removes: no expression change.
    assert abs(result["agreement"]["features"]["mouth_width"]["edit"]) < 0.01


def test_a_real_expression_in_another_head_pose_is_said(franck_neutral, franck_smile):
    """franck's laughs (3600-3959) were filmed with his head turned otherwise than any of his talking frames at
    672-767: the comparison says so, since its outline and brows then read the turn. Expression frames in the
    resting frames' own poses raise nothing."""
    reference = A.reference_shape(franck_neutral)
    rest, laughs = (A._valid(A.align(s, reference)) for s in (franck_neutral, franck_smile))
    turned = A.pose_gap(rest, laughs)
    assert turned["ratio"] > A.POSE_GAP_LIMIT and "head pose" in turned["note"]
    same = A.pose_gap(rest, rest[::2])
    assert same["expression_to_rest"] == 0.0 and "note" not in same
    assert A.compare(franck_neutral, franck_smile, franck_neutral, franck_neutral)["pose_gap"] == turned


def test_resting_frames_are_found_among_others(franck_neutral, franck_smile):
    """A pool of frames to find more resting faces in: his talking frames look like his resting ones, his laughs
    do not, and a frame without a face is never taken."""
    pool = np.concatenate([franck_smile, franck_neutral[::2], np.full((1, 68, 2), np.nan)])
    kept = A.rest_like(pool, franck_neutral)
    assert len(kept) >= len(franck_neutral[::2]) // 2
    assert not any(np.array_equal(row, laugh) for row in kept for laugh in franck_smile)
    assert np.isfinite(kept).all()
