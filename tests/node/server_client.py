"""Start the engine server the way the node does, and talk to it from a test.

:func:`start` mirrors ``cpp/node/server_process.cpp``: a private directory (0700), a
listening Unix socket bound in it (fd 3), the read end of a lifeline pipe (fd 4), the
isolated interpreter with the bootstrap. :class:`Client` speaks the protocol
(``emotionedit.server.protocol``) and can also send bytes no node would.
"""

from __future__ import annotations

import array
import mmap
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ofxhost import engine_env

from emotionedit import __version__
from emotionedit.server.protocol import HEADER, Kind, decode_fields, encode, parse_header

REPO = Path(__file__).resolve().parents[2]
# The same bootstrap the node passes to `python -I -c` (cpp/node/server_process.cpp, kBootstrap).
BOOTSTRAP = ("import sys,runpy; p=sys.argv.pop(1); m=sys.argv.pop(1); sys.path[:0]=[d for d in p.split(':') if d]; "
             "runpy.run_module(m, run_name='__main__', alter_sys=True)")


@dataclass
class ServerProcess:
    process: subprocess.Popen
    socket_path: str
    lifeline: int  # the write end: closing it is the host going away
    clients: list = field(default_factory=list)

    def connect(self, hello: bool = True) -> Client:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(20)
        sock.connect(self.socket_path)
        client = Client(sock)
        self.clients.append(client)
        if hello:
            kind, fields = client.hello()
            assert kind == Kind.HELLO, fields
        return client

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        if self.lifeline >= 0:
            os.close(self.lifeline)
            self.lifeline = -1
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(module: str = "emotionedit.node", server_module: str = "emotionedit.server",
          env: dict[str, str] | None = None) -> ServerProcess:
    folder = tempfile.mkdtemp(prefix="emotionedit-")  # 0700
    path = os.path.join(folder, f"engine-{secrets.token_hex(8)}.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    read_end, write_end = os.pipe()
    environment = env or engine_env()
    python_path = environment["EMOTIONEDIT_PYTHONPATH"]
    command = [sys.executable, "-I", "-c", BOOTSTRAP, python_path, server_module,
               "--listen-fd", str(listener.fileno()), "--lifeline-fd", str(read_end), "--socket", path,
               "--module", module]
    process = subprocess.Popen(command, env=environment, stdin=subprocess.DEVNULL,
                               pass_fds=(listener.fileno(), read_end))
    listener.close()
    os.close(read_end)
    return ServerProcess(process, path, write_end)


def shared_memory(size: int) -> tuple[int, mmap.mmap]:
    """A shared-memory object as the node makes one: unpredictable name, 0600, unlinked at once."""
    path = f"/dev/shm/emotionedit-test-{secrets.token_hex(8)}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.unlink(path)
    os.ftruncate(fd, size)
    return fd, mmap.mmap(fd, size)


class Client:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.request = 0

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes, fds: tuple[int, ...] = ()) -> None:
        if fds:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        else:
            self.sock.sendall(data)

    def send(self, kind: int, fields: dict, fds: tuple[int, ...] = ()) -> None:
        self.request += 1
        self.send_raw(encode(kind, self.request, fields), fds)

    def receive(self) -> tuple[int, dict] | None:
        """The next reply (kind, fields), or None when the server closed the connection."""
        head = self._exact(HEADER.size)
        if head is None:
            return None
        header = parse_header(head)
        body = self._exact(header.length) if header.length else b""
        return header.kind, decode_fields(body or b"")

    def _exact(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except ConnectionResetError:  # closed with our unread bytes in its buffer
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def call(self, kind: int, fields: dict, fds: tuple[int, ...] = ()) -> tuple[int, dict] | None:
        self.send(kind, fields, fds)
        return self.receive()

    def hello(self, version: str = __version__) -> tuple[int, dict] | None:
        return self.call(Kind.HELLO, {"protocol": 1, "version": version, "pid": os.getpid()})

    def segment(self, size: int) -> mmap.mmap:
        fd, memory = shared_memory(size)
        try:
            reply = self.call(Kind.SEGMENT, {"size": size}, (fd,))
        finally:
            os.close(fd)
        assert reply is not None and reply[0] == Kind.SEGMENT, reply
        return memory


def wait_gone(server: ServerProcess, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not server.alive():
            return True
        time.sleep(0.05)
    return False
