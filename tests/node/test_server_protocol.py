"""The engine server trusts nothing it reads: malformed, oversized and hostile requests are refused
with a reason, the connection is closed, and the server goes on serving the node correctly.

The server is started exactly as the node starts it (tests/node/server_client.py) and spoken to
directly, byte by byte where no node would send such bytes.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import tempfile

import numpy as np
import pytest
from server_client import Client, shared_memory, start, wait_gone

from emotionedit.node import prepare
from emotionedit.server.frame_request import MAX_SIDE
from emotionedit.server.protocol import MAGIC, MAX_BODY, Kind, encode, encode_header
from emotionedit.server.segment import MAX_SEGMENT

FRAME = 680  # one of franck's talking frames (the `talking` fixture covers 672-719)
HEIGHT, WIDTH = 288, 360


@pytest.fixture(scope="module")
def server():
    """One server for the whole module: every abuse below hits the same process, which must survive them all."""
    with start() as process:
        yield process


def params(analysis_file) -> dict:
    """Every node parameter (names as in cpp/node/params.h), with an edit that changes pixels."""
    return {"emotion": 1, "intensity": 1.0, "emotion2": 0, "blend": 0.0, "lipPreservation": 1.0, "skinDetail": 1.0,
            "mode": 0, "regionBrows": 1, "regionEyes": 1, "regionCheeks": 1, "regionNose": 1, "regionMouth": 1,
            "smoothing": 1.5, "analysisFile": str(analysis_file), "frameOffset": 0, "face": "largest", "output": 0}


def render_fields(analysis_file, **changes) -> dict:
    src_bytes = HEIGHT * WIDTH * 3
    fields = {"time": float(FRAME), "dtype": "uint8", "components": 3, "premultiplication": "OfxImageOpaque",
              "src_bounds": (0, 0, WIDTH, HEIGHT), "dst_bounds": (0, 0, WIDTH, HEIGHT),
              "window": (0, 0, WIDTH, HEIGHT), "render_scale": (1.0, 1.0), "cuda": 0, "src_offset": 0,
              "dst_offset": src_bytes}
    fields.update({f"p:{name}": value for name, value in params(analysis_file).items()})
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def refusal(client: Client) -> str:
    """The server's ERROR reply; the connection must then be closed."""
    reply = client.receive()
    assert reply is not None and reply[0] == Kind.ERROR, reply
    assert client.receive() is None, "the connection stayed open after a refusal"
    return reply[1]["message"]


def still_serving(server) -> None:
    assert server.alive(), "the server died"
    client = server.connect()
    assert client.call(Kind.PURGE, {}) == (Kind.PURGE, {})
    client.close()


@pytest.mark.parametrize(("data", "reason"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not an EmotionEdit engine message"),
    (encode_header(Kind.HELLO, 1, 2**31), f"over the limit of {MAX_BODY}"),
    (encode_header(Kind.HELLO, 1, MAX_BODY + 1), "over the limit"),
    (encode(Kind.HELLO, 1, {"protocol": 7, "version": "x"}, protocol=7), "speaks engine protocol 7"),
    (encode(Kind.RENDER, 1, {}), "the first message must be HELLO"),
    (encode_header(Kind.HELLO, 1, 3) + b"\x00ab", "has a name of 0 bytes"),
    (encode_header(Kind.HELLO, 1, 4) + b"\x02a\x01i", "not printable ASCII"),
    (encode_header(Kind.HELLO, 1, 3) + b"\x01az", "unknown type"),
    (encode_header(Kind.HELLO, 1, 7) + b"\x01as" + struct.pack("<I", 10**9), "over the limit"),
    (encode_header(Kind.HELLO, 1, 7) + b"\x01aI" + struct.pack("<I", 1000), "over the limit"),
    (encode_header(Kind.HELLO, 1, 7) + b"\x01as" + struct.pack("<I", 50), "only 0 remain"),
    (encode_header(Kind.HELLO, 1, 6) + b"\x01ai\x01\x02\x03", "only 3 remain"),
    (encode_header(Kind.HELLO, 1, 22) + b"\x01ai" + bytes(8) + b"\x01ai" + bytes(8), "appears twice"),
    (encode_header(Kind.HELLO, 1, 9) + b"\x01as" + struct.pack("<I", 2) + b"\xff\xfe", "not UTF-8"),
    (encode(Kind.HELLO, 1, {"protocol": 1, "version": "9.9.9"}), "this EmotionEdit node is version 9.9.9"),
    (encode(Kind.HELLO, 1, {"protocol": 1}), "no field 'version'"),
    (encode(Kind.HELLO, 1, {"protocol": 1, "version": 3}), "field 'version' is int"),
])
def test_malformed_messages_are_refused(server, data, reason):
    client = server.connect(hello=False)
    client.send_raw(data)
    assert reason in refusal(client)
    still_serving(server)


