"""Per-frame expression coefficients: canonical shape = neutral + basis @ c + residual.

Action units are activations, so coefficients are fitted non-negative: the basis
holds antagonist pairs (12/15, 1+2/4, 5/7, 25/24, 26/17) for motion in either
direction, and a sign constraint keeps a pair from cancelling itself out.
"""

from __future__ import annotations

import numpy as np

# z from a monocular landmark model is noisier than x and y: weigh it down in the fit.
_AXIS_WEIGHT = np.array([1.0, 1.0, 0.3])
# Ridge weight relative to the basis' mean energy: small, it only breaks ties.
_RIDGE = 0.02
_ITERATIONS = 300


def fit_coefficients(canonical: np.ndarray, neutral: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Non-negative least-squares AU coefficients for each frame.

    canonical: (T, 478, 3) faces in the canonical frame (IOD units); neutral: (478, 3);
    basis: (K, 2, 478, 3) from :func:`~emotionedit.fit.basis.build_basis`.
    Returns (T, K) float64 >= 0 (unitless; 1 = the AU's full activation).
    """
    full = basis.sum(axis=1)
    design = (full * _AXIS_WEIGHT).reshape(len(full), -1).T  # (N*3, K)
    gram = design.T @ design
    gram = gram + _RIDGE * np.trace(gram) / len(gram) * np.eye(len(gram))
    residual = ((canonical - neutral) * _AXIS_WEIGHT).reshape(len(canonical), -1)
    rhs = residual @ design  # (T, K)
    # Projected gradient on the quadratic; the step is 1 / largest eigenvalue.
    step = 1.0 / np.linalg.eigvalsh(gram)[-1]
    coefficients = np.clip(np.linalg.solve(gram, rhs.T).T, 0.0, None)
    for _ in range(_ITERATIONS):
        coefficients = np.clip(coefficients - step * (coefficients @ gram - rhs), 0.0, None)
    return coefficients


def reconstruct(coefficients: np.ndarray, neutral: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """neutral + basis @ c for (T, K) coefficients -> (T, 478, 3)."""
    return neutral + np.einsum("tk,knd->tnd", coefficients, basis.sum(axis=1))
