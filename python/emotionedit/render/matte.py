"""Stage 4b: where pixels may change (the feathered face matte) and the mouth's interior.

The matte is 1 over the face, falls off smoothly past the face outline and is
exactly 0 beyond ``MATTE_SCALE`` times the outline: pixels there are never touched.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..fit import topology as topo
from .field import MATTE_SCALE, Region, face_oval

# The matte is solid inside this scale of the face outline and feathers out to MATTE_SCALE.
SOLID_SCALE = 1.08
_AA = 4  # sub-pixel bits for anti-aliased polygon filling


def _fill(polygon: np.ndarray, region: Region, antialias: bool = True) -> np.ndarray:
    mask = np.zeros((region.height, region.width), dtype=np.uint8)
    pts = np.round((polygon - [region.x0, region.y0]) * (1 << _AA)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA if antialias else cv2.LINE_8, shift=_AA)
    return mask.astype(np.float32) / 255.0


def face_matte(points: np.ndarray, region: Region) -> np.ndarray:
    """Feathered face matte over ``region`` for (478, 2) plate points, (h, w) float32 in [0, 1]."""
    iod = float(topo.interocular(points[None])[0])
    # The feather is ~8 px wide at 64 px per IOD: blur there and upsample, so a 4K face costs
    # what a 1080p one does (the hard outer cut-off is drawn at full resolution).
    factor = min(1.0, 64.0 / iod)
    small = Region(0, 0, max(2, round(region.width * factor)), max(2, round(region.height * factor)))
    local = (points[:, :2] - [region.x0, region.y0]) * [small.width / region.width, small.height / region.height]
    solid = _fill(face_oval(local, SOLID_SCALE), small)
    soft = np.maximum(cv2.GaussianBlur(solid, (0, 0), max(1.0, 0.12 * 64.0 * min(1.0, iod / 64.0))), solid)
    if factor < 1.0:
        soft = cv2.resize(soft, (region.width, region.height), interpolation=cv2.INTER_LINEAR)
    outer = _fill(face_oval(points, MATTE_SCALE), region, antialias=False)
    matte = soft * outer
    # Hard zero outside the outer outline, so untouched pixels are decided exactly.
    matte[matte < 1.0 / 1024] = 0.0
    return matte


# Lips closer than this (pixels) show no teeth: the mouth's interior is then left to the smooth
# field, or the sliver between the lips would be sampled from the unmoved source (a double edge).
OPEN_MOUTH_PX = (2.0, 5.0)
# Feather of the mouth-interior mask (IOD): about 1 px on a 360p face, 4 px at 4K.
MOUTH_FEATHER_IOD = 0.015


def _inner_lip_polygon(points: np.ndarray) -> np.ndarray:
    ring = list(topo.LIPS_INNER_UPPER) + list(topo.LIPS_INNER_LOWER[-2:0:-1])
    return points[ring, :2]


def mouth_interior(source: np.ndarray, target: np.ndarray, region: Region
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the edited frame shows rigid teeth, and the teeth's backward map.

    Returns (weight (h, w) float32 in [0, 1], map_x, map_y from :func:`teeth_map`), or None
    for a closed mouth.

    Inside the edited inner lips, weighted by how far the source's lips are apart (0 for a
    closed mouth), and only where the teeth map samples the source's own mouth opening:
    where an edit moves a lip corner, the teeth map would otherwise copy the unmoved lip
    into the opening (a stepped, doubled lip line), so the smooth field takes over there.
    """
    aperture = float(np.linalg.norm(source[14, :2] - source[13, :2]))
    low, high = OPEN_MOUTH_PX
    openness = float(np.clip((aperture - low) / (high - low), 0.0, 1.0))
    if openness == 0.0:
        return None
    sigma = max(0.5, MOUTH_FEATHER_IOD * float(topo.interocular(source[None])[0]))
    edited_opening = cv2.GaussianBlur(_fill(_inner_lip_polygon(target), region), (0, 0), sigma)
    source_opening = cv2.GaussianBlur(_fill(_inner_lip_polygon(source), region), (0, 0), sigma)
    tx, ty = teeth_map(source, target, region)
    sampled = cv2.remap(source_opening, tx - region.x0, ty - region.y0, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return edited_opening * sampled * openness, tx, ty


def teeth_map(source: np.ndarray, target: np.ndarray, region: Region) -> tuple[np.ndarray, np.ndarray]:
    """Backward map inside the mouth: upper teeth stay with the skull, lower teeth move with the jaw.

    Teeth are rigid, so they must not bend with the lips: the interior is sampled with
    the upper teeth's displacement (none: the head's pose is not edited) at the top of
    the opening, blending to the chin's displacement at the bottom.
    Returns map_x, map_y (h, w) float32 absolute source coordinates.
    """
    jaw = source[topo.CHIN, :2] - target[topo.CHIN, :2]  # backward displacement of the jaw
    top = target[list(topo.LIPS_INNER_UPPER), :2]
    bottom = target[list(topo.LIPS_INNER_LOWER), :2]
    xs = np.arange(region.x0, region.x1, dtype=np.float32)
    ys = np.arange(region.y0, region.y1, dtype=np.float32)
    order = np.argsort(top[:, 0])
    y_top = np.interp(xs, top[order, 0], top[order, 1])
    order = np.argsort(bottom[:, 0])
    y_bottom = np.interp(xs, bottom[order, 0], bottom[order, 1])
    span = np.maximum(y_bottom - y_top, 1.0)
    t = np.clip((ys[:, None] - y_top[None, :]) / span[None, :], 0.0, 1.0)
    lower = (t * t * (3 - 2 * t)).astype(np.float32)
    return xs[None, :] + lower * jaw[0], ys[:, None] + lower * jaw[1]
