"""CUDA renders on a real GPU through the test host: the host's device images edited in place on its stream.

The test host's ``cuda 2`` puts each frame's images in device memory (cuMemAlloc), hands the node device pointers
and a stream of its own, and copies the images back after waiting for that stream. The node must give the CPU
render's bytes, write nothing outside the window, leave the source alone, and never copy a frame to host memory
(counted by the engine: ``emotionedit.node.gpu.FRAME_COPIES``), in-process and through the engine server (CUDA
IPC). Skipped where there is no CUDA device; the same code runs on torch's CPU device in
test_node_device_render.py on every commit.
"""

from __future__ import annotations

import json

import pytest
from ofxhost import DEPTHS, Frame, engine_env, run

from file_helpers import opaque_plate

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("node_built")]

FIRST = 672  # franck's talking frames, as analysed by the `talking` fixture (672-719)


@pytest.fixture(scope="module", autouse=True)
def cuda_device():
    torch = pytest.importorskip("torch")
    pytest.importorskip("cupy", reason="the node wraps the host's device images with CuPy")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (torch sees none)")


@pytest.mark.parametrize("transport", ["in-process", "server"])
@pytest.mark.parametrize(("depth", "rows"), [("byte", "positive"), ("float", "negative"), ("half", "positive"),
                                             ("short", "negative")])
def test_device_images_are_edited_in_place_as_the_cpu_does(tmp_path, talking, analysis_file, transport, depth,
                                                           rows):
    numbers = [FIRST + 3, FIRST + 9]
    windows = {numbers[0]: None, numbers[1]: (100, 40, 300, 230)}
    frames = [Frame(n, opaque_plate(talking[0][n - FIRST], DEPTHS[depth]), windows[n]) for n in numbers]
    params = {"analysisFile": analysis_file, "emotion": "Happy", "intensity": 1, "lipPreservation": 1}
    cpu = run(tmp_path, frames, params, depth=depth, rows=rows, env=engine_env(EMOTIONEDIT_TRANSPORT=transport))
    copies = tmp_path / f"copies-{transport}-{depth}.jsonl"
    env = engine_env(EMOTIONEDIT_TRANSPORT=transport, EMOTIONEDIT_NODE_MODULE="device_copies",
                     EMOTIONEDIT_TEST_COPIES=str(copies))
    gpu = run(tmp_path, frames, params, depth=depth, rows=rows, cuda=2, cuda_stream=1, env=env)
    assert gpu.returncode == 0 and not [line for line in gpu.lines if line.startswith("ERROR")], gpu.stdout + gpu.stderr
    for n in numbers:
        assert gpu.status(n) == 0, gpu.text(n) + gpu.stderr[-3000:]
        assert gpu.checks[n]["outside_window_bytes"] == "0"
        assert gpu.checks[n]["source_intact"] == "1"
        assert (cpu.outputs[n] != frames[numbers.index(n)].image).any()
        assert gpu.outputs[n].tobytes() == cpu.outputs[n].tobytes(), f"frame {n}"
    counts = json.loads(copies.read_text().splitlines()[-1])
    assert counts.get("device") == len(numbers), counts
    assert not counts.get("downloads") and not counts.get("uploads") and not counts.get("host"), counts
