"""Pure measures: correlation, ranks, pose recovery, pixel conversions."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from emotionedit.evaluate import metrics as M


def test_pearson_and_spearman():
    x = np.array([0.0, 1.0, 2.0, 3.0, np.nan])
    assert M.pearson(x, 2 * x + 1)[0] == pytest.approx(1.0)
    assert M.pearson(x, -x)[0] == pytest.approx(-1.0)
    r, why = M.pearson(np.ones(5), x)
    assert r is None and "source" in why
    r, why = M.pearson(x, np.ones(5))
    assert r is None and "edited" in why
    assert M.pearson([1.0, 2.0], [1.0, 2.0])[0] is None
    assert M.spearman(np.array([0, 0.25, 0.5, 1.0]), np.array([0.1, 0.2, 0.9, 1.0]))[0] == pytest.approx(1.0)
    assert M.spearman(np.array([0, 1, 2, 3]), np.array([0.1, 0.3, 0.2, 0.4]))[0] == pytest.approx(0.8)
    assert M.spearman(np.array([0, 1, 2]), np.array([0.5, 0.5, 0.9]))[0] == pytest.approx(math.sqrt(3) / 2)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    return rz @ ry @ rx


def test_head_pose_recovers_a_projected_generic_head():
    h, w = 288, 360
    index = list(M.POSE_MODEL_POINTS)
    model = np.array([M.POSE_MODEL_POINTS[i] for i in index])
    for angles in [(0, 0, 0), (12, -8, 5), (-25, 10, -3)]:
        rotation = _rotation(*angles)
        projected, _ = cv2.projectPoints(model, cv2.Rodrigues(rotation)[0], np.array([0.0, 0.0, 700.0]),
                                         M.camera_matrix(h, w), None)
        landmarks = np.zeros((68, 2))
        landmarks[index] = projected[:, 0]
        found = M.head_rotation(landmarks, h, w)
        np.testing.assert_allclose(M.euler_deg(found), angles, atol=0.05)
        assert M.rotation_angle_deg(found, rotation) < 0.05
    assert abs(M.rotation_angle_deg(_rotation(0, 0, 0), _rotation(3, 0, 0)) - 3.0) < 1e-6


def test_lip_measures_on_synthetic_landmarks():
    lm = np.zeros((1, 68, 2))
    lm[0, 36:42] = [10.0, 0.0]
    lm[0, 42:48] = [110.0, 0.0]  # IOD = 100 px
    lm[0, [61, 62, 63]] = [[50, 100], [55, 100], [60, 100]]
    lm[0, [65, 66, 67]] = [[50, 130], [55, 130], [60, 130]]
    iod = M.interocular_distance(lm)
    assert iod[0] == 100.0
    assert M.inner_lip_aperture(lm, iod)[0] == 0.3
    moved = lm.copy()
    moved[0, 48:68] += [7.0, -3.0]  # a bodily shift is not a mouth-shape change
    assert M.mouth_landmark_distance(lm, moved, iod)[0] < 1e-12
    opened = lm.copy()
    opened[0, 66] += [0.0, 20.0]
    assert M.mouth_landmark_distance(lm, opened, iod)[0] > 0.009


def test_to_uint8_for_every_dtype():
    f = np.array([[[0.0, 0.5, 1.0, 0.3], [-1.0, 2.0, np.nan, 0.0]]], np.float32)
    np.testing.assert_array_equal(M.to_uint8(f), [[[0, 128, 255], [0, 255, 0]]])
    np.testing.assert_array_equal(M.to_uint8(f.astype(np.float16))[0, 0], [0, 128, 255])
    u16 = np.array([[[0, 257, 65535]]], np.uint16)
    np.testing.assert_array_equal(M.to_uint8(u16), [[[0, 1, 255]]])
    assert M.eight_bit_scale(np.float16) == 255.0


def test_outside_difference_is_bit_exact():
    a = np.zeros((10, 10, 3), np.float32)
    b = a.copy()
    b[0, 0, 1] = 1e-7
    b[5, 5] = 1.0  # inside the excluded box
    mask = M.outside_mask(10, 10, slice(4, 7), slice(4, 7))
    count, biggest = M.outside_difference(a, b, mask)
    assert count == 1 and math.isclose(biggest, 1e-7, rel_tol=1e-3)
    assert M.outside_difference(a, a, mask) == (0, 0.0)


def test_landmark_jitter_tells_shaking_points_from_smooth_motion():
    t = np.arange(48, dtype=np.float64)
    base = np.random.default_rng(1).uniform(100, 200, (68, 2))
    # Speech-like smooth motion: every point drifts and sways slowly (2 px at 24 fps).
    smooth = base[None] + 2.0 * np.sin(2 * np.pi * t / 24)[:, None, None] + 0.3 * t[:, None, None]
    shaking = smooth + np.random.default_rng(2).normal(0, 0.5, smooth.shape)
    iod = np.full(len(t), 60.0)
    calm = np.percentile(M.landmark_jitter(smooth, iod), 95)
    shaky = np.percentile(M.landmark_jitter(shaking, iod), 95)
    assert calm < 0.005 and shaky > 5 * calm  # smooth: 2 px sway at 24 fps is 0.0023 IOD a frame^2
    # Frames without a face break the sequence: their neighbours are skipped, not read as jumps.
    holed = shaking.copy()
    holed[10] = np.nan
    assert len(M.landmark_jitter(holed, iod)) == len(M.landmark_jitter(shaking, iod)) - 3 * 68
    assert M.landmark_jitter(shaking[:2], iod[:2]).size == 0


def test_the_jitter_ratio_comes_with_how_far_it_can_be_trusted():
    """dlib's points on a real face shake by themselves (the source's own jitter); an edit that adds none reads
    about 1 with an interval around it, one that shakes the points reads clearly above 1 (the whole interval)."""
    t = np.arange(96, dtype=np.float64)
    base = np.random.default_rng(1).uniform(100, 200, (68, 2))
    smooth = base[None] + 2.0 * np.sin(2 * np.pi * t / 24)[:, None, None]
    source = smooth + np.random.default_rng(2).normal(0, 0.4, smooth.shape)  # the detector's own noise
    iod = np.full(len(t), 60.0)
    assert M.jitter_ratio_interval(source, source, iod) == (1.0, 1.0)
    same_kind = smooth + np.random.default_rng(3).normal(0, 0.4, smooth.shape)  # another draw of that noise
    low, high = M.jitter_ratio_interval(source, same_kind, iod)
    point = np.percentile(M.landmark_jitter(same_kind, iod), 95) / np.percentile(M.landmark_jitter(source, iod), 95)
    assert low < 1.0 < high and low <= point <= high and high - low < 0.2
    shaken = same_kind + np.random.default_rng(4).normal(0, 0.4, smooth.shape)
    assert M.jitter_ratio_interval(source, shaken, iod)[0] > 1.15
    assert M.jitter_ratio_interval(source[:10], shaken[:10], iod[:10]) is None  # too few frames to resample


def test_the_jitter_says_where_the_points_shake():
    """An edit that shakes only the face's outline reads above 1 there and exactly 1 everywhere else."""
    t = np.arange(96, dtype=np.float64)
    base = np.random.default_rng(1).uniform(100, 200, (68, 2))
    source = base[None] + 2.0 * np.sin(2 * np.pi * t / 24)[:, None, None]
    source = source + np.random.default_rng(2).normal(0, 0.4, source.shape)
    edited = source.copy()
    edited[:, :17] += np.random.default_rng(3).normal(0, 0.4, (len(t), 17, 2))
    iod = np.full(len(t), 60.0)
    regions = {"outline": list(range(17)), "brows": list(range(17, 27)), "lips": list(range(48, 68))}
    found = M.jitter_by_region(M.second_differences(source, iod), M.second_differences(edited, iod), regions)
    assert found["outline"][1] > 1.3 * found["outline"][0]
    assert found["brows"][0] == found["brows"][1] and found["lips"][0] == found["lips"][1]


def test_corner_height_and_mouth_width_follow_the_lips():
    """Corners drawn down and in as the mouth opens read lower and narrower; a whole face moved reads the same."""
    base = np.random.default_rng(5).uniform(100, 200, (68, 2))
    base[33], base[48], base[54] = (150, 150), (130, 180), (170, 180)
    opened = base.copy()
    opened[48] += (3, 6)
    opened[54] += (-3, 6)
    shapes = np.stack([base, opened, base + 20.0])
    iod = np.full(3, 60.0)
    heights, widths = M.corner_height(shapes, iod), M.mouth_width(shapes, iod)
    assert heights[1] - heights[0] == pytest.approx(0.1) and heights[2] == pytest.approx(heights[0])
    assert widths[0] == pytest.approx(40 / 60) and widths[1] == pytest.approx(34 / 60) and widths[2] == widths[0]

