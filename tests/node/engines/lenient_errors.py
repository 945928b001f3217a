"""A node module that raises, and whose describe_error calls every failure OK: the node must fail the frame anyway.

EMOTIONEDIT_TEST_RAISE_IN picks the phase that raises: ``prepare`` (no plan) or ``render``
(the pixel phase: the output is never written; the plan asks for the whole window).
"""

from __future__ import annotations

import os

from emotionedit.node import purge

__all__ = ["describe_error", "prepare", "purge"]


def describe_error(exc: BaseException) -> tuple[int, str]:
    return 0, f"all is well, really ({exc})"  # status 0: OK


class RaisingPlan:
    messages: list[tuple[str, str]] = []
    background = "source"

    def __init__(self, request):
        self.read_rect, self.write_rect = tuple(request["src_bounds"]), tuple(request["window"])

    def render_region(self, src, dst):
        raise RuntimeError("the render phase raised")

    def render(self, src, dst):
        raise RuntimeError("the render phase raised")


def prepare(request):
    if os.environ.get("EMOTIONEDIT_TEST_RAISE_IN") == "prepare":
        raise RuntimeError("the prepare phase raised")
    return RaisingPlan(request)
