"""A node module whose plan asks for rectangles given by the test, to check what the node hands the pixel phase.

EMOTIONEDIT_TEST_READ, EMOTIONEDIT_TEST_WRITE: OFX rectangles "x1,y1,x2,y2" (y up) for the plan's
read_rect and write_rect, "none" for None, or (write only) "window" for the render window;
EMOTIONEDIT_TEST_BACKGROUND: "source" (default) or "zero", or anything else (passed on as given).
render_region checks it received exactly the rectangles' shapes and writes each pixel of the write
rectangle as the source's pixel there inverted (full value minus it; the write rectangle must lie in the
read one), or 3 when the plan reads nothing, so a test can tell the pixels it was given.
A write rectangle with raise_if_called in EMOTIONEDIT_TEST_FLAGS makes render_region raise: for a plan that
must not reach the pixel phase.
"""

from __future__ import annotations

import os

import numpy as np

from emotionedit.node import describe_error, purge

__all__ = ["describe_error", "prepare", "purge"]


def _rect(name: str, request):
    text = os.environ.get(name, "none")
    if text == "none":
        return None
    if text == "window":
        return tuple(request["window"])
    if text == "bad":
        return "x1,y1"
    return tuple(int(v) for v in text.split(","))


def _shape(rect, channels):
    return (rect[3] - rect[1], rect[2] - rect[0], channels)


class ProbePlan:
    messages: list[tuple[str, str]] = []

    def __init__(self, request):
        self.channels = request["components"]
        self.read_rect = _rect("EMOTIONEDIT_TEST_READ", request)
        self.write_rect = _rect("EMOTIONEDIT_TEST_WRITE", request)
        self.background = os.environ.get("EMOTIONEDIT_TEST_BACKGROUND", "source")

    def render_region(self, src, dst):
        if "raise_if_called" in os.environ.get("EMOTIONEDIT_TEST_FLAGS", ""):
            raise AssertionError("the pixel phase ran for a frame with nothing to write")
        assert dst.shape == _shape(self.write_rect, self.channels), (dst.shape, self.write_rect)
        assert dst.flags.writeable
        if self.read_rect is None:
            assert src is None
            dst[...] = 3
            return
        assert src.shape == _shape(self.read_rect, self.channels), (src.shape, self.read_rect)
        assert not src.flags.writeable
        # Rows run top-down: the write rectangle's top row is read_rect's row y2 - write y2.
        row, column = self.read_rect[3] - self.write_rect[3], self.write_rect[0] - self.read_rect[0]
        part = src[row : row + dst.shape[0], column : column + dst.shape[1]]
        full = np.iinfo(src.dtype).max if src.dtype.kind == "u" else 1.0
        dst[...] = full - part


def prepare(request):
    return ProbePlan(request)
