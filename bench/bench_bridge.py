"""The OFX node's own cost per frame: the C++ node and the pybind11 handoff, without the engine's work.

Usage: python bench/bench_bridge.py [--frames N] [--out docs/results/bench_bridge.json]

The project's test host (tests/node/host) renders synthetic float RGBA frames at 1080p and
4K through the built bundle (plugin/EmotionEdit.ofx.bundle), with the node driving
``emotionedit.node.noop`` instead of the engine: every frame still takes the whole path
(images and parameters from the host, the copy of the source into the node's private
memory, the job queue, the worker thread, the GIL, numpy views of the private copies, the
copy of the window into the host's image, messages back) but the render touches one pixel.
The host times each Render action, on one render thread (several threads add only the wait
for the one Python worker). The first frame (which starts Python) is reported apart;
per-frame figures are medians over the rest. For scale, the time numpy takes to copy one
such frame is printed beside them: the node copies the source in and the window out (here
the whole frame), so that a render thread can give up on a stuck engine.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests/node"))
from ofxhost import engine_env, time_renders  # noqa: E402 - the test host's driver

SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}


def bench_size(work: Path, width: int, height: int, frames: int) -> dict:
    env = engine_env(EMOTIONEDIT_NODE_MODULE="emotionedit.node.noop", EMOTIONEDIT_TRANSPORT="in-process")
    ms = time_renders(work, width, height, "float", frames, env)
    first, rest = ms[0], np.array(ms[1:])
    plate = np.ones((height, width, 4), np.float32)
    copies = []
    for _ in range(5):
        start = time.perf_counter()
        plate.copy()
        copies.append((time.perf_counter() - start) * 1000.0)
    return {
        "size": [width, height],
        "format": "float32 RGBA",
        "frames": len(rest),
        "first_frame_ms": round(first, 2),
        "median_ms": round(float(np.median(rest)), 4),
        "p90_ms": round(float(np.percentile(rest, 90)), 4),
        "max_ms": round(float(rest.max()), 4),
        "numpy_frame_copy_ms": round(float(np.median(copies)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100, help="timed frames per size (default 100)")
    parser.add_argument("--out", default=str(REPO / "docs/results/bench_bridge.json"))
    args = parser.parse_args()
    work = REPO / "build/bench-bridge"
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, (width, height) in SIZES.items():
        results[name] = r = bench_size(work, width, height, args.frames)
        print(f"{name:>6} float RGBA: median {r['median_ms']:.3f} ms/frame (p90 {r['p90_ms']:.3f}, max "
              f"{r['max_ms']:.3f}; first frame {r['first_frame_ms']:.0f} ms with Python start-up); "
              f"a numpy copy of one frame takes {r['numpy_frame_copy_ms']:.1f} ms")
    report = {
        "what": "OFX node + pybind11 handoff per Render action, engine replaced by emotionedit.node.noop",
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
