"""The pixel step on a torch device (render/device.py) gives the compiled kernel's pixels.

The same code runs on the CPU here (every commit) and on CUDA where a GPU is present (the tests marked
``gpu``): on the CPU it must match the kernel bit for bit, on real footage and on synthetic plates with NaN,
inf, far samples and shading.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from test_resample_kernel import DTYPES, random_case, same_bits, xs_of, ys_of

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.errors import UserError
from emotionedit.render import Output, Region, _resample, gpu_kernel
from emotionedit.render.device import render_on_device, resample_on_device, to_device, to_host
from emotionedit.render.pixels import plan_resampling

EDITS = [EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0),
         EditParams(emotion=Emotion.SAD, intensity=1.4, lip_preservation=0.3)]


def same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit, except that two NaNs are the same pixel value whatever their payloads."""
    if a.dtype.kind != "f":
        return same_bits(a, b)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    return np.array_equal(nan_a, nan_b) and same_bits(np.where(nan_a, 0, a), np.where(nan_b, 0, b))


def plate(frame: np.ndarray, dtype, channels: int) -> np.ndarray:
    x = frame.astype(np.float32) / 255.0
    if channels == 4:
        x = np.concatenate([x, np.ones(x.shape[:2] + (1,), np.float32)], axis=2)
    if np.dtype(dtype).kind == "u":
        return np.round(x * np.iinfo(dtype).max).astype(dtype)
    return (x**2.2 * 4.0 - 0.1).astype(dtype)  # scene-linear, past [0, 1]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize(("dense", "flipped"), [(False, False), (True, False), (True, True), (False, True)],
                         ids=["gathered", "dense", "dense-bottom-up", "gathered-bottom-up"])
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (torch sees none)")])])
@pytest.mark.parametrize("chunk", [None, 997], ids=["one-chunk", "chunks-of-997"])
def test_device_resampling_is_the_kernels(dtype, channels, dense, flipped, device, chunk, monkeypatch):
    """Both ways of computing (every pixel of the region, or the matte's gathered), on tensors stored top row
    first or bottom row first (OpenFX's order), in one piece or in bands and chunks (what bounds the device's
    memory), give the kernel's pixels and its count of kept pixels: on the CPU bit for bit, and on a GPU too
    wherever it rounds float32 as IEEE does."""
    if chunk is not None:
        from emotionedit.render import device as device_module

        monkeypatch.setattr(device_module, "CHUNK_PIXELS", chunk)
    rng = np.random.default_rng(100 + channels * 10 + DTYPES.index(dtype))
    for trial in range(6):
        src, region, map_x, map_y, matte, gain = random_case(rng, dtype, channels, trial)
        height, width = src.shape[:2]
        plan = plan_resampling(map_x - xs_of(region), map_y - ys_of(region), matte, region, width, height)
        shading = None
        if gain is not None:
            edited = plan.matte[: gain.shape[0], : gain.shape[1]] > 0
            gain = np.where(edited if gain.ndim == 2 else edited[..., None], gain, np.float32(1))
            shading = (Region(region.x0, region.y0, region.x0 + gain.shape[1], region.y0 + gain.shape[0]), gain)
        window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
        kernel = src[region.y0 : region.y1, region.x0 : region.x1].copy()
        encoded = None if gain is None else (np.power(gain, np.float32(1 / 2.2)) if kernel.dtype.kind == "u" else gain)
        want = _resample.resample(kernel, window, plan.window.x0, plan.window.y0, plan.field.arguments(),
                                  plan.matte, region.x0, region.y0, encoded, 0, 0, 1)
        order = (lambda a: np.ascontiguousarray(a[::-1])) if flipped else np.ascontiguousarray  # noqa: E731
        # On a GPU the dense way is the fused kernel (render/gpu_kernel.py); the torch operations are checked too.
        for fused in (True, False) if device == "cuda" and dense else (True,):
            monkeypatch.setattr(gpu_kernel, "ENABLED", fused)
            target = to_device(order(src[region.y0 : region.y1, region.x0 : region.x1]), device)
            got = resample_on_device(target, to_device(order(window), device), plan, shading, flipped, dense)
            assert int(got) == want
            assert same_pixels(order(to_host(target)), kernel), f"trial {trial}, fused kernel {fused}"


def _host_array(address: int, shape: tuple, strides: tuple, dtype) -> np.ndarray:
    """A numpy view of memory given by address and byte strides (negative ones too), as a kernel sees it."""
    itemsize = np.dtype(dtype).itemsize
    low = address + sum(min(0, (n - 1) * st) for n, st in zip(shape, strides, strict=True))
    high = address + sum(max(0, (n - 1) * st) for n, st in zip(shape, strides, strict=True)) + itemsize
    raw = np.frombuffer((ctypes.c_char * (high - low)).from_address(low), np.uint8)
    return np.ndarray(shape, dtype, raw, address - low, strides)


