"""Stage 4b''': the upper teeth, from the frame of the shot that shows them best.

A smile lifts the upper lip off the upper teeth. On a talking face whose upper lip hides them, the pocket this opens
shows what the frame never filmed, and the interior layer (:mod:`.mouth`) can only shade it: a dark band under the
lifted lip, which blind viewers read as "a black hole with no teeth" or as a neutral face (cap12 415 made happy, named
happy 8 times of 24 and neutral 9 in look tests 46 and 47). The upper teeth are rigid with the skull, so the shot's
frame that shows most of them (a laugh, a smile, an open vowel) shows them where they always are.

The analysis keeps that frame's upper teeth: a crop of its mouth at the plate's resolution, in the plate's own values,
and where in it the teeth show (:class:`UpperTeeth`, found by :class:`TeethFinder` while the shot is tracked). The
render maps the crop onto the edited frame with the skull's motion between the two frames (:func:`skull_affine`, from
the fitted head poses) and lays it inside the edited opening above the source's upper lip, where this frame's teeth
were hidden (:func:`teeth_overlay`); everywhere else the interior stays this frame's own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from ..fit import topology as topo
from .detail import kernel_gain
from .field import Region, padded_bounds
from .mouth import inner_lip_polygon, lip_opening
from .overlay import Overlay
from .skin_depth import srgb_to_linear

# A pixel is tooth where its display luminance is this many times the upper lip's (the red just above the opening).
TOOTH_OVER_LIP = 1.12
# How far down the opening (a share of its height) the upper teeth are looked for: below, the lower teeth.
UPPER_SHARE = 0.6
# How far under the upper inner lip (IOD) its shadow and soft edge may keep the teeth dark: a pixel on a 46 px face,
# seven on a 4K one.
LIP_SHADOW_IOD = 0.025
# Where the lip's red is read, above the upper inner lip (IOD).
LIP_READ_IOD = 0.03
# The middle share of the opening's width whose teeth say how much a frame shows (the sides lie in the corridor).
MIDDLE_SHARE = 0.6
# The least the kept frame must show (IOD of teeth below its upper lip): at 1 px on a 46 px face the band is noise.
MIN_EXPOSURE_IOD = 0.04
# The teeth band's ends are smoothed over this width (IOD): a single column's reading is a pixel's noise.
TIP_SMOOTHING_IOD = 0.06
# Over how much of the mouth's width (IOD) the teeth band fades out at each end (into the dark past the teeth the
# band was read on, as side teeth recede into the corridor), and how soft its tips are (IOD).
BAND_END_IOD = 0.1
TIP_SOFTNESS_IOD = 0.012
# Around the teeth the crop keeps this many pixels, for the resampling's footprint.
CROP_MARGIN_PX = 2
# Head turns between the two frames up to the first angle (degrees) map the teeth fully; at the second, not at all:
# one frame's teeth seen from another side are the wrong teeth.
POSE_REACH_DEGREES = (12.0, 20.0)
# The canonical face's points that lie on or over the upper teeth, which carry them with the skull between frames.
SKULL_POINTS = (0, 37, 267, 13, 82, 312, 61, 291, 78, 308, 2, 164, 98, 327, 94, 1, 4)
# The largest |value| of a kept crop's pixels (a half float's largest; integer plates' are shares of their code).
MAX_TEETH_VALUE = 65504.0
# The largest side (pixels) of a kept mouth's crop: a mouth 1.2 IOD wide on a face 1500 pixels between the eyes.
MAX_CROP_SIDE = 2048
# Where the light on the face is read each frame (cheeks below the eyes, the forehead's middle): skin that a smile or
# a vowel shades little, a patch LIGHT_PATCH_IOD across around each.
LIGHT_POINTS = (50, 280, 151)
LIGHT_PATCH_IOD = 0.06
# Frames over which the light reading is smoothed (a running median): one frame's reading is a few pixels' noise.
LIGHT_SMOOTHING_FRAMES = 5
# The most the teeth's light is changed (either way): past it the reading is not the shot's light but a hand or a
# shadow across the probes.
MAX_LIGHT_GAIN = 2.0
# How much of the retrieved teeth a render lays in (1: all; 0: the interior layer's own shading, as before).
TEETH_OPACITY = 1.0


@dataclass(frozen=True)
class UpperTeeth:
    """One frame's upper teeth: ``pixels`` (h, w, C) float32, the plate's own values of the crop whose top-left pixel
    is plate pixel (x0, y0) of frame ``frame``, integer plates' as a share of their largest code (a host may hand the
    render an 8-bit movie's frames as floats from 0 to 1; :func:`teeth_overlay` gives them the rendered plate's
    scale); ``alpha`` (h, w) float32 in [0, 1], where the crop shows upper teeth; ``exposure``: how far the teeth
    reach below that frame's upper lip (IOD, the middle of the mouth)."""

    frame: int
    x0: int
    y0: int
    pixels: np.ndarray
    alpha: np.ndarray
    exposure: float
    #: (T, 3) float32: each analysed frame's light on the face (linear RGB of the cheeks and forehead, smoothed over a
    #: few frames; NaN where no face), which the teeth take to the frame they are laid into (:func:`light_gain`);
    #: None: not measured, the donor's light as it was.
    light: np.ndarray | None = None
    #: Whether ``pixels`` are scene-linear (analysed from a float plate) or display-encoded shares (an integer plate,
    #: a movie): the light's gain is applied through the encoding the values have, whatever plate they are laid into.
    linear: bool = False


