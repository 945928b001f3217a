"""Pure measures over arrays: lip sync, head pose, temporal stability, untouched pixels, ranks.

Landmark arrays use dlib's 68-point iBUG indexing (see :mod:`.landmarks68`), shape
``(..., 68, 2)`` float64 pixel coordinates (x right, y down). Distances are normalised by
the inter-ocular distance (IOD): the distance between the two eye centres, each the mean
of its six eye points (36-41 and 42-47), so they do not depend on resolution or framing.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

RIGHT_EYE = slice(36, 42)  # the subject's right eye: image left
LEFT_EYE = slice(42, 48)
MOUTH = slice(48, 68)  # 20 points: outer lips 48-59, inner lips 60-67
INNER_UPPER_LIP = [61, 62, 63]
INNER_LOWER_LIP = [65, 66, 67]

# A generic head in millimetres, built from average adult anthropometry (Farkas,
# "Anthropometry of the Head and Face", 1994: inner canthi ~32 mm apart, outer canthi
# ~90 mm, nose width ~34 mm, nasion to subnasale ~50 mm; the nose tip stands ~20 mm in
# front of the subnasale and ~35-45 mm in front of the eye corners). Axes follow the
# camera of cv2.solvePnP for a frontal face: x to the image right, y down, z away from
# the camera; origin at the nose tip. Only points an expression edit should not move are
# used (nose and eye corners): mouth corners, brows and jaw move with the edit and with
# speech, and would turn expression into apparent pose. Accuracy of the absolute angles is
# a few degrees; drift (edited against source, same model) cancels most of the model error.
POSE_MODEL_POINTS: dict[int, tuple[float, float, float]] = {
    27: (0.0, -48.0, 22.0),  # nasion (top of the nose bridge)
    28: (0.0, -36.0, 16.0),  # nose bridge
    29: (0.0, -24.0, 10.0),  # nose bridge
    30: (0.0, 0.0, 0.0),  # pronasale (nose tip)
    31: (-16.0, 8.0, 24.0),  # right alare (nostril wing, image left)
    33: (0.0, 10.0, 18.0),  # subnasale
    35: (16.0, 8.0, 24.0),  # left alare
    36: (-45.0, -34.0, 44.0),  # right exocanthion (outer eye corner, image left)
    39: (-16.0, -34.0, 34.0),  # right endocanthion (inner eye corner)
    42: (16.0, -34.0, 34.0),  # left endocanthion
    45: (45.0, -34.0, 44.0),  # left exocanthion
}
# Their indices, in the order of the model points.
POSE_POINTS = list(POSE_MODEL_POINTS)
# The lips (outer 48-59, inner 60-67), iBUG indexing.
LIP_POINTS = list(range(48, 68))


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the subject's right (image-left) and left eye: each ``(..., 2)`` pixels."""
    return landmarks[..., RIGHT_EYE, :].mean(axis=-2), landmarks[..., LEFT_EYE, :].mean(axis=-2)


def interocular_distance(landmarks: np.ndarray) -> np.ndarray:
    """Distance between the eye centres, ``(...)`` pixels, from ``(..., 68, 2)`` landmarks."""
    right, left = eye_centres(landmarks)
    return np.linalg.norm(left - right, axis=-1)


