"""The Python side of the EmotionEdit OpenFX node.

The C++ node (``cpp/``, built into ``plugin/EmotionEdit.ofx.bundle``) drives this module
through one of two transports: embedded CPython on one worker thread (the bridge), or
the engine server (:mod:`emotionedit.server`, a process of its own). The contract, the
same for both, so both render the same frames:

- :func:`prepare` ``(request: dict) -> Plan``: everything that needs no pixels.
- ``Plan.render(src, dst)``: numpy views of the pixels (the node's private copies
  in-process, the shared-memory segment in the server; never the host's own memory, so
  the node can give up on a frame at its time limit), top row first; ``src`` is the whole
  source (read-only), ``dst`` the render window.
- ``Plan.render_cuda(src_view, dst_view, stream, host_access)``: the same with the host's CUDA
  device memory, used only under ``host_access`` (see :mod:`emotionedit.node.gpu`).
- ``Plan.messages``: ``(level, text)`` pairs shown on the node after the render.
- :func:`describe_error` ``(exc) -> (ofx_status, message)`` for anything raised.
- :func:`purge`: drop cached editors (the host's PurgeCaches).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import editors, preview
from .errors import describe_error
from .plan import Plan

__all__ = ["Plan", "describe_error", "prepare", "purge"]


def prepare(request: Mapping) -> Plan:
    """Prepare one frame's render from the node's request (see :class:`Plan`)."""
    return Plan(request)


def purge() -> None:
    """Forget cached editors and preview tracks (they are rebuilt on demand)."""
    editors.clear()
    preview.clear()
