"""A stand-in for :mod:`emotionedit.node` that does no engine work, to time the node itself.

``EMOTIONEDIT_NODE_MODULE=emotionedit.node.noop`` makes the C++ node call this module
instead. Every frame is planned as a pass-through frame (no read or write rectangle, as at
intensity 0 or without a face), so in-process it still crosses the whole path (host images
and parameters, the job queue, the worker thread, the GIL, the plan's rectangles back, the
copy of the render window from the source into the output) without a pixel phase. The engine
server (and a CUDA render) calls ``render`` with the whole source and the window, which
touches one pixel here. ``bench/bench_bridge.py`` and ``bench/bench_transport.py`` use it; it
is no use in a project.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import describe_error

__all__ = ["describe_error", "prepare", "purge"]


class NoopPlan:
    messages: list[tuple[str, str]] = []
    read_rect = None  # a pass-through frame: no pixel phase
    write_rect = None
    background = "source"

    def render(self, src, dst) -> None:
        dst[0, 0] = src[0, 0]  # proves both views reach the frame's pixels

    def render_cuda(self, src_view, dst_view, stream_pointer, host_access=None) -> None:
        pass


def prepare(request: Mapping) -> NoopPlan:
    return NoopPlan()


def purge() -> None:
    pass
