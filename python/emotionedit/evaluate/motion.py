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
