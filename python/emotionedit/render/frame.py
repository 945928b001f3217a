"""One frame through stage 4: field, matte, mouth interior and pixels, or the check outputs."""

from __future__ import annotations

import enum

import cv2
import numpy as np

from .field import backward_map, warp_region
from .matte import face_matte, mouth_interior
from .pixels import warp_into


class Output(enum.IntEnum):
    """What a render writes (append-only: stored in host projects and farm jobs)."""

    EDITED = 0
    MATTE = 1
    LANDMARKS = 2

    @classmethod
    def parse(cls, text: str) -> Output:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown output {text!r}; choose edited, matte or landmarks") from None


def _full_value(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 1.0


def render_into(dst: np.ndarray, src: np.ndarray, source: np.ndarray | None, target: np.ndarray | None,
                output: Output = Output.EDITED) -> int:
    """Render one frame into ``dst`` (same shape and dtype as ``src``, (H, W, C)).

    source, target: (478, 2) plate pixels of the tracked face and where it should go, or
    None for a frame that passes through (no face, or nothing to edit).
    EDITED copies ``src`` and warps the face; MATTE writes the face matte into every
    channel; LANDMARKS draws the tracked points (green) and their edited positions (red).
    Returns the number of face pixels left unedited because of NaN/inf in the plate.
    """
    height, width = src.shape[:2]
    if output == Output.MATTE:
        dst[...] = 0
        if source is not None:
            region = warp_region(source, width, height)
            if not region.empty:
                matte = face_matte(source, region) * _full_value(dst.dtype)
                dst[region.y0 : region.y1, region.x0 : region.x1] = matte[..., None].astype(dst.dtype)
        return 0
    if dst is not src:
        dst[...] = src
    if source is None or target is None:
        return 0
    if output == Output.LANDMARKS:
        _draw_points(dst, source, target)
        return 0
    if np.array_equal(source, target):
        return 0
    region = warp_region(source, width, height)
    if region.empty:
        return 0
    map_x, map_y = backward_map(source, target, region)
    teeth = mouth_interior(source, target, region)
    if teeth is not None:
        mouth, tx, ty = teeth
        map_x += mouth * (tx - map_x)
        map_y += mouth * (ty - map_y)
    matte = face_matte(source, region)
    return warp_into(dst, dst, map_x, map_y, matte, region)


def _draw_points(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> None:
    full = _full_value(image.dtype)
    channels = image.shape[2]
    green = (0.0, full, 0.0, full)[:channels]
    red = (full, 0.0, 0.0, full)[:channels]
    radius = max(1, int(round(image.shape[0] / 540)))
    canvas = np.ascontiguousarray(image) if image.dtype != np.float16 else image.astype(np.float32)
    for points, colour in ((source, green), (target, red)):
        for x, y in points[:, :2]:
            cv2.circle(canvas, (int(round(x)), int(round(y))), radius, colour, -1, lineType=cv2.LINE_AA)
    if canvas is not image:
        image[...] = canvas