def test_a_message_cut_short_is_refused(server):
    client = server.connect(hello=False)
    client.send_raw(encode_header(Kind.HELLO, 1, 100) + b"\x01a")
    client.sock.shutdown(socket.SHUT_WR)
    assert "the message ended after 2 of 100 bytes" in refusal(client)
    still_serving(server)


def test_unknown_kind_and_stray_file_descriptors(server):
    client = server.connect()
    client.send(77, {})
    assert "unknown message kind 77" in refusal(client)
    client = server.connect()
    read_end, write_end = os.pipe()
    client.send(Kind.PURGE, {}, (read_end,))
    assert "only SEGMENT messages carry file descriptors" in refusal(client)
    os.close(read_end)
    os.close(write_end)
    still_serving(server)


def _segment_refusal(server, fields: dict, fds: tuple[int, ...]) -> str:
    client = server.connect()
    client.send(Kind.SEGMENT, fields, fds)
    return refusal(client)


def test_bad_segments_are_refused(server):
    fd, _ = shared_memory(1 << 20)
    assert "exactly one file descriptor, got 0" in _segment_refusal(server, {"size": 1 << 20}, ())
    assert "exactly one file descriptor, got 2" in _segment_refusal(server, {"size": 1 << 20}, (fd, fd))
    assert "holds 1048576" in _segment_refusal(server, {"size": 2 << 20}, (fd,))
    assert "outside 1.." in _segment_refusal(server, {"size": 0}, (fd,))
    assert "outside 1.." in _segment_refusal(server, {"size": MAX_SEGMENT + 1}, (fd,))
    read_end, write_end = os.pipe()
    assert "not a regular file" in _segment_refusal(server, {"size": 4096}, (read_end,))
    with tempfile.TemporaryFile() as shared:
        os.fchmod(shared.fileno(), 0o644)
        shared.truncate(4096)
        assert "readable by others" in _segment_refusal(server, {"size": 4096}, (shared.fileno(),))
    for f in (fd, read_end, write_end):
        os.close(f)
    still_serving(server)


SRC_BYTES = HEIGHT * WIDTH * 3


