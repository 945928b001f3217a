"""The engine: analyse a shot once, then render any frame of it with any edit.

This is the one object the command line and the OpenFX node talk to. Stage
functions below it are pure over arrays; the engine holds the per-shot state
(the analysis, the actor's basis and the smoothed encoding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, cached_property

import cv2
import numpy as np

from .analysis import Analysis, PlateInfo
from .edit import EditParams, ExpressionEditor
from .edit.emotions import EMOTIONAL_AUS
from .errors import UserError
from .fingerprint import Fingerprint, Match, thumbnail
from .fit import fit_shot
from .fit.basis import AUS
from .fit.pose import vectors_to_plate
from .fit.shot import resting_doubts
from .fit.smoothing import smooth_rotations, smooth_series
from .fit.topology import EXPRESSION_FREE
from .io.ranges import frames_text
from .prefetch import prefetch
from .render import Output
from .render.detail import DETAIL_VERTICES, detail_maps, detail_weights
from .render.frame import FramePlan, plan_frame
from .render.occlusion import frame_occluders
from .render.skin_depth import (
    SAMPLE_MAX_HEIGHT,
    crease_weights,
    depth_scale,
    fine_shading,
    sample_frames,
    shot_fine_shading,
)
from .render.upper_teeth import TeethFinder, UpperTeeth, light_gain, pose_weight, skull_affine
from .track import MediaPipeFaceMesh, TrackerOptions, track_frames
from .track.base import FrameRows
from .track.occluders import OccluderTracker
from .track.stabilise import FlowStabiliser

DEFAULT_SMOOTHING = 1.5  # frames (Gaussian sigma) in coefficient and pose space
# The time scale (a Gaussian's sigma, seconds) below which the mouth's activations count as speech, above it as held.
SUSTAINED_SECONDS = 1.0


# sRGB encoding by table: a float power over a 960x540 view cost 25 ms, the lookup 3 ms.
# 16384 steps keep every 8-bit code within one level of the exact curve.
_SRGB_STEPS = 16384


def _srgb_table() -> np.ndarray:
    x = np.arange(_SRGB_STEPS, dtype=np.float64) / (_SRGB_STEPS - 1)
    encoded = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


_SRGB = _srgb_table()


def to_tracking_rgb(image: np.ndarray, max_height: int | None = None) -> np.ndarray:
    """The 8-bit RGB view a landmark tracker expects, from any plate.

    image: (H, W, C) uint8 / uint16 / float16 / float32, C >= 3 (alpha ignored).
    max_height: scale down (area filter) to at most this many rows first; cheap
    conversion of a small image instead of a 4K one.
    Float plates are taken as scene-linear and encoded with the sRGB curve; NaN -> 0,
    +inf -> 1, -inf -> 0.
    """
    work = image
    if max_height is not None and image.shape[0] > max_height:
        # An integer-stride pick first (no copy), then the area filter on what is left.
        step = max(1, image.shape[0] // (2 * max_height))
        work = image[::step, ::step] if step > 1 else image
        work = work.astype(np.float32) if work.dtype == np.float16 else np.ascontiguousarray(work)
        scale = max_height / image.shape[0]
        size = (max(1, round(image.shape[1] * scale)), max_height)
        work = cv2.resize(work, size, interpolation=cv2.INTER_AREA)
    if work.ndim == 2:
        work = work[..., None]
    rgb = np.ascontiguousarray(work[..., :3])
    if rgb.dtype == np.uint8:
        return rgb
    if rgb.dtype == np.uint16:
        return (rgb >> 8).astype(np.uint8)
    x = rgb.astype(np.float32)  # always a private copy: edited in place below
    cv2.patchNaNs(x, 0.0)
    np.clip(x, 0.0, 1.0, out=x)
    x *= _SRGB_STEPS - 1
    x += 0.5
    return np.take(_SRGB, x.astype(np.uint16))


def analyze(
    frames: Iterable[tuple[int, np.ndarray]],
    plate: PlateInfo,
    options: TrackerOptions | None = None,
    neutral_frame_numbers: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
    neutral_reference: np.ndarray | None = None,
) -> Analysis:
    """Track and fit a shot. ``frames`` yields (frame number, (H, W, C) image) in order.

    The landmarks are made steady with the views' optical flow (:mod:`~emotionedit.track.stabilise`).
    The hands in each frame (occluders the render keeps unwarped) are found on the same views, and
    each frame's fingerprint (:func:`~emotionedit.fingerprint.thumbnail`, which the render checks
    its pixels against) is taken from the plate's own pixels. What is kept per frame goes into arrays
    made once for ``plate.frame_numbers`` frames (:class:`~emotionedit.track.base.FrameRows`): about
    as many bytes a frame as the analysis file stores. A few frames spread through the shot are kept
    (at most 1080 rows) until the face is fitted, to measure the plate's fine shading on its skin
    (:mod:`~emotionedit.render.skin_depth`).
    """
    options = options or TrackerOptions()
    tracker = MediaPipeFaceMesh(max_faces=options.max_faces, max_track_height=options.max_track_height)
    height = options.max_track_height
    expected = len(plate.frame_numbers)
    hands = None
    thumbnails: FrameRows | None = None  # made on the first frame, in its thumbnail's shape
    sampled = sample_frames(expected)
    kept: dict[int, np.ndarray] = {}
    teeth = TeethFinder()
    last_seen: list = []  # the frame just handed to the tracker: (position, its mouth's cut, plate rows per view row)
    try:
        hands = OccluderTracker(expected=expected)

        def keep_teeth() -> None:
            # The tracker has observed the frame last handed over: keep its mouth if it shows the most upper teeth.
            if last_seen and teeth.wanted(last_seen[0]) and last_points[0] == last_seen[0]:
                i, cut, scale = last_seen
                teeth.keep(i, cut, last_points[1][:, :2] * scale)

        def views():
            nonlocal thumbnails
            # Each frame's pixels around the mouth are copied as it is read (render/upper_teeth.py): no plate frame
            # is held past its conversion.
            converted = ((to_tracking_rgb(image, height), thumbnail(image),
                          to_tracking_rgb(image, SAMPLE_MAX_HEIGHT) if i in sampled else None,
                          teeth.around_mouth(image), image.shape[0])
                         for i, (_, image) in enumerate(frames))
            for i, (view, small, sample, cut, rows) in enumerate(prefetch(converted)):
                keep_teeth()
                if sample is not None:
                    kept[i] = sample
                hands.add(view)
                if thumbnails is None:
                    thumbnails = FrameRows(small.shape, small.dtype, expected)
                thumbnails.append(small)
                last_seen[:] = [i, cut, rows / view.shape[0]]
                yield view

        last_points: list = [-1, None]  # the tracker's points of the frame it observed last: (position, points)

        def observe(view: np.ndarray, points: np.ndarray | None) -> None:
            steadier.observe(view, points)
            teeth.observe(view, points)
            last_points[:] = [last_points[0] + 1, points]

        steadier = FlowStabiliser(expected)
        track = track_frames(views(), tracker, options, progress, expected=expected, observe=observe)
        keep_teeth()
        last_seen.clear()
        track.landmarks = steadier.steady(track.landmarks, track.found)
    finally:
        tracker.close()
        if hands is not None:
            hands.close()
    # Landmarks come back in the tracking view's pixels; the view keeps the plate's aspect.
    factor = plate.height / min(plate.height, height)
    if factor != 1.0:
        track.landmarks *= np.float32(factor)
    occluders = hands.result(factor)
    neutral_idx = None
    if neutral_frame_numbers is not None:
        index = {n: i for i, n in enumerate(plate.frame_numbers)}
        missing = [n for n in neutral_frame_numbers if n not in index]
        if missing:
            raise UserError(f"--neutral-frames {missing} are not among the analysed frames")
        neutral_idx = np.array([index[n] for n in neutral_frame_numbers])
    fit = fit_shot(track.landmarks, track.found, neutral_idx, neutral_reference)
    return Analysis(plate=plate, track=track, fit=fit, tracker=tracker.name, occluders=occluders,
                    thumbnails=thumbnails.result(), steady=True,
                    fine_shading=measure_fine_shading(kept, track.landmarks, fit, plate.height),
                    upper_teeth=teeth.result(track.landmarks, fit.flags == 0, plate.frame_numbers))


def measure_fine_shading(views: dict[int, np.ndarray], landmarks: np.ndarray, fit, plate_height: int
                         ) -> dict[str, float] | None:
    """The plate's fine shading where each skin detail map's creases are (:mod:`~emotionedit.render.skin_depth`),
    from ``views`` (frame position -> (h, w, 3) uint8 view of the plate, ``plate_height`` rows scaled to h) of
    frames whose face is usable, nearest rest first; None when no map is shipped or no frame gave a figure."""
    shipped = detail_maps()
    if shipped is None or not views:
        return None
    weights = crease_weights(shipped.maps, shipped.layout)
    rows = [AUS.index(au) for au in EMOTIONAL_AUS]
    frames, expression = [], []
    for i, view in sorted(views.items()):
        if fit.flags[i] != 0:
            continue
        found = fine_shading(view, landmarks[i, :, :2] * (view.shape[0] / plate_height), shipped.layout, weights)
        if found:
            frames.append(found)
            expression.append(float(np.abs(fit.coefficients[i, rows]).sum()))
    return shot_fine_shading(frames, expression) or None


# Frames over which an edit fades out before a frame without a usable face (the face leaving the
# frame, turning to profile, hidden) and back in after it: a quarter of a second at 24 fps.
EDGE_FADE_FRAMES = 6


def edge_fade(usable: np.ndarray, frames: int = EDGE_FADE_FRAMES) -> np.ndarray:
    """(T,) share of the edit each frame keeps: 0 where the face is unusable, rising linearly to 1 over
    ``frames`` frames away from the nearest unusable frame (1 everywhere in a shot without one).
    usable: (T,) bool, in the shot's frame order."""
    count = len(usable)
    distance = np.full(count, np.inf)
    last = -np.inf
    for i in range(count):  # distance to the nearest unusable frame before, then after
        if not usable[i]:
            last = i
        distance[i] = i - last
    last = np.inf
    for i in range(count - 1, -1, -1):
        if not usable[i]:
            last = i
        distance[i] = min(distance[i], last - i)
    return np.clip(distance / frames, 0.0, 1.0)


