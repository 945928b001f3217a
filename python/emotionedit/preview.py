"""Pictures a person looks at: before/after contact sheets and side-by-side movies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .engine import to_tracking_rgb


def display_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB for viewing any plate (float plates are taken as scene-linear)."""
    return to_tracking_rgb(image)


def _label(tile: np.ndarray, text: str, height: int = 22) -> np.ndarray:
    band = np.full((height, tile.shape[1], 3), 24, np.uint8)
    scale = band.shape[0] / 36
    cv2.putText(band, text, (6, int(band.shape[0] * 0.78)), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1,
                cv2.LINE_AA)
    return np.concatenate([band, tile], axis=0)


def _face_box(points: np.ndarray | None, width: int, height: int) -> tuple[int, int, int, int]:
    if points is None:
        return 0, 0, width, height
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo).max() * 0.65
    x0, y0 = int(max(0, centre[0] - half)), int(max(0, centre[1] - half))
    return x0, y0, int(min(width, centre[0] + half)), int(min(height, centre[1] + half))


def contact_sheet(
    before: Sequence[np.ndarray],
    after: Sequence[np.ndarray],
    labels: Sequence[str],
    faces: Sequence[np.ndarray | None],
    title: str,
    tile_height: int = 300,
) -> np.ndarray:
    """A sheet with one column per sampled frame: source and edited face close-ups, then a difference row.

    before, after: (H, W, C) plates; faces: (478, 2) landmarks or None per column (for the crop).
    Returns (h, w, 3) uint8 RGB.
    """
    columns = []
    for src, dst, label, face in zip(before, after, labels, faces, strict=True):
        height, width = src.shape[:2]
        x0, y0, x1, y1 = _face_box(face, width, height)
        a = display_rgb(src)[y0:y1, x0:x1]
        b = display_rgb(dst)[y0:y1, x0:x1]
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
        diff = cv2.applyColorMap(np.clip(diff * 4, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
        size = (int(round(tile_height * a.shape[1] / a.shape[0])), tile_height)
        tiles = [
            _label(cv2.resize(t, size, interpolation=cv2.INTER_AREA), f"{label} {name}")
            for t, name in ((a, "source"), (b, "edited"), (diff, "|diff| x4"))
        ]
        columns.append(np.concatenate(tiles, axis=0))
    sheet = np.concatenate([np.pad(c, ((0, 0), (2, 2), (0, 0))) for c in columns], axis=1)
    return _label(sheet, title, height=34)


def write_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"the PNG encoder (OpenCV) failed to write {path.name}")
