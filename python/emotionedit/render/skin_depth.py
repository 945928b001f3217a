"""How deep the skin detail may shade a shot: its plate's fine shading against the maps' own plates'.

The skin detail maps (:mod:`emotionedit.render.detail`) are real creases as the development footage shows them:
the smile's on franck's plate, sharp for its size and lit from one side. A webcam's plate (a flat light, soft focus,
compression) shows a real crease shallower: the webcam actor's own real smiles crease his cheeks 0.051-0.059 (rms
log ratio, the cheeks, slow shading of 0.2 IOD taken out) where franck's map put 0.086-0.102 on his edits, and
blind viewers called those edits "waxy, smoothed" (look test round 40: cap13 25 made happy 3.17 of 5 with the
deeper map, 3.83 with the shallower one; round 41: 2.83, called edited by 12 of 12). Round 42 (the webcam
actor's four sources at full depth against this depth): naturalness 3.29 -> 3.62, called edited 16 -> 10 of 24,
but happy named 18 -> 7 of 24 (docs/results.md).

A crease is a shading, and how much shading a plate shows at the creases' scale depends on the light (a
flat frontal light shows a fold shallower than a light from the side), on the lens and the compression (a soft
plate blurs it) and on the skin's own relief. So a shot's analysis records how much shading its plate shows where
each map's creases are (:func:`fine_shading`: the rms of the log luminance between :data:`BAND` IOD, weighted by
the map's depth, in a texture of fixed texels per IOD so that the face's size in pixels does not count; the
median over frames spread through the shot, the half nearest rest), the maps record the same of the plates they
were measured on, and a shot that shows less takes the map at the ratio of the two (:func:`depth_scale`). Never
deeper than measured, and never below :data:`MIN_DEPTH` of it. On franck's frame, halving the shading's contrast
(in log) halves the figure, a 2-pixel blur takes a fifth off, and doubling the face's pixels changes it by 1 %.
The webcam actor's plates read 0.69-0.79 of franck's on the cheeks.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..fit import topology as topo
from .detail import LUMINANCE, TEXELS_PER_IOD, TextureLayout, texture_to_plate
from .field import Region
from .matte import polygon_mask

# What the detail maps leave to the warp: lips, eyes and brows (grown by these IOD), and the face's rim
# (the outline scaled by DETAIL_FACE_SCALE about its centre).
DETAIL_MASK_GROWTH = {"lips": 0.04, "eyes": 0.07, "brows": 0.05}
DETAIL_FACE_SCALE = 0.9
# The band of the creases (IOD): a difference of Gaussians of these sigmas. A smile's folds and a forehead's
# lines are 0.03-0.1 IOD across; finer is grain and pores, coarser is the face's relief and the room's light.
BAND = (0.02, 0.08)
# The least share of a map's creases that must lie on the image for a frame to be measured.
MIN_ON_IMAGE = 0.5
# No map is taken shallower than this share of its measured depth, however soft the plate.
MIN_DEPTH = 0.4
# Frames spread through a shot that its fine shading is measured on, and the most rows they are kept at while
# the shot is tracked (a 4K plate's face keeps more than the maps' 48 texels per IOD at 1080 rows).
SAMPLES = 12
SAMPLE_MAX_HEIGHT = 1080

# sRGB-encoded 8-bit values to linear light (float32 arithmetic, as the calibration always took them).
_STEPS = np.arange(256, dtype=np.float32) / np.float32(255.0)
_LINEAR = np.where(_STEPS <= 0.04045, _STEPS / 12.92, ((_STEPS + 0.055) / 1.055) ** 2.4).astype(np.float32)


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """sRGB-encoded uint8 values to linear light, float32 of the same shape."""
    return np.take(_LINEAR, image)


def texture_polygon(layout: TextureLayout, vertices, hull: bool, grow: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """(height, width) float32 of the texture: 1 inside the polygon of ``vertices`` (their convex hull with
    ``hull``), scaled by ``scale`` about their mean and grown by ``grow`` IOD."""
    width, height = layout.size
    points = layout.vertices[list(vertices)]
    points = points.mean(axis=0) + scale * (points - points.mean(axis=0))
    if hull:
        points = cv2.convexHull(points.astype(np.float32))[:, 0]
    mask = polygon_mask(points, Region(0, 0, width, height))
    if grow > 0:
        size = int(2 * round(grow * TEXELS_PER_IOD) + 1)
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask


def skin_mask(layout: TextureLayout) -> tuple[np.ndarray, np.ndarray]:
    """Where the detail maps may shade, (height, width) float32 in [0, 1], feathered; and the face (the rim
    inside the outline) that slow shading is estimated over."""
    face = texture_polygon(layout, topo.FACE_OVAL, hull=False, scale=DETAIL_FACE_SCALE)
    grow = DETAIL_MASK_GROWTH
    lips = texture_polygon(layout, topo.LIPS_UPPER + topo.LIPS_LOWER, hull=True, grow=grow["lips"])
    eyes = np.maximum(
        texture_polygon(layout, topo.RIGHT_UPPER_LID + topo.RIGHT_LOWER_LID + (33, 133), hull=True, grow=grow["eyes"]),
        texture_polygon(layout, topo.LEFT_UPPER_LID + topo.LEFT_LOWER_LID + (263, 362), hull=True, grow=grow["eyes"]))
    brows = np.maximum(texture_polygon(layout, topo.RIGHT_BROW, hull=True, grow=grow["brows"]),
                       texture_polygon(layout, topo.LEFT_BROW, hull=True, grow=grow["brows"]))
    keep = face * (1.0 - lips) * (1.0 - eyes) * (1.0 - brows)
    return cv2.GaussianBlur(keep, (0, 0), 0.03 * TEXELS_PER_IOD), face


def face_texture(image: np.ndarray, points: np.ndarray, layout: TextureLayout) -> tuple[np.ndarray, np.ndarray] | None:
    """A frame's face pulled into the texture: its log luminance (height, width) float32 at ``TEXELS_PER_IOD``
    texels per IOD (so what is measured on it does not depend on the face's size in pixels), and (height, width)
    bool, the texels that lie on the image. None when the face is not on the image.

    image: (H, W, 3) uint8 sRGB-encoded (the plate's tracking view, :func:`~emotionedit.engine.to_tracking_rgb`);
    points: (478, >=2) the face's landmarks in its pixels.
    """
    points = np.asarray(points, np.float64)[:, :2]
    iod = float(topo.interocular(points[None])[0])
    if not np.isfinite(iod) or iod <= 1.0:
        return None
    oval = points[list(topo.FACE_OVAL)]
    margin = 0.3 * iod
    x0, y0 = np.floor(oval.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(oval.max(axis=0) + margin).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, image.shape[1]), min(y1, image.shape[0])
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    crop = srgb_to_linear(image[y0:y1, x0:x1, :3])
    local = points - (x0, y0)
    scale = TEXELS_PER_IOD / iod
    if scale < 1.0:  # brought down to the texture's size with an area filter: sampled point by point, pores alias
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        local = (local + 0.5) * (size[0] / (x1 - x0), size[1] / (y1 - y0)) - 0.5
    luminance = np.ascontiguousarray(crop @ LUMINANCE)
    map_x, map_y = texture_to_plate(local, layout)
    texture = cv2.remap(np.log(luminance + 2e-3), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (map_x >= 0) & (map_x <= crop.shape[1] - 1) & (map_y >= 0) & (map_y <= crop.shape[0] - 1)
    return texture, inside


def band_rms(texture: np.ndarray, inside: np.ndarray, weight: np.ndarray) -> float | None:
    """The rms of a face texture's log luminance in the creases' band (:data:`BAND`), weighted by ``weight``
    ((height, width), >= 0) where the texture lies on the image (``inside``); None when less than
    ``MIN_ON_IMAGE`` of the weight does (a face half off the plate)."""
    total = float(weight.sum())
    weight = np.where(inside, weight, 0.0).astype(np.float32)
    if not total > 0.0 or float(weight.sum()) < MIN_ON_IMAGE * total:
        return None
    fine, coarse = (cv2.GaussianBlur(texture, (0, 0), sigma * TEXELS_PER_IOD) for sigma in BAND)
    band = fine - coarse
    return float(np.sqrt((weight * band * band).sum() / weight.sum()))


def crease_weights(maps: dict[str, np.ndarray], layout: TextureLayout) -> dict[str, np.ndarray]:
    """Where each map's creases are and how deep: its |log ratio| on the skin (:func:`skin_mask`). A plate's fine
    shading for a map is measured there (the cheeks' for the smile, the forehead's for raised brows)."""
    keep, _ = skin_mask(layout)
    return {name: (np.abs(values) * keep).astype(np.float32) for name, values in maps.items()}


def fine_shading(image: np.ndarray, points: np.ndarray, layout: TextureLayout,
                 weights: dict[str, np.ndarray]) -> dict[str, float]:
    """How much fine shading a frame shows where each map's creases are (:func:`crease_weights`): the rms of its
    log luminance in the creases' band there (:func:`face_texture`, :func:`band_rms`). Maps it gives no figure
    for (too little of that skin on the image) are left out."""
    pulled = face_texture(image, points, layout)
    if pulled is None:
        return {}
    found = {name: band_rms(*pulled, weight) for name, weight in weights.items()}
    return {name: value for name, value in found.items() if value is not None}


def sample_frames(count: int, samples: int = SAMPLES) -> set[int]:
    """The positions, among ``count`` frames, that a shot's fine shading is measured on: ``samples`` spread
    evenly (all of them in a shorter shot)."""
    if count <= 0:
        return set()
    return {int(i) for i in np.linspace(0, count - 1, min(samples, count)).round()}


def shot_fine_shading(frames: list[dict[str, float]], expression: list[float]) -> dict[str, float]:
    """A shot's fine shading per map from its frames' (:func:`fine_shading`): the median over the half of them
    nearest rest, the smallest ``expression`` (one figure per frame: how far its face is from rest). A smile's
    own creases are what the smile's figure reads: on franck's talking frames 0.09, on his laughs 0.14."""
    names = sorted({name for found in frames for name in found})
    out = {}
    for name in names:
        measured = sorted((e, found[name]) for found, e in zip(frames, expression, strict=True) if name in found)
        calm = [value for _, value in measured[: max(1, (len(measured) + 1) // 2)]]
        out[name] = round(float(np.median(calm)), 5)
    return out


def depth_scale(shot: float | None, reference: float | None) -> float:
    """The share of a map's depth a shot takes: its plate's fine shading ``shot`` over that of the plates the map
    was measured on, ``reference``, within [MIN_DEPTH, 1]; 1 when either is unknown (analyses and maps made
    before plates were measured)."""
    if shot is None or reference is None or not reference > 0.0 or not np.isfinite(shot):
        return 1.0
    return float(np.clip(shot / reference, MIN_DEPTH, 1.0))
