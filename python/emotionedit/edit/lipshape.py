"""A smile stretches and thins the upper lip (FACS, AU 12), which the measured smile basis does not.

The AU 12 basis is measured on franck's closed-lip smiles, where the pressed lips keep their height: on
it the upper lip grows 0.007 IOD thicker. Real smiles with the mouth open thin it: franck's laughs 0.075
IOD against 0.091 talking, the webcam actor's smile 0.091 against 0.111 (mediapipe, the upper lip's
middle from its outer to its inner edge). Edited smiles on open mouths kept a thick, red upper lip
("thick red lip ring", "rubbery lips": blind look tests 9 and 10 on cap12 415). The inner edge carries
speech (lip preservation keeps the opening), so the thinning moves the outer edge down onto it, and the
skin above follows over a short reach, tapering to nothing at the mouth's corners.
"""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo

#: How much thinner the upper lip's middle gets at AU 12 activation 1 (IOD): the real smiles' 0.016-0.020.
THIN_PER_AU12 = 0.018
#: How far above the upper lip the skin follows the lip's outer edge down (IOD, a Gaussian's width).
_REACH_ABOVE = 0.06


class UpperLipThinning:
    """Per-vertex share of the thinning on one actor's neutral face ((478, 3) canonical, IOD, y down)."""

    def __init__(self, face: np.ndarray):
        inner = face[list(topo.LIPS_INNER_UPPER), :2]
        outer = face[list(topo.LIPS_OUTER_UPPER), :2]
        x, y = face[:, 0], face[:, 1]
        y_in = np.interp(x, *inner[np.argsort(inner[:, 0])].T)
        y_out = np.interp(x, *outer[np.argsort(outer[:, 0])].T)
        thickness = np.maximum(y_in - y_out, 1e-6)
        depth = (y_in - y) / thickness  # 0 on the inner edge, 1 on the outer edge
        above = np.exp(-(((y_out - y) / _REACH_ABOVE) ** 2))
        share = np.where(depth <= 1.0, np.clip(depth, 0.0, 1.0), above)
        left, right = face[topo.LIPS_OUTER_UPPER[0], 0], face[topo.LIPS_OUTER_UPPER[-1], 0]
        centre, half = 0.5 * (left + right), 0.5 * abs(right - left)
        across = np.clip(1.0 - ((x - centre) / half) ** 2, 0.0, 1.0)
        self.weight = share * across
        self.weight[list(topo.LIPS_INNER_UPPER)] = 0.0

    def apply(self, delta: np.ndarray, au12: float) -> np.ndarray:
        """``delta`` (478, 3) with the upper lip thinned for an added AU 12 activation ``au12`` (<= 0: none)."""
        if au12 <= 0.0:
            return delta
        out = np.array(delta, copy=True)
        out[:, 1] += au12 * THIN_PER_AU12 * self.weight
        return out
