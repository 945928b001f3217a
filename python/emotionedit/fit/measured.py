"""Expressions measured on real faces: the ground truth the action-unit basis is built from.

``data/measured_expressions.npz`` holds displacement fields on the 478-vertex canonical face
(inter-ocular distances, IOD; x toward the subject's left, y toward the chin), each made
left-right symmetric and averaged over the actors that show it (see :mod:`emotionedit.calibrate`,
which writes the file from real footage):

- ``smile``: a broad real smile with the lips' opening and the jaw's drop taken out (two men); its brows are
  read from the pixels (``smile_brow_drop``, IOD at :data:`emotionedit.smile_brows.BROW_VERTICES`), which
  show them lowered where the mesh tracker hardly moves them;
- ``brow_raise``: raised brows of surprise on a face that does not smile;
- ``jaw``: the face's motion per IOD of inner-lip opening with the chin still (the lips parting),
  ``chin``: per IOD of the chin's drop (the jaw dropping);
- ``reference_neutral``: the actors' mean resting face, ``mirror``: each vertex's mirror partner.

:func:`features` names the anatomical measures the calibration and the tests compare.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from . import topology as topo

DATA_PATH = Path(__file__).with_name("data") / "measured_expressions.npz"

# Anatomical measures (IOD), each the change from a neutral face (positive = larger / higher).
FEATURES = ("mouth_width", "corner_lift", "philtrum", "lower_lip_to_chin", "aperture", "upper_lip_height",
            "cheek_height", "eye_opening", "brow_height")


def _measures(face: np.ndarray) -> np.ndarray:
    width = np.linalg.norm(face[topo.MOUTH_CORNER_LEFT] - face[topo.MOUTH_CORNER_RIGHT])
    corners_y = 0.5 * (face[topo.MOUTH_CORNER_RIGHT, 1] + face[topo.MOUTH_CORNER_LEFT, 1])
    # Corner lift above the upper lip's centre: the jaw's opening does not move it (y grows down).
    lift = face[0, 1] - corners_y
    philtrum = np.linalg.norm(face[0] - face[2])  # upper lip top to the base of the nose
    lower_chin = np.linalg.norm(face[topo.CHIN] - face[17])
    aperture = face[14, 1] - face[13, 1]
    upper_lip = -face[0, 1]
    cheek = -0.5 * (face[topo.CHEEK_RIGHT, 1] + face[topo.CHEEK_LEFT, 1])
    eyes = topo.eye_opening(face)
    brows = -0.5 * (face[105, 1] + face[334, 1])
    return np.array([width, lift, philtrum, lower_chin, aperture, upper_lip, cheek, eyes, brows])


def features(face: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """Anatomical change of a canonical face (478, 3) from a neutral (478, 3), (len(FEATURES),) IOD."""
    return _measures(face) - _measures(neutral)


@lru_cache(maxsize=1)
def measured_fields() -> dict[str, np.ndarray]:
    """The measured fields as float64 arrays (read once)."""
    with np.load(DATA_PATH, allow_pickle=False) as data:
        return {key: data[key].astype(np.float64) if data[key].dtype.kind == "f" else data[key] for key in data.files}
