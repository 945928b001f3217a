"""Does an edit move the face the way the actor's own face moves? dlib 68 points against his real expression.

The truest reference for a believable smile on an actor is the same actor really smiling.
Given his resting frames N, his real expressive frames E, source frames S and their edits X
(``X[i]`` made from ``S[i]``), every 68-point shape is aligned to one reference by a 2-D
similarity fitted on points an expression does not move (nose bridge 27-30, eye corners 36,
39, 42, 45), in units of the reference's inter-ocular distance (IOD, eye centre to eye
centre; x right, y down, eye line horizontal). Then:

- real displacement ``mean(E) - mean(N)``; edit displacement ``mean_i(X[i] - S[i])`` (paired,
  so the speech in S cancels);
- the cosine between the two over the outline, brows, nose, eyes and outer lips (0-59; the
  inner lips follow speech and the mouth's opening, not the expression), overall and per region;
- the size ratio of the outer-lip displacement (norm of the edit's over norm of the real one);
- anatomical features (mouth width, corner lift, philtrum, lower lip to chin, brow height,
  eye opening), each as a change from rest, with a verdict per feature: same sign and within
  35 % of the real change; the philtrum may shorten by at most the real amount plus 35 %, and
  the lower lip to chin distance may not grow.

:func:`frame_changes` gives the same features per edited frame (``X[i] - S[i]``), so an edit
that squashes the philtrum on a few frames shows in the range even when the mean is right.

Landmark arrays are ``(N, 68, 2)`` float64 frame pixels (iBUG indexing, see
:mod:`.landmarks68`); frames without a face are rows of NaN and are left out. Everything
returned is in IOD units unless said otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import landmarks68 as lm68
from . import metrics
from .rigidity import apply_similarity, fit_similarity

RIGID_POINTS = [27, 28, 29, 30, 36, 39, 42, 45]  # nose bridge and eye corners
EYE_CORNERS = [36, 39, 42, 45]
REGIONS: dict[str, list[int]] = {
    "outline": list(range(0, 17)),
    "brows": list(range(17, 27)),
    "nose": list(range(27, 36)),
    "eyes": list(range(36, 48)),
    "outer_lips": list(range(48, 60)),
}
COMPARED_POINTS = [i for points in REGIONS.values() for i in points]  # 0-59
FEATURES = ("mouth_width", "corner_lift", "philtrum", "lip_to_chin", "brow_height", "brow_tilt", "eye_opening")
INNER_BROWS, OUTER_BROWS = [20, 21, 22, 23], [17, 18, 25, 26]
TOLERANCE = 0.35  # the edit's change may differ from the real one by this share of it
# Changes smaller than this (IOD) are within what dlib reads on an unchanged face over a few
# dozen frames: below it a real change has no reliable sign, and the tolerance never gets smaller.
NOISE_FLOOR = 0.01


def features(shapes: np.ndarray) -> dict[str, np.ndarray]:
    """Anatomical measures of ALIGNED shapes (see :func:`align`), in IOD.

    ``shapes``: ``(N, 68, 2)`` aligned (eye line horizontal, y down). Returns ``(N,)`` arrays:
    ``mouth_width`` (48 to 54), ``corner_lift`` (mean y of 51 and 57 minus mean y of 48 and 54:
    positive = corners higher than the lip centre), ``philtrum`` (33 to 51), ``lip_to_chin``
    (57 to 8), ``brow_height`` (eye line, the mean y of the four eye corners, minus the mean y of
    the ten brow points), ``brow_tilt`` (how much higher the inner brows sit than the outer ones: mean y
    of 17, 18, 25, 26 minus mean y of 20-23; it rises in sadness and worry, the inner brows lifted, and
    not in surprise, whose brows rise level), ``eye_opening`` (mean of the lid distances 37-41, 38-40,
    43-47, 44-46).
    """
    p = np.asarray(shapes, np.float64)

    def dist(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(p[:, a] - p[:, b], axis=-1)

    y = p[..., 1]
    return {
        "mouth_width": dist(48, 54),
        "corner_lift": (y[:, 51] + y[:, 57]) / 2 - (y[:, 48] + y[:, 54]) / 2,
        "philtrum": dist(33, 51),
        "lip_to_chin": dist(57, 8),
        "brow_height": y[:, EYE_CORNERS].mean(axis=1) - y[:, 17:27].mean(axis=1),
        "brow_tilt": y[:, OUTER_BROWS].mean(axis=1) - y[:, INNER_BROWS].mean(axis=1),
        "eye_opening": (dist(37, 41) + dist(38, 40) + dist(43, 47) + dist(44, 46)) / 4,
    }


def reference_shape(shapes: np.ndarray, iterations: int = 3) -> np.ndarray:
    """The common frame every shape is aligned to: the similarity-aligned mean of ``shapes``,
    placed with its eye centres at (-0.5, 0) and (0.5, 0), so one unit is its IOD.

    ``shapes``: ``(N, 68, 2)`` frame pixels (NaN rows skipped), usually the actor's resting
    frames. Returns ``(68, 2)`` float64.
    """
    valid = _valid(shapes)
    if valid.shape[0] == 0:
        raise ValueError("no shape with a face to build the reference from")
    reference = _to_unit(valid[0])
    for _ in range(iterations):
        reference = _to_unit(_aligned_to(valid, reference).mean(axis=0))
    return reference


def _to_unit(shape: np.ndarray) -> np.ndarray:
    right, left = metrics.eye_centres(shape)
    matrix = fit_similarity(np.stack([right, left]), np.array([[-0.5, 0.0], [0.5, 0.0]]))
    return apply_similarity(matrix, shape)


def _aligned_to(shapes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    out = np.full(shapes.shape, np.nan)
    for k, shape in enumerate(shapes):
        if np.all(np.isfinite(shape[RIGID_POINTS])):
            out[k] = apply_similarity(fit_similarity(shape[RIGID_POINTS], reference[RIGID_POINTS]), shape)
    return out


def align(shapes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each shape mapped onto ``reference`` by the similarity fitted on :data:`RIGID_POINTS`.

    ``shapes``: ``(N, 68, 2)`` frame pixels; ``reference``: ``(68, 2)`` from
    :func:`reference_shape`. Returns ``(N, 68, 2)`` float64 in the reference's IOD units
    (rows of NaN where the input had no face).
    """
    return _aligned_to(np.asarray(shapes, np.float64).reshape(-1, 68, 2), reference)