@dataclass(frozen=True)
class FrameTargets:
    """The tracked face of one frame and where the edit moves it, (478, 2) plate pixels each."""

    source: np.ndarray
    target: np.ndarray
    # The skin detail's weight per map and half (render.detail.detail_weights); empty: none.
    detail: dict[str, np.ndarray] = field(default_factory=dict)


def resting_warning(analysis: Analysis) -> str | None:
    """What to tell the user when the shot's resting face does not look at rest beside the rest of the shot
    (:func:`~emotionedit.fit.shot.resting_doubts`): which frames it came from, why it is doubted and how to give
    another; None when nothing is doubted."""
    doubts = resting_doubts(analysis.fit, analysis.track.landmarks)
    if not doubts:
        return None
    shown = frames_text(analysis.plate.frame_numbers[i] for i in analysis.fit.neutral_frames)
    return (f"the actor's resting face was estimated from frames {shown}, but " + "; ".join(doubts)
            + ". If the actor is not at rest there, analyse again with --neutral-frames (frames where the face is "
            "at rest) or --neutral-from (another take's analysis): edits are made relative to this face, and "
            "'replace' and 'neutral' keep what it shows")


def shot_detail_depth(analysis: Analysis) -> dict[str, float]:
    """Per skin detail map, the share of its measured depth that the shot's plate takes: its fine shading against
    the map's plates' (:func:`~emotionedit.render.skin_depth.depth_scale`); empty (full depth) for an analysis
    without the measure or when no map is shipped."""
    shipped = detail_maps()
    if shipped is None or not analysis.fine_shading:
        return {}
    return {name: depth_scale(analysis.fine_shading.get(name), shipped.fine_shading.get(name))
            for name in shipped.maps}


