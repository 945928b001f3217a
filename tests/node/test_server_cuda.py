"""CUDA renders through the engine server: the host's device images opened by CUDA IPC.

No GPU here: a stand-in for CuPy whose "device memory" is host memory and whose IPC
handles carry a host address checks the geometry (OFX rows bottom-up, a window inside
the image, offsets inside each allocation) and the order of calls (the private stream
waits on the host's event before anything reads the images; the stream is finished
before the mappings are closed). What a real device does is not tested here.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from test_node_gpu import FakeCupy

from emotionedit.server.cuda_ipc import device_view, parse_cuda, render_shared
from emotionedit.server.frame_request import parse_frame
from emotionedit.server.protocol import ProtocolError


class FakeRuntime:
    """cupy.cuda.runtime's IPC calls over host memory: a handle's first 8 bytes are the address."""

    def __init__(self, fake: FakeCupy):
        self.fake = fake

    def deviceGetByPCIBusId(self, bus: str) -> int:  # noqa: N802 - CuPy's names
        self.fake.events.append(f"device {bus}")
        return 0

    def ipcOpenMemHandle(self, handle: bytes) -> int:  # noqa: N802
        (address,) = struct.unpack_from("<Q", handle)
        self.fake.events.append(f"open {address:#x}")
        return address

    def ipcCloseMemHandle(self, base: int) -> None:  # noqa: N802
        self.fake.events.append(f"close {base:#x}")

    def ipcOpenEventHandle(self, handle: bytes) -> int:  # noqa: N802
        self.fake.events.append("open event")
        return 0xE7

    def streamWaitEvent(self, stream: int, event: int) -> None:  # noqa: N802
        self.fake.events.append(f"stream {stream:#x} waits for event {event:#x}")

    def eventDestroy(self, event: int) -> None:  # noqa: N802
        self.fake.events.append(f"destroy event {event:#x}")


@pytest.fixture
def fake_cupy(monkeypatch):
    import sys

    fake = FakeCupy()
    fake.cuda.runtime = FakeRuntime(fake)

    class Device:
        def __init__(self, index):
            self.index = index

        def __enter__(self):
            fake.events.append(f"on device {self.index}")

        def __exit__(self, *exc):
            pass

    class PrivateStream:
        ptr = 0x51

        def __init__(self, non_blocking=False):
            assert non_blocking

        def synchronize(self):
            fake.events.append("sync private stream")

    fake.cuda.Device = Device
    fake.cuda.Stream = PrivateStream
    monkeypatch.setitem(sys.modules, "cupy", fake)
    return fake


def handle(address: int) -> bytes:
    return struct.pack("<Q", address) + bytes(56)


def frame_fields(src_memory: np.ndarray, dst_memory: np.ndarray, window, **changes) -> dict:
    """What the node sends for images stored bottom-up (negative row bytes), each in its own allocation,
    with the first pixel some way into it (as a pool allocator would place it)."""
    height, width, channels = 8, 10, 4
    row = width * channels * 4
    fields = {"time": 3.0, "dtype": "float32", "components": channels, "premultiplication": "OfxImageOpaque",
              "src_bounds": (0, 0, width, height), "dst_bounds": (0, 0, width, height), "window": window,
              "render_scale": (1.0, 1.0), "cuda": 1, "device": "0000:41:00.0", "event_ipc": bytes(64)}
    for prefix, memory in (("src", src_memory), ("dst", dst_memory)):
        base = memory.__array_interface__["data"][0]
        # OFX: data points at the bottom row (y1); stored top row first, so it is the last row, row bytes < 0.
        fields.update({f"{prefix}_ipc": handle(base), f"{prefix}_alloc": memory.nbytes,
                       f"{prefix}_data": 64 + (height - 1) * row, f"{prefix}_row_bytes": -row})
    fields.update(changes)
    return fields


def allocation(picture: np.ndarray) -> np.ndarray:
    """A byte allocation holding ``picture`` top row first after 64 bytes of something else."""
    memory = np.zeros(64 + picture.nbytes + 32, np.uint8)
    memory[64:64 + picture.nbytes] = picture.view(np.uint8).ravel()
    return memory


def picture_in(memory: np.ndarray, shape) -> np.ndarray:
    return memory[64:64 + int(np.prod(shape)) * 4].view(np.float32).reshape(shape)


def test_shared_images_render_in_place_after_the_hosts_event(fake_cupy):
    picture = np.arange(8 * 10 * 4, dtype=np.float32).reshape(8, 10, 4)
    src_memory, dst_memory = allocation(picture), allocation(np.zeros_like(picture))
    window = (1, 3, 6, 6)  # x1, y1, x2, y2, y up: picture rows 8-6=2 .. 8-3=5, columns 1..6
    fields = frame_fields(src_memory, dst_memory, window)
    frame = parse_frame(fields)
    shared = parse_cuda(fields, frame)
    seen = {}

    def render_host(src, dst):
        seen["src"] = src.copy()
        dst[...] = src[2:5, 1:6] * 2

    render_shared(render_host, shared)
    np.testing.assert_array_equal(seen["src"], picture)
    out = picture_in(dst_memory, picture.shape)
    np.testing.assert_array_equal(out[2:5, 1:6], picture[2:5, 1:6] * 2)
    untouched = out.copy()
    untouched[2:5, 1:6] = 0
    assert not untouched.any() and not dst_memory[:64].any() and not dst_memory[-32:].any()
    src_base, dst_base = (m.__array_interface__["data"][0] for m in (src_memory, dst_memory))
    events = fake_cupy.events
    # Opened on the host's device, the private stream waits for the host's event before the download,
    # everything runs on that stream, and it is finished before the mappings are closed.
    assert events[:5] == ["device 0000:41:00.0", "on device 0", f"open {src_base:#x}", f"open {dst_base:#x}",
                          "open event"]
    assert events[5:8] == ["stream 0x51 waits for event 0xe7", "enter 0x51", "download on 0x51"]
    assert "upload on 0x51" in events and "stream-sync 0x51" not in events
    assert events[-4:] == ["sync private stream", f"close {src_base:#x}", f"close {dst_base:#x}",
                           "destroy event 0xe7"]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"src_alloc": 100}, "outside the 100-byte allocation"),
    ({"dst_data": -4}, "outside the"),
    ({"src_row_bytes": -16}, "fewer than 10 pixels need"),
    ({"src_ipc": b"short"}, "a CUDA IPC handle is 64"),
    ({"device": ""}, "must be a PCI bus id"),
])
def test_shared_images_outside_their_allocation_are_refused(fake_cupy, changes, reason):
    picture = np.zeros((8, 10, 4), np.float32)
    fields = frame_fields(allocation(picture), allocation(picture), (0, 0, 10, 8), **changes)
    with pytest.raises(ProtocolError, match=reason):
        parse_cuda(fields, parse_frame(fields))
    assert fake_cupy.events == []  # nothing was opened


def test_device_view_matches_the_bridge_geometry():
    """The same first element, strides and span the in-process bridge computes (cpp/bridge/bridge.cpp)."""
    from test_node_gpu import descriptor

    from emotionedit.server.cuda_ipc import SharedImage

    memory = np.zeros((8, 10, 4), np.float32)  # OFX with positive row bytes: memory row 0 is the bottom
    picture = memory[::-1]  # top row first
    window = picture[2:5, 1:6]  # OFX window (1, 3, 6, 6)
    base = memory.__array_interface__["data"][0]
    image = SharedImage(b"", memory.nbytes, 0, 10 * 16)  # data = row 0 = OFX y1; row bytes positive
    view = device_view(base, image, (0, 0, 10, 8), (1, 3, 6, 6), np.dtype(np.float32), 4)
    want = descriptor(window)
    assert {k: view[k] for k in ("ptr", "low", "span")} == {k: want[k] for k in ("ptr", "low", "span")}
    assert tuple(view["strides"]) == window.strides and tuple(view["shape"]) == window.shape