def _valid(shapes: np.ndarray) -> np.ndarray:
    shapes = np.asarray(shapes, np.float64).reshape(-1, 68, 2)
    return shapes[np.all(np.isfinite(shapes), axis=(1, 2))]


def _cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-9 or nb < 1e-9:
        return None
    return float(np.clip(np.sum(a * b) / (na * nb), -1.0, 1.0))


def verdict(feature: str, real: float, edit: float) -> tuple[bool, str]:
    """Whether an edit's change of one feature agrees with the real one (both IOD).

    The rule: same sign and within :data:`TOLERANCE` of the real change (the tolerance is never
    below :data:`NOISE_FLOOR`, and a real change below the floor has no sign to match). The
    philtrum may shorten by at most the real shortening plus the tolerance (less is fine), and
    lengthen by at most the real lengthening plus the band; the lower lip to chin distance may
    not grow (beyond the floor), and may shorten by at most the real shortening plus the
    tolerance. Returns (ok, reason).
    """
    band = max(TOLERANCE * abs(real), NOISE_FLOOR)
    if feature == "philtrum":
        limit = min(real, 0.0) * (1 + TOLERANCE) - NOISE_FLOOR
        if edit < limit:
            return False, f"shortens by {-edit:.3f}, more than the real {-min(real, 0.0):.3f} + 35 %"
        if edit > max(real, 0.0) + band:
            return False, f"lengthens by {edit:.3f}, more than the real {max(real, 0.0):.3f} + {band:.3f}"
        return True, "within the real shortening"
    if feature == "lip_to_chin":
        if edit > max(real, 0.0) + NOISE_FLOOR:
            return False, f"grows by {edit:.3f}; the lower lip to chin distance may not grow"
        if edit < min(real, 0.0) * (1 + TOLERANCE) - NOISE_FLOOR:
            return False, f"shortens by {-edit:.3f}, more than the real {-min(real, 0.0):.3f} + 35 %"
        return True, "does not grow, within the real shortening"
    if abs(real) >= NOISE_FLOOR and edit * real <= 0:
        return False, f"moves the other way ({edit:+.3f} against the real {real:+.3f})"
    if abs(edit - real) > band:
        return False, f"{edit:+.3f} against the real {real:+.3f}: off by more than {band:.3f}"
    return True, f"{edit:+.3f} against the real {real:+.3f}"


