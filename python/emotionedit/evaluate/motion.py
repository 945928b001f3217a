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


class FlowSteps:
    """The edit's temporal reading with no landmark detector in it (dlib's per-frame noise on a small face is
    as large as what is measured): each frame's points, in the source (the source's dlib lips, say) and where
    the edit put the same pixels (:func:`carried_points`), are followed one frame back and one forward by
    pyramidal Lucas-Kanade flow in their own clip, and their second difference ``p(t-1) - 2 p(t) + p(t+1)`` is
    the points' acceleration at ``t``.

    Fresh points every frame: a track followed through a whole clip drifts off its material and loses it where a
    mouth opens, and read the happy edit of franck as 1.4x the source's jitter where the render's own motion at
    the lips adds 1.1x. A point whose flow fails the forward-backward check in either clip is left out of both,
    so the clips are compared on the same points. The edit's points must start on the source's material: at
    the source's positions they sit beside a smiling mouth's corner (0.14 IOD off), on skin with less texture.

    Each :meth:`step` takes the next frame of both clips (8-bit gray, or None where the source has no face), the
    source's points and where the edit put them (omitted: the same positions, for an edit that moves none);
    :meth:`second_differences` gives the magnitudes, one row per frame but the first and the last.
    """

    WINDOW = (15, 15)
    LEVELS = 2
    # Forward-backward disagreement (pixels) past which a point's flow is not trusted.
    ROUND_TRIP_LIMIT = 0.3

    def __init__(self):
        self._recent: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None] = []
        self._rows: list[tuple[np.ndarray, np.ndarray] | None] = []
        self._count = 0

    def step(self, source_gray: np.ndarray | None, edited_gray: np.ndarray | None, seed: np.ndarray | None,
             edited_seed: np.ndarray | None = None) -> None:
        if seed is None or source_gray is None or edited_gray is None:
            entry = None
        else:
            carried = seed if edited_seed is None else edited_seed
            if carried.shape != seed.shape:
                raise ValueError(f"edited_seed is {carried.shape} but seed is {seed.shape}")
            self._count = self._count or len(seed)
            entry = (source_gray, edited_gray, np.asarray(seed, np.float32), np.asarray(carried, np.float32))
        self._recent = (self._recent + [entry])[-3:]
        if len(self._recent) == 3:
            self._rows.append(self._accelerations(*self._recent))

    def _accelerations(self, before, now, after) -> tuple[np.ndarray, np.ndarray] | None:
        if before is None or now is None or after is None or len(now[2]) != self._count:
            return None
        result = []
        for k in (0, 1):  # the source, then the edit
            points = now[2 + k]
            back = self._follow(now[k], before[k], points)
            ahead = self._follow(now[k], after[k], points)
            result.append(np.linalg.norm(back + ahead - 2.0 * points.astype(np.float64), axis=1))
        lost = ~(np.isfinite(result[0]) & np.isfinite(result[1]))
        for values in result:
            values[lost] = np.nan
        return result[0], result[1]

    def _follow(self, start: np.ndarray, end: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Where ``points`` of ``start`` are in ``end`` (float64), NaN where the round trip disagrees."""
        ahead, found, _ = cv2.calcOpticalFlowPyrLK(start, end, points.reshape(-1, 1, 2), None,
                                                   winSize=self.WINDOW, maxLevel=self.LEVELS)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(end, start, ahead, None, winSize=self.WINDOW,
                                                       maxLevel=self.LEVELS)
        trip = np.linalg.norm((back - points.reshape(-1, 1, 2)).reshape(-1, 2), axis=1)
        kept = (found.ravel() == 1) & (found_back.ravel() == 1) & (trip < self.ROUND_TRIP_LIMIT)
        moved = ahead.reshape(-1, 2).astype(np.float64)
        moved[~kept] = np.nan
        return moved

    def second_differences(self) -> tuple[np.ndarray, np.ndarray]:
        """(T - 2, N) magnitudes in pixels for the source and the edit (row k: frame k + 1), NaN where a frame or
        a neighbour had no face or a point was not followed in both clips."""
        count = max(self._count, 1)
        empty = np.full(count, np.nan)
        return tuple(np.array([empty if row is None else row[k] for row in self._rows], np.float64).reshape(-1, count)
                     for k in (0, 1))
