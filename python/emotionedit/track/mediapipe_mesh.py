"""The default tracker: mediapipe 0.10.21's face mesh (478 points with refined lips and eyes).

It runs in video mode (landmarks are tracked from the previous frame and the
detector re-runs when tracking confidence drops), on frames scaled to at most
``max_track_height`` rows.
"""

from __future__ import annotations

import importlib
import os
import sys

import cv2
import numpy as np

from ..errors import UserError

# mediapipe logs through absl/glog on import and on first use; keep the terminal for our own messages.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def mediapipe_solution(name: str):
    """Import one of mediapipe 0.10.21's legacy solutions (``face_mesh``, ``hands``), with a clear error."""
    try:
        module = importlib.import_module(f"mediapipe.python.solutions.{name}")
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UserError(
            "mediapipe 0.10.21 is not installed; run the set-up (make setup) "
            "or `pip install --no-deps mediapipe==0.10.21`"
        ) from exc
    _forget_import_stack()
    return module


def _forget_import_stack() -> None:
    """Let go of the stack mediapipe keeps from its first import.

    mediapipe 0.10.21 imports its audio tasks, which keep the error of their optional ``sounddevice``
    import (``audio_record.sd_error``) and, in its traceback, every frame that was on the stack when
    mediapipe was first imported: the caller's (``analyze``'s, the command's), with all their locals for
    as long as the process lives, a whole shot's analysis among them. The error keeps its message.
    """
    record = sys.modules.get("mediapipe.tasks.python.audio.core.audio_record")
    error = getattr(record, "sd_error", None)
    if isinstance(error, BaseException):
        error.__traceback__ = None


class MediaPipeFaceMesh:
    """mediapipe face mesh behind the :class:`~emotionedit.track.base.Tracker` interface."""

    name = "mediapipe-face-mesh-0.10.21"

    def __init__(self, max_faces: int = 4, max_track_height: int = 720, static: bool = False):
        self._module = mediapipe_solution("face_mesh")
        self._max_faces = max_faces
        self._static = static
        self._max_height = max_track_height
        self._mesh = None

    def _open(self):
        return self._module.FaceMesh(
            static_image_mode=self._static,
            max_num_faces=self._max_faces,
            refine_landmarks=True,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )

    def reset(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
        self._mesh = self._open()

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"detect expects (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
        if self._mesh is None:
            self.reset()
        height, width = rgb.shape[:2]
        scale = min(1.0, self._max_height / height)
        small = rgb if scale == 1.0 else cv2.resize(
            rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
        result = self._mesh.process(np.ascontiguousarray(small))
        faces = []
        for face in result.multi_face_landmarks or []:
            points = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)
            # Normalised coordinates -> plate pixels; mediapipe's z has the scale of x.
            points[:, 0] *= width
            points[:, 1] *= height
            points[:, 2] *= width
            faces.append(points)
        return faces