class KernelOnTheCpu:
    """Stand-ins for CuPy and the CUDA calls of render/gpu_kernel.py over host memory: the launch's arguments are
    read back into arrays as the kernel reads them and handed to the GPU kernel's code on the CPU
    (_resample.resample_gpu_code), so the marshalling (addresses, strides, rows bottom-up, the planes' buffer,
    the gain's planes) is checked on every commit."""

    TYPES = {0: np.uint8, 1: np.uint16, 2: np.float16, 3: np.float32}

    def __init__(self, monkeypatch):
        self.launches = []
        fake = types.ModuleType("cupy")
        fake.cuda = types.SimpleNamespace(Device=lambda index: contextlib.nullcontext(),
                                          ExternalStream=lambda ptr, index: contextlib.nullcontext())
        monkeypatch.setitem(sys.modules, "cupy", fake)
        monkeypatch.setattr(gpu_kernel, "_pinned", lambda count: torch.empty(count, dtype=torch.float32))
        monkeypatch.setattr(gpu_kernel, "_index", lambda device: 0)
        monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: types.SimpleNamespace(cuda_stream=0))
        monkeypatch.setattr(gpu_kernel, "_function", lambda pixel, channels, index: functools.partial(
            self.launch, self.TYPES[pixel], channels))

    def launch(self, dtype, channels, grid, block, args):
        (target, t_row, t_pixel, height, width, window, w_row, w_pixel, w_height, w_width, w_x0, w_y0, grid_at, nx,
         ny, scale_x, scale_y, f_x0, f_y0, boxes_at, layers, values_at, matte, r_x0, r_y0, gain, g_channels, g_height,
         g_width, g_x0, g_y0, g_plane, grid_gain_at, gg_nx, gg_ny, gg_channels, gg_scale_x, gg_scale_y, gg_x0, gg_y0,
         skipped) = (a.item() for a in args)
        assert grid[0] * block[0] >= height * width
        item = np.dtype(dtype).itemsize
        boxes = (_host_array(boxes_at, (layers, 5), (20, 4), np.int32) if layers else np.zeros((0, 5), np.int32))
        used = max([int(b[4]) + 3 * int((b[2] - b[0]) * (b[3] - b[1])) for b in boxes], default=0)
        values = _host_array(values_at, (used,), (4,), np.float32) if used else np.zeros(0, np.float32)
        field = (_host_array(grid_at, (ny, nx, 2), (8 * nx, 8, 4), np.float32), scale_x, scale_y, f_x0, f_y0,
                 np.array(boxes), np.array(values))
        planes = [field, _host_array(matte, (height, width), (4 * width, 4), np.float32)]
        shading = None
        if gain:
            shape, strides = (g_height, g_width), (4 * g_width, 4)
            if g_channels == 3:
                shape, strides = shape + (3,), strides + (4 * g_plane,)
            shading = _host_array(gain, shape, strides, np.float32)
        gain_grid = None
        if grid_gain_at:
            gain_grid = (np.array(_host_array(grid_gain_at, (gg_ny, gg_nx, gg_channels),
                                              (4 * gg_nx * gg_channels, 4 * gg_channels, 4), np.float32)),
                         gg_scale_x, gg_scale_y, gg_x0, gg_y0)
        count = _resample.resample_gpu_code(
            _host_array(target, (height, width, channels), (t_row, t_pixel, item), dtype),
            _host_array(window, (w_height, w_width, channels), (w_row, w_pixel, item), dtype), w_x0, w_y0,
            *planes, r_x0, r_y0, shading, g_x0, g_y0, gain_grid)
        _host_array(skipped, (), (), np.int64)[...] += count
        self.launches.append((height, width))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("flipped", [False, True], ids=["top-down", "bottom-up"])
