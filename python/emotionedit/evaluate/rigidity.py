"""Parts that must move as one body, or not at all: the teeth, and whatever covers the face.

Teeth are bone: however the lips move around them, what shows between the lips moves
rigidly with the head (the lower teeth follow the jaw, which is close to rigid over the
small patch a frame shows). A warp that bends the teeth is the most recognisable artefact
of a motion edit. It is read from the dense optical flow from the source to the edited
frame inside the inner-lip polygons of both frames (what shows the interior before and after
the edit): one 2-D similarity is fitted to the flow vectors by least squares, and what it
cannot explain (the RMS residual, in inter-ocular distances) is the bending. A rigid motion
reads about 0.001 IOD, a bend of the teeth a few hundredths.

An occluder (a hand, a microphone, hair) in front of the face belongs to another body:
an emotion edit should leave its pixels where they are. It is read as the mean flow
magnitude over the occluder's pixels and the share of them whose value changed.

The flow is DIS (OpenCV's dense inverse search, medium preset) on a crop resampled to
:data:`~.motion.FLOW_SIZE` pixels a side, as in :mod:`.motion`: the edited frame is the
source resampled, so brightness constancy holds and the flow is accurate to a small
fraction of a pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import metrics
from .landmarks68 import FaceBox
from .motion import FLOW_MARGIN, FLOW_SIZE

INNER_LIPS = list(range(60, 68))
# The mouth counts as open (teeth or mouth cavity visible) above this inner-lip aperture.
OPEN_MOUTH_APERTURE = 0.08  # IOD
# The inner-lip polygon is eroded by this much, so the lips' own motion stays out.
TEETH_EROSION = 0.02  # IOD
MIN_TEETH_PIXELS = 20  # fewer flow samples (crop pixels) than this and the frame is not measured
CHANGE_LEVEL = 2.0  # 8-bit levels: an occluder pixel counts as changed above this


def fit_similarity(points: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least-squares 2-D similarity (rotation, uniform scale, translation) taking ``points`` to ``targets``.

    ``points``, ``targets``: ``(N, 2)`` float (x, y), N >= 2; ``weights``: optional ``(N,)``
    non-negative. Returns the ``(2, 3)`` float64 matrix ``M`` with ``targets ~ points @ M[:, :2].T
    + M[:, 2]`` (Umeyama's closed form, without the reflection case, which a face never needs).
    """
    p = np.asarray(points, np.float64)
    q = np.asarray(targets, np.float64)
    if p.shape != q.shape or p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 2:
        raise ValueError(f"expected two (N, 2) point arrays of one shape with N >= 2, got {p.shape} and {q.shape}")
    w = np.ones(len(p)) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    pm, qm = w @ p, w @ q
    pc, qc = p - pm, q - qm
    # For z = x + iy the similarity is q = a * p + t with complex a; least squares gives a directly.
    zp, zq = pc[:, 0] + 1j * pc[:, 1], qc[:, 0] + 1j * qc[:, 1]
    denom = float(w @ (np.abs(zp) ** 2))
    a = complex(w @ (np.conj(zp) * zq)) / denom if denom > 0 else 1.0 + 0j
    rs = np.array([[a.real, -a.imag], [a.imag, a.real]])
    return np.hstack([rs, (qm - rs @ pm)[:, None]])


