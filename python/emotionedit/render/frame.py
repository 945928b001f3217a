"""One frame through stage 4: field, matte, mouth interior and pixels, or the check outputs.

A frame renders in two steps. :func:`plan_frame` decides everything that needs no pixels (the
field, the matte, the teeth's map) and which rectangles the pixel step reads and writes; then
:meth:`FramePlan.apply` writes the edited pixels of ``write_rect`` from the source's pixels of
``read_rect``. Every other pixel of the output is the plain copy of the source (or 0 for the
matte output: ``background``). :func:`render_into` does both on whole plates.
"""

from __future__ import annotations

import enum

import cv2
import numpy as np

from .detail import detail_grid
from .eyes import eyeball_layers
from .field import Region, backward_field, warp_region
from .matte import face_matte
from .mouth import corridor_gain, mouth_layer, mouth_openness
from .occlusion import FrameOccluders, occlusion_matte
from .overlay import Overlay, composite
from .pixels import Resampling, resample_into, resampling_of
from .shading import Shading
from .upper_teeth import UpperTeeth, teeth_overlay


class Output(enum.IntEnum):
    """What a render writes (append-only: stored in host projects and farm jobs)."""

    EDITED = 0
    MATTE = 1
    LANDMARKS = 2
    OCCLUSION = 3

    @classmethod
    def parse(cls, text: str) -> Output:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown output {text!r}; choose edited, matte, landmarks or occlusion") from None


#: FramePlan.background: outside ``write_rect`` the output is the source's pixels, or 0.
SOURCE, ZERO = "source", "zero"


