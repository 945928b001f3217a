"""Stage 4b: where pixels may change, the feathered face matte.

The matte is 1 over the face, falls off smoothly past the face outline and is
exactly 0 beyond ``MATTE_SCALE`` times the outline: pixels there are never touched.
The mouth's interior, a layer of its own, is :mod:`.mouth`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..fit import topology as topo
from .field import MATTE_SCALE, Region, face_oval, reduced

# The matte is solid inside this scale of the face outline and feathers out to MATTE_SCALE.
SOLID_SCALE = 1.08
_AA = 4  # sub-pixel bits for anti-aliased polygon filling
# The matte's values below 1 / 1024 are 0: the float32 below it, for a threshold that keeps values above.
_FLOOR = float(np.nextafter(np.float32(1.0 / 1024), np.float32(0.0)))


def polygon_mask(polygon: np.ndarray, region: Region, antialias: bool = True) -> np.ndarray:
    """(h, w) float32 coverage in [0, 1] of a polygon ((N, 2) pixels of the plate, or of whatever
    ``region`` is a rectangle of) over ``region``; anti-aliased to 1/16 pixel unless told not to."""
    mask = np.zeros((region.height, region.width), dtype=np.uint8)
    pts = np.round((polygon - [region.x0, region.y0]) * (1 << _AA)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA if antialias else cv2.LINE_8, shift=_AA)
    return mask.astype(np.float32) / 255.0


def face_matte(points: np.ndarray, region: Region) -> np.ndarray:
    """Feathered face matte over ``region`` for (478, 2) plate points, (h, w) float32 in [0, 1]."""
    iod = float(topo.interocular(points[None])[0])
    # The feather is ~8 px wide at 64 px per IOD: blur there and upsample, so a 4K face costs
    # what a 1080p one does (the hard outer cut-off is drawn at full resolution).
    small, local = reduced(points, region, 64.0)
    solid = polygon_mask(face_oval(local, SOLID_SCALE), small)
    soft = np.maximum(cv2.GaussianBlur(solid, (0, 0), max(1.0, 0.12 * 64.0 * min(1.0, iod / 64.0))), solid)
    if (small.width, small.height) != (region.width, region.height):
        matte = cv2.resize(soft, (region.width, region.height), interpolation=cv2.INTER_LINEAR)
    else:
        matte = soft
    # Hard zero outside the outer outline, so untouched pixels are decided exactly: the soft matte times
    # the outline's 0/1 coverage, in place (fresh plate-sized temporaries cost more than the arithmetic).
    outer = np.zeros((region.height, region.width), dtype=np.uint8)
    pts = np.round((face_oval(points, MATTE_SCALE) - [region.x0, region.y0]) * (1 << _AA)).astype(np.int32)
    cv2.fillPoly(outer, [pts], 1, lineType=cv2.LINE_8, shift=_AA)
    np.multiply(matte, outer, out=matte)
    # matte[matte < 1 / 1024] = 0: kept where above the float32 just below 1 / 1024.
    cv2.threshold(matte, _FLOOR, 0.0, cv2.THRESH_TOZERO, dst=matte)
    return matte

