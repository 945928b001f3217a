"""A smile stretches and thins the lips (FACS, AU 12), which the measured smile basis does not.

The AU 12 basis is measured on franck's closed-lip smiles, where the pressed lips keep their height: on
it the upper lip grows 0.007 IOD thicker and the lower one 0.031. Real smiles thin the upper lip (franck's
laughs 0.075 IOD against 0.091 talking, the webcam actor's smile 0.091 against 0.111; mediapipe, the lip's
middle from its outer to its inner edge) and thicken the lower one less, if at all (franck's closed smiles
+0.016, his laughs +0.024, the webcam actor's smile 0.000). Edited smiles on open mouths kept thick red
lips ("thick red lip ring", "rubbery lips": blind look tests 9 to 12 on cap12 415, whose lips grew 25 %
in area). The inner edges carry speech (lip preservation keeps the opening), so the thinning moves the
outer edges toward them, and the skin beyond follows over a short reach, tapering to nothing at the
mouth's corners.
"""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo

#: How much thinner the upper lip's middle gets at AU 12 activation 1 (IOD): the real smiles' 0.016-0.020.
THIN_UPPER_PER_AU12 = 0.018
#: How much of the basis's lower-lip thickening (0.031 at activation 1) is taken back: to franck's +0.016.
THIN_LOWER_PER_AU12 = 0.015
#: How far beyond a lip the skin follows its outer edge (IOD, a Gaussian's width).
_REACH = 0.06


def _lip_share(face: np.ndarray, inner_ring: tuple[int, ...], outer_ring: tuple[int, ...]) -> np.ndarray:
    """(478,) per vertex: 0 on and inside the lip's inner edge, rising to 1 at its outer edge, then a Gaussian
    of the distance beyond it; times a taper across the mouth (1 in the middle, 0 at the corners)."""
    inner = face[list(inner_ring), :2]
    outer = face[list(outer_ring), :2]
    x, y = face[:, 0], face[:, 1]
    y_in = np.interp(x, *inner[np.argsort(inner[:, 0])].T)
    y_out = np.interp(x, *outer[np.argsort(outer[:, 0])].T)
    span = y_out - y_in  # negative for the upper lip (y down), positive for the lower
    depth = (y - y_in) / np.where(np.abs(span) > 1e-6, span, 1e-6)  # 0 on the inner edge, 1 on the outer edge
    beyond = np.exp(-(((y - y_out) / _REACH) ** 2))
    share = np.where(depth <= 1.0, np.clip(depth, 0.0, 1.0), beyond)
    left, right = face[outer_ring[0], 0], face[outer_ring[-1], 0]
    centre, half = 0.5 * (left + right), 0.5 * abs(right - left)
    across = np.clip(1.0 - ((x - centre) / half) ** 2, 0.0, 1.0)
    weight = share * across
    weight[list(inner_ring)] = 0.0
    return weight


class LipThinning:
    """The thinning's per-vertex shares on one actor's neutral face ((478, 3) canonical, IOD, y down)."""

    def __init__(self, face: np.ndarray):
        self.upper = _lip_share(face, topo.LIPS_INNER_UPPER, topo.LIPS_OUTER_UPPER)
        self.lower = _lip_share(face, topo.LIPS_INNER_LOWER, topo.LIPS_OUTER_LOWER)

    def apply(self, delta: np.ndarray, au12: float) -> np.ndarray:
        """``delta`` (478, 3) with the lips thinned for an added AU 12 activation ``au12`` (<= 0: none): the
        upper lip's outer edge moves down, the lower lip's up."""
        if au12 <= 0.0:
            return delta
        out = np.array(delta, copy=True)
        out[:, 1] += au12 * (THIN_UPPER_PER_AU12 * self.upper - THIN_LOWER_PER_AU12 * self.lower)
        return out
