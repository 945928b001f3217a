"""What tracking keeps per frame: compact arrays, about what the analysis file stores (issue 11, Scale)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from emotionedit.track import TrackerOptions, track_frames
from emotionedit.track.base import FrameRows
from emotionedit.track.occluders import HAND_POINTS, MAX_HANDS, OccluderTracker


class _FakeTracker:
    """One face that drifts right, lost on every seventh frame; no model, so thousands of frames are quick."""

    name = "fake"

    def __init__(self):
        self.calls = 0
        self.face = np.random.default_rng(1).normal(100.0, 20.0, (478, 3)).astype(np.float32)

    def reset(self):
        self.calls = 0

    def detect(self, rgb):
        self.calls += 1
        if self.calls % 7 == 0:
            return []
        return [self.face + np.float32(0.01 * self.calls)]


class _FakeHands:
    name = "fake-hands"

    def __init__(self):
        self.calls = 0

    def reset(self):
        self.calls = 0

    def close(self):
        pass

    def detect(self, rgb):
        self.calls += 1
        hand = np.zeros((HAND_POINTS, 2), np.float32)
        hand[:, 0] = np.linspace(10, 60, HAND_POINTS)
        hand[:, 1] = np.linspace(10, 80, HAND_POINTS) + self.calls
        return [hand] if self.calls % 3 else []


FRAME = np.zeros((4, 4, 3), np.uint8)


def test_frame_rows_fill_grow_and_trim():
    exact = FrameRows((2,), np.float32, expected=3)
    for i in range(3):
        exact.append(np.array([i, -i]))
    assert exact.result().shape == (3, 2) and exact.result().dtype == np.float32
    np.testing.assert_array_equal(exact.result()[:, 1], [0, -1, -2])

    unknown = FrameRows((), np.int16)  # more frames than expected: the array grows
    for i in range(1000):
        unknown.append(i)
    np.testing.assert_array_equal(unknown.result(), np.arange(1000))

    fewer = FrameRows((478, 3), np.float32, expected=10)  # fewer: trimmed, NaN rows kept as given
    fewer.append(np.nan)
    fewer.append(np.ones((478, 3)))
    rows = fewer.result()
    assert rows.shape == (2, 478, 3) and np.isnan(rows[0]).all() and (rows[1] == 1).all()


def test_tracking_gives_the_same_arrays_whether_or_not_the_length_is_known():
    known = track_frames([FRAME] * 50, _FakeTracker(), TrackerOptions(), expected=50)
    unknown = track_frames(iter([FRAME] * 50), _FakeTracker(), TrackerOptions())
    for got, want in ((known.landmarks, unknown.landmarks), (known.found, unknown.found),
                      (known.faces_seen, unknown.faces_seen)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert known.landmarks.dtype == np.float32 and known.faces_seen.dtype == np.int16
    assert not known.found[6] and np.isnan(known.landmarks[6]).all() and known.faces_seen[6] == 0
    assert known.found[7] and np.isfinite(known.landmarks[7]).all()


def test_occluders_are_scaled_to_plate_pixels_once():
    hands = OccluderTracker(_FakeHands(), expected=4)
    for _ in range(4):
        hands.add(FRAME)
    track = hands.result(2.0)
    assert track.hands.shape == (4, MAX_HANDS, HAND_POINTS, 2) and track.hands.dtype == np.float32
    assert list(track.hand_count) == [1, 1, 0, 1]
    np.testing.assert_array_equal(track.hands[0, 0, :, 1], 2 * (np.linspace(10, 80, HAND_POINTS) + 1))
    with pytest.raises(RuntimeError, match="already"):
        hands.result(2.0)


def _tracking_peak(frames: int) -> int:
    """Peak bytes allocated while tracking ``frames`` frames (the result included)."""
    tracemalloc.start()
    try:
        track_frames([FRAME] * frames, _FakeTracker(), TrackerOptions(), expected=frames)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_tracking_memory_grows_by_what_the_file_stores():
    # The analysis file stores 478 x 3 float32 landmarks a frame (5 736 bytes), a flag and a face count.
    # Tracking used to keep a Python array per frame and stack them at the end (twice that at its peak).
    small, large = _tracking_peak(500), _tracking_peak(2500)
    per_frame = (large - small) / 2000
    assert per_frame < 5736 + 200, f"tracking holds {per_frame:.0f} bytes a frame"
