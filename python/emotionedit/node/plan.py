"""One frame's render, in the two phases the node runs it in.

:meth:`Plan.__init__` does everything that needs no pixels (reading the parameters,
loading the analysis, building the editor); :meth:`Plan.render` then takes the pixels
(tracking the frame in preview mode, the warp). Either may be slow, and the node may
give up on either at its time limit: the pixels are never the host's own memory on a
CPU render (in-process they are the node's private copies, in the engine server its
shared memory), and on a CUDA render the host's memory is used only under the node's
``host_access`` gate (:mod:`emotionedit.node.gpu`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..engine import ShotEditor
from ..errors import AnalysisMismatchError
from ..render import Output
from . import gpu, preview
from .alpha import UNPREMULTIPLIED, render_straight_alpha
from .editors import editor_for
from .params import NodeParams
from .window import render_window


class Plan:
    """The render of one frame: prepared from the node's request, then run on its pixels.

    request: what the C++ node sends (see ``cpp/bridge/bridge.cpp``, ``frame_dict``):
    ``time``, ``params`` ({script name: value}), ``dtype``, ``components``,
    ``premultiplication`` (OFX's: straight alpha is warped premultiplied, see :mod:`.alpha`),
    ``src_bounds``/``dst_bounds``/``window`` (OFX pixel rectangles x1, y1, x2, y2, y up),
    ``render_scale`` and ``cuda``.
    """

    def __init__(self, request: Mapping):
        self.params = NodeParams.from_values(request["params"])
        self.time = float(request["time"])
        self.frame_number = self.params.frame_number(self.time)
        x1, y1, x2, y2 = request["src_bounds"]
        wx1, wy1, wx2, wy2 = request["window"]
        self.width, self.height = x2 - x1, y2 - y1
        # The window's top-left in the top-down source view (OFX rows count up from y1).
        self.row, self.column = y2 - wy2, wx1 - x1
        self.render_scale = tuple(request.get("render_scale", (1.0, 1.0)))
        self.straight_alpha = request.get("premultiplication") == UNPREMULTIPLIED and request["components"] == 4
        #: (level, text) pairs for the node's message: "warning" or "error".
        self.messages: list[tuple[str, str]] = []
        self.editor: ShotEditor | None = None
        if self.params.analysis_file:
            self.editor = editor_for(self.params.analysis_file, self.params.smoothing)
            self._check_frame()
        else:
            self.messages.append(("warning", preview.NOTE))
            preview.warm_up()

    def _check_frame(self) -> None:
        analysis = self.editor.analysis
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
        if analysis.fit.flags[analysis.index_of(self.frame_number)] != 0:
            self.messages.append(("warning", f"frame {self.frame_number} has no usable face in the analysis (lost, "
                                             "turned to profile or unreliable); it passes through unedited"))

    def _editor_for(self, src: np.ndarray) -> ShotEditor | None:
        if self.editor is not None:
            return self.editor
        editor = preview.preview_editor(src, self.frame_number, self.params.face)
        if editor is None:
            self.messages.append(("warning", f"no usable face found in frame {self.frame_number} (preview "
                                             "tracking); it passes through unedited"))
        return editor

    def render(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Render into the output's window.

        src: (H, W, C) the whole source image, top row first.
        dst: (h, w, C) the render window of the output image, same dtype, top row first.
        Neither array may be kept after the call: the node owns the memory.
        """
        editor = self._editor_for(src)
        p = self.params

        def render_plate(out: np.ndarray) -> None:
            if editor is None:
                out[...] = 0 if p.output == Output.MATTE else src
            elif self.straight_alpha and p.output == Output.EDITED:
                render_straight_alpha(
                    lambda into, plate: editor.render_into(into, plate, self.frame_number, p.edit, p.output), out, src)
            else:
                editor.render_into(out, src, self.frame_number, p.edit, p.output)

        render_window(render_plate, src, dst, self.row, self.column)

    def render_cuda(self, src_view: Mapping, dst_view: Mapping, stream_pointer: int,
                    host_access: Callable[[bool], bool] | None = None) -> None:
        """Render a frame whose images are CUDA device memory (see :mod:`emotionedit.node.gpu`)."""
        gpu.render_on_device(self.render, src_view, dst_view, stream_pointer, host_access)