def compare(neutral: np.ndarray, expression: np.ndarray, source: np.ndarray, edited: np.ndarray,
            groups: tuple[Sequence[int], Sequence[int]] | None = None) -> dict[str, Any]:
    """The whole comparison of an edit with the actor's real expression.

    ``neutral``: ``(Nn, 68, 2)`` the actor at rest; ``expression``: ``(Ne, 68, 2)`` the actor's
    real expression; ``source``, ``edited``: ``(Ns, 68, 2)`` paired (row i of ``edited`` is
    the edit of row i of ``source``). All frame pixels; NaN rows (no face) are skipped, pairs
    where either side has no face too. Returns a JSON-serialisable dict: ``cosine`` (0-59) and
    ``cosine_by_region``, ``outer_lip_ratio``, per feature the ``real`` and ``edit`` change,
    the real change's standard error, ``ok`` and ``why``, plus frame counts. Raises
    ``ValueError`` when a set has no frame with a face.

    ``groups``: one label per row of ``neutral`` and one per row of ``expression``; each expressive frame is then
    paired only with resting frames of its own label (several expressions, each beside its own resting frames, as
    :func:`find_references` gives them).
    """
    reference = reference_shape(neutral)
    n_al, e_al = align(neutral, reference), align(expression, reference)
    n_ok, e_ok = np.all(np.isfinite(n_al), axis=(1, 2)), np.all(np.isfinite(e_al), axis=(1, 2))
    n_al, e_al = n_al[n_ok], e_al[e_ok]
    labels = None
    if groups is not None:
        labels = tuple(np.asarray(g)[ok] for g, ok in zip(groups, (n_ok, e_ok), strict=True))
        if len(labels[0]) != len(n_al) or len(labels[1]) != len(e_al) or not set(labels[1]) <= set(labels[0]):
            raise ValueError("groups: one label per row, and resting frames for every expression's label")
    s_al, x_al = align(source, reference), align(edited, reference)
    pairs = np.all(np.isfinite(s_al), axis=(1, 2)) & np.all(np.isfinite(x_al), axis=(1, 2))
    s_al, x_al = s_al[pairs], x_al[pairs]
    for name, shapes in (("expression", e_al), ("source/edited", s_al)):
        if shapes.shape[0] == 0:
            raise ValueError(f"no {name} frame with a face to compare")
    # Each real expressive frame is paired with the resting frames whose head pose is nearest, as each
    # edit is paired with its source: a different pitch or yaw would otherwise read as expression.
    n_match = pose_matched(n_al, e_al, groups=labels)
    gap = pose_gap(n_al, e_al, groups=labels)
    real = (e_al - n_match).mean(axis=0)
    edit = (x_al - s_al).mean(axis=0)
    lips = REGIONS["outer_lips"]
    real_lips = float(np.linalg.norm(real[lips]))
    result: dict[str, Any] = {
        "frames": {"neutral": int(n_al.shape[0]), "expression": int(e_al.shape[0]), "pairs": int(s_al.shape[0])},
        "cosine": _round(_cosine(real[COMPARED_POINTS], edit[COMPARED_POINTS])),
        "cosine_by_region": {name: _round(_cosine(real[idx], edit[idx])) for name, idx in REGIONS.items()},
        "outer_lip_ratio": _round(float(np.linalg.norm(edit[lips])) / real_lips if real_lips > 1e-9 else None),
        "real_displacement_norm": _round(float(np.linalg.norm(real[COMPARED_POINTS]))),
        "edit_displacement_norm": _round(float(np.linalg.norm(edit[COMPARED_POINTS]))),
        "pose_gap": gap,
    }
    fn, fe = features(n_match), features(e_al)
    fs, fx = features(s_al), features(x_al)
    table: dict[str, Any] = {}
    for name in FEATURES:
        r = float((fe[name] - fn[name]).mean())
        d = float((fx[name] - fs[name]).mean())
        se = math.sqrt(_var_of_mean(fe[name] - fn[name]))
        ok, why = verdict(name, r, d)
        table[name] = {"real": _round(r), "edit": _round(d), "real_std_error": _round(se), "ok": ok, "why": why}
    result["features"] = table
    result["all_ok"] = all(row["ok"] for row in table.values())
    result["units"] = "IOD of the actor's mean resting face; y down, changes from rest"
    return result