def apply_similarity(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``points`` ``(..., 2)`` mapped by a ``(2, 3)`` matrix from :func:`fit_similarity`."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def _flow_crop(left: float, top: float, right: float, bottom: float) -> tuple[np.ndarray, float]:
    """The ``(2, 3)`` matrix from frame pixels to a FLOW_SIZE square crop of a region, and its scale."""
    scale = FLOW_SIZE / max(right - left, bottom - top, 1.0)
    return np.array([[scale, 0.0, -scale * left], [0.0, scale, -scale * top]]), scale


def region_flow(source: np.ndarray, edited: np.ndarray, left: float, top: float, right: float,
                bottom: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Dense optical flow from ``source`` to ``edited`` over one rectangle of the frame.

    ``source``, ``edited``: ``(H, W, 3)`` uint8 RGB of one size; the rectangle in frame pixels.
    The rectangle is resampled to a FLOW_SIZE square crop (its longer side fills it).
    Returns ``(flow, matrix, scale)``: flow ``(FLOW_SIZE, FLOW_SIZE, 2)`` float32 in CROP pixels
    (divide by ``scale`` for frame pixels), the ``(2, 3)`` frame-to-crop matrix and its scale.
    """
    matrix, scale = _flow_crop(left, top, right, bottom)
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    grey = []
    for rgb in (source, edited):
        crop = cv2.warpAffine(rgb, matrix, (FLOW_SIZE, FLOW_SIZE), flags=interpolation,
                              borderMode=cv2.BORDER_REPLICATE)
        grey.append(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
    # A fresh DIS object per call: it keeps per-instance buffers, and evaluation may run on threads.
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(grey[0], grey[1], None)
    return flow, matrix, scale


def teeth_residual(source: np.ndarray, edited: np.ndarray, box: FaceBox, landmarks: np.ndarray,
                   edited_landmarks: np.ndarray | None = None, *, min_aperture: float = OPEN_MOUTH_APERTURE,
                   erosion: float = TEETH_EROSION) -> float | None:
    """How far the edit bent what shows inside the open mouth: RMS residual (IOD) of one
    similarity fitted to the flow inside the source's inner-lip polygon, and inside the edited
    frame's when its points are given (where the edit moved a lip over the opening, the flow is
    the lip's motion, not the teeth's: a lowered lip corner read as bent teeth).

    ``source``, ``edited``: ``(H, W, 3)`` uint8 RGB; ``box``: the source's face box;
    ``landmarks``, ``edited_landmarks``: the source's and the edited frame's ``(68, 2)`` dlib
    points (frame pixels; None: the source's polygon only). ``min_aperture``:
    inner-lip aperture (IOD) below which the mouth counts as closed; ``erosion``: how much
    (IOD) the polygon is eroded. Returns the residual in inter-ocular distances (about 0.001
    for any rigid motion of the mouth, 0.0 for an untouched one), or None when the mouth is
    closed or too few pixels remain inside the eroded polygon.
    """
    iod = float(metrics.interocular_distance(landmarks))
    aperture = float(metrics.inner_lip_aperture(landmarks, iod))
    if not np.isfinite(aperture) or aperture < min_aperture:
        return None
    grown = box.scaled(FLOW_MARGIN)
    flow, matrix, scale = region_flow(source, edited, grown.left, grown.top, grown.right, grown.bottom)
    mask = np.zeros((FLOW_SIZE, FLOW_SIZE), np.uint8)
    polygon = apply_similarity(matrix, landmarks[INNER_LIPS])
    cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    if edited_landmarks is not None and np.all(np.isfinite(edited_landmarks[INNER_LIPS])):
        shown = np.zeros_like(mask)
        polygon = apply_similarity(matrix, edited_landmarks[INNER_LIPS])
        cv2.fillPoly(shown, [np.round(polygon * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        mask &= shown
    radius = int(round(erosion * iod * scale))
    if radius > 0:
        mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    rows, cols = np.nonzero(mask)
    if rows.size < MIN_TEETH_PIXELS:
        return None
    points = np.stack([cols, rows], axis=1).astype(np.float64)
    targets = points + flow[rows, cols].astype(np.float64)
    fitted = apply_similarity(fit_similarity(points, targets), points)
    rms = float(np.sqrt(np.mean(np.sum((targets - fitted) ** 2, axis=1))))
    return rms / scale / iod


def occluder_motion(source: np.ndarray, edited: np.ndarray, mask: np.ndarray) -> tuple[float, float] | None:
    """How much an edit moved and changed an occluder's pixels.

    ``source``, ``edited``: ``(H, W, 3)`` uint8 RGB of one size; ``mask``: ``(H, W)`` bool,
    True on the occluder in the source. Returns ``(mean_flow_px, changed_share)``: the mean
    magnitude (frame pixels) of the flow from source to edited over the mask, and the share
    (0-1) of mask pixels whose value changed by more than :data:`CHANGE_LEVEL` 8-bit levels
    in any channel; ``(0.0, 0.0)`` for an untouched occluder. None for an empty mask.
    """
    if mask.shape != source.shape[:2]:
        raise ValueError(f"the occluder mask is {mask.shape}, the frame {source.shape[:2]}; expected one size")
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    changed = np.abs(source[rows, cols].astype(np.int16) - edited[rows, cols].astype(np.int16)).max(axis=1)
    share = float(np.mean(changed > CHANGE_LEVEL))
    if not np.any(changed):
        return 0.0, share  # bit for bit untouched: no flow to compute
    h, w = mask.shape
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    pad = 0.1 * max(bottom - top, right - left) + 8  # context around the mask for the flow's patches
    flow, matrix, scale = region_flow(source, edited, max(left - pad, 0), max(top - pad, 0), min(right + pad, w),
                                      min(bottom + pad, h))
    at = apply_similarity(matrix, np.stack([cols, rows], axis=1).astype(np.float64)).astype(np.float32)
    sampled = cv2.remap(flow, at[:, None, 0], at[:, None, 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return float(np.linalg.norm(sampled[:, 0, :], axis=1).mean() / scale), share
