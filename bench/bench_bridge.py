"""The OFX node's own cost per frame, and what its copies weigh against the engine's work on a real frame.

Usage: python bench/bench_bridge.py [--frames N] [--engine-frames M] [--out docs/results/bench_bridge.json]
       python bench/bench_bridge.py --bundle OTHER/plugin/EmotionEdit.ofx.bundle --engine-path OTHER/python \
           --engine-python PYTHON --out ...
       (another build, such as an older checkout's, with its own engine: PYTHON must be an environment
       that does not import this checkout's engine first, as its editable install would; per-step figures
       need a node that knows EMOTIONEDIT_TIMING)

The project's test host (tests/node/host) renders float RGBA frames at 1080p and 4K through the built
bundle, in-process, on one render thread with one shared instance; it times each Render action. The
first frame (which starts Python) is reported apart; per-frame figures are medians over the rest.

1. The node alone: ``emotionedit.node.noop`` instead of the engine plans every frame as a pass-through
   frame (no rectangle), so a frame takes the whole path (images and parameters from the host, the job
   queue, the worker thread, the GIL, the plan's rectangles back) and the node then copies the render
   window from the source into the output: the output's own content, which any render must write.
   Measured with the whole frame as the render window, and with a 16x16 window, where that copy is
   negligible and what is left is the handoff. For scale: numpy copying one frame into existing memory.
2. The real engine: franck's frame upscaled to the size (its aspect kept, widened with its edge columns,
   as bench/bench_engine.py does), analysed, and rendered with Emotion Happy at intensity 1. The node
   reports each step of each frame (EMOTIONEDIT_TIMING): the engine's prepare phase (the edit, the field,
   the matte), the copy of the source's read rectangle into private memory, the pixel phase, the window
   copy into the output and the copy of the write rectangle over it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests/node"))
sys.path.insert(0, str(REPO / "bench"))
from ofxhost import engine_env, time_renders, time_scene  # noqa: E402 - the test host's driver

SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
SMALL = (0, 0, 16, 16)
STEPS = ("prepare_ms", "read_copy_ms", "pixels_ms", "window_copy_ms", "write_copy_ms")
COPIES = ("read_copy_ms", "window_copy_ms", "write_copy_ms")


def stats(ms: list[float]) -> dict:
    first, rest = ms[0], np.array(ms[1:])
    return {"frames": len(rest), "first_frame_ms": round(first, 2), "median_ms": round(float(np.median(rest)), 4),
            "p90_ms": round(float(np.percentile(rest, 90)), 4), "max_ms": round(float(rest.max()), 4)}


def numpy_copy_ms(width: int, height: int) -> float:
    plate = np.ones((height, width, 4), np.float32)
    into = np.zeros_like(plate)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(into, plate)
        times.append((time.perf_counter() - start) * 1000.0)
    return round(float(np.median(times)), 3)


def bench_noop(work: Path, width: int, height: int, frames: int, env: dict[str, str]) -> dict:
    return {
        "whole_window": stats(time_renders(work, width, height, "float", frames, env)),
        "16x16_window": stats(time_renders(work, width, height, "float", frames, env, window=SMALL)),
        "numpy_frame_copy_ms": numpy_copy_ms(width, height),
    }


def timing_lines(stderr: str) -> list[dict]:
    """The node's EMOTIONEDIT_TIMING lines, in order."""
    return [dict(re.findall(r"(\w+)=(\S+)", line.split("timing:", 1)[1])) for line in stderr.splitlines()
            if "EmotionEdit: info: timing:" in line]


