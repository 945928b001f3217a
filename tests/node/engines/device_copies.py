"""The real node module, recording after every CUDA render how many frames were rendered in place on the device
and how many whole images crossed between the device and host memory (``emotionedit.node.gpu.FRAME_COPIES``):
one JSON line per render, appended to the file that ``EMOTIONEDIT_TEST_COPIES`` names. Works in-process and in
the engine server (both render CUDA frames through ``gpu.render_on_device``)."""

from __future__ import annotations

import json
import os

from emotionedit.node import describe_error, gpu, prepare, purge

__all__ = ["describe_error", "prepare", "purge"]

_render_on_device = gpu.render_on_device


def _counted(*args, **kwargs) -> None:
    try:
        _render_on_device(*args, **kwargs)
    finally:
        with open(os.environ["EMOTIONEDIT_TEST_COPIES"], "a", encoding="utf-8") as out:
            out.write(json.dumps(dict(gpu.FRAME_COPIES)) + "\n")


gpu.render_on_device = _counted
