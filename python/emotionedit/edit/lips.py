"""Lip preservation: keep the speech shapes of the mouth while the emotion changes it.

Speech lives in three measures of the mouth: the inner-lip aperture along the
mouth, the mouth's width and the jaw's opening. With weight ``w`` the edit's
change to each measure is scaled by ``1 - w``, by moving the lips symmetrically
about the mouth's midline; what the edit does to the midline itself (lip
corners up or down, the upper lip raised with the lower) is kept.
"""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo
from ..fit.basis import AUS, build_basis

# How far from the lips the corrections reach (IOD).
_LIP_REACH = 0.12
_WIDTH_REACH = 0.2


def _mouth_geometry(face: np.ndarray):
    upper = np.array(topo.LIPS_INNER_UPPER[1:-1])
    lower = np.array(topo.LIPS_INNER_LOWER[1:-1])
    # The whole lip ring moves as one (lips keep their thickness); the skin around follows less.
    ring = np.array(topo.LIPS_UPPER + topo.LIPS_LOWER)
    d_lip = np.sqrt(((face[:, None, :2] - face[None, ring, :2]) ** 2).sum(axis=2).min(axis=1))
    lip_reach = np.exp(-((d_lip / _LIP_REACH) ** 2))
    width_reach = np.exp(-((d_lip / _WIDTH_REACH) ** 2))
    centre = 0.5 * (face[topo.INNER_CORNER_RIGHT] + face[topo.INNER_CORNER_LEFT])
    mid_y = 0.5 * (face[upper, 1] + face[lower, 1])
    order = np.argsort(face[upper, 0])
    below = face[:, 1] > np.interp(face[:, 0], face[upper, 0][order], mid_y[order])
    below[list(topo.LIPS_LOWER)] = True
    below[list(topo.LIPS_UPPER)] = False
    jaw = build_basis(face).sum(axis=1)[AUS.index(26), :, 1]
    jaw = jaw / jaw[topo.CHIN]
    return upper, lower, order, lip_reach, width_reach, below, centre, jaw


class LipPreserver:
    """Precomputed mouth geometry of one actor's neutral face.

    face: (478, 3) canonical neutral (IOD units).
    """

    def __init__(self, face: np.ndarray):
        self._face = face
        (self._upper, self._lower, self._order, self._lip_reach, self._width_reach, self._below,
         self._centre, self._jaw) = _mouth_geometry(face)
        half_width = 0.5 * (face[topo.INNER_CORNER_LEFT, 0] - face[topo.INNER_CORNER_RIGHT, 0])
        self._lateral = np.clip((face[:, 0] - self._centre[0]) / half_width, -1.5, 1.5)

    def apply(self, delta: np.ndarray, weight: float) -> np.ndarray:
        """Scale the edit's speech-measure changes by ``1 - weight``.

        delta: (478, 3) canonical edit displacement (IOD); weight in [0, 1].
        Returns a new (478, 3) array; ``weight = 0`` returns ``delta`` unchanged.
        """
        if weight <= 0:
            return delta
        out = np.array(delta, copy=True)
        # Jaw opening: the chin keeps its height.
        out[:, 1] -= weight * out[topo.CHIN, 1] * self._jaw
        # Aperture: move upper and lower lip back toward each other about their midline.
        opening = out[self._lower, 1] - out[self._upper, 1]  # per inner-lip column
        x_cols = self._face[self._upper, 0][self._order]
        half = np.interp(self._face[:, 0], x_cols, opening[self._order]) * 0.5 * weight
        sign = np.where(self._below, -1.0, 1.0)
        out[:, 1] += sign * half * self._lip_reach
        # Width: undo the edit's horizontal stretch of the mouth about its centre.
        stretch = out[topo.INNER_CORNER_LEFT, 0] - out[topo.INNER_CORNER_RIGHT, 0]
        out[:, 0] -= weight * 0.5 * stretch * self._lateral * self._width_reach
        return out
