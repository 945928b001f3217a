"""The edit's own motion, read by optical flow: what head-pose drift is measured from."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.evaluate import evaluate_pair
from emotionedit.evaluate import landmarks68 as L
from emotionedit.evaluate import metrics as M
from emotionedit.evaluate.motion import carried_points


def _affine(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(rgb, matrix, rgb.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def test_points_are_carried_by_a_known_shift(talking_frames):
    rgb = talking_frames[0]
    box = L.detect_face(rgb)
    points = L.landmarks68(rgb, box)[27:48]  # nose and eyes
    shifted = _affine(rgb, np.array([[1.0, 0.0, 2.5], [0.0, 1.0, -1.5]]))
    moved = carried_points(rgb, shifted, box, points)
    np.testing.assert_allclose(moved - points, np.broadcast_to([2.5, -1.5], points.shape), atol=0.2)
    np.testing.assert_array_equal(carried_points(rgb, rgb.copy(), box, points), points)


def test_a_rolled_head_reads_its_roll_and_a_mouth_edit_reads_none(talking_frames):
    frames = talking_frames[:6]
    rolled = []
    for rgb in frames:
        eyes = L.landmarks68(rgb, L.detect_face(rgb))[36:48].mean(axis=0)
        rolled.append(_affine(rgb, cv2.getRotationMatrix2D((float(eyes[0]), float(eyes[1])), 3.0, 1.0)))
    pose = evaluate_pair(frames, rolled, identity_stride=100)["head_pose"]
    assert pose["mean_drift_deg"] == pytest.approx(3.0, abs=0.3)
    assert pose["max_axis_drift_deg"]["roll"] == pytest.approx(3.0, abs=0.4)


def test_steady_landmarks_shake_less_and_stay_on_the_face(talking_seconds):
    """dlib's points averaged over sub-pixel shifts of each frame: on 48 consecutive frames of franck talking
    they shake less (p95 second temporal difference) and stay within a pixel of dlib's own; one code of noise
    in the face moves them less than it moves dlib's."""
    frames = talking_seconds
    boxes = [L.detect_face(f) for f in frames]
    plain = np.array([L.landmarks68(f, b) for f, b in zip(frames, boxes, strict=True)])
    steady = np.array([L.steady_landmarks68(f, b) for f, b in zip(frames, boxes, strict=True)])
    iod = M.interocular_distance(plain)
    assert np.percentile(M.landmark_jitter(steady, iod), 95) < 0.8 * np.percentile(
        M.landmark_jitter(plain, iod), 95)
    assert np.abs(steady - plain).mean() < 1.0
    rng = np.random.default_rng(0)
    noisy = [np.clip(f.astype(int) + rng.integers(-1, 2, f.shape), 0, 255).astype(np.uint8) for f in frames[:12]]
    pairs = list(zip(noisy, boxes[:12], plain[:12], steady[:12], strict=True))
    moved_plain = np.mean([np.abs(L.landmarks68(n, b) - p).mean() for n, b, p, _ in pairs])
    moved_steady = np.mean([np.abs(L.steady_landmarks68(n, b) - s).mean() for n, b, _, s in pairs])
    assert moved_steady < moved_plain


def _read(steps, source_frames, edited_frames, seeds, edited_seeds=None):
    for t, (source, edited, seed) in enumerate(zip(source_frames, edited_frames, seeds, strict=True)):
        steps.step(source, edited, seed, None if edited_seeds is None or seed is None else edited_seeds[t])
    return steps.second_differences()


def test_flow_steps_read_a_wobble_that_is_in_the_pictures(talking_frames):
    """Points followed one frame back and one forward by optical flow: a real face moving smoothly reads the
    same in both clips (ratio 1), and the same clip with a random sub-pixel wobble of the face added reads it."""
    from emotionedit.evaluate.motion import FlowSteps

    face = cv2.cvtColor(talking_frames[0], cv2.COLOR_RGB2GRAY)
    box = L.detect_face(talking_frames[0])
    seed = L.landmarks68(talking_frames[0], box)[M.LIP_POINTS].astype(np.float32)
    rng = np.random.default_rng(0)
    frames, wobbled, seeds = [], [], []
    for t in range(40):
        drift = np.float32([[1, 0, 2.0 * np.sin(t / 6.0)], [0, 1, 0.05 * t]])  # a smooth head motion
        frame = cv2.warpAffine(face, drift, face.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        frames.append(frame)
        seeds.append(None if t == 20 else seed + drift[:, 2])  # a frame without a face at 20
        shake = drift.copy()
        shake[:, 2] += rng.normal(0, 0.3, 2)
        wobbled.append(cv2.warpAffine(face, shake, face.shape[::-1], flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE))
    source, edited = _read(FlowSteps(), frames, frames, seeds)
    assert source.shape == (38, len(M.LIP_POINTS))
    assert np.isnan(source[18:21]).all() and np.isfinite(source[21]).any()  # frames 19-21 need frame 20
    np.testing.assert_array_equal(source, edited)
    assert M.jitter_rows_interval(source, edited) == (1.0, 1.0)
    source, edited = _read(FlowSteps(), frames, wobbled, seeds)
    ratio = np.percentile(M.finite_values(edited), 95) / np.percentile(M.finite_values(source), 95)
    assert ratio > 2.0


def test_flow_steps_follow_the_edits_own_material(talking_run):
    """An edit that moved the face (here a whole-frame shift of 8, -4 pixels) reads as the source when its
    points start where the edit put the source's points, and unlike it from the source's positions, which the
    shift put on other material."""
    from emotionedit.evaluate.motion import FlowSteps

    frames = [cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) for rgb in talking_run]
    shift = np.float32([[1, 0, 8], [0, 1, -4]])
    moved = [cv2.warpAffine(f, shift, f.shape[::-1], flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
             for f in frames]
    seeds = [L.landmarks68(rgb, L.detect_face(rgb))[M.LIP_POINTS].astype(np.float32) for rgb in talking_run]
    source, edited = _read(FlowSteps(), frames, moved, seeds, [s + [8, -4] for s in seeds])
    kept = np.isfinite(source)
    assert kept.mean() > 0.8
    np.testing.assert_allclose(edited[kept], source[kept], atol=0.01)
    source, elsewhere = _read(FlowSteps(), frames, moved, seeds)
    both = np.isfinite(elsewhere)
    assert np.abs(elsewhere[both] - source[both]).mean() > 0.05
