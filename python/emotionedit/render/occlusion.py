"""Stage 4b': where something in front of the face (a hand, the user's holdout) keeps the edit away.

The occlusion matte is 1 on an occluder and a small margin around it (there the plate's pixels
are kept, bit for bit) and falls smoothly to 0 beyond, so the face next to a hand still moves
without a seam. The face matte is multiplied by (1 - occlusion), and the matte blends the warp
toward identity (never a cross-fade), so the field eases to standing still at the hand.

Hands come from the analysis as landmarks (:mod:`emotionedit.track.occluders`); a hand is drawn
as its palm and five fingers of a width set by the hand's size. A hand seen a few frames earlier
or later counts too, a little less the farther it is: the matte does not flicker when the
detector misses a frame, and it rises before a hand arrives instead of popping. Computed on a
grid of at most ``GRID_PX_PER_IOD`` pixels per inter-ocular distance (IOD), so a 4K face costs
what a 720p one does; reads no pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..fit import topology as topo
from .field import Region

#: The edit is zero on an occluder and this far past its outline (IOD) ...
MARGIN_IOD = 0.05
#: ... then rises smoothly (smoothstep) to full over a fade at least this wide (IOD) ...
FADE_IOD = 0.3
#: ... widened where the edit moves the face near the occluder, so that the fade squeezes or stretches the
#: skin between them by at most this fraction (the fade scales a motion d at its slope m': m' d <= this).
MAX_SQUEEZE = 0.3
#: The fade is at most this wide (IOD).
MAX_FADE_IOD = 1.0
#: Width of a drawn finger, as a fraction of the palm's length (wrist to the middle finger's root).
FINGER_WIDTH = 0.42
#: A finger's last segment is drawn this much longer: landmark tips sit on the pad, not the nail's end.
TIP_EXTENSION = 0.5
#: How strongly a hand seen d frames away counts at this frame, d = 0, 1, 2, ...
TEMPORAL_WEIGHTS = (1.0, 1.0, 1.0, 0.8, 0.55, 0.3)
#: Resolution of the mask's grid; it is upsampled to the plate's pixels.
GRID_PX_PER_IOD = 48.0

_PALM = (0, 1, 2, 5, 9, 13, 17)
_FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
_SHIFT = 4  # sub-pixel bits for drawing


@dataclass(frozen=True)
class FrameOccluders:
    """What keeps the edit away in one frame.

    hands: (K, 21, 2) float32 plate pixels, the hands of this frame and of its neighbours (K >= 0).
    weights: (K,) float32 in (0, 1], how strongly each hand counts (1 for this frame's own).
    holdout: (H, W) float32 in [0, 1] over the whole plate (1 = keep the source's pixel), or None.
    """

    hands: np.ndarray
    weights: np.ndarray
    holdout: np.ndarray | None = None

    @property
    def empty(self) -> bool:
        return len(self.hands) == 0 and self.holdout is None


def frame_occluders(hands: np.ndarray | None, index: int, holdout: np.ndarray | None = None) -> FrameOccluders:
    """The occluders of frame ``index`` of a shot: its hands, its neighbours' hands, the holdout.

    hands: (T, M, 21, 2) float32 plate pixels per analysed frame, NaN rows for absent hands
    (:attr:`emotionedit.track.occluders.OccluderTrack.hands`), or None (none tracked).
    index: the frame's row in ``hands``. holdout: see :class:`FrameOccluders`.
    """
    found, weights = [], []
    if hands is not None:
        reach = len(TEMPORAL_WEIGHTS) - 1
        for row in range(max(0, index - reach), min(len(hands), index + reach + 1)):
            for hand in hands[row]:
                if np.isfinite(hand).all():
                    found.append(hand)
                    weights.append(TEMPORAL_WEIGHTS[abs(row - index)])
    stacked = np.array(found, dtype=np.float32).reshape(-1, 21, 2)
    return FrameOccluders(stacked, np.array(weights, dtype=np.float32), holdout)


def draw_hand(mask: np.ndarray, hand: np.ndarray) -> None:
    """Fill a hand's palm and fingers into ``mask`` ((h, w) uint8, set to 255 there, no margin).

    hand: (21, 2) mediapipe hand landmarks in the mask's pixels. Fingers are FINGER_WIDTH palm lengths
    wide and their last segment is drawn TIP_EXTENSION longer.
    """
    palm_length = float(np.linalg.norm(hand[9] - hand[0]))
    width = max(1, int(round(FINGER_WIDTH * palm_length)))
    fixed = lambda p: np.round(np.asarray(p) * (1 << _SHIFT)).astype(np.int32)  # noqa: E731
    cv2.fillConvexPoly(mask, cv2.convexHull(fixed(hand[list(_PALM)])), 255, cv2.LINE_8, _SHIFT)
    for chain in _FINGERS:
        points = hand[list(chain)]
        tip = points[-1] + TIP_EXTENSION * (points[-1] - points[-2])
        points = np.concatenate([points, tip[None]])
        # The base of each finger joins the palm's points, so the webs between fingers are covered too.
        cv2.polylines(mask, [fixed(points)], False, 255, width, cv2.LINE_8, _SHIFT)


def _reach(hand: np.ndarray, iod: float) -> float:
    """How far (pixels) past a hand's landmarks its occlusion matte can reach."""
    palm_length = float(np.linalg.norm(hand[9] - hand[0]))
    return (FINGER_WIDTH / 2 + TIP_EXTENSION) * palm_length + (MARGIN_IOD + MAX_FADE_IOD) * iod + 2.0


def _spread(core: np.ndarray, px_per_iod: float, local: np.ndarray, motion_iod: np.ndarray | None) -> np.ndarray:
    """1 on ``core`` ((h, w) uint8, nonzero = occluder) and MARGIN_IOD around it, then a smoothstep down to 0.

    local: (N, 2) the face's landmarks in the grid's pixels; motion_iod: (N,) how far the edit moves
    each (IOD), or None. The fade is FADE_IOD wide, wider where that would squeeze the moving face
    by more than MAX_SQUEEZE (:func:`_fade_width`).
    """
    distance = cv2.distanceTransform(np.where(core > 0, 0, 255).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    distance /= px_per_iod
    fade = FADE_IOD
    if motion_iod is not None:
        h, w = distance.shape
        inside = (local[:, 0] >= 0) & (local[:, 0] <= w - 1) & (local[:, 1] >= 0) & (local[:, 1] <= h - 1)
        cols = np.clip(np.round(local[:, 0]), 0, w - 1).astype(int)
        rows = np.clip(np.round(local[:, 1]), 0, h - 1).astype(int)
        fade = _fade_width(distance[rows, cols][inside], motion_iod[inside])
    t = np.clip((distance - MARGIN_IOD) / fade, 0.0, 1.0)
    return (1.0 - t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _fade_width(distance: np.ndarray, motion: np.ndarray) -> float:
    """The narrowest fade (IOD, FADE_IOD..MAX_FADE_IOD) whose slope times each landmark's motion stays
    within MAX_SQUEEZE. distance: (N,) landmarks' distances from the occluder, motion: (N,) their motion (IOD)."""
    widths = np.linspace(FADE_IOD, MAX_FADE_IOD, 15)
    t = np.clip((distance[None, :] - MARGIN_IOD) / widths[:, None], 0.0, 1.0)
    squeeze = (6.0 * t * (1.0 - t) / widths[:, None] * motion[None, :]).max(axis=1, initial=0.0)
    fits = np.nonzero(squeeze <= MAX_SQUEEZE)[0]
    return float(widths[fits[0]] if len(fits) else MAX_FADE_IOD)


def occlusion_matte(occluders: FrameOccluders | None, source: np.ndarray, region: Region,
                    target: np.ndarray | None = None) -> np.ndarray | None:
    """The occlusion matte over ``region``: (h, w) float32 in [0, 1], 1 = keep the source's pixel.

    source: (478, 2) plate pixels of the face (its IOD sets the margin and the fade); target: where
    the edit moves them (the fade widens with the motion near an occluder), or None (the narrowest
    fade). Returns None when nothing occludes the region (the face matte is then left as it is).
    Values within 1/1024 of 0 or 1 are snapped to 0 or 1, so pixels under an occluder are decided exactly.
    """
    if occluders is None or occluders.empty or region.empty:
        return None
    iod = float(topo.interocular(source[None, :, :2])[0])
    near = [(hand, float(weight)) for hand, weight in zip(occluders.hands, occluders.weights, strict=True)
            if _touches(hand, _reach(hand, iod), region)]
    holdout = None
    if occluders.holdout is not None:
        holdout = np.clip(occluders.holdout[region.y0 : region.y1, region.x0 : region.x1], 0.0, 1.0)
        holdout = holdout.astype(np.float32) if holdout.any() else None
    if not near and holdout is None:
        return None
    factor = min(1.0, GRID_PX_PER_IOD / iod)
    grid = (max(2, round(region.width * factor)), max(2, round(region.height * factor)))
    scale = np.array([grid[0] / region.width, grid[1] / region.height], dtype=np.float32)
    origin = np.array([region.x0, region.y0], dtype=np.float32)
    px_per_iod = iod * float(scale.mean())
    local = (source[:, :2] - origin) * scale
    motion = None if target is None else np.linalg.norm(target[:, :2] - source[:, :2], axis=1) / iod
    held = None if holdout is None else cv2.resize(holdout, grid, interpolation=cv2.INTER_AREA) >= 0.5
    result = np.zeros((grid[1], grid[0]), dtype=np.float32)
    # One pass per weight: this frame's hands (and the holdout) at 1, farther frames' hands less.
    for weight in sorted({w for _, w in near} | ({1.0} if held is not None else set()), reverse=True):
        core = np.zeros((grid[1], grid[0]), dtype=np.uint8)
        for hand, w in near:
            if w == weight:
                draw_hand(core, (hand - origin) * scale)
        if weight == 1.0 and held is not None:
            core[held] = 255
        np.maximum(result, weight * _spread(core, px_per_iod, local, motion), out=result)
    if grid != (region.width, region.height):
        result = cv2.resize(result, (region.width, region.height), interpolation=cv2.INTER_LINEAR)
    if holdout is not None:
        np.maximum(result, holdout, out=result)
    result[result > 1.0 - 1.0 / 1024] = 1.0
    result[result < 1.0 / 1024] = 0.0
    return result


def _touches(hand: np.ndarray, reach: float, region: Region) -> bool:
    low, high = hand.min(axis=0) - reach, hand.max(axis=0) + reach
    return bool(low[0] < region.x1 and high[0] > region.x0 and low[1] < region.y1 and high[1] > region.y0)


def holdout_matte(image: np.ndarray) -> np.ndarray:
    """A user's holdout picture as a matte: (H, W) float32 in [0, 1], 1 (white) = keep the source's pixel.

    image: (H, W) or (H, W, C) uint8 / uint16 / float16 / float32; one or two channels: the first;
    three or more: the mean of R, G and B (alpha is ignored). Floats are clipped to [0, 1], NaN -> 0.
    """
    full = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(image.dtype, 1.0)
    if image.ndim == 3:
        image = image[..., 0] if image.shape[2] < 3 else image[..., :3].astype(np.float32).mean(axis=2)
    matte = np.nan_to_num(image.astype(np.float32) / np.float32(full), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(matte, 0.0, 1.0)
