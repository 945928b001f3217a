"""Soft face regions (brows, eyes, cheeks, nose, mouth) so parts of an edit can be switched off."""

from __future__ import annotations

import numpy as np

from ..fit import topology as topo
from .emotions import Region

# Anchor vertices per region (canonical neutral positions) and the fall-off radius in IOD.
_ANCHORS = {
    Region.BROWS: (tuple(topo.RIGHT_BROW + topo.LEFT_BROW) + (9, 151, 108, 337), 0.18),
    Region.EYES: (tuple(topo.RIGHT_UPPER_LID + topo.RIGHT_LOWER_LID + topo.LEFT_UPPER_LID + topo.LEFT_LOWER_LID), 0.12),
    Region.CHEEKS: ((117, 346, 50, 280, 205, 425, 123, 352, 187, 411), 0.2),
    Region.NOSE: ((1, 4, 5, 195, 197, 6, 129, 358, 48, 278, 64, 294), 0.14),
    Region.MOUTH: (tuple(topo.LIPS_UPPER + topo.LIPS_LOWER) + (152, 175, 199, 200, 18), 0.16),
}


def region_weights(face: np.ndarray, enabled: frozenset[Region]) -> np.ndarray:
    """Per-vertex weight in [0, 1] of the enabled regions.

    face: (478, 3) canonical neutral. Returns (478,) float64; 1.0 everywhere when
    every region is enabled, 0.0 where only disabled regions reach.
    """
    if enabled == frozenset(Region):
        return np.ones(len(face))
    affinity = np.zeros((len(Region), len(face)))
    for region, (anchors, radius) in _ANCHORS.items():
        d2 = ((face[None, :, :2] - face[list(anchors), None, :2]) ** 2).sum(axis=2).min(axis=0)
        affinity[region] = np.exp(-d2 / radius**2)
    total = affinity.sum(axis=0) + 1e-9
    return sum(affinity[r] for r in enabled) / total if enabled else np.zeros(len(face))