def test_the_fused_kernels_launch_hands_it_the_plan(dtype, channels, flipped, monkeypatch):
    """gpu_kernel.resample's launch, run through the GPU kernel's code on the CPU: the kernel's pixels and count."""
    cpu_kernel = KernelOnTheCpu(monkeypatch)
    rng = np.random.default_rng(500 + channels * 10 + DTYPES.index(dtype))
    for trial in range(6):
        src, region, map_x, map_y, matte, gain = random_case(rng, dtype, channels, trial)
        height, width = src.shape[:2]
        plan = plan_resampling(map_x - xs_of(region), map_y - ys_of(region), matte, region, width, height)
        shading = None
        if gain is not None:
            edited = plan.matte[: gain.shape[0], : gain.shape[1]] > 0
            gain = np.where(edited if gain.ndim == 2 else edited[..., None], gain, np.float32(1))
            shading = (Region(region.x0, region.y0, region.x0 + gain.shape[1], region.y0 + gain.shape[0]), gain)
        window = src[plan.window.y0 : plan.window.y1, plan.window.x0 : plan.window.x1]
        kernel = src[region.y0 : region.y1, region.x0 : region.x1].copy()
        encoded = None if gain is None else (np.power(gain, np.float32(1 / 2.2)) if kernel.dtype.kind == "u" else gain)
        want = _resample.resample(kernel, window, plan.window.x0, plan.window.y0, plan.field.arguments(),
                                  plan.matte, region.x0, region.y0, encoded, 0, 0, 1)
        # Copies (the kernel's target and window never share memory, as on a device).
        order = (lambda a: np.array(a[::-1])) if flipped else np.array  # noqa: E731
        target = to_device(order(src[region.y0 : region.y1, region.x0 : region.x1]), torch.device("cpu"))
        got = gpu_kernel.resample(target, to_device(order(window), torch.device("cpu")), plan, shading, flipped)
        assert int(got) == want
        assert same_bits(order(to_host(target)), kernel), f"trial {trial}"
    assert len(cpu_kernel.launches) == 6


@pytest.mark.parametrize("dtype", [np.uint8, np.float16], ids=["uint8", "float16"])
def test_the_fused_kernels_launch_renders_real_footage_as_the_cpu(talking, dtype, monkeypatch):
    """A real frame's plan through the launch (the field's grid and the mouth's and eyes' layers, the matte, the
    skin detail's gain per colour), on the GPU kernel's code: the CPU render, bit for bit."""
    cpu_kernel = KernelOnTheCpu(monkeypatch)
    for src, want, plan in planned(talking, dtype):
        r = plan.resampling
        assert len(r.field.boxes) >= 2, "the eyes' layers (and the mouth's when open) should be in the plan"
        target = to_device(np.array(src[r.region.y0 : r.region.y1, r.region.x0 : r.region.x1]), torch.device("cpu"))
        window = to_device(np.array(src[r.window.y0 : r.window.y1, r.window.x0 : r.window.x1]), torch.device("cpu"))
        assert int(gpu_kernel.resample(target, window, r, plan.shading, False)) == 0
        assert same_pixels(to_host(target), want[r.region.y0 : r.region.y1, r.region.x0 : r.region.x1])
    assert len(cpu_kernel.launches) == 2


def planned(talking, dtype):
    """(source, CPU render, plan) of two frames of franck talking, edited two ways."""
    frames, analysis = talking
    editor = ShotEditor(analysis)
    for index, params in zip((4, 20), EDITS, strict=True):
        number = analysis.plate.frame_numbers[index]
        src = plate(frames[index], dtype, 4)
        yield src, editor.render(src, number, params), editor.plan_frame(src.shape, src.dtype, number, params)


def renders(talking, dtype, device: str):
    """(source, CPU render, device render, plan) of two frames of franck talking, edited two ways."""
    for src, cpu, plan in planned(talking, dtype):
        on_device = to_device(src, torch.device(device))
        out = torch.empty_like(on_device)
        render_on_device(plan, out, on_device)
        yield src, cpu, to_host(out), plan


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_device_render_of_real_footage_is_the_cpu_render(talking, dtype):
    for src, cpu, device, _ in renders(talking, dtype, "cpu"):
        assert (cpu != src).any(axis=2).sum() > 500, "the edit should change the face"
        assert same_pixels(device, cpu)


def test_device_render_refuses_what_it_does_not_render(talking):
    frames, analysis = talking
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[0]
    src = torch.from_numpy(plate(frames[0], np.float32, 4))
    matte_plan = editor.plan_frame(tuple(src.shape), np.float32, number, EDITS[0], Output.MATTE)
    with pytest.raises(ValueError, match="check outputs"):
        render_on_device(matte_plan, torch.empty_like(src), src)
    plan = editor.plan_frame(tuple(src.shape), np.float32, number, EDITS[0])
    with pytest.raises(ValueError, match="this plan is for"):
        render_on_device(plan, torch.empty_like(src[:10]), src)
    assert ShotEditor(analysis, device="auto").device == (torch.device("cuda") if torch.cuda.is_available() else None)
    with pytest.raises(UserError, match="unknown device"):
        ShotEditor(analysis, device="tpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch sees none)")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cuda_render_of_real_footage_matches_the_cpu_render(talking, dtype):
    """On a GPU: the CPU render bit for bit through the fused kernel; through torch's operations (no CuPy) within
    one code value (integers) or 1e-5 relative (floats) of it in the face, and bit-identical outside the matte."""
    for src, cpu, gpu, plan in renders(talking, dtype, "cuda"):
        outside = np.ones(src.shape[:2], bool)
        r = plan.resampling.region
        outside[r.y0 : r.y1, r.x0 : r.x1] = plan.resampling.matte <= 0
        assert same_pixels(gpu[outside], src[outside])
        if gpu_kernel.usable(torch.cuda.current_device()):
            assert same_pixels(gpu, cpu)
        if np.dtype(dtype).kind == "u":
            assert np.abs(gpu.astype(np.int64) - cpu).max() <= 1
        else:
            np.testing.assert_allclose(gpu.astype(np.float32), cpu.astype(np.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch sees none)")
def test_the_fused_kernel_compiles_for_this_gpu():
    """CuPy and NVRTC are there and compile render/cuda/resample.cu for every plate type (the render would
    otherwise fall back to torch's operations, correct but some twenty times slower)."""
    index = torch.cuda.current_device()
    assert gpu_kernel.usable(index)
    for pixel in range(4):
        for channels in range(1, 5):
            assert gpu_kernel._function(pixel, channels, index) is not None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch sees none)")
