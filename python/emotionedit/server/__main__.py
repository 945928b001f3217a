"""Start the engine server: what the node runs (``cpp/node/server_process.cpp``).

    <engine python> -I -c BOOTSTRAP <python path> emotionedit.server --listen-fd 3 --lifeline-fd 4 \\
        --socket <private dir>/<name>.sock --module emotionedit.node

``-I`` (isolated) makes Python ignore the host's ``PYTHONHOME``/``PYTHONPATH`` and the
user's site folder; the bootstrap puts the node's python path first on ``sys.path``
(as the in-process bridge does) and calls :func:`main`. The node has already bound
and listened on the socket (fd 3) and keeps the write end of the lifeline (fd 4).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys

from ..process import own_process


def close_inherited_files(keep: set[int]) -> None:
    """Close every file descriptor the host let us inherit, except ``keep`` (and 0, 1, 2)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the directory's own descriptor, already gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotionedit.server",
                                     description="EmotionEdit's engine server (started by the OpenFX node).")
    parser.add_argument("--listen-fd", type=int, required=True, help="a listening Unix socket, inherited")
    parser.add_argument("--lifeline-fd", type=int, required=True, help="reads EOF when the host has gone")
    parser.add_argument("--socket", default="", help="the listening socket's path (removed on exit)")
    parser.add_argument("--module", default="emotionedit.node", help="the node module to serve")
    args = parser.parse_args(argv)
    close_inherited_files({args.listen_fd, args.lifeline_fd})
    # The host's terminal may send SIGINT to its whole process group: the server follows the host
    # through the lifeline instead, so a frame in progress is never cut off by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        listener = socket.socket(fileno=args.listen_fd)
    except OSError as exc:
        print(f"EmotionEdit engine server: file descriptor {args.listen_fd} is not a socket ({exc})", file=sys.stderr)
        return 2
    own_process()
    from .server import Server  # after own_process: it loads numpy

    Server(listener, args.lifeline_fd, args.module, args.socket).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
