"""Real frames of the franck clip for the evaluation tests (read once per session)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit.footage import fetch_clip

FPS = 24


def read_frames(start_s: float, stop_s: float, count: int, *, consecutive: bool = False) -> list[np.ndarray]:
    """``count`` RGB uint8 frames of franck.mp4 between two times (s): evenly spread, or
    ``consecutive`` from ``start_s``."""
    capture = cv2.VideoCapture(str(fetch_clip("franck.mp4")))
    assert capture.isOpened()
    if consecutive:
        indices = list(range(int(start_s * FPS), int(start_s * FPS) + count))
    else:
        indices = [int(round(t * FPS)) for t in np.linspace(start_s, stop_s, count)]
    frames = []
    try:
        for index in indices:
            if not frames or index != indices[len(frames) - 1] + 1:
                capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, bgr = capture.read()
            assert ok, f"could not read frame {index} of franck.mp4"
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    return frames


@pytest.fixture(scope="session")
def talking_frames() -> list[np.ndarray]:
    """20 frames spread over franck's talking segment (28-43 s), neutral face."""
    return read_frames(28, 43, 20)


@pytest.fixture(scope="session")
def smiling_frames() -> list[np.ndarray]:
    """20 frames spread over franck's smiling segment (150-165 s)."""
    return read_frames(150, 165, 20)


@pytest.fixture(scope="session")
def talking_run() -> list[np.ndarray]:
    """12 consecutive talking frames from 30 s (for lip motion and flicker)."""
    return read_frames(30, 0, 12, consecutive=True)


@pytest.fixture(scope="session")
def talking_seconds() -> list[np.ndarray]:
    """Two seconds (48 consecutive frames) of franck talking, from 28 s."""
    return read_frames(28, 0, 48, consecutive=True)