def test_an_engine_made_for_the_gpu_renders_as_the_cpu_one(talking):
    """ShotEditor(device="cuda"): one upload and one download a frame, the CPU's pixels (render --device cuda)."""
    frames, analysis = talking
    cpu, gpu = ShotEditor(analysis), ShotEditor(analysis, device="cuda")
    for index, params in zip((4, 20), EDITS, strict=True):
        number = analysis.plate.frame_numbers[index]
        src = plate(frames[index], np.float16, 4)
        np.testing.assert_allclose(gpu.render(src, number, params).astype(np.float32),
                                   cpu.render(src, number, params).astype(np.float32), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("copy_while_planning", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_an_engine_rendering_faces_on_a_device_gives_the_cpu_render(talking, dtype, copy_while_planning,
                                                                     monkeypatch):
    """render --device: the background copied on the CPU (while planning, or after), the face's rectangles sent to
    the device and back; here the device is torch's CPU, and the pixels are the CPU render's, bit for bit."""
    from emotionedit import engine

    monkeypatch.setattr(engine, "COPY_WHILE_PLANNING_BYTES", 0 if copy_while_planning else 1 << 62)
    frames, analysis = talking
    cpu, device = ShotEditor(analysis), ShotEditor(analysis)
    device.device = torch.device("cpu")
    for index, params in zip((4, 20), EDITS, strict=True):
        number = analysis.plate.frame_numbers[index]
        src = plate(frames[index], dtype, 4)
        want = cpu.render(src, number, params)
        assert (want != src).any()
        assert same_pixels(device.render(src, number, params), want)
        in_place = src.copy()
        device.render_into(in_place, in_place, number, params)
        assert same_pixels(in_place, want)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch sees none)")
@pytest.mark.parametrize("shot", ["talking", "smiling"])
def test_a_window_renders_on_the_gpu_without_waiting_for_it(shot, request):
    """What the OpenFX node queues on a host's stream never synchronises it (torch's sync debug mode raises on any
    synchronising call: a blocking copy, a read of a device value), and gives the CPU render. franck's laugh made
    happier also lays in the shot's upper teeth (render/overlay.py's upload)."""
    from emotionedit.render.device import render_window_on_device

    frames, analysis = request.getfixturevalue(shot)
    editor = ShotEditor(analysis)
    number = analysis.plate.frame_numbers[4]
    host = plate(frames[4], np.float16, 4)
    plan = editor.plan_frame(host.shape, host.dtype, number, EDITS[0])
    assert (plan.overlay is not None) == (shot == "smiling")
    src = to_device(host, torch.device("cuda"))
    out = torch.empty_like(src)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        skipped = render_window_on_device(plan, out, src, 0, 0)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert int(skipped) == 0
    assert same_pixels(to_host(out), editor.render(host, number, EDITS[0]))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs CUDA's compiler (nvcc): no GPU toolkit here")
def test_the_gpu_code_compiles_for_every_plate_type(tmp_path):
    """render/cuda/resample.cu with rule.h pasted in, as gpu_kernel hands it to NVRTC (the same front end), with its
    options: every pixel type and channel count compiles for a GPU. Where there is no GPU and no toolkit, only the
    host's compile of the same code (_resample.resample_gpu_code) checks it."""
    source = tmp_path / "resample.cu"
    source.write_text(gpu_kernel.source())
    for pixel in range(4):
        for channels in range(1, 5):
            done = subprocess.run(["nvcc", "--ptx", "--std=c++14", "-fmad=false", f"-DEE_PIXEL={pixel}",
                                   f"-DEE_CHANNELS={channels}", str(source), "-o", str(tmp_path / "k.ptx")],
                                  capture_output=True, text=True)
            assert done.returncode == 0, f"pixel type {pixel}, {channels} channels:\n{done.stderr[-2000:]}"
            assert ".entry resample" in (tmp_path / "k.ptx").read_text()
