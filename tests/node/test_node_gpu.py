"""CUDA renders: host device images wrapped without copying, all work on the host's stream.

No GPU is needed for the first tests: a stand-in for CuPy (numpy arrays at raw
addresses, streams that record what happens) checks the wrapping and the stream
discipline. The last test runs on a real device where CuPy and one are present.
"""

from __future__ import annotations

import ctypes
import sys
import types
from contextlib import contextmanager

import numpy as np
import pytest

from emotionedit.node import gpu
from emotionedit.node.errors import GpuUnavailable


def descriptor(array: np.ndarray) -> dict:
    """What the bridge sends for a view: first element, lowest address and span, shape, strides."""
    shape, strides = array.shape, array.strides
    ptr = array.__array_interface__["data"][0]
    low = ptr + sum(min(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    high = ptr + sum(max(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True)) + array.itemsize
    return {"ptr": ptr, "low": low, "span": high - low, "shape": shape, "strides": strides,
            "dtype": array.dtype.name}


class _OnDevice(np.ndarray):
    """A stand-in CuPy array: host memory that says which device holds it, as CuPy's arrays do."""

    device = types.SimpleNamespace(id=0)


class FakeCupy(types.ModuleType):
    """Just enough of CuPy's API, over host memory, recording stream use."""

    def __init__(self):
        super().__init__("cupy")
        self.events: list[str] = []
        fake = self

        class Stream:
            def __init__(self, ptr):
                self.ptr = ptr

            def __enter__(self):
                fake.events.append(f"enter {self.ptr:#x}")
                fake.current = self
                return self

            def __exit__(self, *exc):
                fake.events.append(f"exit {self.ptr:#x}")
                fake.current = None

            def synchronize(self):
                fake.events.append(f"stream-sync {self.ptr:#x}")

        class UnownedMemory:
            def __init__(self, ptr, size, owner):
                self.ptr, self.size = ptr, size

        class MemoryPointer:
            def __init__(self, memory, offset):
                assert 0 <= offset < memory.size
                self.memory, self.ptr = memory, memory.ptr + offset

        def ndarray(shape, dtype, memptr, strides):
            raw = (ctypes.c_char * memptr.memory.size).from_address(memptr.memory.ptr)
            base = np.frombuffer(raw, np.uint8)
            return np.ndarray(shape, dtype, base, memptr.ptr - memptr.memory.ptr, strides).view(_OnDevice)

        def asnumpy(array, stream=None):
            fake.events.append(f"download on {stream.ptr:#x}")
            return np.array(array)

        def asarray(array):
            fake.events.append(f"upload on {fake.current.ptr:#x}")
            return np.array(array)

        self.cuda = types.SimpleNamespace(
            ExternalStream=lambda ptr: Stream(ptr), Stream=types.SimpleNamespace(null=Stream(0)),
            UnownedMemory=UnownedMemory, MemoryPointer=MemoryPointer,
        )
        self.ndarray, self.asnumpy, self.asarray = ndarray, asnumpy, asarray
        self.current = None


@pytest.fixture
def fake_cupy(monkeypatch):
    fake = FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    return fake


def double_render(src: np.ndarray, dst: np.ndarray) -> None:
    dst[...] = src[2:5, 1:6] * 2


@pytest.mark.parametrize("stream", [0x5EED, 0])
def test_device_views_and_stream_discipline(fake_cupy, stream):
    memory = np.arange(8 * 10 * 4, dtype=np.float32).reshape(8, 10, 4)
    src = memory[::-1]  # OFX rows run bottom-up: negative row strides
    out_memory = np.zeros_like(memory)
    dst = out_memory[::-1][2:5, 1:6]
    gpu.render_on_device(double_render, descriptor(src), descriptor(dst), stream)
    np.testing.assert_array_equal(out_memory[::-1][2:5, 1:6], src[2:5, 1:6] * 2)
    untouched = out_memory[::-1].copy()
    untouched[2:5, 1:6] = 0
    assert not untouched.any()
    # Everything on the host's stream; only without one is the work finished before returning.
    assert fake_cupy.events[:3] == [f"enter {stream:#x}", f"download on {stream:#x}", f"upload on {stream:#x}"]
    assert (f"stream-sync {stream:#x}" in fake_cupy.events) == (stream == 0)


class FakeTorchCuda:
    """torch's CUDA calls that node/gpu.py makes, recorded; tensors stay torch's CPU ones (from_dlpack of the
    stand-in arrays: no copy), so the device path's glue runs on every commit."""

    def __init__(self, events: list[str]):
        import torch

        self.events = events
        self.from_dlpack = torch.from_dlpack
        fake = self

        class Stream:
            def __init__(self, ptr):
                self.ptr = ptr

            def synchronize(self):
                fake.events.append(f"torch stream-sync {self.ptr:#x}")

        @contextmanager
        def device(index):
            fake.events.append(f"torch device {index}")
            yield

        @contextmanager
        def stream(s):
            fake.events.append(f"torch stream {s.ptr:#x}")
            yield

        self.cuda = types.SimpleNamespace(
            ExternalStream=lambda ptr, device: Stream(ptr), default_stream=lambda device: Stream(0),
            device=device, stream=stream)


@pytest.mark.parametrize("stream", [0x5EED, 0])
def test_the_device_path_renders_in_the_hosts_memory_on_its_stream(fake_cupy, monkeypatch, stream):
    """With a device renderer, the host's images reach it as tensors over the same memory (rows in memory order,
    flipped when they run bottom-up), inside the node's leave, on the host's stream of the images' device; no
    image is copied to host memory."""
    monkeypatch.setattr(gpu, "_cuda_torch", lambda: FakeTorchCuda(fake_cupy.events))
    memory = np.arange(8 * 10 * 4, dtype=np.float32).reshape(8, 10, 4)
    out_memory = np.zeros_like(memory)
    src, dst = memory[::-1], out_memory[::-1][2:5, 1:6]  # OFX: bottom row first
    leave = []

    def host_access(take: bool) -> bool:
        leave.append(take)
        return True

    def render_device(src_t, dst_t, flipped):
        assert flipped and leave == [True]
        assert src_t.data_ptr() == memory.__array_interface__["data"][0]  # the host's memory, not a copy
        dst_t.copy_(src_t[3:6, 1:6] * 2)  # memory order: picture rows 2-4 are memory rows 5-3

    def render_host(src, dst):
        raise AssertionError("the host path must not run")

    before = dict(gpu.FRAME_COPIES)
    gpu.render_on_device(render_host, descriptor(src), descriptor(dst), stream, host_access, render_device)
    np.testing.assert_array_equal(out_memory[::-1][2:5, 1:6], src[2:5, 1:6] * 2)
    assert leave == [True, False]
    assert "torch device 0" in fake_cupy.events and f"torch stream {stream:#x}" in fake_cupy.events
    assert (f"torch stream-sync {stream:#x}" in fake_cupy.events) == (stream == 0)
    assert not [e for e in fake_cupy.events if e.startswith(("download", "upload"))]
    assert gpu.FRAME_COPIES["device"] == before.get("device", 0) + 1
    assert gpu.FRAME_COPIES["downloads"] == before.get("downloads", 0)


def test_images_in_different_row_orders_take_the_host_path(fake_cupy, monkeypatch):
    monkeypatch.setattr(gpu, "_cuda_torch", lambda: FakeTorchCuda(fake_cupy.events))
    memory = np.arange(8 * 10 * 4, dtype=np.float32).reshape(8, 10, 4)
    out_memory = np.zeros_like(memory)
    dst = out_memory[2:5, 1:6]  # top row first, while the source runs bottom-up

    def render_device(src_t, dst_t, flipped):
        raise AssertionError("one row order for both images is what the device path handles")

    gpu.render_on_device(double_render, descriptor(memory[::-1]), descriptor(dst), 0x5EED, None, render_device)
    np.testing.assert_array_equal(out_memory[2:5, 1:6], memory[::-1][2:5, 1:6] * 2)
    assert fake_cupy.events[1] == "download on 0x5eed"


def test_without_cupy_the_host_is_told_to_use_the_cpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import fails
    with pytest.raises(GpuUnavailable, match="CuPy is not installed"):
        gpu.render_on_device(double_render, {}, {}, 0)


@pytest.mark.gpu
def test_real_device_render_equals_cpu(talking):
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - any CUDA failure means no usable device
        pytest.skip(f"no CUDA device: {exc}")
    frames, analysis = talking
    from emotionedit.edit import EditParams, Emotion
    from emotionedit.engine import ShotEditor

    editor = ShotEditor(analysis)
    params = EditParams(emotion=Emotion.HAPPY, intensity=1.0)
    number = 680
    src_host = frames[number - 672]
    want = editor.render(src_host, number, params)
    src = cupy.asarray(src_host)
    dst = cupy.zeros_like(src)
    stream = cupy.cuda.Stream(non_blocking=True)

    def view(a):
        return {"ptr": a.data.ptr, "low": a.data.ptr, "span": a.nbytes, "shape": a.shape, "strides": a.strides,
                "dtype": a.dtype.name}

    gpu.render_on_device(lambda s, d: editor.render_into(d, s, number, params), view(src), view(dst), stream.ptr)
    stream.synchronize()
    np.testing.assert_array_equal(cupy.asnumpy(dst), want)
