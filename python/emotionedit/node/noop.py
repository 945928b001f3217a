"""A stand-in for :mod:`emotionedit.node` that does no engine work, to time the bridge itself.

``EMOTIONEDIT_NODE_MODULE=emotionedit.node.noop`` makes the C++ node call this module
instead: every frame still crosses the whole path (host images and parameters, the
copies in and out, the job queue, the worker thread, the GIL, numpy views of the
pixels), but ``render`` only touches one pixel. ``bench/bench_bridge.py`` uses it; it
is no use in a project.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import describe_error

__all__ = ["describe_error", "prepare", "purge"]


class NoopPlan:
    messages: list[tuple[str, str]] = []

    def render(self, src, dst) -> None:
        dst[0, 0] = src[0, 0]  # proves both views reach the frame's pixels

    def render_cuda(self, src_view, dst_view, stream_pointer, host_access=None) -> None:
        pass


def prepare(request: Mapping) -> NoopPlan:
    return NoopPlan()


def purge() -> None:
    pass
