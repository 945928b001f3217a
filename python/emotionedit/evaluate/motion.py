"""Where an edit moved the source's pixels: dense optical flow from the source to the edited frame.

Head-pose drift must be read from what the edit did to the picture, not from a landmark model's
second guess. Refitting dlib's 68 points on the edited frame reads expression as pose: its
shape model couples the nose and eye points to the mouth, so a smile confined to the mouth
(no pixel at the eye corners or the nose moves) still reads 2-3 degrees of head rotation. The
flow between the two frames sees only pixels that really moved: the source's rigid landmarks,
carried along the flow, are where the edit put them.

The edited frame is the source resampled, so the flow's brightness constancy holds almost
exactly and DIS recovers the motion to a small fraction of a pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from .landmarks68 import FaceBox

# The flow is computed on a crop around the face box resampled to this many pixels a side:
# sub-pixel precision for small faces and a bounded cost (a few ms) for 4K ones.
FLOW_SIZE = 320
# The crop is the face box grown by this factor about its centre (the rigid points sit inside).
FLOW_MARGIN = 1.6


def _gray_crop(rgb: np.ndarray, matrix: np.ndarray, side: int, shrink: bool) -> np.ndarray:
    crop = cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)


def carried_points(source: np.ndarray, edited: np.ndarray, box: FaceBox, points: np.ndarray) -> np.ndarray:
    """Where the edit moved the source pixels at ``points``.

    source, edited: (H, W, 3) uint8 RGB frames of one size; box: the source's face box;
    points: (N, 2) float64 pixel coordinates (x, y) in the source. Returns (N, 2) float64
    pixel coordinates in the edited frame (equal to ``points`` where nothing moved).
    """
    grown = box.scaled(FLOW_MARGIN)
    scale = FLOW_SIZE / max(grown.width, grown.height, 1.0)
    matrix = np.array([[scale, 0.0, -scale * grown.left], [0.0, scale, -scale * grown.top]])
    shrink = scale < 1.0
    before = _gray_crop(source, matrix, FLOW_SIZE, shrink)
    after = _gray_crop(edited, matrix, FLOW_SIZE, shrink)
    flow = _flow().calc(before, after, None)
    at = ((points - [grown.left, grown.top]) * scale).astype(np.float32)
    sampled = cv2.remap(flow, at[:, None, 0], at[:, None, 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return points + sampled[:, 0, :].astype(np.float64) / scale


def _flow() -> cv2.DISOpticalFlow:
    # A fresh object per call: DIS keeps per-instance buffers, and evaluation may run on threads.
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


class FlowTracks:
    """Points followed through a clip by pyramidal Lucas-Kanade optical flow, in the source and in the edit
    side by side: a temporal reading of the edit with no landmark detector in it (dlib's per-frame noise on a
    small face is as large as what is measured). Both start from the same points (the source's dlib lips,
    say) at the first frame with a face, and start again after a frame without one.

    Each :meth:`step` takes the next frame of both clips (8-bit gray) and its seed points (or None: no face);
    :meth:`tracks` gives (T, N, 2) positions for each clip, NaN where a point was lost or not followed.
    """

    WINDOW = (15, 15)
    LEVELS = 2

    def __init__(self):
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._points: list[np.ndarray] | None = None
        self._source: list[np.ndarray] = []
        self._edited: list[np.ndarray] = []
        self._count = 0

    def step(self, source_gray: np.ndarray, edited_gray: np.ndarray, seed: np.ndarray | None) -> None:
        if seed is None:
            self._previous, self._points = None, None
            self._source.append(None)
            self._edited.append(None)
            return
        if self._previous is None or self._points is None or len(seed) != self._count:
            self._points = [seed.astype(np.float32).copy(), seed.astype(np.float32).copy()]
            self._count = len(seed)
        else:
            for k, (before, now) in enumerate(zip(self._previous, (source_gray, edited_gray), strict=True)):
                moved, found, _ = cv2.calcOpticalFlowPyrLK(before, now, self._points[k].reshape(-1, 1, 2), None,
                                                           winSize=self.WINDOW, maxLevel=self.LEVELS)
                moved = moved.reshape(-1, 2)
                moved[found.ravel() == 0] = np.nan
                self._points[k] = moved
        self._previous = (source_gray, edited_gray)
        self._source.append(self._points[0].copy())
        self._edited.append(self._points[1].copy())

    def tracks(self) -> tuple[np.ndarray, np.ndarray]:
        count = max(self._count, 1)
        fill = np.full((count, 2), np.nan, np.float32)
        return tuple(np.array([fill if p is None or len(p) != count else p for p in series], np.float64)
                     for series in (self._source, self._edited))
