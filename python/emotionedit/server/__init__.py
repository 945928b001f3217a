"""The engine server: EmotionEdit's engine in a process of its own, for the OpenFX node.

Hosts that run their own Python (Nuke, Natron, a pipeline script driving MLT) cannot
take a second interpreter in their process: another libpython binds to the wrong
symbols, and a host thread holding the GIL while it waits for a render deadlocks it.
There the node renders through this server instead (``cpp/node/server_transport.cpp``):
the same node module (:mod:`emotionedit.node`) the in-process bridge drives, in the
engine's own virtual environment.

- :mod:`.protocol`: message framing and fields, versioned (shared with ``cpp/node/wire.h``).
- :mod:`.segment`: the shared-memory segment frames travel through.
- :mod:`.frame_request`: a RENDER message, checked, as the node module's request.
- :mod:`.cuda_ipc`: CUDA renders, with the host's device images shared by CUDA IPC.
- :mod:`.connection`: one node connection.
- :mod:`.server`: the accept loop, the engine, the host's lifeline.
- ``python -m emotionedit.server``: what the node starts (:mod:`.__main__`).
"""

from .protocol import PROTOCOL, Kind, ProtocolError

__all__ = ["PROTOCOL", "Kind", "ProtocolError"]