# Points whose 2-D layout after alignment follows the head's pitch and yaw but not expression:
# the rigid points plus the outline at the ears and temples.
POSE_POINTS = RIGID_POINTS + [0, 1, 15, 16]
POSE_NEIGHBOURS = 5


def pose_matched(neutral: np.ndarray, expression: np.ndarray, k: int = POSE_NEIGHBOURS,
                 groups: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """For each aligned expression shape, the mean of the ``k`` aligned neutral shapes nearest in head pose.

    neutral: (Nn, 68, 2), expression: (Ne, 68, 2), both aligned; returns (Ne, 68, 2). ``groups``: labels of the
    neutral and the expression rows; an expression is matched only with neutral rows of its own label.
    """
    distances = _pose_distances2(expression, neutral, groups)
    count = min(k, len(neutral) if groups is None else min(int(np.sum(groups[0] == g)) for g in set(groups[1])))
    nearest = np.argsort(distances, axis=1)[:, :count]
    return neutral[nearest].mean(axis=1)


def _pose_distances2(shapes: np.ndarray, others: np.ndarray,
                     groups: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Squared distances between the pose points of aligned ``shapes`` (N, 68, 2) and ``others`` (M, 68, 2),
    (N, M): how differently each pair of faces is turned. With ``groups`` (labels of ``others`` and of
    ``shapes``), pairs of different labels are infinitely far."""
    a = shapes[:, POSE_POINTS].reshape(len(shapes), -1)
    b = others[:, POSE_POINTS].reshape(len(others), -1)
    distances = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    if groups is not None:
        distances[np.asarray(groups[1])[:, None] != np.asarray(groups[0])[None, :]] = np.inf
    return distances


# What makes a face "at rest" for :func:`rest_like`: these features within the resting frames' own central band.
REST_FEATURES = ("mouth_width", "corner_lift", "brow_height", "eye_opening")
REST_BAND = (5.0, 95.0)  # percentiles


def rest_like(pool: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """The frames of ``pool`` that look like the resting frames ``neutral``: the rows of ``pool`` ((N, 68, 2)
    frame pixels, NaN rows without a face) whose mouth width, corner lift, brow height and eye opening lie
    within the 5-95 % band of ``neutral``'s own, aligned alike. For more resting frames, in more head poses,
    than one take of talking holds: each real expressive frame then pairs with resting frames turned as it is
    (see :func:`pose_gap`). Returns the kept rows, in order."""
    reference = reference_shape(neutral)
    return pool[_in_rest_band(align(pool, reference), _valid(align(neutral, reference)))]


def _in_rest_band(pool: np.ndarray, rest: np.ndarray, names: Iterable[str] = REST_FEATURES) -> np.ndarray:
    """(N,) True where a row of the aligned ``pool`` has a face whose features ``names`` (of :func:`features`, or
    ``opening``: :func:`lip_opening`) lie in the 5-95 % band of the aligned resting shapes ``rest``."""
    measures = {**features(rest), "opening": lip_opening(rest)}
    candidates = {**features(pool), "opening": lip_opening(pool)}
    keep = np.all(np.isfinite(pool), axis=(1, 2))
    for name in names:
        low, high = np.percentile(measures[name], REST_BAND)
        keep &= (candidates[name] >= low) & (candidates[name] <= high)  # NaN rows: False
    return keep


def lip_opening(shapes: np.ndarray) -> np.ndarray:
    """(N,) the inner lips' opening of aligned shapes (N, 68, 2): the mean gap of 61-67, 62-66 and 63-65, IOD."""
    p = np.asarray(shapes, np.float64)
    return np.mean([np.linalg.norm(p[:, a] - p[:, b], axis=-1) for a, b in ((61, 67), (62, 66), (63, 65))], axis=0)


# What marks a frame as showing an expression (changes from the resting frames' median, IOD, dlib): a broad smile
# widens the mouth and lifts its corners (franck's closed-lip smiles: +0.20-0.24 and +0.04-0.09), surprise raises
# the brows and opens the lids (the webcam actor's: +0.06-0.09 and +0.03). Each threshold is about half of the real
# change, so a stretch's onset and offset stay out and its apex is kept.
EXPRESSION_CUES: dict[str, dict[str, float]] = {
    "happy": {"mouth_width": 0.10, "corner_lift": 0.02},
    "surprised": {"brow_height": 0.035, "eye_opening": 0.01},
}
MIN_RUN_FRAMES = 12  # half a second: a stretch shorter than this is a passing grimace, or the tracker's noise
MIN_REST_FRAMES = 8  # scanned frames (every other frame of the plate by default)
REST_WINDOW_FRAMES = 150  # resting frames this close in time are usually in the expression's own head pose
GUARD_FRAMES = 12  # nor this close: an expression's onset and offset are neither rest nor the expression


def find_references(shapes: np.ndarray, frames: Sequence[int], neutral: np.ndarray, emotion: str, *,
                    same_opening: bool = True, window: int = REST_WINDOW_FRAMES, min_run: int = MIN_RUN_FRAMES,
                    gap_limit: float | None = None) -> list[dict[str, Any]]:
    """Stretches of a clip where the actor really shows ``emotion`` beside resting frames in his own head pose.

    A real expression compared with resting frames in another head pose reads the turn as expression
    (:func:`pose_gap`): franck's laughs and closed smiles that the first comparisons used lie 5-9x further in
    pose from any resting frame than resting frames lie from each other. A person who smiles in the middle of
    a take usually rests just before and after it with his head where it is, and those frames are the clean
    reference. ``shapes``: (N, 68, 2) dlib points of scanned frames (frame pixels, NaN rows without a face),
    ``frames``: their N frame numbers, ascending; ``neutral``: (M, 68, 2) the actor at rest (his talking
    frames), which sets what "at rest" and the expression's cues (:data:`EXPRESSION_CUES`) are measured from.

    An expressive frame shows every cue of ``emotion`` at full size; with ``same_opening`` its inner lips also part
    within the resting frames' own 5-95 % band (what an edit at full lip preservation keeps is the source's
    opening, so a laugh's dropped jaw is no reference for it). A resting frame shows none of ``emotion``'s cues at
    even half their size, nor all of another expression's, and lies more than :data:`GUARD_FRAMES` from the
    stretch. Resting frames are counted in scanned frames, so the stride of the scan moves the figures a little.

    Returns, best first (nearest in pose), one dict per stretch of at least ``min_run`` frames' span that has at
    least :data:`MIN_REST_FRAMES` resting frames within ``window`` frames before and after it, turned as it is
    (:func:`pose_gap`'s ratio at most ``gap_limit``, default :data:`POSE_GAP_LIMIT`): ``expression`` and ``rest``
    (frame numbers), ``pose_gap``.
    """
    gap_limit = POSE_GAP_LIMIT if gap_limit is None else gap_limit
    if emotion not in EXPRESSION_CUES:
        raise ValueError(f"no cues to find {emotion!r} by; known: {', '.join(EXPRESSION_CUES)}")
    shapes = np.asarray(shapes, np.float64).reshape(-1, 68, 2)
    numbers = np.asarray(frames, np.int64)
    if numbers.shape != (len(shapes),) or np.any(np.diff(numbers) <= 0):
        raise ValueError("frames must be ascending, one per shape")
    reference = reference_shape(neutral)
    aligned, resting = align(shapes, reference), _valid(align(neutral, reference))
    at_rest = {name: float(np.median(values)) for name, values in features(resting).items()}
    change = {name: values - at_rest[name] for name, values in features(aligned).items()}
    face = np.all(np.isfinite(shapes), axis=(1, 2))
    cues = EXPRESSION_CUES[emotion]
    shows = face & np.all([change[name] >= threshold for name, threshold in cues.items()], axis=0)
    if same_opening:
        shows &= _in_rest_band(aligned, resting, ("opening",))
    # Not the bands of rest_like: a pitched head changes the corners' lift, the lids' opening and the brows'
    # height in the picture, and the resting frames beside an expression are often pitched otherwise than the
    # talking frames are.
    rest = face & ~np.any([change[name] >= 0.5 * threshold for name, threshold in cues.items()], axis=0)
    for other, its_cues in EXPRESSION_CUES.items():
        if other != emotion:
            rest &= ~np.all([change[name] >= 0.5 * threshold for name, threshold in its_cues.items()], axis=0)
    step = int(np.median(np.diff(numbers))) if len(numbers) > 1 else 1
    found = []
    for run in _runs(numbers, shows, max_gap=2 * step):
        first, last = numbers[run[0]], numbers[run[-1]]
        if last - first + 1 < min_run:
            continue
        before = (numbers >= first - window) & (numbers < first - GUARD_FRAMES)
        near = rest & (before | ((numbers > last + GUARD_FRAMES) & (numbers <= last + window)))
        if near.sum() < MIN_REST_FRAMES:
            continue
        gap = pose_gap(aligned[near], aligned[run])["ratio"]
        if gap is None or gap > gap_limit:
            continue
        found.append({"expression": numbers[run].tolist(), "rest": numbers[near].tolist(), "pose_gap": gap})
    return sorted(found, key=lambda item: item["pose_gap"])


def _runs(numbers: np.ndarray, mask: np.ndarray, max_gap: int) -> list[np.ndarray]:
    """Indices of ``mask``'s True rows grouped into runs whose frame numbers lie at most ``max_gap`` apart."""
    picked = np.flatnonzero(mask)
    if picked.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(numbers[picked]) > max_gap) + 1
    return np.split(picked, breaks)


# An expression whose frames are this many times further in head pose from the nearest resting frame than
# resting frames are from each other is compared with faces turned otherwise: its outline and brows read pose.
POSE_GAP_LIMIT = 3.0


def pose_gap(neutral: np.ndarray, expression: np.ndarray,
             groups: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """How far in head pose the real expression's frames are from the resting frames they are paired with.

    neutral: (Nn, 68, 2), expression: (Ne, 68, 2), both aligned. The median distance of an expressive frame's
    pose points to the nearest resting frame's, against the same among the resting frames themselves (each to
    its nearest other): where the ratio passes :data:`POSE_GAP_LIMIT`, no resting frame was turned as the
    expression was, and the comparison's outline and brows read the turn (franck's closed smiles at 1304-1372
    against his talking at 672-767: 9x, the outline's "real" displacement twice the lips').

    With ``groups`` (labels of the neutral and the expression rows, as :func:`compare` takes them), each
    label's expression is measured against its own resting frames and the worst label's figures are given,
    with every label's ratio under ``by_group``."""
    if groups is not None:
        labels_n, labels_e = np.asarray(groups[0]), np.asarray(groups[1])
        each = {str(g): pose_gap(neutral[labels_n == g], expression[labels_e == g]) for g in dict.fromkeys(labels_e)}
        worst = max(each.values(), key=lambda item: -1.0 if item["ratio"] is None else item["ratio"])
        return {**worst, "by_group": {g: item["ratio"] for g, item in each.items()}}
    to_rest = float(np.median(np.sqrt(_pose_distances2(expression, neutral)).min(axis=1)))
    among = np.sqrt(_pose_distances2(neutral, neutral))
    np.fill_diagonal(among, np.inf)
    rest = float(np.median(among.min(axis=1))) if len(neutral) > 1 else float("nan")
    ratio = to_rest / rest if rest > 0 and np.isfinite(rest) else None
    result: dict[str, Any] = {"expression_to_rest": _round(to_rest), "rest_to_rest": _round(rest),
                              "ratio": _round(ratio, 2), "units": "IOD, the pose points after alignment"}
    if ratio is not None and ratio > POSE_GAP_LIMIT:
        result["note"] = (f"the real expression's head pose is {ratio:.1f}x further from the nearest resting frame "
                          "than resting frames are from each other: no resting frame was turned as it was, so the "
                          "comparison reads the turn as expression (mostly in the outline and the brows); give resting "
                          "frames in the expression's head pose (--reference-neutral, or more of them with "
                          "--reference-rest-pool)")
    return result


def _var_of_mean(x: np.ndarray) -> float:
    return float(x.var(ddof=1) / x.size) if x.size > 1 else 0.0


def frame_changes(source: np.ndarray, edited: np.ndarray, reference: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per frame, how the edit changed each feature: ``features(X[i]) - features(S[i])``.

    ``source``, ``edited``: ``(N, 68, 2)`` paired frame pixels; ``reference``: ``(68, 2)``
    from :func:`reference_shape` (default: built from ``source``). Returns ``(N,)`` arrays in
    IOD per feature, NaN where either frame has no face.
    """
    if reference is None:
        reference = reference_shape(source)
    fs, fx = features(align(source, reference)), features(align(edited, reference))
    return {name: fx[name] - fs[name] for name in FEATURES}


def summary(values: np.ndarray) -> dict[str, float | None]:
    """``mean``, ``p5``, ``p95``, ``min`` and ``max`` of the finite values of a ``(N,)`` series (None if none)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "p5": None, "p95": None, "min": None, "max": None}
    return {"mean": _round(v.mean()), "p5": _round(np.percentile(v, 5)), "p95": _round(np.percentile(v, 95)),
            "min": _round(v.min()), "max": _round(v.max())}


def anatomy(source: np.ndarray, edited: np.ndarray, neutral: np.ndarray | None = None,
            expression: np.ndarray | None = None) -> dict[str, Any]:
    """Per-frame feature changes of an edit, summarised, beside the real range when known.

    ``source``, ``edited``: ``(N, 68, 2)`` paired frame pixels. With ``neutral`` and
    ``expression`` (the actor's resting and real expressive frames), each feature's row also
    gets ``real``: the summary over expressive frames of ``features(E[j]) - mean features(N)``,
    the range the real face goes through. Returns ``{"features": {name: {"edit": summary,
    "real": summary?}}, "units": ...}`` (see :func:`summary`).
    """
    reference = reference_shape(neutral if neutral is not None else source)
    changes = frame_changes(source, edited, reference)
    rows: dict[str, Any] = {name: {"edit": summary(changes[name])} for name in FEATURES}
    if neutral is not None and expression is not None:
        fn = features(_valid(align(neutral, reference)))
        fe = features(_valid(align(expression, reference)))
        for name in FEATURES:
            rows[name]["real"] = summary(fe[name] - fn[name].mean())
    return {"features": rows, "frames": int(np.isfinite(changes[FEATURES[0]]).sum()),
            "units": "IOD; per frame, edited minus its source (real: expressive frame minus the mean at rest)"}


def measure_shapes(frames: Iterable[np.ndarray], progress: Callable[[int], None] | None = None) -> np.ndarray:
    """dlib's 68 points on each frame (largest face), for the reference sets.

    ``frames``: HxWx3/4 RGB frames of any dtype :func:`.metrics.to_uint8` takes. Returns
    ``(N, 68, 2)`` float64 frame pixels, NaN rows where no face was found.
    """
    shapes = []
    for k, frame in enumerate(frames):
        rgb = metrics.to_uint8(frame)
        box = lm68.detect_face(rgb)
        shapes.append(np.full((68, 2), np.nan) if box is None else lm68.landmarks68(rgb, box))
        if progress is not None:
            progress(k + 1)
    return np.array(shapes, np.float64).reshape(-1, 68, 2)


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)