def inner_lip_aperture(landmarks: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """Mouth opening: distance from the mean of inner upper-lip points (61, 62, 63) to the
    mean of inner lower-lip points (65, 66, 67), over ``iod``.

    ``landmarks``: ``(N, 68, 2)``; ``iod``: ``(N,)`` pixels. Returns ``(N,)`` in IOD units
    (about 0 closed, 0.3-0.6 for a wide "aa").
    """
    upper = landmarks[..., INNER_UPPER_LIP, :].mean(axis=-2)
    lower = landmarks[..., INNER_LOWER_LIP, :].mean(axis=-2)
    return np.linalg.norm(lower - upper, axis=-1) / iod


def corner_height(landmarks: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """How far the lip corners (48, 54) lie below the nose's base (33) along the image's vertical, over ``iod``:
    ``(N,)`` from ``(N, 68, 2)``. Speech moves it (the corners go down as the jaw opens), and so do smiles."""
    return (landmarks[..., [48, 54], 1].mean(axis=-1) - landmarks[..., 33, 1]) / iod


def mouth_width(landmarks: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """Outer lip corner to corner (48-54) over ``iod``, ``(N,)``: the spreading and rounding of speech."""
    return np.linalg.norm(landmarks[..., 54, :] - landmarks[..., 48, :], axis=-1) / iod


def mouth_landmark_distance(source: np.ndarray, edited: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """M-LMD per frame: mean distance of the 20 mouth points (48-67) after removing each
    mouth's own mean position (so a mouth moved bodily does not count, a reshaped one does).

    ``source``, ``edited``: ``(N, 68, 2)``; ``iod``: ``(N,)`` pixels (the source's).
    Returns ``(N,)`` in IOD units.
    """
    s = source[..., MOUTH, :] - source[..., MOUTH, :].mean(axis=-2, keepdims=True)
    e = edited[..., MOUTH, :] - edited[..., MOUTH, :].mean(axis=-2, keepdims=True)
    return np.linalg.norm(e - s, axis=-1).mean(axis=-1) / iod


def pearson(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """Pearson correlation of two ``(N,)`` series, NaN-safe.

    Returns ``(r, None)``, or ``(None, reason)`` when it is undefined: fewer than 3 finite
    pairs, or a series that does not vary (a constant has no correlation with anything).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3:
        return None, f"needs at least 3 frames with a face, got {a.size}"
    da, db = a - a.mean(), b - b.mean()
    sa, sb = math.sqrt(float(da @ da)), math.sqrt(float(db @ db))
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()), 1e-12)
    if sa <= 1e-9 * scale * math.sqrt(a.size):
        return None, "the source series is constant, so a correlation is undefined"
    if sb <= 1e-9 * scale * math.sqrt(b.size):
        return None, "the edited series is constant, so a correlation is undefined"
    return float(np.clip((da @ db) / (sa * sb), -1.0, 1.0)), None


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..N with ties given their average rank."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size, np.float64)
    ranks[order] = np.arange(1, x.size + 1, dtype=np.float64)
    for value in np.unique(x):
        tied = x == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """Spearman rank correlation of two ``(N,)`` series (Pearson on average ranks)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    return pearson(_ranks(a[keep]), _ranks(b[keep]))


def camera_matrix(height: int, width: int) -> np.ndarray:
    """A pinhole camera for an unknown lens: focal length = the longer side (about 53 deg
    across it), principal point at the image centre. ``(3, 3)`` float64."""
    f = float(max(height, width))
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def head_rotation(landmarks: np.ndarray, height: int, width: int) -> np.ndarray:
    """Head rotation (object to camera) from 68 landmarks, by solvePnP on
    :data:`POSE_MODEL_POINTS`. ``landmarks``: ``(68, 2)`` pixels. Returns ``(3, 3)`` float64."""
    object_points = np.array([POSE_MODEL_POINTS[i] for i in POSE_POINTS], np.float64)
    image_points = np.ascontiguousarray(landmarks[POSE_POINTS], np.float64)
    camera = camera_matrix(height, width)
    if not np.all(np.isfinite(image_points)):
        return np.full((3, 3), np.nan)
    # EPnP for a start, then Levenberg-Marquardt refinement of the reprojection error.
    ok, rvec, tvec = cv2.solvePnP(object_points, image_points, camera, None, flags=cv2.SOLVEPNP_EPNP)
    if ok:
        ok, rvec, tvec = cv2.solvePnP(object_points, image_points, camera, None, rvec=rvec, tvec=tvec,
                                      useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return np.full((3, 3), np.nan)
    return cv2.Rodrigues(rvec)[0]


def euler_deg(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a head rotation from :func:`head_rotation`.

    ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)`` about OpenCV's camera axes (x right, y down,
    z forward): yaw turns about the vertical, pitch about the horizontal, roll in the image
    plane; all 0 for a face looking straight into the camera.
    """
    if not np.all(np.isfinite(rotation)):
        return (math.nan, math.nan, math.nan)
    r = rotation
    yaw = math.degrees(math.asin(float(np.clip(-r[2, 0], -1.0, 1.0))))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return (yaw, pitch, roll)


def rotation_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees of the rotation taking ``a`` to ``b`` (both ``(3, 3)``): one number
    for pose drift that does not depend on an Euler convention."""
    cos = (np.trace(a.T @ b) - 1.0) / 2.0
    return math.degrees(math.acos(float(np.clip(cos, -1.0, 1.0))))


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """An HxWx3 uint8 RGB copy of an HxWx3/4 frame for the models.

    uint8 passes through, uint16 is divided by 257, float16/float32/float64 (scene-linear-ish,
    [0, 1] nominal) is clipped to [0, 1] and scaled by 255, all rounded. Alpha is ignored.
    """
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 or HxWx4 RGB frame, got shape {frame.shape}")
    rgb = frame[..., :3]
    if rgb.dtype == np.uint8:
        return np.ascontiguousarray(rgb)
    if rgb.dtype == np.uint16:
        return ((rgb.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if rgb.dtype.kind == "f":
        x = rgb.astype(np.float32)  # a copy: the in-place steps below never touch the caller's frame
        np.nan_to_num(x, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
        np.clip(x, 0.0, 1.0, out=x)
        x *= 255.0
        x += 0.5
        return x.astype(np.uint8)
    raise ValueError(f"expected uint8, uint16 or float frames, got dtype {rgb.dtype}")


def eight_bit_scale(dtype: np.dtype) -> float:
    """Factor that turns a difference in ``dtype`` units into 8-bit units."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 1.0
    if dtype == np.uint16:
        return 255.0 / 65535.0
    return 255.0


def temporal_change(
    source_prev: np.ndarray, edited_prev: np.ndarray, source: np.ndarray, edited: np.ndarray
) -> tuple[float, float, float]:
    """Frame-to-frame change inside one region, in the arrays' units (mean absolute value).

    All four are crops of the same region, same shape, any numeric dtype. Returns
    ``(residual, source_change, edited_change)``: mean |(e_t - s_t) - (e_t-1 - s_t-1)|
    (how much the edit itself flickers; 0 for a static or no edit), mean |s_t - s_t-1|
    (the footage's own motion, for scale) and mean |e_t - e_t-1|.
    """
    s0, e0 = source_prev.astype(np.float32), edited_prev.astype(np.float32)
    s1, e1 = source.astype(np.float32), edited.astype(np.float32)
    residual = float(np.abs((e1 - s1) - (e0 - s0)).mean())
    return residual, float(np.abs(s1 - s0).mean()), float(np.abs(e1 - e0).mean())


def outside_mask(height: int, width: int, rows: slice, cols: slice) -> np.ndarray:
    """``(H, W)`` bool, True outside the rectangle given by ``rows``/``cols``."""
    mask = np.ones((height, width), bool)
    mask[rows, cols] = False
    return mask


def outside_difference(source: np.ndarray, edited: np.ndarray, mask: np.ndarray) -> tuple[int, float]:
    """Pixels where ``source`` and ``edited`` differ (any channel, bit for bit) within ``mask``.

    ``source``, ``edited``: HxWxC, same dtype; ``mask``: ``(H, W)`` bool. Returns
    ``(count, max_abs_diff)`` with the difference in the frames' own units (0 when none).
    """
    if source.dtype.kind == "f" and source.dtype == edited.dtype:
        # Compare the bits (also fast for float16, which numpy compares in software).
        bits = np.dtype(f"u{source.dtype.itemsize}")
        differ = np.any(source.view(bits) != edited.view(bits), axis=-1) & mask
    else:
        differ = np.any(source != edited, axis=-1) & mask
    count = int(differ.sum())
    if count == 0:
        return 0, 0.0
    diff = np.abs(source[differ].astype(np.float64) - edited[differ].astype(np.float64))
    return count, float(np.nan_to_num(diff, nan=np.inf).max())


def jitter_ratio_interval(source: np.ndarray, edited: np.ndarray, iod: np.ndarray, block: int = 8,
                          draws: int = 2000, seed: int = 0) -> tuple[float, float] | None:
    """A 90 % interval for the ratio of the edited clip's landmark jitter to the source's (p95 of
    :func:`landmark_jitter` each): :func:`jitter_rows_interval` of the clips' :func:`second_differences`.
    source, edited: (T, 68, 2) dlib points; iod: (T,)."""
    if len(source) < 3:
        return None
    return jitter_rows_interval(second_differences(source, iod), second_differences(edited, iod), block, draws, seed)


def jitter_rows_interval(source: np.ndarray, edited: np.ndarray, block: int = 8, draws: int = 2000,
                         seed: int = 0) -> tuple[float, float] | None:
    """A 90 % interval for the ratio of the p95s of two clips' second differences, by a paired moving-block
    bootstrap over frames: blocks of ``block`` consecutive rows (neighbouring ones share frames) drawn with
    replacement, the same for both clips. source, edited: (F, N) magnitudes, one row per frame, NaN where not
    read (the same entries in both); a row is used where both clips read at least one point, and its NaNs are
    left out of the percentiles. None when fewer than two blocks of rows are usable.
    Landmark readings move with single-code changes of a small face, so the ratio of one clip varies by several
    hundredths; the interval says how far it can be trusted."""
    usable = np.any(np.isfinite(source), axis=1) & np.any(np.isfinite(edited), axis=1)
    src, edt = source[usable], edited[usable]
    count = len(src)
    if count < 2 * block:
        return None
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, count - block + 1, size=(draws, -(-count // block)))
    rows = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(draws, -1)[:, :count]
    p_src = np.nanpercentile(src[rows].reshape(draws, -1), 95, axis=1)
    p_edt = np.nanpercentile(edt[rows].reshape(draws, -1), 95, axis=1)
    ratios = p_edt[p_src > 0] / p_src[p_src > 0]
    if ratios.size == 0:
        return None
    low, high = np.percentile(ratios, [5, 95])
    return float(low), float(high)


def landmark_jitter(shapes: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """Second temporal difference of each landmark, in IOD: how much the points shake frame to frame.

    shapes: (T, 68, 2) frame pixels (NaN rows where no face); iod: (T,) inter-ocular distances.
    Returns the magnitudes |L(t+1) - 2 L(t) + L(t-1)| / IOD(t) over every landmark of every frame whose
    neighbours both have a face, flattened (empty when fewer than 3 consecutive frames have one).
    Smooth motion (speech, a head turn) has a small second difference; jitter has a large one.
    """
    if len(shapes) < 3:
        return np.zeros(0)
    return finite_values(second_differences(shapes, iod))


def finite_values(magnitudes: np.ndarray) -> np.ndarray:
    """The finite values of ``magnitudes`` (NaN where not read), flattened."""
    return magnitudes[np.isfinite(magnitudes)]


def second_differences(shapes: np.ndarray, iod: np.ndarray) -> np.ndarray:
    """|L(t+1) - 2 L(t) + L(t-1)| / IOD(t) of (T, N, 2) points, (T - 2, N); NaN where a frame has no face."""
    return np.linalg.norm(shapes[2:] - 2.0 * shapes[1:-1] + shapes[:-2], axis=2) / iod[1:-1, None]


def jitter_by_region(source: np.ndarray, edited: np.ndarray,
                     regions: dict[str, list[int]]) -> dict[str, tuple[float, float]]:
    """p95 of the second differences ((F, N) rows, :func:`second_differences`) of each region's points (columns),
    source and edited; regions whose points were never read are left out."""
    out = {}
    for name, columns in regions.items():
        src, edt = finite_values(source[:, columns]), finite_values(edited[:, columns])
        if src.size and edt.size:
            out[name] = (float(np.percentile(src, 95)), float(np.percentile(edt, 95)))
    return out