def _full_value(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 1.0


def _slices(rect: Region) -> tuple[slice, slice]:
    return slice(rect.y0, rect.y1), slice(rect.x0, rect.x1)


def _same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two views are the same memory (an in-place render): copying one onto the other is a no-op."""
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.strides == b.strides


def _check_dtypes(src_read: np.ndarray, dst_write: np.ndarray) -> None:
    if src_read.dtype != dst_write.dtype:
        raise ValueError(f"src_read is {src_read.dtype} but dst_write is {dst_write.dtype}; they must match")


class FramePlan:
    """One frame's render, decided before any pixel is read.

    shape: (H, W, C) of the plate. read_rect: the plate pixels :meth:`apply` reads (None: none).
    write_rect: the pixels it writes (None: a pass-through frame, the output is the background
    everywhere). background: :data:`SOURCE` (the output is the source's pixels outside
    ``write_rect``) or :data:`ZERO` (0 there: the matte output). Rectangles are in plate pixels,
    top row 0, inside the plate. This base class is the pass-through frame.
    """

    def __init__(self, shape: tuple[int, ...], background: str = SOURCE, read_rect: Region | None = None,
                 write_rect: Region | None = None):
        self.shape = tuple(shape)
        self.background = background
        self.read_rect = read_rect
        self.write_rect = write_rect

    def apply(self, dst_write: np.ndarray, src_read: np.ndarray | None) -> int:
        """Write the frame's pixels of ``write_rect`` into ``dst_write``.

        dst_write: (write_rect.height, write_rect.width, C); src_read: (read_rect.height,
        read_rect.width, C) the source's pixels there, same dtype (None when read_rect is None).
        Every pixel of ``dst_write`` is written; nothing else is read or written. ``dst_write`` may be
        a view of ``src_read``'s memory at the same pixels (an in-place render).
        Returns the number of face pixels left unedited because of NaN/inf in the plate.
        """
        if self.write_rect is None:
            return 0
        self._check(dst_write, self.write_rect, "dst_write")
        if self.read_rect is not None:
            self._check(src_read, self.read_rect, "src_read")
            _check_dtypes(src_read, dst_write)
        return self._apply(dst_write, src_read, False)

    def cropped(self, part: Region) -> FramePlan:
        """The plan for the output pixels of ``part`` only (a host's render window): ``write_rect`` becomes
        its intersection with ``part``, and the pixels written there are the same, bit for bit."""
        if self.write_rect is None:
            return self
        write = self.write_rect.intersection(part)
        if write.empty:
            return FramePlan(self.shape, self.background)
        if write == self.write_rect:
            return self
        return self._cropped(write)

    def render_into(self, dst: np.ndarray, src: np.ndarray, background_done: bool = False) -> int:
        """The whole frame: ``dst`` (the plate's shape, ``src``'s dtype) gets the background, then
        :meth:`apply` on views of ``write_rect`` and ``read_rect``. ``dst`` may be ``src`` (in place).
        ``background_done``: ``dst`` already holds the background (the caller copied it while planning)."""
        if src.shape != self.shape or dst.shape != self.shape:
            raise ValueError(f"this plan is for {self.shape} plates; got src {src.shape} and dst {dst.shape}")
        if background_done:
            pass
        elif self.background == ZERO:
            dst[...] = 0
        elif dst is not src:
            dst[...] = src
        if self.write_rect is None:
            return 0
        src_read = None if self.read_rect is None else src[_slices(self.read_rect)]
        dst_write = dst[_slices(self.write_rect)]
        if src_read is not None:
            _check_dtypes(src_read, dst_write)
        return self._apply(dst_write, src_read, self.background == SOURCE)

    def _check(self, array: np.ndarray | None, rect: Region, name: str) -> None:
        want = (rect.height, rect.width, self.shape[2])
        if array is None or array.shape != want:
            got = "None" if array is None else str(array.shape)
            raise ValueError(f"{name} must be {want} (the plan's rectangle {rect}), got {got}")

    def _apply(self, dst_write: np.ndarray, src_read: np.ndarray | None, filled: bool) -> int:
        # filled: dst_write already holds the source's pixels (render_into copied them), not to be copied again.
        raise NotImplementedError  # only plans with a write_rect have a pixel step

    def _cropped(self, write: Region) -> FramePlan:
        raise NotImplementedError


class _WarpPlan(FramePlan):
    """The edited face: the source resampled through the backward map inside the matte, then shaded by
    the expression's skin detail and the mouth corridor's shadow (``shading``: linear-light gains, 1 where
    unchanged, faded with the matte by the pixel step; None: none), then the upper teeth from another frame laid
    over what the edit uncovers (``overlay``, :mod:`.upper_teeth`; None: none)."""

    def __init__(self, shape, resampling: Resampling, shading: Shading | None = None, overlay: Overlay | None = None):
        region, window = resampling.region, resampling.window
        # The pixel step reads the window (samples) and the written pixels (kept where the matte is 0).
        read = Region(min(region.x0, window.x0), min(region.y0, window.y0), max(region.x1, window.x1),
                      max(region.y1, window.y1))
        super().__init__(shape, SOURCE, read, region)
        self.resampling = resampling
        self.shading = shading
        self.overlay = overlay

    def _apply(self, dst_write, src_read, filled):
        read, write, window = self.read_rect, self.write_rect, self.resampling.window
        kept = src_read[write.within(read)]
        if not (filled or _same_pixels(dst_write, kept)):
            dst_write[...] = kept
        samples = src_read[window.within(read)]
        skipped = resample_into(dst_write, samples, self.resampling, self.shading)
        composite(dst_write, (write.x0, write.y0), self.overlay)
        return skipped

    def _cropped(self, write):
        shading = None if self.shading is None else self.shading.cropped(write)
        overlay = None if self.overlay is None else self.overlay.cropped(write)
        return _WarpPlan(self.shape, self.resampling.cropped(write), shading, overlay)


class _MattePlan(FramePlan):
    """The face matte in every channel, 0 elsewhere; reads no pixels."""

    def __init__(self, shape, region: Region, values: np.ndarray):
        super().__init__(shape, ZERO, None, region)
        self.values = values  # (h, w), the output's dtype

    def _apply(self, dst_write, src_read, filled):
        dst_write[...] = self.values[..., None]
        return 0

    def _cropped(self, write):
        return _MattePlan(self.shape, write, self.values[write.within(self.write_rect)])


class _LandmarksPlan(FramePlan):
    """The tracked points (green) and their edited positions (red) drawn over the source."""

    def __init__(self, shape, rect: Region, source: np.ndarray, target: np.ndarray, radius: int,
                 drawn: Region | None = None):
        drawn = drawn or rect
        super().__init__(shape, SOURCE, drawn, rect)
        self.drawn = drawn  # the rectangle the points are drawn on (all of them): read_rect
        self.source, self.target, self.radius = source, target, radius

    def _apply(self, dst_write, src_read, filled):
        write, drawn = self.write_rect, self.drawn
        if write == drawn:
            dst_write[...] = src_read
            _draw_points(dst_write, self.source, self.target, self.radius, (drawn.x0, drawn.y0))
            return 0
        canvas = src_read.copy()
        _draw_points(canvas, self.source, self.target, self.radius, (drawn.x0, drawn.y0))
        dst_write[...] = canvas[write.within(drawn)]
        return 0

    def _cropped(self, write):
        # Drawn on the whole rectangle, then cut: a circle cut at the canvas's edge could be drawn differently.
        return _LandmarksPlan(self.shape, write, self.source, self.target, self.radius, self.drawn)


def plan_frame(shape: tuple[int, ...], dtype: np.dtype, source: np.ndarray | None, target: np.ndarray | None,
               output: Output = Output.EDITED, occluders: FrameOccluders | None = None,
               detail: dict[str, np.ndarray] | None = None,
               teeth: tuple[UpperTeeth, np.ndarray, float, float] | None = None) -> FramePlan:
    """Plan one frame of a (H, W, C) plate of ``dtype`` without reading a pixel.

    source, target: (478, 2) plate pixels of the tracked face and where it should go, or None for a
    frame that passes through (no face, or nothing to edit). The field, the matte and the teeth's map
    are computed here (bounded: their cost follows the face's size in IODs, not the plate's).
    occluders: hands and the user's holdout in front of the face (None: none); the matte is multiplied
    by (1 - their occlusion matte), so their pixels are kept. OCCLUSION writes that occlusion matte.
    detail: the skin detail's weight per map, (2,) for the subject's right and left halves
    (:func:`~emotionedit.render.detail.detail_weights`; None or empty: geometry only).
    teeth: the shot's upper teeth from another frame, the affine taking this frame's pixels there, how fully they are
    laid in and the gain from their light to this frame's (:mod:`~emotionedit.render.upper_teeth`; None: the
    interior is this frame's own).
    """
    shape = tuple(shape)
    height, width = shape[:2]
    dtype = np.dtype(dtype)
    if output in (Output.MATTE, Output.OCCLUSION):
        if source is None:
            return FramePlan(shape, ZERO)
        region = warp_region(source, width, height)
        if region.empty:
            return FramePlan(shape, ZERO)
        if output == Output.MATTE:  # where pixels may change: the face, less what occludes it
            matte = _editable_matte(source, target, region, occluders)
        else:  # over the face's region, like the matte (0 there when nothing occludes the face)
            occluded = occlusion_matte(occluders, source, region, target)
            matte = occluded if occluded is not None else np.zeros((region.height, region.width), np.float32)
        return _MattePlan(shape, region, (matte * _full_value(dtype)).astype(dtype))
    if source is None or target is None:
        return FramePlan(shape)
    if output == Output.LANDMARKS:
        return _landmarks_plan(shape, source, target)
    if np.array_equal(source, target):
        return FramePlan(shape)
    region = warp_region(source, width, height)
    if region.empty:
        return FramePlan(shape)
    # The layers behind the face (the mouth's interior, the eyeballs), each exactly itself where its weight is 1.
    mouth = mouth_layer(source, target, region)
    field = backward_field(source, target, region).with_layers(
        ([mouth] if mouth is not None else []) + eyeball_layers(source, target, region))
    matte = _editable_matte(source, target, region, occluders)
    # The shadings, unfaded (the kernels fade them with the matte, pixel by pixel): the skin detail's on its coarse
    # grid, the mouth corridor's as a plane over its small rectangle.
    colour = shape[2] >= 3  # a grey plate takes the creases' luminance ratio, one gain a pixel
    grid = detail_grid(target, region, detail, colour=colour) if detail else None
    corridor = corridor_gain(source, target, region)
    shading = None
    if grid is not None or corridor is not None:
        rect, plane = corridor if corridor is not None else (None, None)
        shading = Shading(over=region if grid is not None else None, grid=grid, rect=rect, plane=plane)
    overlay = None
    if teeth is not None and mouth is not None:
        donor, affine, weight, gain = teeth
        overlay = teeth_overlay(donor, affine, weight, source, target, region, matte, mouth_openness(source),
                                _full_value(dtype), shape[2], gain)
    return _WarpPlan(shape, resampling_of(field, matte, region, width, height), shading, overlay)


def _editable_matte(source: np.ndarray, target: np.ndarray | None, region: Region,
                    occluders: FrameOccluders | None) -> np.ndarray:
    """Where pixels may change: the face matte less what occludes the face, (h, w) float32 in [0, 1]."""
    matte = face_matte(source, region)
    occluded = occlusion_matte(occluders, source, region, target)
    if occluded is not None:
        matte *= 1.0 - occluded
    return matte


def render_into(dst: np.ndarray, src: np.ndarray, source: np.ndarray | None, target: np.ndarray | None,
                output: Output = Output.EDITED) -> int:
    """Render one frame into ``dst`` (same shape and dtype as ``src``, (H, W, C)).

    source, target: (478, 2) plate pixels of the tracked face and where it should go, or None for a
    frame that passes through (no face, or nothing to edit).
    EDITED copies ``src`` and warps the face; MATTE writes the face matte into every
    channel; LANDMARKS draws the tracked points (green) and their edited positions (red).
    Returns the number of face pixels left unedited because of NaN/inf in the plate.
    :func:`plan_frame`, then :meth:`FramePlan.render_into`.
    """
    return plan_frame(src.shape, src.dtype, source, target, output).render_into(dst, src)


def _landmarks_plan(shape, source: np.ndarray, target: np.ndarray) -> FramePlan:
    height, width = shape[:2]
    radius = max(1, int(round(height / 540)))
    centres = np.concatenate([_centres(source), _centres(target)])
    reach = radius + 2  # an anti-aliased disc reaches a pixel past its radius; one more to spare
    x0, y0 = centres.min(axis=0) - reach
    x1, y1 = centres.max(axis=0) + reach + 1
    rect = Region(max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))
    if rect.empty:
        return FramePlan(shape)
    return _LandmarksPlan(shape, rect, source, target, radius)


def _centres(points: np.ndarray) -> np.ndarray:
    return np.array([(int(round(x)), int(round(y))) for x, y in points[:, :2]], dtype=np.int64).reshape(-1, 2)


def _draw_points(image: np.ndarray, source: np.ndarray, target: np.ndarray, radius: int,
                 origin: tuple[int, int]) -> None:
    """Draw the points on ``image``, the plate's pixels from ``origin`` (x, y) on."""
    full = _full_value(image.dtype)
    channels = image.shape[2]
    green = (0.0, full, 0.0, full)[:channels]
    red = (full, 0.0, 0.0, full)[:channels]
    canvas = np.ascontiguousarray(image) if image.dtype != np.float16 else image.astype(np.float32)
    for points, colour in ((source, green), (target, red)):
        for x, y in _centres(points):
            cv2.circle(canvas, (int(x) - origin[0], int(y) - origin[1]), radius, colour, -1, lineType=cv2.LINE_AA)
    if canvas is not image:
        image[...] = canvas
