"""The Python side of the EmotionEdit OpenFX node.

The C++ node (``cpp/``, built into ``plugin/EmotionEdit.ofx.bundle``) drives this module
through one of two transports: embedded CPython on one worker thread (the bridge), or
the engine server (:mod:`emotionedit.server`, a process of its own). The contract, the
same for both, so both render the same frames:

- :func:`prepare` ``(request: dict) -> Plan``: everything that needs no pixels, ending with the
  frame's rectangles (OFX pixel rectangles x1, y1, x2, y2, y up): ``Plan.read_rect``, the source
  pixels the pixel phase reads, and ``Plan.write_rect``, the output pixels inside the render window
  it writes (None: a pass-through frame, no pixel phase); ``Plan.background`` ("source" or "zero")
  says what the rest of the window holds. The in-process node's CPU requests carry
  ``request["source"]``: in preview mode the whole source (a private copy: tracking needs it),
  else None.
- ``Plan.render_region(src, dst)`` (in-process CPU renders): ``src`` the source's ``read_rect``,
  ``dst`` the output's ``write_rect``, numpy views of the node's private copies, top row first.
  The C++ node fills the window with the background itself and copies ``dst`` over it, only
  if the frame finished within its time limit.
- ``Plan.render(src, dst)`` (the engine server): the whole source (read-only) and the render
  window, in shared memory; the same pixels as the two steps above.
- ``Plan.render_cuda(src_view, dst_view, stream, host_access)``: the same with the host's CUDA
  device memory, used only under ``host_access`` (see :mod:`emotionedit.node.gpu`).
- ``Plan.messages``: ``(level, text)`` pairs shown on the node after the render.
- :func:`describe_error` ``(exc) -> (ofx_status, message)`` for anything raised.
- :func:`purge`: drop cached editors (the host's PurgeCaches).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ..process import one_blas_thread
from . import editors, preview
from .errors import describe_error
from .plan import Plan

# In a host's process the engine plans with one BLAS thread, as in its own processes (see emotionedit.process).
one_blas_thread()

__all__ = ["Plan", "describe_error", "prepare", "purge"]


def prepare(request: Mapping) -> Plan:
    """Prepare one frame's render from the node's request (see :class:`Plan`)."""
    return Plan(request)


def purge() -> None:
    """Forget cached editors and preview tracks (they are rebuilt on demand), and give back the GPU memory that
    CUDA renders keep cached."""
    editors.clear()
    preview.clear()
    torch = sys.modules.get("torch")  # loaded by a CUDA render only
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
