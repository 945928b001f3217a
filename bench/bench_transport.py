"""What the engine server costs per frame over the in-process engine: the OFX node's two transports, timed.

Usage: python bench/bench_transport.py [--frames N] [--out docs/results/bench_transport.json]

The project's test host (tests/node/host) renders synthetic RGBA frames at 1080p and 4K,
8-bit and float, through the built bundle, once with the engine in-process and once
through the engine server (EMOTIONEDIT_TRANSPORT), with the node driving
``emotionedit.node.noop`` instead of the engine, so what is left is the transport. The host
times each Render action on one render thread; the first frame (which starts Python, or the
server and its shared memory) is reported apart, per-frame figures are medians of the rest.

What each path copies for such a frame (the whole frame is the render window): in-process,
the no-op engine plans a pass-through frame (no rectangle), and the node copies the window
from the source into the output, the output's own content; through the server, the node
copies the whole source into shared memory, the node module's render on views of it
touches one pixel, and the node copies the window out. For scale, the time numpy takes for
two frame copies on this machine is printed beside them: the server's cost should be those
copies and little else, in-process about half of it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests/node"))
from ofxhost import engine_env, time_renders  # noqa: E402 - the test host's driver

SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
DEPTHS = {"8-bit": ("byte", np.uint8), "float": ("float", np.float32)}
TRANSPORTS = ("in-process", "server")


def copies_ms(width: int, height: int, dtype: type) -> float:
    """Median of one frame copied in (rows reversed, as OFX stores them) and one copied out."""
    plate = np.ones((height, width, 4), dtype)
    into, out = np.empty_like(plate), np.empty_like(plate)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        np.copyto(into, plate[::-1])
        np.copyto(out, into)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times[1:]))


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    memory = next((int(line.split()[1]) // (1 << 20) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": memory, "python": platform.python_version(),
            "system": platform.platform(), "load_average_at_start": [round(v, 2) for v in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30, help="timed frames per case (default 30)")
    parser.add_argument("--out", default=str(REPO / "docs/results/bench_transport.json"))
    args = parser.parse_args()
    host = machine()  # before the benchmark loads the machine itself
    work = REPO / "build/bench-transport"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"{'size':>6} {'depth':>6} {'in-process':>11} {'server':>9} {'overhead':>9} {'2 numpy copies':>15} "
          f"{'server 1st frame':>17}")
    for size, (width, height) in SIZES.items():
        for depth, (host_depth, dtype) in DEPTHS.items():
            row = {"size": size, "width": width, "height": height, "depth": depth, "components": "RGBA",
                   "frame_mib": round(width * height * 4 * np.dtype(dtype).itemsize / (1 << 20), 1),
                   "frames": args.frames}
            for transport in TRANSPORTS:
                env = engine_env(EMOTIONEDIT_NODE_MODULE="emotionedit.node.noop", EMOTIONEDIT_TRANSPORT=transport)
                ms = time_renders(work, width, height, host_depth, args.frames, env)
                rest = np.array(ms[1:])
                row[transport] = {"first_frame_ms": round(ms[0], 1), "median_ms": round(float(np.median(rest)), 3),
                                  "p90_ms": round(float(np.percentile(rest, 90)), 3)}
            row["overhead_ms"] = round(row["server"]["median_ms"] - row["in-process"]["median_ms"], 3)
            row["numpy_copies_ms"] = round(copies_ms(width, height, dtype), 2)
            results.append(row)
            print(f"{size:>6} {depth:>6} {row['in-process']['median_ms']:>8.2f} ms {row['server']['median_ms']:>6.2f} "
                  f"ms {row['overhead_ms']:>6.2f} ms {row['numpy_copies_ms']:>12.2f} ms "
                  f"{row['server']['first_frame_ms']:>14.0f} ms")
    report = {
        "what": "OFX node per Render action, engine replaced by emotionedit.node.noop: in-process vs engine server; "
                "overhead = server median - in-process median; numpy_copies_ms = one frame copied in and one out",
        "command": "python bench/bench_transport.py" + "".join(f" {a}" for a in sys.argv[1:]),
        "machine": host,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
