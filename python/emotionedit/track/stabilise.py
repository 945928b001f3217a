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
from .base import FrameRows

# Weight of the detections against the flow: about three frames of flow per detection (1 / sqrt(lambda)).
DETECTION_WEIGHT = 0.1
# A flow that disagrees with the detector's motion of the point by more than this (IOD) is not trusted: the
# detector and the flow disagree by under 0.003 IOD on half the points of talking footage, 0.027 on 1 %.
MOTION_AGREEMENT_IOD = 0.02
# Lucas-Kanade window and pyramid levels (views are at most TrackerOptions.max_track_height rows).
WINDOW = (15, 15)  # 11 x 11 took half as much of the shake away on franck (54 px between the eyes)
LEVELS = 3
# Points fused together: the solve's float64 arrays stay a few MB each on a shot of 10 000 frames.
POINTS_AT_ONCE = 32


class FlowStabiliser:
    """Collects each frame's flow of the tracked points while a shot is tracked, then fuses them.

    :meth:`observe` takes every tracked frame in order: the tracker's (H, W, 3) uint8 RGB view and the chosen
    face's (N, >=2) points in that view's pixels (None where no face was found; N the same in every frame).
    :meth:`steady` then gives the fused points for the detections of the same frames. expected: how many frames
    will be observed, when known. What is kept per frame is one float32 row of flows (N x 2), in one array
    (:class:`~emotionedit.track.base.FrameRows`): 3.8 KB a frame for the face mesh's 478 points.
    """

    def __init__(self, expected: int = 0):
        self._expected = expected
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (gray view, points) of the last frame
        self._flows: FrameRows | None = None  # row t: each point's flow from frame t - 1, NaN where none
        self._waiting = 0  # frames observed before the first face, whose rows are NaN

    def observe(self, view: np.ndarray, points: np.ndarray | None) -> None:
        needed = points is not None or self._previous is not None
        gray = cv2.cvtColor(view, cv2.COLOR_RGB2GRAY) if needed else None
        if points is not None and self._flows is None:
            self._flows = FrameRows((len(points), 2), np.float32, self._expected)
            for _ in range(self._waiting):
                self._flows.append(np.nan)
        if self._flows is None:
            self._waiting += 1
            return
        if points is not None and self._previous is not None:
            self._flows.append(_flow(self._previous[0], gray, self._previous[1]))
        else:
            self._flows.append(np.nan)
        self._previous = None if points is None else (gray, np.ascontiguousarray(points[:, :2], np.float32))

    def steady(self, landmarks: np.ndarray, found: np.ndarray) -> np.ndarray:
        """(T, N, D) ``landmarks`` (view pixels, D >= 2; NaN where not ``found``) with x and y fused with the
        flow; other columns and frames without a face as they were."""
        observed = self._waiting if self._flows is None else len(self._flows)
        if len(landmarks) != observed:
            raise ValueError(f"{len(landmarks)} frames of landmarks but {observed} observed")
        result = landmarks.copy()
        count = len(landmarks)
        if count < 2 or self._flows is None:
            return result
        flows = self._flows.result()
        iod = np.where(found, topo.interocular(landmarks[:, :, :2]), np.nan).astype(np.float64)
        for first in range(0, landmarks.shape[1], POINTS_AT_ONCE):
            part = slice(first, first + POINTS_AT_ONCE)
            steady = _fused(landmarks[:, part, :2].astype(np.float64), found, flows[:, part], iod)
            columns = result[:, part, :2]  # a view: written through
            columns[found] = steady[found]
        return result


def _fused(points: np.ndarray, found: np.ndarray, flows: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """The steady (T, n, 2) positions of some of the points: (T, n, 2) detections (NaN where not ``found``),
    (T, n, 2) flows from the frame before (NaN where none), (T,) inter-ocular distances."""
    detected = np.full_like(points, np.nan)
    detected[1:] = points[1:] - points[:-1]  # NaN next to a frame without the face
    # Where they disagree (or either is missing: NaN compares False), the flow is not trusted.
    trusted = np.linalg.norm(detected - flows, axis=2) < MOTION_AGREEMENT_IOD * iod[:, None]
    trusted[0] = False
    moves = np.where(trusted[:, :, None], flows, 0.0)
    return _solve(np.where(found[:, None, None], points, 0.0), found.astype(np.float64), moves,
                  trusted.astype(np.float64))


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
