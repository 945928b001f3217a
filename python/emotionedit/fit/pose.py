"""Rigid head pose: 3-D similarity transforms between plate landmarks and the canonical face.

The canonical frame is centred between the eyes, x toward the subject's left
(image right), y toward the chin, z away from the camera, one unit = the
inter-ocular distance. Pose maps canonical to plate: ``L = s * R @ X + t``.
"""

from __future__ import annotations

import numpy as np

from . import topology as topo


def similarity_fit(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama) taking ``source`` onto ``target``.

    source, target: (T, N, 3) arrays. Returns scale (T,), rotation (T, 3, 3) with
    det +1, translation (T, 3) such that ``target ~ s * R @ source + t``.
    """
    mu_s = source.mean(axis=1, keepdims=True)
    mu_t = target.mean(axis=1, keepdims=True)
    a = source - mu_s
    b = target - mu_t
    cov = np.einsum("tni,tnj->tij", b, a) / source.shape[1]
    u, sigma, vt = np.linalg.svd(cov)
    d = np.ones_like(sigma)
    d[:, -1] = np.sign(np.linalg.det(u @ vt))
    rotation = u @ (d[:, :, None] * vt)
    var_s = (a**2).sum(axis=(1, 2)) / source.shape[1]
    scale = (sigma * d).sum(axis=1) / var_s
    translation = mu_t[:, 0] - scale[:, None] * np.einsum("tij,tj->ti", rotation, mu_s[:, 0])
    return scale, rotation, translation


def to_canonical(points: np.ndarray, scale, rotation, translation) -> np.ndarray:
    """Plate landmarks (T, N, 3) -> canonical (T, N, 3), inverting ``L = s R X + t``."""
    centred = points - translation[:, None, :]
    return np.einsum("tji,tnj->tni", rotation, centred) / scale[:, None, None]


def vectors_to_plate(vectors: np.ndarray, scale, rotation) -> np.ndarray:
    """Canonical displacement vectors (T, N, 3) -> plate pixels (T, N, 3) (no translation)."""
    return scale[:, None, None] * np.einsum("tij,tnj->tni", rotation, vectors)


def normalise_shape(shape: np.ndarray) -> np.ndarray:
    """Put one (478, 3) face into the canonical frame: eyes on the x axis, IOD = 1."""
    right, left = topo.eye_centres(shape)
    origin = 0.5 * (right + left)
    x_axis = left - right
    iod = np.linalg.norm(x_axis)
    x_axis /= iod
    down = shape[topo.CHIN] - origin
    y_axis = down - x_axis * float(down @ x_axis)
    y_axis /= np.linalg.norm(y_axis)
    z_axis = np.cross(x_axis, y_axis)
    basis = np.stack([x_axis, y_axis, z_axis])
    return ((shape - origin) @ basis.T) / iod


def fit_poses(landmarks: np.ndarray, found: np.ndarray, reference: np.ndarray):
    """Per-frame pose taking the canonical ``reference`` onto each frame's rigid points.

    Returns scale (T,), rotation (T, 3, 3), translation (T, 3); lost frames get NaN.
    """
    n = len(landmarks)
    scale = np.full(n, np.nan)
    rotation = np.full((n, 3, 3), np.nan)
    translation = np.full((n, 3), np.nan)
    if found.any():
        rigid = list(topo.RIGID)
        source = np.broadcast_to(reference[rigid], (int(found.sum()), len(rigid), 3))
        s, r, t = similarity_fit(source, landmarks[found][:, rigid].astype(np.float64))
        scale[found], rotation[found], translation[found] = s, r, t
    return scale, rotation, translation


def euler_degrees(rotation: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll in degrees of (T, 3, 3) canonical-to-plate rotations, shape (T, 3)."""
    r = rotation
    yaw = np.degrees(np.arcsin(np.clip(-r[:, 2, 0], -1, 1)))
    pitch = np.degrees(np.arctan2(r[:, 2, 1], r[:, 2, 2]))
    roll = np.degrees(np.arctan2(r[:, 1, 0], r[:, 0, 0]))
    return np.stack([yaw, pitch, roll], axis=1)
