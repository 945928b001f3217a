"""Temporal smoothing in coefficient and pose space (never on pixels).

Smoothing runs within runs of consecutive tracked frames; a lost frame splits the
shot so a jump across it is not smeared.
"""

from __future__ import annotations

import numpy as np


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def runs(found: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, stop) ranges of consecutive True values in a (T,) bool array."""
    edges = np.diff(np.concatenate([[0], found.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def smooth_series(values: np.ndarray, found: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of (T, ...) values along time, per run of found frames.

    sigma in frames; 0 returns a copy. Ends are handled by reflecting the run.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    if sigma <= 0:
        return out
    kernel = _gaussian_kernel(sigma)
    radius = len(kernel) // 2
    for start, stop in runs(found):
        segment = out[start:stop]
        flat = segment.reshape(len(segment), -1)
        padded = np.pad(flat, ((radius, radius), (0, 0)), mode="reflect" if len(flat) > radius else "edge")
        smoothed = np.stack([np.convolve(col, kernel, mode="valid") for col in padded.T], axis=1)
        out[start:stop] = smoothed.reshape(segment.shape)
    return out


def smooth_rotations(rotation: np.ndarray, found: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth (T, 3, 3) rotations: average the matrices, then project back onto SO(3)."""
    averaged = smooth_series(rotation, found, sigma)
    out = np.array(rotation, copy=True)
    u, _, vt = np.linalg.svd(averaged[found])
    d = np.ones((len(u), 3))
    d[:, -1] = np.sign(np.linalg.det(u @ vt))
    out[found] = u @ (d[:, :, None] * vt)
    return out