def bench_engine(work: Path, name: str, size: tuple[int, int], frames: int, env: dict[str, str]) -> dict:
    from bench_engine import plate, read_frames
    from emotionedit.analysis import PlateInfo, save
    from emotionedit.engine import analyze

    width, height = size
    plates = [plate(f, size) for f in read_frames(8)]
    numbers = list(range(len(plates)))
    analysis = analyze(zip(numbers, plates, strict=True), PlateInfo("bench", width, height, numbers, 24.0))
    analysis_path = work / f"franck-{name}.analysis.npz"
    save(analysis, analysis_path, overwrite=True)
    frame = len(plates) // 2
    raw = work / f"franck-{name}.raw"
    np.ascontiguousarray(plates[frame]).tofile(raw)
    lines = [f"size {width} {height}", "depth float", "components RGBA", "rows negative", "padding 0", "threads 1",
             "instances shared", f"repeat {frames + 1}", f"param analysisFile {analysis_path}",
             f"frame {frame} {raw} -"]
    timed = time_scene(work / f"engine-{name}.txt", lines, env)
    raw.unlink()
    result = {"plate": f"{width}x{height} float32 RGBA", **stats(timed.ms)}
    steps = timing_lines(timed.stderr)[1:]  # the first frame started Python
    if steps:
        medians = {k: round(float(np.median([float(s[k]) for s in steps])), 3) for k in STEPS}
        copies = sum(medians[k] for k in COPIES)
        result.update(medians)
        result.update({"read": steps[-1]["read"], "write": steps[-1]["write"], "window": steps[-1]["window"],
                       "copies_ms": round(copies, 3), "copies_share": round(copies / result["median_ms"], 3)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=40, help="timed no-op frames per case (default 40)")
    parser.add_argument("--engine-frames", type=int, default=15, help="timed real frames per size (default 15)")
    parser.add_argument("--bundle", help="the bundle to measure (default: plugin/EmotionEdit.ofx.bundle)")
    parser.add_argument("--engine-path", help="the engine's python folder for that bundle (default: python/)")
    parser.add_argument("--engine-python", help="the engine environment's python (default: this one)")
    parser.add_argument("--out", default=str(REPO / "docs/results/bench_bridge.json"))
    args = parser.parse_args()
    if args.bundle:
        os.environ["EMOTIONEDIT_BUNDLE"] = str(Path(args.bundle).resolve())
    overrides = {"EMOTIONEDIT_TRANSPORT": "in-process", "EMOTIONEDIT_TIMING": "1"}
    if args.engine_path:
        overrides["EMOTIONEDIT_PYTHONPATH"] = str(Path(args.engine_path).resolve())
    if args.engine_python:
        overrides["EMOTIONEDIT_PYTHON"] = args.engine_python
    work = REPO / "build/bench-bridge"
    work.mkdir(parents=True, exist_ok=True)
    report = {
        "what": "OFX node per Render action, in-process, float RGBA, one render thread: the node alone "
                "(emotionedit.node.noop, pass-through frames) and with the real engine on franck upscaled",
        "command": " ".join(["python", "bench/bench_bridge.py", *sys.argv[1:]]),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version()},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "noop": {},
        "engine": {},
    }
    noop_env = engine_env(EMOTIONEDIT_NODE_MODULE="emotionedit.node.noop", **overrides)
    for name, (width, height) in SIZES.items():
        report["noop"][name] = r = bench_noop(work, width, height, args.frames, noop_env)
        whole, small = r["whole_window"], r["16x16_window"]
        print(f"no-op {name:>5}: whole window {whole['median_ms']:.3f} ms/frame (p90 {whole['p90_ms']:.3f}), "
              f"16x16 window {small['median_ms']:.3f} ms (p90 {small['p90_ms']:.3f}); first frame "
              f"{whole['first_frame_ms']:.0f} ms; numpy copies one frame in {r['numpy_frame_copy_ms']:.2f} ms",
              flush=True)
    engine = engine_env(**overrides)
    for name, size in SIZES.items():
        report["engine"][name] = r = bench_engine(work, name, size, args.engine_frames, engine)
        line = f"engine {name:>5}: {r['median_ms']:.2f} ms/frame (p90 {r['p90_ms']:.2f})"
        if "copies_ms" in r:
            line += (f"; prepare {r['prepare_ms']:.2f}, read copy {r['read_copy_ms']:.2f} ({r['read']}), pixels "
                     f"{r['pixels_ms']:.2f}, window copy {r['window_copy_ms']:.2f} ({r['window']}), write copy "
                     f"{r['write_copy_ms']:.2f} ({r['write']}): copies {r['copies_ms']:.2f} ms, "
                     f"{100 * r['copies_share']:.0f}% of the frame")
        print(line, flush=True)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"load average before / after: {report['load_average_before']} / {report['load_average_after']}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
