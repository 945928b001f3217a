"""One node connection: read a message, check it, answer it; refuse anything else and hang up.

A connection belongs to one render slot of the node (one render thread at a time) and
carries its own shared-memory segment. Its life: ``HELLO`` (versions both ways), then
any number of ``SEGMENT`` (a new, larger segment), ``RENDER`` and ``PURGE``. A message
that breaks the protocol gets an ``ERROR`` reply naming the problem and the connection
is closed; the server and its other connections carry on. Engine failures are not
protocol errors: they come back as a RENDER reply with a status and a message.
"""

from __future__ import annotations

import array
import os
import socket
import sys
from collections.abc import Callable

import numpy as np

from . import cuda_ipc
from .frame_request import parse_frame
from .protocol import (
    HEADER,
    PROTOCOL,
    Header,
    Kind,
    ProtocolError,
    decode_fields,
    encode,
    field,
    parse_header,
)
from .segment import Segment

#: File descriptors one message may carry (SEGMENT carries one; more is refused).
MAX_FDS = 4


class VersionMismatch(ProtocolError):
    """The node speaks another protocol or runs another EmotionEdit version."""


class Connection:
    """Serves one accepted socket until the node hangs up or breaks the protocol.

    server: the :class:`~emotionedit.server.server.Server` (engine, versions, engine lock).
    """

    def __init__(self, sock: socket.socket, server):
        self.sock = sock
        self.server = server
        self.segment: Segment | None = None
        self.greeted = False

    # -- the loop

    def serve(self) -> None:
        try:
            while True:
                fds: list[int] = []
                try:
                    message = self._read(fds)
                    if message is None:
                        return  # the node closed this slot
                    header, fields = message
                    kind, reply = self._answer(header, fields, fds)
                finally:
                    for fd in fds:  # anything not consumed (a segment takes its own)
                        os.close(fd)
                self.sock.sendall(encode(kind, header.request, reply))
        except ProtocolError as exc:
            self._refuse(exc)
        except OSError:
            pass  # the node went away mid-message (a killed host, a timed-out render)
        finally:
            self.sock.close()
            if self.segment is not None:
                self.segment.close()

    def _refuse(self, exc: ProtocolError) -> None:
        if not isinstance(exc, VersionMismatch):
            print(f"EmotionEdit engine server: refused a request: {exc}", file=sys.stderr, flush=True)
        try:
            self.sock.sendall(encode(Kind.ERROR, 0, {"message": str(exc)}))
        except OSError:
            pass

    def _recv(self, count: int, fds: list[int]) -> bytes:
        data = bytearray()
        space = socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize)
        while len(data) < count:
            chunk, ancillary, flags, _ = self.sock.recvmsg(count - len(data), space)
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    received = array.array("i")
                    received.frombytes(payload[: len(payload) - len(payload) % received.itemsize])
                    fds.extend(received)
            if flags & socket.MSG_CTRUNC:
                raise ProtocolError(f"a message carried more than {MAX_FDS} file descriptors")
            if not chunk:
                if data:
                    raise ProtocolError(f"the message ended after {len(data)} of {count} bytes")
                raise EOFError
            data += chunk
        return bytes(data)

    def _read(self, fds: list[int]) -> tuple[Header, dict] | None:
        try:
            header = parse_header(self._recv(HEADER.size, fds))
        except EOFError:
            return None
        if header.protocol != PROTOCOL:
            raise VersionMismatch(self.server.protocol_refusal(header.protocol))
        try:
            body = self._recv(header.length, fds) if header.length else b""
        except EOFError:
            raise ProtocolError(f"the connection closed inside a {header.length}-byte body") from None
        return header, decode_fields(body)

    # -- the messages

    def _answer(self, header: Header, fields: dict, fds: list[int]) -> tuple[int, dict]:
        if header.kind != Kind.HELLO and not self.greeted:
            raise ProtocolError(f"the first message must be HELLO (kind {int(Kind.HELLO)}), got kind {header.kind}")
        if header.kind == Kind.HELLO:
            return Kind.HELLO, self._hello(fields)
        if fds and header.kind != Kind.SEGMENT:
            raise ProtocolError(f"only SEGMENT messages carry file descriptors (kind {header.kind} had {len(fds)})")
        if header.kind == Kind.SEGMENT:
            if len(fds) != 1:
                raise ProtocolError(f"a SEGMENT message carries exactly one file descriptor, got {len(fds)}")
            size = field(fields, "size", int)
            segment = Segment(fds.pop(), size)  # takes the descriptor
            if self.segment is not None:
                self.segment.close()
            self.segment = segment
            return Kind.SEGMENT, {"size": segment.size}
        if header.kind == Kind.RENDER:
            return Kind.RENDER, self._render(fields)
        if header.kind == Kind.PURGE:
            self.server.purge()
            return Kind.PURGE, {}
        raise ProtocolError(f"unknown message kind {header.kind}")

    def _hello(self, fields: dict) -> dict:
        problem = self.server.hello_refusal(fields)
        if problem:
            raise VersionMismatch(problem)
        self.greeted = True
        return self.server.hello_reply()

    def _render(self, fields: dict) -> dict:
        frame = parse_frame(fields)
        pixels: Callable[[object], None]
        if frame.request["cuda"]:
            shared = cuda_ipc.parse_cuda(fields, frame)

            def pixels(plan):
                cuda_ipc.render_shared(plan.render, shared, plan.device_renderer())
        else:
            if self.segment is None:
                raise ProtocolError("RENDER before any SEGMENT: there is no shared memory to read the frame from")
            src = self.segment.view(frame.src_offset, frame.src_shape, frame.dtype, writable=False)
            dst = self.segment.view(frame.dst_offset, frame.dst_shape, frame.dtype, writable=True)

            def pixels(plan, src: np.ndarray = src, dst: np.ndarray = dst):
                plan.render(src, dst)
        return self.server.render(frame, pixels)
