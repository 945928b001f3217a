"""One frame's render, in the two phases the node runs it in.

:meth:`Plan.__init__` (the prepare phase) does everything that needs no pixels: reading the
parameters, loading the analysis, building the editor, and planning the frame (the edit, the
field, the matte, the teeth's map): it ends knowing which source pixels the pixel phase reads
(``read_rect``) and which output pixels it writes (``write_rect``, inside the host's render
window). The pixel phase, :meth:`Plan.render_region`, then gets exactly those pixels. Everything
else in the window is the plain copy of the source (or 0: ``background``), which the node makes
itself. In preview mode (no Analysis File) planning needs the frame's own landmarks, so the
in-process node gives the prepare phase a private copy of the whole source (``request["source"]``).

Either phase may be slow, and the node may give up on either at its time limit: the pixels are
never the host's own memory on a CPU render (in-process they are the node's private copies, in
the engine server its shared memory), and on a CUDA render the host's memory is used only under
the node's ``host_access`` gate (:mod:`emotionedit.node.gpu`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np

from ..analysis import UNCHECKED, UNSTEADY
from ..engine import ShotEditor
from ..errors import AnalysisMismatchError
from ..fingerprint import PlateMismatchError, cells_region
from ..render import Output, Region
from ..render.frame import ZERO, FramePlan, plan_frame
from . import gpu, preview
from .alpha import UNPREMULTIPLIED, render_straight_alpha
from .editors import editor_for
from .params import NodeParams
from .window import fill_window

Rect = tuple[int, int, int, int]  # OFX pixel rectangle x1, y1, x2, y2 (y up)

#: Set (not to 0) in the host's environment, the node renders plates that do not match their Analysis File's
#: fingerprint (the command line's --ignore-plate-mismatch): a plate retouched or graded beyond a tone curve.
IGNORE_PLATE_MISMATCH = "EMOTIONEDIT_IGNORE_PLATE_MISMATCH"


class Plan:
    """The render of one frame: prepared from the node's request, then run on its pixels.

    request: what the C++ node sends (see ``cpp/bridge/bridge.cpp``, ``frame_dict``):
    ``time``, ``params`` ({script name: value}), ``dtype``, ``components``,
    ``premultiplication`` (OFX's: straight alpha is warped premultiplied, see :mod:`.alpha`),
    ``src_bounds``/``dst_bounds``/``window`` (OFX pixel rectangles x1, y1, x2, y2, y up),
    ``render_scale`` and ``cuda``; and, from the in-process node on a CPU render, ``source``: in
    preview mode the whole source, (H, W, C) top row first, the node's private copy (kept no longer
    than the plan), else None (the frame is planned without pixels).

    After construction: ``read_rect`` (OFX rectangle of the source :meth:`render_region` reads, or
    None), ``write_rect`` (OFX rectangle of the output inside the window it writes, or None when the
    window is all background: a pass-through frame), ``background`` ("source" or "zero": the rest
    of the window; 0 wherever the window reaches past the source) and ``messages``. In preview mode
    without ``source`` (the engine server, CUDA) the rectangles are decided in :meth:`render`.

    With an Analysis File, a frame that writes anything is checked against the plate's fingerprint in
    its pixel phase (:meth:`~emotionedit.engine.ShotEditor.check_pixels`): ``read_rect`` then also holds
    the fingerprint's cells around the face (:func:`~emotionedit.fingerprint.cells_region`), and pixels
    that are not the analysed frame's fail the frame with a message (a frame offset named) before
    anything is written. ``EMOTIONEDIT_IGNORE_PLATE_MISMATCH=1`` in the environment turns the check off.
    """

    def __init__(self, request: Mapping):
        self.params = NodeParams.from_values(request["params"])
        self.time = float(request["time"])
        self.frame_number = self.params.frame_number(self.time)
        self.src_bounds: Rect = tuple(request["src_bounds"])
        self.window: Rect = tuple(request["window"])
        x1, y1, x2, y2 = self.src_bounds
        wx1, wy1, wx2, wy2 = self.window
        self.width, self.height = x2 - x1, y2 - y1
        self.shape = (self.height, self.width, int(request["components"]))
        self.dtype = np.dtype(request["dtype"])
        # The window in the top-down plate's pixels (it may reach past the plate).
        self.row, self.column = y2 - wy2, wx1 - x1
        self.window_region = Region(self.column, self.row, self.column + wx2 - wx1, self.row + wy2 - wy1)
        self.render_scale = tuple(request.get("render_scale", (1.0, 1.0)))
        self.straight_alpha = request.get("premultiplication") == UNPREMULTIPLIED and self.shape[2] == 4
        #: (level, text) pairs for the node's message: "warning" or "error".
        self.messages: list[tuple[str, str]] = []
        self.read_rect: Rect | None = None
        self.write_rect: Rect | None = None
        self.background = "source"
        self.frame: FramePlan | None = None  # the engine's plan, cropped to the window
        # The plate check: the editor whose fingerprint the pixels are checked against (None: no check), and the
        # plate region (top-down pixels) the pixel phase's source covers when it is wider than the frame's.
        self._checker: ShotEditor | None = None
        self._source_region: Region | None = None
        if self.params.analysis_file:
            editor = editor_for(self.params.analysis_file, self.params.smoothing)
            self._check_frame(editor)
            p = self.params
            self._plan(editor.plan_frame(self.shape, self.dtype, self.frame_number, p.edit, p.output))
            self._plan_plate_check(editor)
        else:
            self.messages.append(("warning", preview.NOTE))
            if "source" not in request:
                preview.warm_up()  # the engine server, CUDA: the pixels come with render()
            elif request["source"] is None:
                raise RuntimeError("the node gave no source to plan a preview frame with (its Analysis File "
                                   f"{request['params'].get('analysisFile')!r} was not blank there)")
            else:
                self._plan_preview(request["source"])

    def _check_frame(self, editor: ShotEditor) -> None:
        analysis = editor.analysis
        plate, path = analysis.plate, self.params.analysis_file
        if (self.width, self.height) != (plate.width, plate.height):
            scale = "" if self.render_scale == (1.0, 1.0) else (
                f" (the host renders at scale {self.render_scale[0]:g}: turn proxy/reduced resolution off)")
            raise AnalysisMismatchError(
                f"Analysis File {path} was made on a {plate.width}x{plate.height} plate ({plate.path}) but this "
                f"node's source is {self.width}x{self.height}{scale}; set the analysis of this clip, or analyse it "
                "with `emotionedit analyze`")
        numbers = plate.frame_numbers
        if self.frame_number not in set(numbers):
            raise AnalysisMismatchError(
                f"frame {self.frame_number} (host frame {self.time:g} + Frame Offset {self.params.frame_offset}) is "
                f"not in Analysis File {path}, which covers frames {numbers[0]}-{numbers[-1]}. Set Frame Offset to "
                "the plate's frame number at host frame 0 (hosts such as MLT count a clip from 0, so a clip that "
                f"starts at plate frame {numbers[0]} needs Frame Offset {numbers[0]}), or analyse the frames you "
                "render")
        if not analysis.steady:
            self.messages.append(("warning", f"Analysis File {path}: {UNSTEADY}"))
        if editor.resting_warning:
            self.messages.append(("warning", f"Analysis File {path}: {editor.resting_warning}"))
        if analysis.fit.flags[analysis.index_of(self.frame_number)] != 0:
            self.messages.append(("warning", f"frame {self.frame_number} has no usable face in the analysis (lost, "
                                             "turned to profile or unreliable); it passes through unedited"))

    def _plan_plate_check(self, editor: ShotEditor) -> None:
        """Widen ``read_rect`` to the pixels the plate check reads; a pass-through frame reads and checks nothing."""
        if self.frame.write_rect is None:
            return
        if editor.analysis.thumbnails is None:
            self.messages.append(("warning", f"Analysis File {self.params.analysis_file}: {UNCHECKED}"))
            return
        if os.environ.get(IGNORE_PLATE_MISMATCH, "").strip() not in ("", "0") or editor.fingerprint is None:
            return
        read = self.frame.read_rect
        around = read if read is not None else self.frame.write_rect
        y0, x0, y1, x1 = cells_region((self.height, self.width), (around.y0, around.x0, around.y1, around.x1))
        if read is not None:
            y0, x0, y1, x1 = min(y0, read.y0), min(x0, read.x0), max(y1, read.y1), max(x1, read.x1)
        self._checker = editor
        self._source_region = Region(x0, y0, x1, y1)
        self.read_rect = self._ofx(self._source_region)

    def _check_pixels(self, src: np.ndarray, origin: tuple[int, int], sampled: bool = False) -> None:
        """Refuse the frame when ``src`` (the plate's pixels from ``origin``, row and column, or with ``sampled``
        the whole plate's fingerprint samples) is not its analysed frame; a frame offset is named with the Frame
        Offset that fits."""
        try:
            self._checker.check_pixels(src, self.frame_number, origin, sampled)
        except PlateMismatchError as exc:
            if exc.offset is None:
                raise
            raise AnalysisMismatchError(
                f"{exc}. Here: host frame {self.time:g} with Frame Offset {self.params.frame_offset} reads plate "
                f"frame {self.frame_number}, whose pixels are analysed frame {exc.match.closest}: set Frame Offset "
                f"to {self.params.frame_offset + exc.offset}") from None

    def _plan_preview(self, source: np.ndarray) -> None:
        """Track the frame on its own (preview quality) and plan it."""
        p = self.params
        editor = preview.preview_editor(source, self.frame_number, p.face)
        if editor is None:
            self.messages.append(("warning", f"no usable face found in frame {self.frame_number} (preview "
                                             "tracking); it passes through unedited"))
            self._plan(plan_frame(self.shape, self.dtype, None, None, p.output))
        else:
            self._plan(editor.plan_frame(self.shape, self.dtype, self.frame_number, p.edit, p.output))

    def _plan(self, frame: FramePlan) -> None:
        self.frame = frame.cropped(self.window_region)
        self.background = self.frame.background
        if self.frame.write_rect is not None:
            self.write_rect = self._ofx(self.frame.write_rect)
        if self.frame.read_rect is not None:
            self.read_rect = self._ofx(self.frame.read_rect)

    def _ofx(self, region: Region) -> Rect:
        """A rectangle of the top-down plate in OFX pixel coordinates (y up)."""
        x1, _, _, y2 = self.src_bounds
        return (x1 + region.x0, y2 - region.y1, x1 + region.x1, y2 - region.y0)

    def render_region(self, src: np.ndarray | None, dst: np.ndarray) -> None:
        """The pixel phase: write the output's ``write_rect`` from the source's ``read_rect``.

        src: the source's pixels of ``read_rect``, (h, w, C) top row first, read-only (None when
        ``read_rect`` is None). dst: the output's pixels of ``write_rect``, same dtype, top row first;
        every pixel is written. Neither array may be kept after the call: the node owns the memory.
        """
        if self.frame is None or self.frame.write_rect is None:
            raise RuntimeError("render_region called for a frame with nothing to write (no write_rect)")
        if self._checker is not None:
            wide = self._source_region
            self._check_pixels(src, (wide.y0, wide.x0))
            read = self.frame.read_rect
            src = None if read is None else src[read.y0 - wide.y0 : read.y1 - wide.y0,
                                                read.x0 - wide.x0 : read.x1 - wide.x0]
        self._render_frame_region(src, dst)

    def _render_frame_region(self, src: np.ndarray | None, dst: np.ndarray) -> None:
        """:meth:`render_region` on the frame's own rectangles (``src``: the engine plan's ``read_rect``)."""
        frame = self.frame
        if self.straight_alpha and self.params.output == Output.EDITED:
            read, write = frame.read_rect, frame.write_rect
            render_straight_alpha(frame.apply, dst, src, (write.y0 - read.y0, write.x0 - read.x0))
        else:
            frame.apply(dst, src)

    def render(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Render into the output's window from the whole source (the engine server, CUDA renders).

        src: (H, W, C) the whole source image, top row first.
        dst: (h, w, C) the render window of the output image, same dtype, top row first.
        The background, then :meth:`render_region` on views of the rectangles. Neither array may be
        kept after the call: the node owns the memory.
        """
        if self.frame is None:
            self._plan_preview(src)
        if self._checker is not None and self.frame.write_rect is not None:
            self._check_pixels(src, (0, 0))  # the whole source: every cell of the fingerprint
        fill_window(dst, src, self.row, self.column, zero=self.background == ZERO)
        frame = self.frame
        if frame.write_rect is None:
            return
        w, r = frame.write_rect, frame.read_rect
        into = dst[w.y0 - self.row : w.y1 - self.row, w.x0 - self.column : w.x1 - self.column]
        self._render_frame_region(None if r is None else src[r.y0 : r.y1, r.x0 : r.x1], into)

    def render_cuda(self, src_view: Mapping, dst_view: Mapping, stream_pointer: int,
                    host_access: Callable[[bool], bool] | None = None) -> None:
        """Render a frame whose images are CUDA device memory (see :mod:`emotionedit.node.gpu`)."""
        gpu.render_on_device(self.render, src_view, dst_view, stream_pointer, host_access, self.device_renderer())

    def device_renderer(self) -> gpu.DeviceRender | None:
        """:meth:`render_on_the_device` when this frame renders on a GPU in place, else None (the frame is rendered
        on the CPU: preview mode tracks the frame's pixels, the check outputs are drawn on the CPU, straight alpha
        is unpremultiplied there, and a plate checked over a source of another size reads a crop)."""
        from ..render.device import renders_on_device  # torch: CUDA renders only

        if self.frame is None or not renders_on_device(self.frame):
            return None
        if self.straight_alpha and self.params.output == Output.EDITED and self.frame.write_rect is not None:
            return None
        if self._checker is not None:
            plate = self._checker.analysis.plate
            if self.shape[:2] != (plate.height, plate.width):
                return None
        return self.render_on_the_device

    def render_on_the_device(self, src, dst, flipped: bool) -> None:
        """:meth:`render` on torch tensors of a CUDA device, queued on the current stream: src the whole source,
        dst the render window, both with their rows in memory order (``flipped``: bottom row first). Only the
        fingerprint's samples come to host memory (the plate check, before anything is written)."""
        from ..fingerprint import sample_lines
        from ..render.device import gather_samples, render_window_on_device

        if self._checker is not None and self.frame.write_rect is not None:
            samples = gather_samples(src, *sample_lines(self.shape[:2]), flipped)  # waits for the host's stream only
            self._check_pixels(samples, (0, 0), sampled=True)
        render_window_on_device(self.frame, dst, src, self.row, self.column, flipped)