def display_luma(pixels: np.ndarray) -> np.ndarray:
    """(h, w) float32 luminance on the display's 0-255 scale of plate pixels of any sample type (float: scene-linear,
    encoded with the sRGB curve), the scale a tracker's view has."""
    rgb = np.asarray(pixels)[..., :3].astype(np.float32)
    if pixels.dtype == np.uint16:
        rgb /= 257.0
    elif pixels.dtype.kind == "f":
        x = np.clip(np.nan_to_num(rgb, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        rgb = 255.0 * np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    if rgb.shape[2] < 3:
        return rgb[..., 0]
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def teeth_band(luma: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where an open mouth shows its upper teeth, per pixel column: (xs, top, tip), the columns' x, the upper inner
    lip's y there and the y the teeth reach down to (top where none show). luma: (H, W) display luminance
    (:func:`display_luma`); points: (478, >=2) the face's points in its pixels. None for a closed mouth or one
    outside the picture."""
    columns, top, bottom = lip_opening(points)
    iod = float(topo.interocular(points[None, :, :2])[0])
    xs = np.arange(int(np.ceil(columns[0])), int(np.floor(columns[-1])) + 1)
    if xs.size < 3 or not np.isfinite(iod) or iod <= 0.0:
        return None
    top_x, bottom_x = np.interp(xs, columns, top), np.interp(xs, columns, bottom)
    read = np.round(top_x - LIP_READ_IOD * iod).astype(int)
    last = np.floor(top_x + UPPER_SHARE * (bottom_x - top_x)).astype(int)
    first = np.ceil(top_x).astype(int)
    height, width = luma.shape
    if xs[0] < 0 or xs[-1] >= width or read.min() < 0 or last.max() >= height:
        return None
    lip = float(np.median(luma[read, xs]))
    tip = top_x.copy()
    shadow = max(1, int(round(LIP_SHADOW_IOD * iod)))
    for k, x in enumerate(xs):
        # Down from the lip: bright rows are teeth; the first dark row past the lip's shadow ends them.
        for y in range(first[k], last[k] + 1):
            if luma[y, x] > TOOTH_OVER_LIP * lip:
                tip[k] = y + 1.0
            elif y - first[k] > shadow:
                break
    return xs, top_x, np.maximum(tip, top_x)


def exposure(luma: np.ndarray, points: np.ndarray) -> float:
    """How far the upper teeth reach below the upper lip in the middle of the mouth (IOD; 0 for none or a closed
    mouth)."""
    band = teeth_band(luma, points)
    if band is None:
        return 0.0
    xs, top, tip = band
    middle = np.abs(xs - 0.5 * (xs[0] + xs[-1])) <= 0.5 * MIDDLE_SHARE * (xs[-1] - xs[0])
    return float(np.median((tip - top)[middle])) / float(topo.interocular(points[None, :, :2])[0])


def teeth_alpha(luma: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """(H, W) float32 in [0, 1]: where the picture shows the upper teeth (the band of :func:`teeth_band`, its tip
    smoothed along the mouth, a half-pixel soft edge); None where it shows none."""
    band = teeth_band(luma, points)
    if band is None:
        return None
    xs, top, tip = band
    iod = float(topo.interocular(points[None, :, :2])[0])
    depth = tip - top
    width = max(3, int(round(TIP_SMOOTHING_IOD * iod)) | 1)
    padded = np.pad(depth, width // 2, mode="edge")
    depth = np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)
    if depth.max() < 1.0:
        return None
    # The band's ends fade out along the mouth, its tips over a soft edge, each a share of the face's size: held to a
    # pixel, a 4K face's teeth were a block with square ends pasted under the lip. Its top stays at the lip, which
    # covers it.
    shown = depth >= 1.0
    band = np.flatnonzero(shown)
    ends = np.clip(np.minimum(xs - xs[band[0]], xs[band[-1]] - xs) / max(1.0, BAND_END_IOD * iod), 0.0, 1.0)
    soft = max(1.0, TIP_SOFTNESS_IOD * iod)
    alpha = np.zeros(luma.shape, np.float32)
    ys = np.arange(luma.shape[0], dtype=np.float64)[:, None]
    below_lip = np.clip(ys - top[None, :] + 0.5, 0.0, 1.0)
    above_tip = np.clip((top + depth)[None, :] - ys, -0.5 * soft, 0.5 * soft) / soft + 0.5
    alpha[:, xs] = below_lip * above_tip * (shown * ends * ends * (3.0 - 2.0 * ends))[None, :]
    return alpha


def mouth_crop(points: np.ndarray, width: int, height: int, margin_iod: float = 0.1) -> Region:
    """The plate pixels around an open mouth's lips, ``margin_iod`` beyond them (and the resampling's footprint)."""
    iod = float(topo.interocular(points[None, :, :2])[0])
    return padded_bounds(inner_lip_polygon(points), margin_iod * iod + CROP_MARGIN_PX, Region(0, 0, width, height))


class TeethFinder:
    """Finds, while a shot is tracked, the frames that show the most upper teeth, and keeps their mouths.

    Each plate frame is cut around where the mouth was last seen (:meth:`around_mouth`, ``LOOKAHEAD_MARGIN_IOD``
    beyond the lips: the frame's own points come only once the tracker has seen it), a copy of a few hundred pixels
    made as the frame is read, so no plate frame is held (nor a reader's reused buffer read late). :meth:`observe`
    takes each tracking view with the face's points (a tracker's ``observe`` hook); :meth:`wanted` says whether the
    frame just observed is among the ``CANDIDATES`` best so far, whose cut :meth:`keep` then keeps. After the fit,
    :meth:`result` measures the candidates at the plate's resolution with the steadied points and returns the best
    usable one (a laugh that the fit flags unusable gives way to the next).
    """

    CANDIDATES = 3
    LOOKAHEAD_MARGIN_IOD = 0.5
    # Candidates lie at least this many frames apart (the best of each stretch): three neighbouring frames of one
    # smile were one moment, which a fit that flags that moment takes away at once.
    CANDIDATE_SPACING = 12
    # Before any face has been seen the first frames are kept whole (the reader runs ahead of the tracker by a few
    # frames, which then have no mouth to cut around); past this many, frames before the first face are not.
    WHOLE_FRAMES = 8

    def __init__(self) -> None:
        self._count = 0
        self._read = 0  # frames cut so far (the reader's side)
        self._last: tuple[np.ndarray, int] | None = None  # the last points seen (view pixels) and the view's rows
        self._wanted: int | None = None
        self._kept: list[tuple[float, int, Region, np.ndarray]] = []  # (exposure in the view, position, region, pixels)
        self._light: list[np.ndarray] = []  # each frame's face_light

    def around_mouth(self, image: np.ndarray) -> tuple[Region, np.ndarray] | None:
        """A copy of plate ``image``'s pixels around where the mouth was last seen (the whole of one of the shot's
        first frames before a face has been seen); None past those."""
        self._read += 1
        if self._last is None:
            if self._read > self.WHOLE_FRAMES:
                return None
            return Region(0, 0, image.shape[1], image.shape[0]), np.array(image)
        points, rows = self._last
        region = mouth_crop(points * (image.shape[0] / rows), image.shape[1], image.shape[0],
                            self.LOOKAHEAD_MARGIN_IOD)
        if region.empty:
            return None
        return region, np.array(image[region.y0:region.y1, region.x0:region.x1])  # the plate's sample type

    def observe(self, view: np.ndarray, points: np.ndarray | None) -> None:
        index = self._count
        self._count += 1
        if points is None:
            self._light.append(np.full(3, np.nan, np.float32))
            return
        self._light.append(face_light(view, points))
        self._last = (np.array(points[:, :2], np.float64), view.shape[0])
        found = exposure(display_luma(view), points)
        if found <= MIN_EXPOSURE_IOD:
            return
        near = [kept[0] for kept in self._kept if abs(kept[1] - index) < self.CANDIDATE_SPACING]
        if (found > max(near)) if near else (len(self._kept) < self.CANDIDATES or found > self._kept[-1][0]):
            self._wanted = index
            self._exposure = found

    def wanted(self, index: int) -> bool:
        """Whether frame position ``index`` (just observed) is among the best so far, its mouth to be kept."""
        return self._wanted == index

    def keep(self, index: int, cut: tuple[Region, np.ndarray] | None, points: np.ndarray) -> None:
        """Keep the mouth of candidate frame ``index`` from its ``cut`` (:meth:`around_mouth`) when the mouth, at its
        own ``points`` ((478, >=2) plate pixels), lies inside it."""
        self._wanted = None
        if cut is None:
            return
        region, pixels = cut
        mouth = mouth_crop(points, 1 << 30, 1 << 30)
        if mouth.intersection(region) != mouth:  # it moved out of the cut (or off the plate) since last seen
            return
        if mouth.width > MAX_CROP_SIDE or mouth.height > MAX_CROP_SIDE:  # an analysis file holds no larger crop
            return
        self._kept = [kept for kept in self._kept if abs(kept[1] - index) >= self.CANDIDATE_SPACING]
        self._kept.append((self._exposure, index, mouth, np.ascontiguousarray(pixels[mouth.within(region)])))
        self._kept.sort(key=lambda item: -item[0])
        del self._kept[self.CANDIDATES:]

    def result(self, landmarks: np.ndarray, usable: np.ndarray, frame_numbers: list[int]) -> UpperTeeth | None:
        """The best usable candidate's upper teeth measured with its steadied points (``landmarks``: (T, 478, >=2)
        plate pixels; ``usable``: (T,) bool), or None: no frame showed enough."""
        found = [teeth for teeth in (self._measured(kept, landmarks, frame_numbers)
                                     for kept in self._kept if usable[kept[1]]) if teeth is not None]
        best = max(found, key=lambda teeth: teeth.exposure, default=None)
        if best is None or len(self._light) != len(frame_numbers):
            return best
        return dataclasses.replace(best, light=smoothed_light(np.stack(self._light)))

    @staticmethod
    def _measured(kept, landmarks: np.ndarray, frame_numbers: list[int]) -> UpperTeeth | None:
        _, index, region, pixels = kept
        local = landmarks[index, :, :2].astype(np.float64) - [region.x0, region.y0]
        if not np.isfinite(local).all():
            return None
        values = pixels.astype(np.float32) / np.float32(_largest(pixels))
        # A pixel that is not a number (a float plate's NaN or inf), or past what an analysis file holds, is never laid
        # in: no opacity, a value of 0.
        with np.errstate(invalid="ignore"):
            usable_value = np.isfinite(values) & (np.abs(values) <= MAX_TEETH_VALUE)
        bad = ~usable_value.all(axis=2) if values.ndim == 3 else ~usable_value
        luma = display_luma(pixels)
        alpha = teeth_alpha(luma, local)
        found = exposure(luma, local)
        if alpha is None or found < MIN_EXPOSURE_IOD:
            return None
        alpha[bad] = 0.0
        values = np.where(usable_value, values, np.float32(0.0))
        if values.ndim == 2:
            values = values[..., None]
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        if rows.size == 0:
            return None
        y0, y1 = max(0, rows[0] - CROP_MARGIN_PX), min(alpha.shape[0], rows[-1] + 1 + CROP_MARGIN_PX)
        x0, x1 = max(0, cols[0] - CROP_MARGIN_PX), min(alpha.shape[1], cols[-1] + 1 + CROP_MARGIN_PX)
        return UpperTeeth(frame=int(frame_numbers[index]), x0=int(region.x0 + x0), y0=int(region.y0 + y0),
                          pixels=np.ascontiguousarray(values[y0:y1, x0:x1]),
                          alpha=np.ascontiguousarray(alpha[y0:y1, x0:x1]), exposure=round(float(found), 4),
                          linear=pixels.dtype.kind == "f")


def face_light(view: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(3,) float32: the light on the face in an 8-bit sRGB ``view`` (linear RGB, the mean of a patch around each of
    :data:`LIGHT_POINTS` of the (478, >=2) ``points`` in its pixels); NaN where a patch lies off the picture."""
    iod = float(topo.interocular(points[None, :, :2])[0])
    half = max(1, int(round(0.5 * LIGHT_PATCH_IOD * iod)))
    height, width = view.shape[:2]
    patches = []
    for k in LIGHT_POINTS:
        x, y = (int(round(v)) for v in points[k, :2])
        if not (half <= x < width - half and half <= y < height - half):
            return np.full(3, np.nan, np.float32)
        patches.append(view[y - half:y + half + 1, x - half:x + half + 1, :3].reshape(-1, 3))
    return srgb_to_linear(np.concatenate(patches)).mean(axis=0, dtype=np.float64).astype(np.float32)


def smoothed_light(light: np.ndarray) -> np.ndarray:
    """(T, 3) per-frame light readings, each the median of the LIGHT_SMOOTHING_FRAMES around it (NaN ignored; NaN
    where all are)."""
    half = LIGHT_SMOOTHING_FRAMES // 2
    out = np.full(light.shape, np.nan, np.float32)
    for t in range(len(light)):
        window = light[max(0, t - half):t + half + 1]
        window = window[np.isfinite(window).all(axis=1)]
        if len(window):
            out[t] = np.median(window, axis=0)
    return out


def light_gain(light: np.ndarray | None, index: int, donor: int) -> float:
    """The linear-light gain from the donor frame's light to frame ``index``'s: the ratio of their luminances, one for
    every colour (1 where either is unknown or dark; within 1/MAX_LIGHT_GAIN..MAX_LIGHT_GAIN). Per colour, the
    probes' own colour moved with the expression (cap12's cheeks under a smile and in speech: 0.99, 0.95 and 1.03 at
    one exposure), which would have tinted the teeth; an exposure drift is what takes whole frames apart."""
    if light is None:
        return 1.0
    weights = np.array([0.2126, 0.7152, 0.0722])
    here, there = float(light[index] @ weights), float(light[donor] @ weights)
    if not (np.isfinite(here) and np.isfinite(there) and there > 1e-4):
        return 1.0
    return float(np.clip(here / there, 1.0 / MAX_LIGHT_GAIN, MAX_LIGHT_GAIN))


def skull_affine(neutral: np.ndarray, pose: tuple, donor_pose: tuple) -> np.ndarray:
    """(2, 3) affine taking a frame's plate pixels on the upper teeth to where the same teeth are in the donor frame:
    the canonical face's points over the teeth (:data:`SKULL_POINTS` of ``neutral``, (478, 3)) placed by both frames'
    head poses ((scale, (3, 3) rotation, (3,) translation) each, plate = s R X + t), fitted by least squares. How far
    the head may turn between them is :func:`pose_weight`'s to say."""
    def placed(scale, rotation, translation):
        return (scale * (neutral[list(SKULL_POINTS)] @ np.asarray(rotation).T) + translation)[:, :2]

    here, there = placed(*pose), placed(*donor_pose)
    design = np.hstack([here, np.ones((len(here), 1))])
    solution, *_ = np.linalg.lstsq(design, there, rcond=None)
    return solution.T


def pose_weight(rotation: np.ndarray, donor_rotation: np.ndarray) -> float:
    """How fully the donor's teeth are laid in, by the head's turn between the two frames (1 up to the first angle of
    :data:`POSE_REACH_DEGREES`, 0 from the second)."""
    relative = np.asarray(rotation) @ np.asarray(donor_rotation).T
    angle = float(np.degrees(np.arccos(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0))))
    low, high = POSE_REACH_DEGREES
    return float(np.clip((high - angle) / (high - low), 0.0, 1.0))


