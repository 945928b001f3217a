"""A node module that misbehaves on purpose, to check the node turns it into a message.

EMOTIONEDIT_TEST_FAULT picks the fault: ``raise`` (an engine bug while rendering),
``hang`` (never returns from preparing: an import or a file system that hangs).
"""

from __future__ import annotations

import os
import time

from emotionedit.node import describe_error, purge

__all__ = ["describe_error", "prepare", "purge"]


class FaultyPlan:
    messages: list[tuple[str, str]] = []
    background = "source"

    def __init__(self, request):
        self.read_rect, self.write_rect = tuple(request["src_bounds"]), tuple(request["window"])

    def render_region(self, src, dst):
        raise ValueError("simulated engine bug")

    def render(self, src, dst):
        raise ValueError("simulated engine bug")


def prepare(request):
    if os.environ.get("EMOTIONEDIT_TEST_FAULT") == "hang":
        time.sleep(3600)
    return FaultyPlan(request)
