"""The real node module, except that one frame stalls in its render (the pixel phase: ``render_region``
in-process, ``render`` in the engine server): for killing or timing out the engine mid-render.

EMOTIONEDIT_TEST_STALL_AT: the host time of the frame that stalls. When its render
starts, the process id is written to EMOTIONEDIT_TEST_STALL_MARKER if set (so a test knows
the server is mid-render and whom to kill), then the render sleeps for
EMOTIONEDIT_TEST_STALL_SECONDS (default 60) and then renders the frame after all, writing
its pixels late. Every other frame renders normally.
"""

from __future__ import annotations

import os
import time

from emotionedit.node import describe_error, purge
from emotionedit.node import prepare as real_prepare

__all__ = ["describe_error", "prepare", "purge"]


class StallingPlan:
    def __init__(self, plan, stall: bool):
        self.plan, self.stall = plan, stall
        self.messages = plan.messages
        self.read_rect, self.write_rect, self.background = plan.read_rect, plan.write_rect, plan.background

    def _stall(self):
        if self.stall:
            marker = os.environ.get("EMOTIONEDIT_TEST_STALL_MARKER")
            if marker:
                with open(marker + ".partial", "w") as out:
                    out.write(str(os.getpid()))
                os.replace(marker + ".partial", marker)
            time.sleep(float(os.environ.get("EMOTIONEDIT_TEST_STALL_SECONDS", "60")))

    def render_region(self, src, dst):
        self._stall()
        self.plan.render_region(src, dst)

    def render(self, src, dst):
        self._stall()
        self.plan.render(src, dst)


def prepare(request):
    stall = float(request["time"]) == float(os.environ.get("EMOTIONEDIT_TEST_STALL_AT", "nan"))
    return StallingPlan(real_prepare(request), stall)