@pytest.mark.parametrize(("changes", "reason"), [
    ({"src_offset": 2 << 20}, "does not fit"),
    ({"dst_offset": (1 << 20) - 10}, "does not fit"),
    ({"src_offset": -3}, "does not fit"),
    ({"dtype": "float32", "dst_offset": SRC_BYTES * 4 + 2}, "misaligned"),
    ({"dst_offset": SRC_BYTES // 2}, "overlap"),
    ({"window": (0, 0, WIDTH + 1, HEIGHT)}, "not inside the output's bounds"),
    ({"src_bounds": (0, 0, MAX_SIDE + 1, 1)}, f"over {MAX_SIDE} pixels"),
    ({"src_bounds": (5, 0, 5, HEIGHT)}, "is empty"),
    ({"src_bounds": (0, 0, WIDTH)}, "has 3 values, expected 4"),
    ({"src_bounds": (0, 0, 2**40, HEIGHT)}, "integers within"),
    ({"dtype": "float64"}, "dtype 'float64' is not one of"),
    ({"components": 2}, "components must be 3 or 4"),
    ({"time": None}, "no field 'time'"),
    ({"time": "now"}, "field 'time' is str"),
    ({"time": float("nan")}, "not a usable frame time"),
    ({"render_scale": (-1.0, 1.0)}, "render_scale must be two positive numbers"),
    ({"cuda": 1}, "no field 'event_ipc'"),
    ({"cuda": 1, "event_ipc": b"x" * 8, "device": "0000:01:00.0"}, "a CUDA IPC handle is 64"),
])
def test_bad_render_requests_are_refused(server, analysis_file, changes, reason):
    client = server.connect()
    client.segment(1 << 20)
    client.send(Kind.RENDER, render_fields(analysis_file, **changes))
    assert reason in refusal(client)
    still_serving(server)


def test_render_without_a_segment_is_refused(server, analysis_file):
    client = server.connect()
    client.send(Kind.RENDER, render_fields(analysis_file))
    assert "RENDER before any SEGMENT" in refusal(client)


def test_engine_errors_are_replies_not_refusals(server, analysis_file, tmp_path):
    """A user error in the parameters is the engine's message on a live connection, not a protocol error."""
    client = server.connect()
    client.segment(1 << 20)
    kind, reply = client.call(Kind.RENDER, render_fields(analysis_file, **{"p:analysisFile": str(tmp_path / "no")}))
    assert kind == Kind.RENDER and reply["status"] == 1 and reply["level"] == 2
    assert "does not exist" in reply["message"]
    kind, reply = client.call(Kind.RENDER, render_fields(analysis_file, **{"p:intensity": 99.0}))
    assert kind == Kind.RENDER and reply["status"] == 1 and "ntensity" in reply["message"]


def test_after_all_that_the_server_renders_exactly_as_in_process(server, talking, analysis_file):
    """The same server, after every refusal above: a real frame equals the in-process node's render,
    and a larger segment replaces a smaller one on the same connection."""
    frames, _ = talking
    source = frames[FRAME - 672]
    client = server.connect()
    client.segment(1 << 20)  # too small for this frame...
    memory = client.segment(2 << 20)  # ...so the node sends a larger one
    memory[:SRC_BYTES] = source.tobytes()
    fields = render_fields(analysis_file, purge=1)
    kind, reply = client.call(Kind.RENDER, fields)
    assert kind == Kind.RENDER and reply["status"] == 0, reply
    served = np.frombuffer(memory, np.uint8, SRC_BYTES, SRC_BYTES).reshape(HEIGHT, WIDTH, 3)
    request = {"time": float(FRAME), "params": params(analysis_file), "dtype": "uint8", "components": 3,
               "premultiplication": "OfxImageOpaque", "src_bounds": (0, 0, WIDTH, HEIGHT),
               "dst_bounds": (0, 0, WIDTH, HEIGHT), "window": (0, 0, WIDTH, HEIGHT), "render_scale": (1.0, 1.0),
               "cuda": False}
    expected = np.zeros_like(source)
    prepare(request).render(source, expected)
    assert (expected != source).any()
    np.testing.assert_array_equal(served, expected)
    # A window: only its pixels come back, top row first.
    window = (100, 40, 300, 230)
    height, width = window[3] - window[1], window[2] - window[0]
    kind, reply = client.call(Kind.RENDER, render_fields(analysis_file, window=window))
    assert reply["status"] == 0, reply
    got = np.frombuffer(memory, np.uint8, height * width * 3, SRC_BYTES).reshape(height, width, 3)
    np.testing.assert_array_equal(got, expected[HEIGHT - window[3]:HEIGHT - window[1], window[0]:window[2]])


def test_hello_reports_versions_and_identity(server):
    from emotionedit import __version__

    client = server.connect(hello=False)
    kind, reply = client.hello()
    assert kind == Kind.HELLO
    assert reply["protocol"] == 1 and reply["version"] == __version__ and reply["pid"] == server.process.pid
    assert reply["module"] == "emotionedit.node"


def test_the_server_ends_with_the_host_and_cleans_up():
    """The lifeline: when the host's end closes (the host exited, however), the server exits and removes
    its socket and private folder."""
    process = start(module="emotionedit.node.noop")
    process.connect()
    folder = os.path.dirname(process.socket_path)
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    os.close(process.lifeline)
    process.lifeline = -1
    assert wait_gone(process), "the server outlived its host"
    assert process.process.returncode == 0
    assert not os.path.exists(process.socket_path) and not os.path.exists(folder)
    process.stop()


def test_fields_round_trip():
    from emotionedit.server.protocol import decode_fields, encode_fields

    fields = {"i": -(2**62), "f": 0.1, "s": "Analysis \u00e9 File", "b": bytes(range(64)), "I": (1, -2, 3, 4),
              "F": (1.5, 2.0), "e": ""}
    assert decode_fields(encode_fields(fields)) == fields


def test_magic_is_shared_with_the_node():
    """The C++ node's wire constants (cpp/node/wire.h) and bootstrap (server_process.cpp) match Python's."""
    from pathlib import Path

    from server_client import BOOTSTRAP

    from emotionedit.server import protocol

    repo = Path(__file__).resolve().parents[2]
    wire = (repo / "cpp/node/wire.h").read_text()
    assert "kMagic[4] = {" + ", ".join(f"'{chr(c)}'" for c in MAGIC) + "}" in wire
    for name, value in [("kProtocol", protocol.PROTOCOL), ("kHeaderBytes", protocol.HEADER.size)]:
        assert f"{name} = {value};" in wire, name
    for name, value in [("kMaxBody", protocol.MAX_BODY), ("kMaxString", protocol.MAX_STRING)]:
        assert f"{name} = {value // 1024} * 1024;" in wire, name
    for name, value in [("kMaxName", protocol.MAX_NAME), ("kMaxBytes", protocol.MAX_BYTES),
                        ("kMaxArray", protocol.MAX_ARRAY)]:
        assert f"{name} = {value};" in wire, name
    for kind in Kind:
        assert f"k{kind.name.capitalize()} = {int(kind)}" in wire, kind
    source = (repo / "cpp/node/server_process.cpp").read_text()
    literals = re.search(r'kServerBootstrap =\s*((?:"[^"]*"\s*)+);', source)[1]
    assert "".join(re.findall(r'"([^"]*)"', literals)) == BOOTSTRAP
