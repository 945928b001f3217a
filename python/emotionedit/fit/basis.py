"""A FACS action-unit basis on the canonical face mesh.

Each action unit (AU) is a displacement field over the 478 canonical vertices. Where the
development footage shows real people making the expression, the field is *measured*
(:mod:`emotionedit.fit.measured`): the smile (AU 12 below the nostrils, AU 6 above them: the
cheeks rise and bunch under the eyes) and the raised brows of surprise (AU 1 inner, AU 2 outer).
Activation 1 of a measured AU is the real expression at the size real
people make it (a broad smile widens the mouth ~0.20 IOD). The other AUs are built from a
few *handles*: an anchor vertex, a radius and a displacement, with a Gaussian fall-off,
restricted to the vertices on the correct side of the lips or eyelids so an upper-lip
handle never drags the lower lip; their activation 1 is a clearly visible, not extreme,
activation. Units are inter-ocular distances (IOD); displacements are in the canonical
axes (x toward the subject's left, y toward the chin, z away from the camera).

Fields are built separately for the subject's right and left halves so an edit can
be one-sided (contempt); the fitted coefficients use the sum of both halves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import topology as topo
from .measured import measured_fields

# Which vertices a handle may move.
ANY, ABOVE_MOUTH, BELOW_MOUTH, ABOVE_EYE, BELOW_EYE = "any", "above_mouth", "below_mouth", "above_eye", "below_eye"


@dataclass(frozen=True)
class Handle:
    """One Gaussian displacement: anchors are (right-side, left-side) vertex ids.

    ``medial`` is the x displacement toward the face's midline (mirrored per side).
    """

    anchors: tuple[int, int]
    radius: float
    medial: float = 0.0
    down: float = 0.0
    back: float = 0.0
    region: str = ANY


# The action units the engine fits and edits, with a short FACS name.
AU_NAMES = {
    1: "inner brow raiser", 2: "outer brow raiser", 4: "brow lowerer", 5: "upper lid raiser",
    6: "cheek raiser", 7: "lid tightener", 9: "nose wrinkler", 10: "upper lip raiser",
    12: "lip corner puller", 14: "dimpler", 15: "lip corner depressor", 17: "chin raiser",
    20: "lip stretcher", 23: "lip tightener", 24: "lip pressor", 25: "lips part", 26: "jaw drop",
}
AUS = tuple(AU_NAMES)

# How far (IOD) the pinning of expression-free points reaches into their neighbours.
RIGID_REACH = 0.05
# How far (IOD) inside the face's outline expression fades out: only the jaw (AU 26) moves the
# outline (AU 17 pushes the chin boss up, not the bony chin: revision 4); a smile that moved it would
# change the face's shape (and bend the background just outside it, which the matte lets the warp reach).
OUTLINE_REACH = 0.2
OUTLINE_AUS = (26,)

# Bumped whenever a handle changes: coefficients fitted with one basis mean something else in
# another, so an analysis file records the revision it was fitted with (see analysis.py).
# 2: AU 12 is one broad lift about each corner (radius 0.55 IOD) and a broad cheek lift, so the
#    whole lip line bends into a smooth arc; the narrow corner handle of revision 1 (0.2 IOD)
#    bent it into a V with a kink at the midline once the corners rose far enough to read as a smile.
#    Expression other than the jaw and chin fades out toward the face outline (OUTLINE_REACH).
# 3: AU 6 and 12 are the measured real smile, AU 1 and 2 the measured raised brows (activation 1 =
#    the real expression); the hand-built AU 12 of revision 2 lifted the whole upper lip toward the
#    nose and stretched the chin. (The footage's raised brows hardly move the tracked upper lids, so
#    AU 5 stays hand-built.)
# 4: AU 15 pulls the corners down about the corners only (radius 0.28 -> 0.20 IOD: the broad handle lowered
#    the upper lip's centre 0.012 IOD, and its lower-lip handle pulled the lower lip down over the lower
#    teeth, which read as disgust); AU 17 pushes the chin boss (vertex 200) and the lower lip up, and no
#    longer lifts the chin's outline (the chin moving without the jaw): sadness's pout (docs/facs.md).
#    AU 5 raises the upper lid as a round arch (four handles along the lid, the rise by arc length like a
#    sine, about 0.035 IOD at its middle as before): one handle at the lid's middle (radius 0.13) raised
#    it into a peak, a tent over the iris with its inner half flat, where a real surprise's lid is a round
#    arch over the whole iris (cap12 70-78).
# 5: the smile (AU 6's part above the nostrils) lowers the brows about 0.012 IOD, as franck's real smiles do in
#    their pixels (optical flow against resting frames in the same head pose, emotionedit.smile_brows); the mesh
#    tracker hardly follows the brows, and revision 4 left them at rest ("the eyes don't join in").
BASIS_REVISION = 5
# Which AUs are cut from which measured field.
MEASURED_AUS = {6: "smile", 12: "smile", 1: "brow_raise", 2: "brow_raise"}
# What a measured AU never moves: the skull's own points, the nose's ridge and tip (a real smile does
# lift and flare the nostrils, so they are not pinned for measured AUs as they are for hand-built ones).
SKULL_POINTS = (topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER,
                168, 6, 197, 195, 5, 4, 1)

R_CORNER = (topo.MOUTH_CORNER_RIGHT, topo.MOUTH_CORNER_LEFT)
_HANDLES: dict[int, tuple[Handle, ...]] = {
    1: (Handle((107, 336), 0.22, down=-0.10, region=ABOVE_EYE), Handle((55, 285), 0.18, down=-0.07, region=ABOVE_EYE)),
    2: (Handle((70, 300), 0.24, down=-0.10, region=ABOVE_EYE), Handle((46, 276), 0.20, down=-0.08, region=ABOVE_EYE)),
    4: (Handle((107, 336), 0.25, medial=0.04, down=0.06, region=ABOVE_EYE),
        Handle((55, 285), 0.2, medial=0.04, down=0.06, region=ABOVE_EYE),
        Handle((105, 334), 0.25, down=0.035, region=ABOVE_EYE)),
    5: tuple(Handle(lid, 0.06, down=-rise, region=ABOVE_EYE)
             for lid, rise in (((160, 387), 0.018), ((159, 386), 0.027), ((158, 385), 0.026), ((157, 384), 0.012))),
    6: (Handle((117, 346), 0.30, down=-0.07), Handle((145, 374), 0.12, down=-0.045, region=BELOW_EYE),
        Handle((35, 265), 0.14, down=-0.015)),
    7: (Handle((145, 374), 0.12, down=-0.03, region=BELOW_EYE), Handle((159, 386), 0.1, down=0.012, region=ABOVE_EYE)),
    9: (Handle((129, 358), 0.16, down=-0.045, back=0.01, region=ABOVE_MOUTH),
        Handle((55, 285), 0.14, down=0.03, region=ABOVE_EYE),
        Handle((40, 270), 0.15, down=-0.02, region=ABOVE_MOUTH)),
    10: (Handle((40, 270), 0.22, down=-0.055, region=ABOVE_MOUTH),
         Handle((0, 0), 0.15, down=-0.02, region=ABOVE_MOUTH)),
    12: (Handle(R_CORNER, 0.55, medial=-0.07, down=-0.095, back=0.02), Handle((205, 425), 0.3, down=-0.06)),
    14: (Handle(R_CORNER, 0.18, medial=-0.02, down=-0.01, back=0.03),),
    15: (Handle(R_CORNER, 0.20, medial=-0.01, down=0.07),),
    17: (Handle((200, 200), 0.22, down=-0.04, back=-0.02, region=BELOW_MOUTH),
         Handle((17, 17), 0.22, down=-0.035, back=-0.02, region=BELOW_MOUTH)),
    20: (Handle(R_CORNER, 0.30, medial=-0.08, down=0.015),),
    23: (Handle((0, 0), 0.14, down=0.015, region=ABOVE_MOUTH),
         Handle((17, 17), 0.14, down=-0.015, region=BELOW_MOUTH),
         Handle(R_CORNER, 0.15, medial=0.02)),
    24: (Handle((13, 13), 0.22, down=0.012, region=ABOVE_MOUTH),
         Handle((14, 14), 0.22, down=-0.012, region=BELOW_MOUTH),
         Handle(R_CORNER, 0.15, medial=0.012)),
    25: (Handle((13, 13), 0.30, down=-0.025, region=ABOVE_MOUTH),
         Handle((14, 14), 0.30, down=0.035, region=BELOW_MOUTH)),
    26: (Handle((152, 152), 0.75, down=0.12, region=BELOW_MOUTH),
         Handle((14, 14), 0.35, down=0.04, region=BELOW_MOUTH)),
}


def _side_masks(face: np.ndarray) -> dict[str, np.ndarray]:
    """Per-vertex weights in [0, 1] for each handle region, from the canonical geometry."""
    x, y = face[:, 0], face[:, 1]
    # The mouth's midline: interpolate the inner-lip midpoints across x.
    upper = face[list(topo.LIPS_INNER_UPPER)]
    lower = face[list(topo.LIPS_INNER_LOWER)]
    mid = 0.5 * (upper + lower)
    order = np.argsort(mid[:, 0])
    mouth_y = np.interp(x, mid[order, 0], mid[order, 1])
    soft = 0.004  # IOD: the lips touch, so the split must be sharp
    below_mouth = 1.0 / (1.0 + np.exp(-(y - mouth_y) / soft))
    below_mouth[list(topo.LIPS_UPPER)] = 0.0
    below_mouth[list(topo.LIPS_LOWER)] = 1.0
    # Each eye's corner line splits upper from lower lid.
    right_line = 0.5 * (face[topo.RIGHT_EYE_OUTER, 1] + face[topo.RIGHT_EYE_INNER, 1])
    left_line = 0.5 * (face[topo.LEFT_EYE_OUTER, 1] + face[topo.LEFT_EYE_INNER, 1])
    eye_y = np.where(x < 0, right_line, left_line)
    below_eye = 1.0 / (1.0 + np.exp(-(y - eye_y) / 0.006))
    below_eye[list(topo.RIGHT_UPPER_LID + topo.LEFT_UPPER_LID)] = 0.0
    below_eye[list(topo.RIGHT_LOWER_LID + topo.LEFT_LOWER_LID)] = 1.0
    return {
        ANY: np.ones_like(x), ABOVE_MOUTH: 1.0 - below_mouth, BELOW_MOUTH: below_mouth,
        ABOVE_EYE: 1.0 - below_eye, BELOW_EYE: below_eye,
    }


def build_basis(face: np.ndarray) -> np.ndarray:
    """AU displacement fields for a canonical face.

    face: (478, 3) canonical neutral (IOD units). Returns (K, 2, 478, 3) float64:
    K = len(AUS) action units, then the subject's right and left halves.
    Iris vertices never move (an edit must not stretch the pupils).
    """
    masks = _side_masks(face)
    midline_x = 0.0
    # A vertex belongs to the half it lies in (the subject's right, then left).
    halves = (face[:, 0] < midline_x, face[:, 0] >= midline_x)
    # A measured field is split between the halves; midline vertices go half to each, so the two sum to it.
    shares = tuple(np.where(np.abs(face[:, 0]) < 1e-3, 0.5, half.astype(float)) for half in halves)
    basis = np.zeros((len(AUS), 2, len(face), 3))
    measured = _measured_aus(face, masks)
    for k, au in enumerate(AUS):
        if au in measured:
            for side in (0, 1):
                basis[k, side] = measured[au] * shares[side][:, None]
            continue
        for handle in _HANDLES[au]:
            for side in (0, 1):
                anchor = face[handle.anchors[side]]
                dist2 = ((face[:, :2] - anchor[:2]) ** 2).sum(axis=1)
                weight = np.exp(-dist2 / handle.radius**2) * masks[handle.region]
                # Centre anchors are shared by both halves.
                weight = weight * halves[side]
                toward_midline = 1.0 if side == 0 else -1.0
                direction = np.array([handle.medial * toward_midline, handle.down, handle.back])
                basis[k, side] += weight[:, None] * direction[None, :]
    basis[:, :, list(topo.RIGHT_IRIS + topo.LEFT_IRIS)] = 0.0
    # Expression never moves the skull: eye corners, nose bridge and nostrils stay put (only the
    # nose wrinkler lifts the nostrils), or an edit would read as a change of head pose.
    rigid = _fade_near(face, topo.EXPRESSION_FREE, RIGID_REACH)
    skull = _fade_near(face, SKULL_POINTS, RIGID_REACH)
    outline = _fade_near(face, topo.FACE_OVAL, OUTLINE_REACH)
    for k, au in enumerate(AUS):
        if au in measured:
            # The cheeks' silhouette stays put too: moving it drags the background across the edge (a
            # removed laugh pulled franck's cheek line in and smeared the blue backdrop into it). Not
            # the brows: the outer brow lies within the fade of the temples' outline.
            basis[k] *= (skull * (outline if MEASURED_AUS[au] == "smile" else 1.0))[None, :, None]
            continue
        if au != 9:
            basis[k] *= rigid[None, :, None]
        if au not in OUTLINE_AUS:
            basis[k] *= outline[None, :, None]
    return basis


def _sigmoid(x: np.ndarray, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x / width))


def _measured_aus(face: np.ndarray, masks: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """The measured AUs as (478, 3) fields on ``face``'s vertices.

    The smile splits at the nostrils: above them the cheeks rise and bunch under the eyes (AU 6),
    below them the lip corners pull up and out (AU 12). The brow raise, above the eyes only, splits
    into the inner half of the brows (AU 1) and the outer half (AU 2).
    """
    fields = measured_fields()
    x, y = face[:, 0], face[:, 1]
    nostril_y = 0.5 * (face[topo.NOSE_WING_RIGHT, 1] + face[topo.NOSE_WING_LEFT, 1])
    cheek = _sigmoid(nostril_y - y, 0.05)
    brow_mid = 0.5 * (abs(face[topo.RIGHT_BROW_INNER, 0] - face[topo.RIGHT_BROW_OUTER, 0])) + abs(
        face[topo.RIGHT_BROW_INNER, 0])
    inner = _sigmoid(brow_mid - np.abs(x), 0.08)
    above = masks[ABOVE_EYE]
    smile, brows = fields["smile"], fields["brow_raise"]
    return {
        6: smile * cheek[:, None],
        12: smile * (1.0 - cheek)[:, None],
        1: brows * (above * inner)[:, None],
        2: brows * (above * (1.0 - inner))[:, None],
    }


def _fade_near(face: np.ndarray, vertices: tuple[int, ...], reach: float) -> np.ndarray:
    """(478,) weight that is 0 at ``vertices`` and rises to 1 about ``reach`` IOD away from them."""
    fixed = face[list(vertices)]
    d2 = ((face[:, None, :2] - fixed[None, :, :2]) ** 2).sum(axis=2).min(axis=1)
    return 1.0 - np.exp(-d2 / reach**2)
