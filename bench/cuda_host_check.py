"""One frame through the test host on a GPU, in each CUDA set-up, with everything the host and the engine said.

Usage (on a machine with a CUDA device, after the node is built; .gpu/ as bench/gpu_check.sh makes it):
    python bench/cuda_host_check.py
For diagnosing tests/node/test_node_cuda_device.py where a failure must be read in one run: each host run is
stopped with SIGABRT after LIMIT seconds, and the embedded and server Pythons dump their threads' stacks then
(PYTHONFAULTHANDLER), so a hang shows where it hangs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/node"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import ofxhost  # noqa: E402
from ofxhost import Frame, engine_env, run  # noqa: E402

from emotionedit.analysis import load, save  # noqa: E402
from emotionedit.footage import fetch_clip  # noqa: E402

LIMIT = 40
_run = subprocess.run


def bounded(command, *args, **kwargs):
    if str(command[0]).find("ofx_test_host") >= 0:
        command = ["timeout", "-s", "ABRT", str(LIMIT), *command]
        kwargs["timeout"] = LIMIT + 20
    return _run(command, *args, **kwargs)


def main() -> None:
    import os

    from file_helpers import read_clip

    ofxhost.subprocess.run = bounded
    frames = read_clip(fetch_clip("franck.mp4"), 672, 48)
    analysis = load(Path(os.environ["EMOTIONEDIT_TEST_ANALYSES"]) / "franck-672-48.analysis.npz")
    work = Path(tempfile.mkdtemp())
    analysis_file = work / "franck.analysis.npz"
    save(analysis, analysis_file)
    image = np.concatenate([frames[9], np.full((288, 360, 1), 255, np.uint8)], axis=2)
    params = {"analysisFile": analysis_file, "emotion": "Happy", "intensity": 1}
    outputs = {}
    for transport, cuda in (("in-process", 0), ("in-process", 2), ("server", 2)):
        copies = work / f"copies-{transport}-{cuda}.jsonl"
        env = engine_env(EMOTIONEDIT_TRANSPORT=transport, EMOTIONEDIT_NODE_MODULE="device_copies",
                         EMOTIONEDIT_TEST_COPIES=str(copies), PYTHONFAULTHANDLER="1")
        print(f"==== {transport} cuda {cuda}", flush=True)
        try:
            result = run(work, [Frame(681, image, (30, 20, 330, 270))], params, rows="positive", cuda=cuda,
                         cuda_stream=int(cuda > 0), env=env)
        except subprocess.TimeoutExpired as exc:
            print("TIMEOUT", exc, flush=True)
            continue
        print("returncode", result.returncode)
        for line in result.lines:
            if line.split(" ", 1)[0] in ("RENDER", "MESSAGE", "ERROR", "CHECK", "STANDING", "SUMMARY"):
                print(line[:1500])
        print("stderr:", result.stderr[-4000:])
        print("copies:", copies.read_text() if copies.exists() else "(none)")
        if 681 in result.outputs:
            outputs[(transport, cuda)] = result.outputs[681]
    reference = outputs.get(("in-process", 0))
    for key, out in outputs.items():
        if reference is not None:
            print(key, "same bytes as the CPU render:", out.tobytes() == reference.tobytes(), flush=True)


if __name__ == "__main__":
    main()
