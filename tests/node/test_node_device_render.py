"""The node's CUDA render in place: the same pixels as its CPU render, computed where the host's images lie.

A CUDA render hands the node the host's device images; :meth:`Plan.render_on_the_device` renders them on the
device through torch, with the images' rows in memory order (OpenFX stores the bottom row first, and torch has
no negative strides). The code is device-generic, so here it runs on torch's CPU device over the same memory
layouts a host gives (``flipped``: bottom row first) and must give the CPU render's bytes exactly, plate check
included. On a GPU the node's CUDA path runs through the test host in tests/node/test_node_cuda_device.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emotionedit.errors import AnalysisMismatchError
from emotionedit.node import gpu, prepare
from emotionedit.node.alpha import UNPREMULTIPLIED
from file_helpers import opaque_plate

FIRST = 672  # the analysis_file fixture: franck's talking frames 672-719
HEIGHT, WIDTH = 288, 360


def request(analysis_file, time: float, window=(0, 0, WIDTH, HEIGHT), components: int = 3, dtype: str = "uint8",
            premultiplication: str = "OfxImageOpaque", offset: int = 0, output: int = 0) -> dict:
    values = {"emotion": 1, "intensity": 1.0, "emotion2": 0, "blend": 0.0, "lipPreservation": 1.0, "mode": 0,
              "regionBrows": 1, "regionEyes": 1, "regionCheeks": 1, "regionNose": 1, "regionMouth": 1,
              "smoothing": 1.5, "analysisFile": str(analysis_file), "frameOffset": offset, "face": "largest",
              "output": output}
    bounds = (0, 0, WIDTH, HEIGHT)
    return {"time": float(time), "params": values, "dtype": dtype, "components": components,
            "premultiplication": premultiplication, "src_bounds": bounds, "dst_bounds": bounds,
            "window": window, "render_scale": (1.0, 1.0), "cuda": True, "source": None}


def render_both(plan, src: np.ndarray, flipped: bool) -> tuple[np.ndarray, np.ndarray]:
    """(CPU render, device-path render) of the plan's window from the whole source ``src`` (top row first)."""
    wx1, wy1, wx2, wy2 = plan.window
    cpu = np.full((wy2 - wy1, wx2 - wx1, src.shape[2]), 7, src.dtype)
    plan.render(src, cpu)
    memory = np.ascontiguousarray(src[::-1] if flipped else src)  # the host's memory, in its own row order
    out = np.full((HEIGHT * 2, WIDTH * 2, src.shape[2]), 7, src.dtype)  # a window inside a larger image
    window = out[5 : 5 + cpu.shape[0], 9 : 9 + cpu.shape[1]]
    renderer = plan.device_renderer()
    assert renderer is not None
    renderer(torch.from_numpy(memory), torch.from_numpy(window), flipped)
    return cpu, (window[::-1] if flipped else window)


@pytest.fixture(params=["dense", "gathered"])
def computing(request, monkeypatch):
    """Both ways the device path computes the face (every pixel of its region, as on a GPU, or the matte's)."""
    from emotionedit.render import device

    monkeypatch.setattr(device, "DENSE_DEVICES", ("cuda", "cpu") if request.param == "dense" else ())
    return request.param


@pytest.mark.usefixtures("computing")
@pytest.mark.parametrize("flipped", [True, False])
@pytest.mark.parametrize(("components", "dtype", "window"), [
    (3, "uint8", (0, 0, WIDTH, HEIGHT)),
    (4, "float32", (100, 60, 260, 250)),  # a window on the face: the edit is cropped to it
    (4, "float16", (-20, 150, 200, HEIGHT + 30)),  # past the plate: transparent black there
    (3, "uint16", (40, 0, WIDTH, 200)),
])
def test_the_device_path_gives_the_cpu_renders_bytes(talking, analysis_file, flipped, components, dtype, window):
    frames, _ = talking
    src = opaque_plate(frames[9], dtype, components)
    plan = prepare(request(analysis_file, FIRST + 9, window, components, dtype))
    cpu, device = render_both(plan, src, flipped)
    assert device.tobytes() == cpu.tobytes()
    if window[0] == 0:
        assert (cpu != src).any()  # the face was edited


def test_a_wrong_frame_is_refused_from_the_samples_before_anything_is_written(talking, analysis_file):
    frames, _ = talking
    plan = prepare(request(analysis_file, FIRST + 9, offset=1))  # reads plate frame 682: the pixels are 681's
    memory = np.ascontiguousarray(frames[9][::-1])
    out = np.full_like(memory, 7)
    with pytest.raises(AnalysisMismatchError, match="Frame Offset to 0"):
        plan.device_renderer()(torch.from_numpy(memory), torch.from_numpy(out), True)
    assert (out == 7).all()


@pytest.mark.parametrize(("changes", "why"), [
    ({"output": 1}, "the matte output is drawn on the CPU"),
    ({"components": 4, "premultiplication": UNPREMULTIPLIED}, "straight alpha is unpremultiplied on the CPU"),
])
def test_frames_the_device_does_not_render_take_the_host_path(analysis_file, changes, why):
    assert prepare(request(analysis_file, FIRST + 9, **changes)).device_renderer() is None, why


def test_memory_order_of_a_bottom_up_view_reads_the_same_pixels():
    memory = np.arange(6 * 5 * 4, dtype=np.float32).reshape(6, 5, 4)
    top_down = memory[::-1][1:4, 2:5]  # a window of an image stored bottom row first
    ptr = top_down.__array_interface__["data"][0]
    view = {"ptr": ptr, "low": ptr + 2 * top_down.strides[0], "span": 0, "shape": top_down.shape,
            "strides": top_down.strides, "dtype": "float32"}
    ordered, flipped = gpu.memory_order(view)
    assert flipped and ordered["strides"][0] > 0 and ordered["ptr"] == ordered["low"]
    np.testing.assert_array_equal(top_down[::-1], memory[2:5, 2:5])
    assert ordered["ptr"] == memory[2:5, 2:5].__array_interface__["data"][0]