def teeth_overlay(teeth: UpperTeeth, to_donor: np.ndarray, weight: float, source: np.ndarray, target: np.ndarray,
                  region: Region, matte: np.ndarray, openness: float, largest: float = 1.0, channels: int = 3,
                  gain: float = 1.0) -> Overlay | None:
    """The donor's upper teeth laid over the edited frame where its edit uncovers them: inside the edited inner lips
    (from half a pixel in), above the source's upper inner lip (where this frame's teeth were hidden behind it), where
    the donor shows teeth. source, target: (478, 2) plate pixels; to_donor: (2, 3) :func:`skull_affine`; weight: its
    :func:`pose_weight`; matte: (region.height, region.width) the editable matte (a hand in front of the mouth keeps
    its pixels); openness: the source mouth's (:func:`.mouth.mouth_openness`); largest: the rendered plate's largest
    code (1 for floats); channels: its channels; gain: the linear-light gain from the donor's light to this frame's
    (:func:`light_gain`), applied as the shading's gains are (in the display encoding for values analysed from an
    integer plate, :attr:`UpperTeeth.linear`). None where nothing is laid in."""
    weight *= openness * TEETH_OPACITY
    if weight <= 0.0:
        return None
    box = padded_bounds(inner_lip_polygon(target), 1.0, region)
    if box.empty:
        return None
    xs = np.arange(box.x0, box.x1, dtype=np.float64)[None, :]
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None]
    columns_e, top_e, bottom_e = lip_opening(target)
    columns_s, top_s, _ = lip_opening(source)
    upper_e = np.interp(xs, columns_e, top_e, left=np.inf, right=np.inf)
    lower_e = np.interp(xs, columns_e, bottom_e, left=-np.inf, right=-np.inf)
    within = np.clip(np.minimum(ys - upper_e, lower_e - ys) + 0.5, 0.0, 1.0)
    # Above the source's upper lip; past its corners the lip is higher still (the opening ends there).
    source_top = np.interp(xs, columns_s, top_s)
    # Over a soft edge as the band's tips are (a pixel on a small face): held to a pixel, a 4K face's laid-in teeth
    # ended on a ruled line.
    soft = max(1.0, TIP_SOFTNESS_IOD * float(topo.interocular(source[None, :, :2])[0]))
    hidden = np.clip((source_top - ys + 0.5) / soft, 0.0, 1.0)
    # Only where the edit lifted the lip by more than half a pixel: an unmoved lip uncovers nothing (the two half-pixel
    # edges above would otherwise meet on it).
    hidden *= np.clip(source_top - np.minimum(upper_e, source_top) - 0.5, 0.0, 1.0)
    where = within * hidden
    if not where.any():
        return None
    map_x = (to_donor[0, 0] * xs + to_donor[0, 1] * ys + to_donor[0, 2] - teeth.x0).astype(np.float32)
    map_y = (to_donor[1, 0] * xs + to_donor[1, 1] * ys + to_donor[1, 2] - teeth.y0).astype(np.float32)
    map_x, map_y = np.broadcast_to(map_x, where.shape), np.broadcast_to(map_y, where.shape)
    donor = cv2.remap(teeth.alpha, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    alpha = (where * donor * weight * matte[box.within(region)]).astype(np.float32)
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0:
        return None
    tight = Region(box.x0 + int(cols[0]), box.y0 + int(rows[0]), box.x0 + int(cols[-1]) + 1,
                   box.y0 + int(rows[-1]) + 1)
    part = tight.within(box)
    values = cv2.remap(teeth.pixels, np.ascontiguousarray(map_x[part]), np.ascontiguousarray(map_y[part]),
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if values.ndim == 2:
        values = values[..., None]
    if gain != 1.0:
        values = _lit(values, gain, encoded=not teeth.linear)
    colours = min(3, channels)
    if values.shape[2] >= 3 and colours < 3:  # a grey plate: the colours' luminance (Rec. 709)
        values = values[..., :3] @ np.array([[0.2126], [0.7152], [0.0722]], np.float32)
    if values.shape[2] < colours:  # a grey donor on a colour plate
        values = np.repeat(values[..., :1], colours, axis=2)
    values = values[..., :colours] * np.float32(largest)
    return Overlay(rect=tight, values=np.ascontiguousarray(values, np.float32),
                   alpha=np.ascontiguousarray(alpha[part]))


def _lit(values: np.ndarray, gain: float, encoded: bool) -> np.ndarray:
    """Donor values (h, w, C) under the frame's light: their colours times the linear-light ``gain`` as the shading
    multiplies a plate (:func:`.detail.kernel_gain`: in the display encoding where the values are display-encoded,
    ``encoded``: they came from an integer plate, whatever plate they are laid into)."""
    out = values.copy()
    out[..., :3] *= kernel_gain(np.float32(gain), 1, encoded)
    return out


def _largest(pixels: np.ndarray) -> float:
    return float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind == "u" else 1.0
