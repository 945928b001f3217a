"""Stage 1b: the tracked landmarks made steady with the picture's own motion.

The face mesh places each frame's points afresh, so they shake about the face by a fraction of a pixel
to a pixel from frame to frame. The render anchors its displacement field on them, and the field's
gradient turns that shake into picture motion: on franck's happy edit the field alone added 10 % to the
lips' frame-to-frame acceleration (docs/results.md, "Temporal"). Optical flow between neighbouring frames
follows the skin far more steadily than a detector finds it, but drifts over many frames; the detector does
not drift. Both are fused here: the steady points S minimise, per point,

    sum_t lambda * |S(t) - L(t)|^2  +  sum_t c(t) * |S(t) - S(t-1) - v(t)|^2

where L are the detections, v(t) is the point's flow from frame t-1 to t (pyramidal Lucas-Kanade from its
detected position) and c(t) is 1 where that flow is trusted, else 0. A constant bias of the flow does not
accumulate (it moves every S the same way, which the first term takes back), and where the flow is not
trusted (a point under a hand passing in front of the face, an eyelid in a blink, a lip uncovered as the
mouth opens, a frame without the face) the points fall back on the detections alone.

The flow is trusted where it agrees with the detector about the point's motion to within the detector's own
noise: a hand crossing the mouth carries the flow with it, while the detections stay on the face.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..fit import topology as topo

# Weight of the detections against the flow: about three frames of flow per detection (1 / sqrt(lambda)).
DETECTION_WEIGHT = 0.1
# A flow that disagrees with the detector's motion of the point by more than this (IOD) is not trusted: the
# detector and the flow disagree by under 0.003 IOD on half the points of talking footage, 0.027 on 1 %.
MOTION_AGREEMENT_IOD = 0.02
# Lucas-Kanade window and pyramid levels (views are at most TrackerOptions.max_track_height rows).
WINDOW = (15, 15)  # 11 x 11 took half as much of the shake away on franck (54 px between the eyes)
LEVELS = 3


class FlowStabiliser:
    """Collects each frame's flow of the tracked points while a shot is tracked, then fuses them.

    :meth:`observe` takes every tracked frame in order: the tracker's (H, W, 3) uint8 RGB view and the chosen
    face's (N, >=2) points in that view's pixels (None where no face was found). :meth:`steady` then gives the
    fused points for the detections of the same frames.
    """

    def __init__(self):
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (gray view, points) of the last frame
        self._flows: list[np.ndarray | None] = []  # per frame: (N, 2) flow from the frame before, NaN: not trusted

    def observe(self, view: np.ndarray, points: np.ndarray | None) -> None:
        gray = cv2.cvtColor(view, cv2.COLOR_RGB2GRAY)
        flow = None
        if points is not None and self._previous is not None and len(self._previous[1]) == len(points):
            flow = _flow(self._previous[0], gray, self._previous[1])
        self._flows.append(flow)
        self._previous = None if points is None else (gray, np.ascontiguousarray(points[:, :2], np.float32))

    def steady(self, landmarks: np.ndarray, found: np.ndarray) -> np.ndarray:
        """(T, N, D) ``landmarks`` (view pixels, D >= 2; NaN where not ``found``) with x and y fused with the
        flow; other columns and frames without a face as they were."""
        if len(landmarks) != len(self._flows):
            raise ValueError(f"{len(landmarks)} frames of landmarks but {len(self._flows)} observed")
        result = landmarks.copy()
        count = len(landmarks)
        if count < 2:
            return result
        points = landmarks[:, :, :2].astype(np.float64)
        flows = np.zeros_like(points)
        trusted = np.zeros(points.shape[:2])
        iod = np.full(count, np.nan)
        iod[found] = topo.interocular(points[found])
        for t in range(1, count):
            flow = self._flows[t]
            if flow is None or not (found[t] and found[t - 1]):
                continue
            detected = points[t] - points[t - 1]
            agree = np.linalg.norm(detected - flow, axis=1) < MOTION_AGREEMENT_IOD * iod[t]  # False where NaN
            flows[t] = np.where(agree[:, None], flow, 0.0)
            trusted[t] = agree
        fused = _solve(np.where(found[:, None, None], points, 0.0), found.astype(np.float64), flows, trusted)
        result[found, :, :2] = fused[found].astype(result.dtype)
        return result


def _flow(before: np.ndarray, after: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) motion of ``points`` from the gray ``before`` to ``after``, NaN where the flow lost them. (A round
    trip back to the start as a further check cost as much again and changed nothing the agreement with the
    detector does not already catch.)"""
    start = points.reshape(-1, 1, 2)
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(before, after, start, None, winSize=WINDOW, maxLevel=LEVELS)
    motion = (ahead - start).reshape(-1, 2).astype(np.float64)
    motion[found.ravel() != 1] = np.nan
    return motion


def _solve(detections: np.ndarray, present: np.ndarray, flows: np.ndarray, trusted: np.ndarray) -> np.ndarray:
    """The minimiser of the module's energy for every point at once: a tridiagonal system per point and axis,
    solved by forward elimination and back substitution along time.

    detections: (T, N, 2); present: (T,) 1 where the frame has detections (its data term), 0 where not;
    flows: (T, N, 2), row t the motion from t-1 (row 0 unused); trusted: (T, N), c(t) (row 0 unused).
    Frames without detections and without trusted links get 0 (the caller keeps its own value there).
    """
    count = len(detections)
    weight = DETECTION_WEIGHT * present[:, None]  # (T, 1)
    link = trusted.copy()
    link[0] = 0.0
    after = np.zeros_like(link)  # c(t + 1): the link to the next frame
    after[:-1] = link[1:]
    diagonal = weight + link + after + 1e-12  # (T, N); the tiny term keeps empty frames solvable
    rhs = weight[:, :, None] * detections + link[:, :, None] * flows
    rhs[:-1] -= after[:-1, :, None] * flows[1:]
    # Thomas algorithm: the sub- and super-diagonal at t are -link[t] (between t-1 and t).
    upper = np.zeros_like(link)
    solved = np.zeros_like(rhs)
    pivot = diagonal[0]
    upper[0] = -after[0] / pivot
    solved[0] = rhs[0] / pivot[:, None]
    for t in range(1, count):
        pivot = diagonal[t] + link[t] * upper[t - 1]
        upper[t] = -after[t] / pivot
        solved[t] = (rhs[t] + link[t][:, None] * solved[t - 1]) / pivot[:, None]
    for t in range(count - 2, -1, -1):
        solved[t] -= upper[t][:, None] * solved[t + 1]
    return solved
