"""Lip preservation: keep the speech motion of the mouth while the emotion reshapes it.

Speech lives in the inner-lip opening along the mouth and the jaw's opening over time
(and in the rounding and spreading of the lips, which the edit never removes: it adds a
displacement to the performance). With weight ``w`` the editor scales what the emotion adds
to the speech action units (25 lips part, 26 jaw drop) by ``1 - w``
(:class:`~emotionedit.edit.expression.ExpressionEditor`), and this module scales what is left
of the edit's change to the opening, per column along the mouth, by ``1 - w``, by moving the
lips symmetrically about the mouth's midline. What the emotion does to the mouth's shape is
kept at every ``w``, as a real person who talks while smiling shows it: the mouth widens,
stretches and its corners lift (``w = 1``), or also opens and drops its jaw as the
prototype says (``w = 0``).
"""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo

# How far from the lips the corrections reach (IOD).
_LIP_REACH = 0.12


def _mouth_geometry(face: np.ndarray):
    upper = np.array(topo.LIPS_INNER_UPPER[1:-1])
    lower = np.array(topo.LIPS_INNER_LOWER[1:-1])
    # The whole lip ring moves as one (lips keep their thickness); the skin around follows less.
    ring = np.array(topo.LIPS_UPPER + topo.LIPS_LOWER)
    d_lip = np.sqrt(((face[:, None, :2] - face[None, ring, :2]) ** 2).sum(axis=2).min(axis=1))
    lip_reach = np.exp(-((d_lip / _LIP_REACH) ** 2))
    mid_y = 0.5 * (face[upper, 1] + face[lower, 1])
    order = np.argsort(face[upper, 0])
    below = face[:, 1] > np.interp(face[:, 0], face[upper, 0][order], mid_y[order])
    below[list(topo.LIPS_LOWER)] = True
    below[list(topo.LIPS_UPPER)] = False
    return upper, lower, order, lip_reach, below


class LipPreserver:
    """Precomputed mouth geometry of one actor's neutral face.

    face: (478, 3) canonical neutral (IOD units).
    """

    def __init__(self, face: np.ndarray):
        self._face = face
        self._upper, self._lower, self._order, self._lip_reach, self._below = _mouth_geometry(face)

    def apply(self, delta: np.ndarray, weight: float) -> np.ndarray:
        """Scale the edit's change of the lips' opening by ``1 - weight``.

        delta: (478, 3) canonical edit displacement (IOD); weight in [0, 1].
        Returns a new (478, 3) array; ``weight = 0`` returns ``delta`` unchanged.
        """
        if weight <= 0:
            return delta
        out = np.array(delta, copy=True)
        # Aperture: move upper and lower lip back toward each other about their midline.
        # Both in the image plane (y) and in depth (z): a lip pushed forward opens the mouth as seen
        # from a camera above or below the face.
        x_cols = self._face[self._upper, 0][self._order]
        sign = np.where(self._below, -1.0, 1.0)
        for axis in (1, 2):
            opening = out[self._lower, axis] - out[self._upper, axis]  # per inner-lip column
            half = np.interp(self._face[:, 0], x_cols, opening[self._order]) * 0.5 * weight
            out[:, axis] += sign * half * self._lip_reach
        return out
