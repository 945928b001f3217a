"""The engine server: the node module behind a private Unix socket, one thread per connection.

The node starts it (``python -I -m emotionedit.server``, see :mod:`emotionedit.server.__main__`)
and hands it two file descriptors: a Unix socket already listening in a private directory
(mode 0700, a name nobody can guess) and the read end of a *lifeline* pipe whose write end
only the host process holds. The server

- imports the node module (the same ``emotionedit.node`` the in-process bridge drives);
- accepts connections from processes of its own user only (``SO_PEERCRED``), at most
  MAX_CONNECTIONS at once, each served by :class:`~emotionedit.server.connection.Connection`;
- runs the engine for one frame at a time (one lock), as the in-process worker does;
- exits when the lifeline reads end-of-file: the host has gone, however it ended.

If the node module cannot be imported, the first HELLO is answered with the reason and
the server exits (status 3); the node shows the reason and tries a fresh server later.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable

import emotionedit

from .frame_request import FrameRequest
from .protocol import PROTOCOL, field

MAX_CONNECTIONS = 64

# OFX status codes (cpp/ofx/ofx_core.h) and the node's message levels (cpp/bridge/bridge_api.h).
OK, FAILED = 0, 1
LEVEL_NONE, LEVEL_WARNING, LEVEL_ERROR = 0, 1, 2
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


def engine_version() -> str:
    """The EmotionEdit version this server runs (read when asked: the loaded package's)."""
    return emotionedit.__version__


class Server:
    """Serves the node module on ``listener`` until the lifeline closes.

    listener: a listening Unix stream socket. lifeline: a file descriptor that reads EOF
    when the host process ends. module: the node module's name. socket_path: the
    listener's path (removed, with its private directory, on the way out).
    """

    def __init__(self, listener: socket.socket, lifeline: int, module: str, socket_path: str = ""):
        self.listener = listener
        self.lifeline = lifeline
        self.module_name = module
        self.socket_path = socket_path
        self.engine = None
        self.engine_error = ""
        self.lock = threading.Lock()  # one frame at a time through the engine
        self.active = threading.BoundedSemaphore(MAX_CONNECTIONS)

    # -- life

    def serve_forever(self) -> None:
        threading.Thread(target=self._watch_lifeline, name="lifeline", daemon=True).start()
        self._load_engine()
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError as exc:  # out of file descriptors, a connection reset before it was accepted
                print(f"EmotionEdit engine server: accept failed: {exc}", file=sys.stderr, flush=True)
                time.sleep(0.1)
                continue
            if not self._trusted(conn) or not self.active.acquire(blocking=False):
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), name="connection", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            # Imported here, inside the guard: the protocol side never needs the engine (whose import may fail and
            # is then reported to the node), and a failure here must still close the connection.
            from .connection import Connection

            Connection(conn, self).serve()
        except BaseException:  # noqa: BLE001 - a connection must never take the server down
            traceback.print_exc(file=sys.stderr)
            conn.close()
        finally:
            self.active.release()
        if self.engine is None:
            self.exit(3)  # the engine cannot be imported: the node has been told; it starts a fresh server later

    def _load_engine(self) -> None:
        try:
            self.engine = importlib.import_module(self.module_name)
        except BaseException as exc:  # noqa: BLE001 - anything an import raises is reported to the node
            self.engine_error = (
                f"the engine could not be imported (module {self.module_name} in {sys.executable}): "
                f"{type(exc).__name__}: {exc}. Install EmotionEdit in that environment (`make setup`, or "
                "`pip install -e .`), or set EMOTIONEDIT_PYTHON to the environment that has it")

    def _trusted(self, conn: socket.socket) -> bool:
        _, uid, _ = _PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
        if uid != os.getuid():
            print(f"EmotionEdit engine server: refused a connection from user {uid}", file=sys.stderr, flush=True)
            return False
        return True

    def _watch_lifeline(self) -> None:
        try:
            while os.read(self.lifeline, 64):
                pass
        except OSError:
            pass
        self.exit(0)

    def exit(self, code: int) -> None:
        """Leave at once (engine threads may be mid-frame; nothing of theirs is worth finishing)."""
        if self.socket_path:
            with contextlib.suppress(OSError):
                os.unlink(self.socket_path)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(self.socket_path))  # the node's private directory, if now empty
        sys.stderr.flush()
        os._exit(code)

    # -- versions

    def protocol_refusal(self, theirs: int) -> str:
        return (f"the EmotionEdit node speaks engine protocol {theirs} but the engine server in {sys.executable} "
                f"(EmotionEdit {engine_version()}) speaks protocol {PROTOCOL}: they come from different EmotionEdit "
                "versions. Rebuild the node from the engine's checkout (`make ofx`) or point EMOTIONEDIT_PYTHON "
                "at the environment the node was built with")

    def hello_refusal(self, fields: dict) -> str:
        """Why this node may not use this server ("" if it may)."""
        if self.engine_error:
            return self.engine_error
        theirs = field(fields, "version", str)
        ours = engine_version()
        if theirs != ours:
            return (f"this EmotionEdit node is version {theirs} but the engine server in {sys.executable} runs "
                    f"EmotionEdit {ours}; node and engine must be the same version. Rebuild the node from the "
                    "engine's checkout (`make ofx`), or point EMOTIONEDIT_PYTHON at the environment the node was "
                    "built with")
        return ""

    def hello_reply(self) -> dict:
        return {"protocol": PROTOCOL, "version": engine_version(), "pid": os.getpid(), "python": sys.executable,
                "module": self.module_name}

    # -- the engine

    def render(self, frame: FrameRequest, pixels: Callable[[object], None]) -> dict:
        """Prepare and render one frame; every failure becomes a status and a message, as in the bridge.

        pixels(plan): runs the plan on the frame's pixels.
        """
        with self.lock:
            try:
                if frame.purge:
                    self.purge_unlocked()
                plan = self.engine.prepare(frame.request)
                pixels(plan)
            except BaseException as exc:  # noqa: BLE001 - every engine failure is the node's message
                status, text = self._describe(exc)
                return {"status": status, "level": LEVEL_ERROR, "message": text}
        level, lines = LEVEL_NONE, []
        for kind, text in getattr(plan, "messages", ()):
            level = max(level, LEVEL_ERROR if kind == "error" else LEVEL_WARNING)
            lines.append(str(text))
        return {"status": OK, "level": level, "message": "\n".join(lines)}

    def _describe(self, exc: BaseException) -> tuple[int, str]:
        """(status, message) for an exception from the engine; always a failed status, as the frame was not
        (completely) rendered, whatever status the engine's ``describe_error`` gives."""
        try:
            status, text = self.engine.describe_error(exc)
            return (int(status) if int(status) != OK else FAILED), str(text)
        except BaseException as inner:  # noqa: BLE001
            return FAILED, f"the engine failed: {type(exc).__name__}: {exc} (and describing it failed: {inner})"

    def purge(self) -> None:
        with self.lock:
            self.purge_unlocked()

    def purge_unlocked(self) -> None:
        purge = getattr(self.engine, "purge", None)
        if purge is not None:
            purge()
