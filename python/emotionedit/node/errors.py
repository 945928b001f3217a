"""Failures as the host sees them: an OFX status and one message for the node.

The bridge calls :func:`describe_error` for every exception the node module raises,
so Python decides how each becomes a status; nothing raised here reaches the host.
"""

from __future__ import annotations

import sys
import traceback

from ..errors import UserError

# OFX status codes (cpp/ofx/ofx_core.h).
OK = 0
FAILED = 1
GPU_OUT_OF_MEMORY = 1001
GPU_RENDER_FAILED = 1002


#: torch's exceptions for a failing device (its out-of-memory becomes the host's GPU out-of-memory status).
GPU_ERRORS = ("OutOfMemoryError", "AcceleratorError")


class GpuUnavailable(Exception):
    """The host asked for a CUDA render this environment cannot do; the host may retry on the CPU."""


class FrameAbandoned(Exception):
    """The host stopped waiting for this frame (the node's time limit): its images must not be used."""


def describe_error(exc: BaseException) -> tuple[int, str]:
    """(OFX status, message for the user) for an exception raised while rendering."""
    if isinstance(exc, FrameAbandoned):
        return FAILED, str(exc)  # nobody waits for this answer: no traceback either
    if isinstance(exc, GpuUnavailable):
        return GPU_RENDER_FAILED, f"CUDA render unavailable: {exc}; the host can render this node on the CPU"
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith(("cupy", "cupy_backends")) or (module.startswith("torch") and name in GPU_ERRORS):
        status = GPU_OUT_OF_MEMORY if name == "OutOfMemoryError" else GPU_RENDER_FAILED
        return status, f"CUDA render failed: {name}: {exc}"
    if isinstance(exc, UserError):
        return FAILED, str(exc)
    # A bug: the user gets one line, the terminal (or the host's log) the whole story.
    print("EmotionEdit: internal error while rendering:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    return FAILED, (f"internal error in the engine: {type(exc).__name__}: {exc}. This is a bug in EmotionEdit; "
                    "the traceback is on the host's terminal (stderr)")