class ShotEditor:
    """Renders edits of one analysed shot.

    smoothing: Gaussian sigma in frames applied to the AU coefficients and the head
    pose before editing (0 = none). The edit moves landmarks by a displacement built
    from these smoothed quantities, so tracker jitter never becomes picture jitter.
    check_plate: refuse pixels that are not the analysed frame's (:meth:`check_pixels`; :meth:`render_into`
    checks every frame). False: the override for a plate known to be the analysed one, retouched or graded
    beyond what the check tolerates. An analysis without a fingerprint (format 2) is never checked.
    device: where the face's pixels are resampled: "cpu" (the compiled kernel), "cuda" (a GPU, through
    torch; :class:`UserError` when there is none) or "auto" (a GPU when torch sees one).
    """

    def __init__(self, analysis: Analysis, smoothing: float = DEFAULT_SMOOTHING, check_plate: bool = True,
                 device: str = "cpu"):
        if smoothing < 0:
            raise UserError(f"smoothing must be >= 0 frames, got {smoothing:g}")
        self.analysis = analysis
        #: Where :meth:`render_into` resamples the face: None for the CPU's compiled kernel, else a torch
        #: device (render/device.py; one upload and one download a frame).
        self.device = None if device == "cpu" else _torch_device(device)
        #: The plate's fingerprint the pixels are checked against; None: no check.
        self.fingerprint = (Fingerprint(analysis.thumbnails, analysis.plate.frame_numbers)
                            if check_plate and analysis.thumbnails is not None else None)
        fit = analysis.fit
        usable = fit.flags == 0
        self._usable = usable
        self._coefficients = smooth_series(fit.coefficients, usable, smoothing)
        self._scale = smooth_series(fit.scale, usable, smoothing)
        self._rotation = smooth_rotations(fit.rotation, usable, smoothing)
        self._presence = edge_fade(usable)
        self.editor = ExpressionEditor(fit.neutral)
        # Each frame's own lip opening (unsmoothed): whether the lips touch is the frame's, as its speech is. From the
        # smoothed coefficients the lower lip's open/closed switch (lipshape.keep_lower_lip) ran ahead of the mouth by
        # two frames and lagged behind it: the lower lip thinned on a closed mouth about to open (franck 729-738).
        self._openings = np.array([self.editor.opening(c) for c in fit.coefficients])
        # What the actor holds for a second or more (the activations' slow part), against what comes and goes with
        # each syllable: the mouth's fast part is speech, which lip preservation keeps (activation_change). Linear,
        # so AUs the fit trades against each other (12, 14 and 20 all widen the mouth) keep their sum.
        fps = analysis.plate.fps if analysis.plate.fps and analysis.plate.fps > 0 else 24.0
        self._sustained = smooth_series(fit.coefficients, usable, SUSTAINED_SECONDS * fps)
        #: The share of each skin detail map's depth this shot's plate takes (render/skin_depth.py).
        self.detail_depth = shot_detail_depth(analysis)

    @cached_property
    def resting_warning(self) -> str | None:
        """:func:`resting_warning` of the shot's analysis, worked out once."""
        return resting_warning(self.analysis)

    def targets(self, frame_number: int, params: EditParams) -> FrameTargets | None:
        """Source and edited landmarks of a frame, or None where it passes through."""
        index = self.analysis.index_of(frame_number)
        if not self._usable[index]:
            return None
        source = self.analysis.track.landmarks[index, :, :2].astype(np.float64)
        if self._presence[index] < 1.0:  # next to frames without a usable face: the edit fades, never pops
            params = replace(params, intensity=params.intensity * float(self._presence[index]))
        delta = np.zeros_like(self.editor.neutral)
        detail = {}
        if not params.is_identity:
            change = self.editor.edit_change(self._coefficients[index], params, self._sustained[index])
            delta = self.editor.displacement(change, params, float(self._openings[index]))
            detail = {name: w * params.skin_detail * self.detail_depth.get(name, 1.0)
                      * self.editor.region_weight(DETAIL_VERTICES[name], params.regions)
                      for name, w in detail_weights(change, AUS).items()}
        moved = vectors_to_plate(delta[None], self._scale[index : index + 1], self._rotation[index : index + 1])[0]
        return FrameTargets(source=source, target=source + moved[:, :2], detail=detail)

    def plan_frame(self, src_shape: tuple[int, ...], dtype: np.dtype, frame_number: int, params: EditParams,
                   output: Output = Output.EDITED, holdout: np.ndarray | None = None) -> FramePlan:
        """Plan frame ``frame_number`` of the shot for a (H, W, C) plate of ``dtype``, reading no pixel.

        Everything but the pixels is done here (the edit, the field, the matte, the teeth's map), and
        the plan says which source pixels its pixel step reads and which output pixels it writes
        (:class:`~emotionedit.render.frame.FramePlan`). Intensity 0 (or a frame without a usable face) plans
        a pass-through frame: no rectangle, the output is the source. Raises
        :class:`~emotionedit.errors.UserError` when the plate or the frame is not the analysis's.
        The hands the analysis found in and around this frame, and ``holdout`` ((H, W) float32 in
        [0, 1], 1 = keep the source's pixel; None: none), are kept from the edit
        (:mod:`~emotionedit.render.occlusion`).
        """
        self.check_frame(src_shape, frame_number, holdout)
        if output == Output.EDITED and params.is_identity:
            return plan_frame(src_shape, dtype, None, None, output)
        found = self.targets(frame_number, params)
        if found is None:
            return plan_frame(src_shape, dtype, None, None, output)
        occluders = self.analysis.occluders
        hands = None if occluders is None else occluders.hands
        index = self.analysis.index_of(frame_number)
        nearby = frame_occluders(hands, index, holdout)
        return plan_frame(src_shape, dtype, found.source, found.target, output, nearby, found.detail,
                          self._upper_teeth(index))

    def _upper_teeth(self, index: int) -> tuple[UpperTeeth, np.ndarray, float, float] | None:
        """The shot's upper teeth (render/upper_teeth.py) as frame ``index`` takes them: the affine from its pixels to
        the donor frame's, with the skull's motion between the two fitted poses, how fully they are laid in, and the
        gain from the donor's light to this frame's."""
        teeth = self.analysis.upper_teeth
        if teeth is None:
            return None
        donor = self.analysis.index_of(teeth.frame)
        weight = pose_weight(self._rotation[index], self._rotation[donor])
        if weight <= 0.0:
            return None
        return (teeth, skull_affine(self.analysis.fit.neutral, self._skull_pose(index), self._skull_pose(donor)),
                weight, light_gain(teeth.light, index, donor))

    def _skull_pose(self, index: int) -> tuple[float, np.ndarray, np.ndarray]:
        """Frame ``index``'s head pose as the teeth follow it: the smoothed scale and rotation, placed on the frame's
        steadied points that no expression moves. The fit's own per-frame poses shake by a fraction of a pixel,
        which the laid-in teeth showed as a shimmer (dlib's landmark jitter on cap12 380-470 made happy: 1.09x the
        source's with them, 1.00x without)."""
        scale, rotation = self._scale[index], self._rotation[index]
        free = list(EXPRESSION_FREE)
        placed = scale * (self.analysis.fit.neutral[free] @ rotation.T)
        where = self.analysis.track.landmarks[index, free, :2].astype(np.float64)
        translation = np.zeros(3)
        translation[:2] = where.mean(axis=0) - placed[:, :2].mean(axis=0)
        return scale, rotation, translation

    def check_frame(self, src_shape: tuple[int, ...], frame_number: int, holdout: np.ndarray | None = None) -> None:
        """Raise :class:`~emotionedit.errors.UserError` unless a (H, W, C) plate of ``src_shape`` can be frame
        ``frame_number`` of the analysed plate (its size, a frame the analysis holds) and ``holdout`` (or None) is
        the plate's size: what :meth:`plan_frame` checks before it plans."""
        if tuple(src_shape[:2]) != (self.analysis.plate.height, self.analysis.plate.width):
            self.analysis.check_plate(src_shape[1], src_shape[0], [frame_number])
        if holdout is not None and holdout.shape != tuple(src_shape[:2]):
            raise UserError(f"the holdout matte is {holdout.shape} but the plate is {tuple(src_shape[:2])} (H, W); "
                            "give a holdout of the plate's size")
        self.analysis.index_of(frame_number)

    def check_pixels(self, pixels: np.ndarray, frame_number: int, origin: tuple[int, int] = (0, 0),
                     sampled: bool = False) -> Match | None:
        """Refuse pixels that are not frame ``frame_number`` of the analysed plate.

        pixels: the plate's (H, W, C) frame, or a crop of it whose top-left is at ``origin`` (row,
        column); a crop is compared on the fingerprint's cells it holds; with ``sampled``, the whole plate's
        samples only (:func:`~emotionedit.fingerprint.sample_lines`: a frame on a GPU). Raises
        :class:`~emotionedit.fingerprint.PlateMismatchError` (a :class:`UserError` naming the frame, and
        the analysed frame the pixels are when a nearby one fits: a frame offset) when they do not
        match; returns the comparison (None when nothing is checked: ``check_plate`` False or an
        analysis without a fingerprint). Under 0.5 ms a frame, whatever the plate's size.
        """
        if self.fingerprint is None:
            return None
        index = self.analysis.index_of(frame_number)
        plate = (self.analysis.plate.height, self.analysis.plate.width)
        return self.fingerprint.check(pixels, index, plate, origin, self.analysis.plate.path, sampled)

    def render_into(self, dst: np.ndarray, src: np.ndarray, frame_number: int, params: EditParams,
                    output: Output = Output.EDITED, holdout: np.ndarray | None = None) -> int:
        """Render frame ``frame_number`` of the shot from ``src`` into ``dst`` ((H, W, C), same dtype).

        Intensity 0 (or a frame without a usable face) copies ``src`` bit for bit.
        Returns the count of face pixels left unedited because of NaN/inf in the plate.
        :meth:`plan_frame`, then :meth:`check_pixels` (nothing is written into ``dst`` for a frame that is
        not the analysed one), then the plan on the whole plate (the background, then its pixel step). A plate of
        :data:`COPY_WHILE_PLANNING_BYTES` or more into a ``dst`` of its own is checked first and its background
        copied on a worker thread while the frame is planned; the pixels are the same. On a GPU (``device``) the
        pixel step runs there, on the face's rectangles only.
        """
        if output == Output.EDITED and _copy_while_planning(dst, src):
            # The frame's copy (the output's background: most of its bytes) runs on another core while the frame is
            # planned. Only pixels that are this frame's are copied: the checks come first.
            self.check_frame(src.shape, frame_number, holdout)
            self.check_pixels(src, frame_number)
            copying = _background_copier().submit(np.copyto, dst, src)
            try:
                plan = self.plan_frame(src.shape, src.dtype, frame_number, params, output, holdout)
            finally:
                copying.result()
            if self.device is None or plan.write_rect is None:
                return plan.render_into(dst, src, background_done=True)
            return self._face_on_device(plan, dst, src)
        plan = self.plan_frame(src.shape, src.dtype, frame_number, params, output, holdout)
        self.check_pixels(src, frame_number)
        if self.device is None or plan.write_rect is None or output != Output.EDITED:
            return plan.render_into(dst, src)  # the check outputs are drawn on the CPU
        if dst is not src:
            np.copyto(dst, src)
        return self._face_on_device(plan, dst, src)

    def _face_on_device(self, plan: FramePlan, dst: np.ndarray, src: np.ndarray) -> int:
        """The pixel step of a frame whose background ``dst`` holds, on the GPU (one upload of the face's read
        rectangle, one download of its written one)."""
        from .render.device import render_host_face

        write, read = plan.write_rect, plan.read_rect
        return render_host_face(plan, dst[write.y0 : write.y1, write.x0 : write.x1],
                                src[read.y0 : read.y1, read.x0 : read.x1], self.device)

    def render(self, src: np.ndarray, frame_number: int, params: EditParams, output: Output = Output.EDITED,
               holdout: np.ndarray | None = None):
        """Like :meth:`render_into`, returning a new array."""
        dst = np.empty_like(src)
        self.render_into(dst, src, frame_number, params, output, holdout)
        return dst


# Plates from this size up copy their background on a second thread while the frame is planned (a 1080p float RGBA
# plate is 33 MB, 2.6 ms to copy; handing the copy over costs tens of microseconds).
COPY_WHILE_PLANNING_BYTES = 4 << 20


def _copy_while_planning(dst: np.ndarray, src: np.ndarray) -> bool:
    """Whether ``src`` is worth copying into ``dst`` on another thread: large, separate, alike arrays."""
    return (src.nbytes >= COPY_WHILE_PLANNING_BYTES and dst.shape == src.shape and dst.dtype == src.dtype
            and not np.may_share_memory(dst, src))  # bounds only: an exact overlap test can take long on strides


@cache
def _background_copier() -> ThreadPoolExecutor:
    """One worker thread for the frames' background copies (numpy releases the GIL while it copies)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="emotionedit-copy")


def _torch_device(name: str):
    """A GPU render's torch device (render/device.py); torch is imported only when one is asked for: the CPU
    render, the OFX node's included, never loads it."""
    from .render.device import choose_device

    return choose_device(name)
