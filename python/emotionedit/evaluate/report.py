"""Evaluate an edit against its source, frame by frame, and write what was found.

Everything is measured relative to the unedited source (absolute scores vary too much
between footage to mean anything), with models independent of the engine's tracker:
dlib for the face box, 68 landmarks and identity (:mod:`.landmarks68`), the FER2013
mini-Xception for emotion (:mod:`.classifier`), pure measures in :mod:`.metrics`.

Per frame the face is detected ONCE, on the source frame (largest HOG face), and that one
box is used for both frames: the classifier crop, the 68-point fit, the flicker region and
the untouched region are the same pixels in source and edited, so the box is never what
changed. Frames where the source has no face are listed in ``frames_without_face`` and
left out of every statistic.

Naturalness (:mod:`.agreement`, :mod:`.rigidity`): per-frame anatomical changes, the
bending of the teeth on open-mouth frames, and, when given, agreement with the actor's own
real expression and the motion of occluders in front of the face.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import UserError
from . import agreement, metrics, rigidity
from . import landmarks68 as lm68
from .classifier import EMOTION_LABELS, INPUT_SIZE, classify_crops, face_crop
from .motion import FlowSteps, carried_points

#: dlib's 68 points by part of the face, for the jitter's breakdown.
DLIB_REGIONS = {**agreement.REGIONS, "inner_lips": list(range(60, 68))}

OUTSIDE_DILATION = 1.5  # the face box grown by 50 % about its centre bounds "the face"
_BATCH = 256  # face crops classified at once


def _r(value: float | None, digits: int = 4) -> float | None:
    """Round for JSON; NaN and None become None."""
    if value is None:
        return None
    value = float(value)
    return None if not math.isfinite(value) else round(value, digits)


def _series(values: list[float | None], digits: int = 4) -> list[float | None]:
    return [_r(v, digits) for v in values]


def _check_target(target: str | None) -> None:
    if target is not None and target not in EMOTION_LABELS:
        raise UserError(f"unknown target emotion {target!r}; expected one of {', '.join(EMOTION_LABELS)}")


def _check_pair(i: int, source: np.ndarray, edited: np.ndarray) -> None:
    for name, frame in (("source", source), ("edited", edited)):
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] not in (3, 4):
            shape = getattr(frame, "shape", type(frame).__name__)
            raise UserError(f"frame {i} of the {name} is {shape}; expected an HxWx3 or HxWx4 RGB array")
        if frame.dtype not in (np.uint8, np.uint16, np.float16, np.float32, np.float64):
            raise UserError(
                f"frame {i} of the {name} has dtype {frame.dtype}; expected uint8, uint16 or float"
            )
    if source.shape[:2] != edited.shape[:2]:
        raise UserError(
            f"frame {i}: the source is {source.shape[1]}x{source.shape[0]} but the edited is "
            f"{edited.shape[1]}x{edited.shape[0]}; evaluate an edit against the plate it was made from"
        )


def _classify_all(crops: list[np.ndarray]) -> np.ndarray:
    """``(N, 7)`` probabilities for N 64x64 uint8 crops, in batches of :data:`_BATCH`."""
    parts = [classify_crops(crops[k : k + _BATCH]) for k in range(0, len(crops), _BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, len(EMOTION_LABELS)), np.float32)


def evaluate_pair(
    source_frames: Iterable[np.ndarray],
    edited_frames: Iterable[np.ndarray],
    *,
    target: str | None = None,
    identity_stride: int = 1,
    progress: Callable[[int], None] | None = None,
    reference: tuple[np.ndarray, ...] | None = None,
    occluder_masks: Iterable[np.ndarray | None] | None = None,
) -> dict[str, Any]:
    """Measure an edited clip against its source.

    ``source_frames``, ``edited_frames``: iterables of HxWx3 (or x4, alpha ignored) RGB
    frames, uint8 / uint16 / float16 / float32 (float: scene-linear-ish, clipped to [0, 1]
    and scaled to 8 bit for the models), same size pairwise and the same count; consumed
    once, one pair at a time (a long clip never sits in memory). ``target``: one of
    :data:`EMOTION_LABELS` or None. ``identity_stride``: embed every k-th frame only (an
    embedding costs ~80 ms a face on one core; the rest costs ~40 ms a pair at 360p).
    ``progress``: called after each frame with the number of frames done so far (1, 2, ...).
    ``reference``: the actor's own ``(neutral, expression)`` dlib shapes, each ``(N, 68, 2)``
    frame pixels (:func:`.agreement.measure_shapes`), for the ``agreement`` block and the real
    ranges of the ``anatomy`` block; a third member, the rows' labels, pairs each expressive frame only with
    resting frames of its own label (:func:`.agreement.compare`). ``occluder_masks``: one ``(H, W)`` bool mask
    (or None) per frame, True on whatever covers the face in the source, for the ``occluders`` block.

    Returns a JSON-serialisable dict (see the module's sections: ``emotion``, ``lip_sync``,
    ``identity``, ``head_pose``, ``flicker``, ``outside_face``, and the naturalness blocks
    ``anatomy``, ``teeth``, ``agreement``, ``occluders``, see :mod:`.agreement` and
    :mod:`.rigidity`); per-frame series have one entry per frame, None where the source has no
    face. Raises :class:`UserError` when the streams differ in length or frame size, or dlib
    or a model is missing.
    """
    _check_target(target)
    if identity_stride < 1:
        raise UserError(f"identity_stride must be 1 or more, got {identity_stride}")
    lm68.check_available()

    no_face: list[int] = []
    src_crops: list[np.ndarray] = []
    edt_crops: list[np.ndarray] = []
    crop_frames: list[int] = []
    src_lm: list[np.ndarray] = []
    lip_flow = FlowSteps()  # the source's dlib lips and the edit's, followed by optical flow (jitter_flow)
    steady_src: list[np.ndarray] = []  # the same points averaged over sub-pixel shifts (jitter_steady)
    steady_edt: list[np.ndarray] = []
    edt_lm: list[np.ndarray] = []
    identity: dict[int, float] = {}
    pose_src: list[tuple[float, float, float] | None] = []
    pose_edt: list[tuple[float, float, float] | None] = []
    drift: list[float | None] = []
    refit_drift: list[float | None] = []
    flicker_sums = np.zeros(3)
    flicker_pairs = 0
    outside_pixels = 0
    outside_frames = 0
    outside_max = 0.0
    timing = {"detect": 0.0, "landmarks_pose": 0.0, "classify": 0.0, "identity": 0.0, "pixels": 0.0}
    teeth: list[float | None] = []
    occluders: list[tuple[float, float] | None] = []
    masks = iter(occluder_masks) if occluder_masks is not None else None
    timing["naturalness"] = 0.0
    prev: tuple[np.ndarray, np.ndarray] | None = None
    size: tuple[int, int] | None = None
    dtype: np.dtype | None = None
    n = 0

    try:
        pairs = zip(source_frames, edited_frames, strict=True)
        for i, (src, edt) in enumerate(pairs):
            _check_pair(i, src, edt)
            if size is None:
                size, dtype = src.shape[:2], src.dtype
            elif src.shape[:2] != size:
                raise UserError(
                    f"frame {i} is {src.shape[1]}x{src.shape[0]}, frame 0 was {size[1]}x{size[0]}; "
                    "a clip must keep one frame size"
                )
            n = i + 1
            h, w = size
            t0 = time.perf_counter()
            s8, e8 = metrics.to_uint8(src), metrics.to_uint8(edt)
            if masks is not None:
                occluders.append(_occluder(i, next(masks, None), s8, e8))
                timing["naturalness"] += time.perf_counter() - t0
                t0 = time.perf_counter()
            box = lm68.detect_face(s8)
            t1 = time.perf_counter()
            timing["detect"] += t1 - t0
            if box is None:
                no_face.append(i)
                for series in (src_lm, edt_lm, steady_src, steady_edt):
                    series.append(np.full((68, 2), np.nan))
                lip_flow.step(None, None, None)
                pose_src.append(None)
                pose_edt.append(None)
                drift.append(None)
                refit_drift.append(None)
                teeth.append(None)
                prev = (src, edt)
                if progress is not None:
                    progress(n)
                continue

            ls, le = lm68.landmarks68(s8, box), lm68.landmarks68(e8, box)
            src_lm.append(ls)
            edt_lm.append(le)
            steady_src.append(lm68.steady_landmarks68(s8, box))
            steady_edt.append(lm68.steady_landmarks68(e8, box))
            # Pose of the edited frame: the source's rigid points carried by the edit's motion
            # (see .motion); the dlib refit of the edited frame is kept as a second reading. The lips are
            # carried by the same flow: where the edit's own lip points start (jitter_flow).
            carried = ls.copy()
            moved = metrics.POSE_POINTS + metrics.LIP_POINTS
            carried[moved] = carried_points(s8, e8, box, ls[moved])
            lip_flow.step(cv2.cvtColor(s8, cv2.COLOR_RGB2GRAY), cv2.cvtColor(e8, cv2.COLOR_RGB2GRAY),
                          ls[metrics.LIP_POINTS], carried[metrics.LIP_POINTS])
            rs, re_ = metrics.head_rotation(ls, h, w), metrics.head_rotation(carried, h, w)
            pose_src.append(metrics.euler_deg(rs))
            pose_edt.append(metrics.euler_deg(re_))
            drift.append(metrics.rotation_angle_deg(rs, re_))
            refit_drift.append(metrics.rotation_angle_deg(rs, metrics.head_rotation(le, h, w)))
            t2 = time.perf_counter()
            timing["landmarks_pose"] += t2 - t1
            teeth.append(rigidity.teeth_residual(s8, e8, box, ls, le))
            timing["naturalness"] += time.perf_counter() - t2
            t2 = time.perf_counter()

            ltrb = (box.left, box.top, box.right, box.bottom)
            for frame8, crops in ((s8, src_crops), (e8, edt_crops)):
                crop = face_crop(frame8, ltrb)
                interpolation = cv2.INTER_AREA if crop.shape[0] > INPUT_SIZE else cv2.INTER_LINEAR
                crops.append(cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation))
            crop_frames.append(i)
            t3 = time.perf_counter()
            timing["classify"] += t3 - t2

            if i % identity_stride == 0:
                identity[i] = float(np.linalg.norm(lm68.embedding(s8, box) - lm68.embedding(e8, box)))
            t4 = time.perf_counter()
            timing["identity"] += t4 - t3

            rows, cols = box.pixel_slices(src.shape)
            scale = metrics.eight_bit_scale(src.dtype)
            if prev is not None:
                change = metrics.temporal_change(prev[0][rows, cols, :3], prev[1][rows, cols, :3],
                                                 src[rows, cols, :3], edt[rows, cols, :3])
                flicker_sums += np.array(change) * scale
                flicker_pairs += 1
            orows, ocols = box.scaled(OUTSIDE_DILATION).pixel_slices(src.shape)
            count, biggest = metrics.outside_difference(src[..., :3], edt[..., :3],
                                                        metrics.outside_mask(h, w, orows, ocols))
            outside_pixels += count
            outside_frames += count > 0
            outside_max = max(outside_max, biggest)
            prev = (src, edt)
            timing["pixels"] += time.perf_counter() - t4
            if progress is not None:
                progress(n)
    except ValueError as exc:
        if "zip()" in str(exc):
            raise UserError(f"the source and edited clips differ in length ({exc}); "
                            "evaluate an edit against the frames it was made from") from exc
        raise

    if n == 0:
        raise UserError("no frames arrived: the source and edited clips are empty")

    # Emotion, classified in batches.
    t5 = time.perf_counter()
    probs_src, probs_edt = _classify_all(src_crops), _classify_all(edt_crops)
    timing["classify"] += time.perf_counter() - t5
    has_face = len(crop_frames) > 0
    mean_src = probs_src.mean(axis=0) if has_face else np.full(len(EMOTION_LABELS), np.nan)
    mean_edt = probs_edt.mean(axis=0) if has_face else np.full(len(EMOTION_LABELS), np.nan)
    if target is not None:
        plotted = target
    else:  # the class the edit moved most
        plotted = EMOTION_LABELS[int(np.nanargmax(np.abs(mean_edt - mean_src)))] if has_face else "neutral"
    k = EMOTION_LABELS.index(plotted)
    per_src: list[float | None] = [None] * n
    per_edt: list[float | None] = [None] * n
    for row, i in enumerate(crop_frames):
        per_src[i], per_edt[i] = float(probs_src[row, k]), float(probs_edt[row, k])

    # Lip sync.
    ls_all, le_all = np.array(src_lm).reshape(n, 68, 2), np.array(edt_lm).reshape(n, 68, 2)
    iod = metrics.interocular_distance(ls_all)
    ap_src = metrics.inner_lip_aperture(ls_all, iod)
    ap_edt = metrics.inner_lip_aperture(le_all, iod)
    r, why = metrics.pearson(ap_src, ap_edt)
    # The rest of speech in the mouth: the corners going down with each opening, the lips spreading and rounding.
    corners_r, corners_why = metrics.pearson(metrics.corner_height(ls_all, iod), metrics.corner_height(le_all, iod))
    width_r, width_why = metrics.pearson(metrics.mouth_width(ls_all, iod), metrics.mouth_width(le_all, iod))
    mlmd = metrics.mouth_landmark_distance(ls_all, le_all, iod)
    valid = np.isfinite(ap_src) & np.isfinite(ap_edt)
    valid_shapes = np.all(np.isfinite(ls_all), axis=(1, 2)) & np.all(np.isfinite(le_all), axis=(1, 2))

    # Head pose.
    drift_arr = np.array([math.nan if d is None else d for d in drift])
    refit_arr = np.array([math.nan if d is None else d for d in refit_drift])
    axes = np.array([[math.nan] * 3 if p is None else p for p in pose_src]).reshape(n, 3)
    axes_e = np.array([[math.nan] * 3 if p is None else p for p in pose_edt]).reshape(n, 3)
    axis_drift = np.abs(axes_e - axes)

    ident = np.array(list(identity.values()))
    flick = flicker_sums / flicker_pairs if flicker_pairs else np.full(3, np.nan)
    faces = n - len(no_face)

    def nanstat(fn: Callable[[np.ndarray], float], x: np.ndarray) -> float | None:
        x = x[np.isfinite(x)]
        return fn(x) if x.size else None

    def ratio(a: float, b: float) -> float | None:
        return a / b if math.isfinite(a) and math.isfinite(b) and b > 0 else None

    return {
        "frames": n,
        "frames_with_face": faces,
        "frames_without_face": no_face,
        "image_size": [int(size[1]), int(size[0])] if size else None,
        "dtype": str(dtype),
        "target": target,
        "emotion": {
            "labels": list(EMOTION_LABELS),
            "source_mean": {lab: _r(p) for lab, p in zip(EMOTION_LABELS, mean_src, strict=True)},
            "edited_mean": {lab: _r(p) for lab, p in zip(EMOTION_LABELS, mean_edt, strict=True)},
            "target_delta": _r(mean_edt[k] - mean_src[k]) if target is not None else None,
            "per_frame_class": plotted,
            "source_per_frame": _series(per_src),
            "edited_per_frame": _series(per_edt),
        },
        "jitter": _jitter(ls_all, le_all, iod, "dlib's 68 points"),
        "jitter_steady": _jitter(np.array(steady_src).reshape(n, 68, 2), np.array(steady_edt).reshape(n, 68, 2), iod,
                                 "dlib's 68 points averaged over 6 sub-pixel shifts of each frame "
                                 "(landmarks68.steady_landmarks68): its own noise far lower, so the ratio says more "
                                 "about the edit"),
        "jitter_flow": _jitter_rows(*(rows / iod[1:-1, None] for rows in lip_flow.second_differences()),
                                    "the source's dlib lip points (48-67) of each frame and where the edit put them, "
                                    "followed one frame back and one forward by optical flow in each clip "
                                    "(motion.FlowSteps): no detector in the reading"),
        "lip_sync": {
            "aperture_correlation": _r(r),
            "aperture_correlation_note": why,
            "aperture_mean_abs_diff": _r(nanstat(np.mean, np.abs(ap_edt - ap_src)[valid])),
            "mlmd": _r(nanstat(np.mean, mlmd)),
            "mlmd_max": _r(nanstat(np.max, mlmd)),
            "corner_height_correlation": _r(corners_r),
            "corner_height_correlation_note": corners_why or "the lip corners' height below the nose's base, source "
                                                            "against edit: how much of speech's motion of the "
                                                            "corners an edit keeps (a held smile moves their level "
                                                            "and, as in real smiling speech, holds them against "
                                                            "part of each syllable's drop)",
            "mouth_width_correlation": _r(width_r),
            "mouth_width_correlation_note": width_why,
            "units": "inter-ocular distance of the source",
            "source_aperture": _series(list(ap_src)),
            "edited_aperture": _series(list(ap_edt)),
        },
        "identity": {
            "stride": identity_stride,
            "frames_measured": len(identity),
            "mean_distance": _r(ident.mean()) if ident.size else None,
            "max_distance": _r(ident.max()) if ident.size else None,
            "note": "dlib 128-d embeddings, Euclidean; same person < 0.6, unchanged < ~0.1",
            "per_frame": {str(i): _r(d) for i, d in identity.items()},
        },
        "head_pose": {
            "max_drift_deg": _r(nanstat(np.max, drift_arr), 3),
            "mean_drift_deg": _r(nanstat(np.mean, drift_arr), 3),
            "max_axis_drift_deg": {name: _r(nanstat(np.max, axis_drift[:, j]), 3)
                                   for j, name in enumerate(("yaw", "pitch", "roll"))},
            "note": "drift = angle of the rotation between source and edited head pose (solvePnP on 11 "
                    "rigid nose and eye points; the edited pose from the source's points carried by the "
                    "optical flow from source to edited, so only pixels the edit really moved count)",
            "refit_mean_drift_deg": _r(nanstat(np.mean, refit_arr), 3),
            "refit_max_drift_deg": _r(nanstat(np.max, refit_arr), 3),
            "refit_note": "the same pose from dlib's 68 points refitted on the edited frame: its shape model "
                          "moves the nose and eye points with the mouth, so it reads expression as pose",
            "source_yaw_pitch_roll_deg": [None if p is None else [_r(a, 2) for a in p] for p in pose_src],
            "drift_deg": _series(list(drift_arr), 3),
        },
        "flicker": {
            "residual_change": _r(flick[0]),
            "source_change": _r(flick[1]),
            "edited_change": _r(flick[2]),
            "residual_to_source_ratio": _r(ratio(flick[0], flick[1])),
            "edited_to_source_ratio": _r(ratio(flick[2], flick[1])),
            "pairs": flicker_pairs,
            "units": "8-bit levels, mean absolute over the face box",
        },
        "outside_face": {
            "pixels": outside_pixels,
            "frames_with_differences": outside_frames,
            "max_abs_diff": _r(outside_max, 6),
            "max_abs_diff_8bit": _r(outside_max * metrics.eight_bit_scale(dtype or np.uint8), 4),
            "region": f"outside the source face box grown {int(round((OUTSIDE_DILATION - 1) * 100))} %",
        },
        **_naturalness(ls_all[valid_shapes], le_all[valid_shapes], reference, teeth, occluders, masks is not None),
        "ms_per_frame": {name: _r(1000 * t / n, 2) for name, t in timing.items()},
    }


def _occluder(i: int, mask: np.ndarray | None, source: np.ndarray, edited: np.ndarray) -> tuple[float, float] | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != source.shape[:2]:
        raise UserError(f"the occluder mask of frame {i} is {mask.shape[1::-1]} pixels, the frame "
                        f"{source.shape[1::-1]}; give a mask plate of the source's size")
    return rigidity.occluder_motion(source, edited, mask.astype(bool))


def _naturalness(source: np.ndarray, edited: np.ndarray, reference: tuple[np.ndarray, ...] | None,
                 teeth: list[float | None], occluders: list[tuple[float, float] | None],
                 with_masks: bool) -> dict[str, Any]:
    """The ``anatomy``, ``teeth``, ``agreement`` and ``occluders`` blocks (those the inputs allow).

    ``source``, ``edited``: ``(N, 68, 2)`` dlib shapes of the frames with a face; ``reference``:
    the actor's (neutral, expression) shapes or None, optionally with a third member, the rows' labels
    (:func:`.agreement.compare`'s ``groups``); ``teeth``, ``occluders``: per frame.
    """
    out: dict[str, Any] = {}
    neutral, expression, *grouped = reference if reference is not None else (None, None)
    if source.shape[0]:
        try:
            out["anatomy"] = agreement.anatomy(source, edited, neutral, expression)
            if reference is not None:
                out["agreement"] = agreement.compare(neutral, expression, source, edited,
                                                     groups=grouped[0] if grouped else None)
        except ValueError as exc:
            raise UserError(f"cannot compare the edit with the actor's real expression: {exc}; "
                            "choose reference frames where his face is visible") from exc
    measured = np.array([t for t in teeth if t is not None], np.float64)
    out["teeth"] = {
        "frames_measured": int(measured.size),
        "rms_residual_mean": _r(measured.mean(), 5) if measured.size else None,
        "rms_residual_max": _r(measured.max(), 5) if measured.size else None,
        "rms_residual_p95": _r(np.percentile(measured, 95), 5) if measured.size else None,
        "units": "IOD of the source",
        "note": f"open-mouth frames (inner-lip aperture >= {rigidity.OPEN_MOUTH_APERTURE} IOD): RMS of the flow "
                "inside the eroded inner-lip polygons of the source and of the edit (the interior shown in both) that "
                "one similarity cannot explain; rigid ~0.001, bent ~0.01+",
        "per_frame": _series(teeth, 5),
    }
    if with_masks:
        read = [o for o in occluders if o is not None]
        flow = np.array([o[0] for o in read], np.float64)
        share = np.array([o[1] for o in read], np.float64)
        out["occluders"] = {
            "frames_measured": len(read),
            "mean_flow_px": _r(flow.mean()) if read else None,
            "max_flow_px": _r(flow.max()) if read else None,
            "changed_share_mean": _r(share.mean()) if read else None,
            "changed_share_max": _r(share.max()) if read else None,
            "note": f"over the occluder mask: mean flow magnitude source->edited (pixels), share of pixels "
                    f"changed by more than {rigidity.CHANGE_LEVEL:g}/255; an untouched occluder reads 0",
            "mean_flow_per_frame": _series([None if o is None else o[0] for o in occluders]),
        }
    return out


def _jitter(source: np.ndarray, edited: np.ndarray, iod: np.ndarray, points: str) -> dict[str, Any]:
    """:func:`_jitter_rows` of the second differences of (T, N, 2) points through each clip."""
    if len(source) < 3:
        return {"note": "fewer than 3 consecutive frames with a face"}
    rows = metrics.second_differences(source, iod), metrics.second_differences(edited, iod)
    out = _jitter_rows(*rows, points)
    if source.shape[1] == 68 and "ratio" in out:
        # Where the shake is: a detector reads its outline off the face's edge against the background, and
        # its noise there is its own.
        out["by_region"] = {name: {"source_p95": _r(src, 5), "edited_p95": _r(edt, 5),
                                   "ratio": _r(edt / src) if src > 0 else None}
                            for name, (src, edt) in metrics.jitter_by_region(*rows, DLIB_REGIONS).items()}
    return out


def _jitter_rows(source: np.ndarray, edited: np.ndarray, points: str) -> dict[str, Any]:
    """p95 of the points' second temporal difference ((F, N) rows in IOD, NaN where not read), source and
    edited, and their ratio (<= 1.1: no jitter added). The reading's own per-frame noise is in both, so only the
    ratio means anything. points: what they are (recorded as ``landmarks``)."""
    src, edt = metrics.finite_values(source), metrics.finite_values(edited)
    if src.size == 0 or edt.size == 0:
        return {"note": "fewer than 3 consecutive frames with a face"}
    p_src, p_edt = float(np.percentile(src, 95)), float(np.percentile(edt, 95))
    interval = metrics.jitter_rows_interval(source, edited)
    return {"source_p95": _r(p_src, 5), "edited_p95": _r(p_edt, 5),
            "ratio": _r(p_edt / p_src) if p_src > 0 else None,
            "ratio_90pct": None if interval is None else [_r(v) for v in interval],
            "ratio_90pct_note": "paired moving-block bootstrap over frames (blocks of 8): how far the ratio of this "
                                "one clip can be trusted (landmarks move with single-code changes)",
            "units": "IOD per frame^2 (|L(t+1) - 2L(t) + L(t-1)|)", "landmarks": points}


def evaluate_sweep(
    results: Sequence[tuple[float, dict[str, Any]]], target: str, plot_path: Path
) -> dict[str, Any]:
    """Summarise edits of one clip at several intensities and plot the target's probability.

    ``results``: (intensity, :func:`evaluate_pair` result) pairs, any order. Returns the
    intensities (ascending), the mean and std over frames of the edited target probability
    at each, the source's level, the Spearman rank correlation of mean probability against
    intensity, and whether the mean rises at every step. Writes a PNG to ``plot_path``.
    """
    _check_target(target)
    if len(results) < 2:
        raise UserError(f"a sweep needs at least 2 intensities, got {len(results)}")
    k = EMOTION_LABELS.index(target)
    rows = sorted(results, key=lambda item: item[0])
    intensities, means, stds, sources = [], [], [], []
    for intensity, result in rows:
        emotion = result["emotion"]
        mean = emotion["edited_mean"][EMOTION_LABELS[k]]
        per_frame = emotion["edited_per_frame"] if emotion.get("per_frame_class") == target else []
        values = np.array([v for v in per_frame if v is not None], np.float64)
        intensities.append(float(intensity))
        means.append(math.nan if mean is None else float(mean))
        stds.append(float(values.std()) if values.size else math.nan)
        source = emotion["source_mean"][EMOTION_LABELS[k]]
        sources.append(math.nan if source is None else float(source))
    rho, why = metrics.spearman(np.array(intensities), np.array(means))
    steps = np.diff(np.array(means))
    source_level = float(np.nanmean(sources)) if np.any(np.isfinite(sources)) else math.nan

    _plot_sweep(intensities, means, stds, source_level, target, rho, plot_path)
    return {
        "target": target,
        "intensities": intensities,
        "target_mean": _series(means),
        "target_std": _series(stds),
        "source_mean": _r(source_level),
        "spearman": _r(rho),
        "spearman_note": why,
        "monotonic": bool(steps.size and np.all(steps > 0)),
        "plot": str(plot_path),
    }


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_sweep(x: list[float], mean: list[float], std: list[float], source: float, target: str,
                rho: float | None, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    m, s = np.array(mean), np.nan_to_num(np.array(std))
    ax.fill_between(x, m - s, m + s, alpha=0.25, color="C0", label="± std over frames")
    ax.plot(x, m, "o-", color="C0", label=f"edited: mean P({target})")
    if math.isfinite(source):
        ax.axhline(source, color="0.3", linestyle="--", label=f"source: {source:.2f}")
    ax.set_xlabel("intensity")
    ax.set_ylabel(f"P({target}) (FER2013 classifier)")
    ax.set_ylim(0, 1)
    rho_text = "n/a" if rho is None else f"{rho:.2f}"
    ax.set_title(f"{target} against intensity (Spearman {rho_text})")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _compact_json(obj: Any, indent: int = 0) -> str:
    """JSON with nested objects indented and lists of numbers kept on one line."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(str(key))}: {_compact_json(v, indent + 1)}" for key, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list | tuple) and any(isinstance(v, dict) for v in obj):
        return "[\n" + ",\n".join(inner + _compact_json(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


def write_report(result: dict[str, Any], json_path: Path, plot_path: Path | None = None) -> None:
    """Write an :func:`evaluate_pair` result as JSON and, if ``plot_path``, a PNG of the
    per-frame class probability and lip aperture, source against edited, over frames."""
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(_compact_json(result) + "\n")
    if plot_path is None:
        return
    plt = _pyplot()
    emotion, lips = result["emotion"], result["lip_sync"]
    frames = np.arange(result["frames"])

    def arr(values: list[float | None]) -> np.ndarray:
        return np.array([math.nan if v is None else v for v in values], np.float64)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), dpi=110, sharex=True)
    label = emotion["per_frame_class"]
    top.plot(frames, arr(emotion["source_per_frame"]), color="0.45", lw=1, label="source")
    top.plot(frames, arr(emotion["edited_per_frame"]), color="C3", lw=1.2, label="edited")
    top.set_ylim(0, 1)
    top.set_ylabel(f"P({label})")
    delta = emotion["edited_mean"][label], emotion["source_mean"][label]
    top.set_title(f"{label}: mean {delta[1]} (source) -> {delta[0]} (edited)")
    top.legend(loc="upper right", fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(frames, arr(lips["source_aperture"]), color="0.45", lw=1, label="source")
    bottom.plot(frames, arr(lips["edited_aperture"]), color="C0", lw=1.2, label="edited")
    bottom.set_ylabel("inner-lip aperture (IOD)")
    bottom.set_xlabel("frame")
    bottom.set_title(f"lip sync: correlation {lips['aperture_correlation']}, "
                     f"mean |diff| {lips['aperture_mean_abs_diff']}, M-LMD {lips['mlmd']}")
    bottom.legend(loc="upper right", fontsize=8)
    bottom.grid(alpha=0.3)
    for axis in (top, bottom):
        for i in result["frames_without_face"]:
            axis.axvspan(i - 0.5, i + 0.5, color="0.9", lw=0)
    fig.tight_layout()
    Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(plot_path)
    plt.close(fig)
