"""Landmarks made steady with the picture's optical flow (track/stabilise.py), on real faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.fit import topology as topo
from emotionedit.track import MediaPipeFaceMesh, track_frames
from emotionedit.track.stabilise import FlowStabiliser
from file_helpers import read_clip

TALKING_START = 672


def _track(frames):
    """(raw landmarks, found, steady landmarks) of ``frames`` (RGB views)."""
    tracker = MediaPipeFaceMesh(max_faces=1)
    steadier = FlowStabiliser()
    try:
        track = track_frames(frames, tracker, observe=steadier.observe)
    finally:
        tracker.close()
    return track.landmarks, track.found, steadier.steady(track.landmarks, track.found)


def _moved(image, dx, dy):
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def still_face(franck_path):
    return read_clip(franck_path, TALKING_START, 1)[0]


def _path(count):
    t = np.arange(count)
    return 3.0 * np.sin(t / 5.0), 0.1 * t  # a smooth sub-pixel head motion, pixels


def test_steady_points_follow_a_known_motion_more_closely_than_the_detector(still_face):
    """One real frame moved along a known smooth path: every point should move exactly with it. The detector's
    points scatter about the path frame to frame; the steady points scatter less, and stay on the detections."""
    dx, dy = _path(30)
    frames = [_moved(still_face, x, y) for x, y in zip(dx, dy, strict=True)]
    raw, found, steady = _track(frames)
    assert found.all()
    path = np.stack([dx, dy], axis=1)[:, None, :]

    def scatter(points):  # each point's spread about its own mean offset from the path, pixels
        residual = points[:, :, :2] - path
        return float(np.linalg.norm(residual - residual.mean(axis=0), axis=2).mean())

    assert scatter(steady) < 0.75 * scatter(raw)
    assert np.linalg.norm(steady[:, :, :2] - raw[:, :, :2], axis=2).mean() < 0.5
    np.testing.assert_array_equal(steady[:, :, 2], raw[:, :, 2])  # depth is the detector's


def test_a_hand_crossing_the_mouth_does_not_drag_the_points(still_face):
    """A textured patch (a piece of the same frame's hair and background) slides across the mouth at 4 pixels a
    frame while the face stays still: the flow there follows the patch, the detector does not, and the steady
    points must not be pulled along with the patch."""
    face = still_face
    raw0, found0, _ = _track([face])
    assert found0[0]
    mouth = raw0[0, list(topo.LIPS_INNER_UPPER), :2].mean(axis=0)
    patch = face[:40, :40].copy()  # the top-left corner: hair and background, well textured
    frames = []
    for t in range(16):
        frame = face.copy()
        x0 = int(mouth[0]) - 60 + 4 * t
        y0 = int(mouth[1]) - 20
        frame[y0:y0 + 40, x0:x0 + 40] = patch
        frames.append(frame)
    raw, found, steady = _track(frames)
    lips = list(topo.LIPS_INNER_UPPER) + list(topo.LIPS_INNER_LOWER)
    usable = found.nonzero()[0]
    assert len(usable) >= 12
    pulled = np.linalg.norm(steady[usable][:, lips, :2] - raw[usable][:, lips, :2], axis=2)
    assert pulled.max() < 1.0


def test_real_speech_is_kept_and_only_the_shake_goes(franck_path):
    """Four seconds of franck talking: the steady points shake less frame to frame (p95 of the second
    difference), and their mouth opening follows the speech as closely as the detector's does, read against
    dlib's inner lips (another model, with noise of its own)."""
    from emotionedit.evaluate import landmarks68 as lm68

    frames = read_clip(franck_path, TALKING_START, 96)
    raw, found, steady = _track(frames)
    assert found.all()
    iod = topo.interocular(raw[:, :, :2])

    def shake(points):
        second = points[2:, :, :2] - 2 * points[1:-1, :, :2] + points[:-2, :, :2]
        return np.percentile(np.linalg.norm(second, axis=2) / iod[1:-1, None], 95)

    assert shake(steady) < 0.9 * shake(raw)

    def opening(points):
        return np.linalg.norm(points[:, 13, :2] - points[:, 14, :2], axis=1) / iod  # inner-lip centres

    dlib = []
    for rgb in frames:
        points = lm68.landmarks68(rgb, lm68.detect_face(rgb))
        dlib.append(np.linalg.norm(points[61:64].mean(axis=0) - points[65:68].mean(axis=0)))
    assert opening(raw).std() > 0.02  # the mouth really moves
    kept = np.corrcoef(opening(steady), dlib)[0, 1]
    assert kept > 0.9 and kept > np.corrcoef(opening(raw), dlib)[0, 1] - 0.01
    assert np.abs(opening(raw) - opening(steady)).mean() < 0.005


def test_frames_without_a_face_stay_empty_and_split_the_shot():
    """A frame without the face leaves its landmarks NaN and no flow across it: each side is fused alone."""
    rng = np.random.default_rng(0)
    view = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    view = cv2.GaussianBlur(view, (0, 0), 1.5)
    points = np.zeros((478, 3), np.float32)
    points[:, :2] = rng.uniform(30, 90, (478, 2))
    points[[33, 133], :2] = [[40, 40], [40, 40]]  # the eye centres 50 pixels apart
    points[[263, 362], :2] = [[90, 40], [90, 40]]
    steadier = FlowStabiliser()
    landmarks = np.full((5, 478, 3), np.nan, np.float32)
    found = np.array([True, True, False, True, True])
    for t in range(5):
        if found[t]:
            landmarks[t] = points + rng.normal(0, 0.1, points.shape).astype(np.float32)
        steadier.observe(view, landmarks[t] if found[t] else None)
    steady = steadier.steady(landmarks, found)
    assert np.isnan(steady[2]).all()
    assert np.isfinite(steady[found]).all()
    # A still picture: the flow says the points do not move, so each side settles on its detections' mean.
    for side in ([0, 1], [3, 4]):
        np.testing.assert_allclose(steady[side, :, :2], np.broadcast_to(landmarks[side, :, :2].mean(axis=0),
                                                                        (2, 478, 2)), atol=0.05)
    with pytest.raises(ValueError, match="observed"):
        steadier.steady(landmarks[:4], found[:4])


def test_what_is_kept_per_frame_is_one_row_of_flows():
    """A shot's worth of frames costs the stabiliser one float32 row of flows a frame (478 x 2 x 4 bytes), like
    the tracking's own arrays (tests/track/test_track_compact.py): not a Python array per frame."""
    import tracemalloc

    view = np.zeros((16, 16, 3), np.uint8)
    points = np.full((478, 3), 8.0, np.float32)

    def peak(frames):
        tracemalloc.start()
        try:
            steadier = FlowStabiliser(expected=frames)
            for _ in range(frames):
                steadier.observe(view, points)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    per_frame = (peak(2500) - peak(500)) / 2000
    assert per_frame < 478 * 2 * 4 + 200, f"the stabiliser holds {per_frame:.0f} bytes a frame"
