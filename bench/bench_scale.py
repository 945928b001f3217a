"""Peak memory and frames per second of whole-shot batch jobs, as a farm runs them (issue 11, "Scale").

Usage: python bench/bench_scale.py [--work /tmp/emotionedit-scale] [--out docs/results/bench_scale.json]
       [--frames N]

Runs the command line in child processes, each measured by GNU time (peak resident memory of the
process and wall time):

- ``analyze`` and ``render`` (happy, to an FFV1 .mkv) of franck.mp4, all of its frames (4 800 at 360x288);
- the same on a 1080p plate of 480 of its frames (upscaled bicubic, written once as an FFV1 .mkv).

What it shows: whether memory stays flat as a shot grows (analysis holds every frame's tracking in RAM
until it is written; the render streams frames), and the throughput a farm node gets. The machine is
shared: compare figures within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import cv2

from emotionedit.footage import fetch_clip

CLI = [sys.executable, "-m", "emotionedit"]


def measured(args: list[str], work: Path) -> dict:
    """Run ``emotionedit ARGS`` in a child process under GNU time: its wall time and peak resident memory."""
    report = work / "time.txt"
    proc = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%M %e"] + CLI + args,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"emotionedit {' '.join(args[:1])} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    peak_kb, seconds = report.read_text().split()[-2:]
    return {"seconds": float(seconds), "peak_rss_mb": round(int(peak_kb) / 1024, 1)}


def upscaled_plate(source: Path, out: Path, frames: int, size: tuple[int, int]) -> Path:
    """The first ``frames`` frames of ``source`` upscaled to ``size`` as an FFV1 .mkv (written once)."""
    if out.exists():
        return out
    capture = cv2.VideoCapture(str(source))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"FFV1"), 24.0, size)
    for _ in range(frames):
        ok, frame = capture.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC))
    writer.release()
    capture.release()
    return out


def job(plate: Path, work: Path, name: str, frames: str | None) -> dict:
    analysis = work / f"{name}.analysis.npz"
    movie = work / f"{name}_happy.mkv"
    for stale in (analysis, movie):
        stale.unlink(missing_ok=True)
    picked = ["--frames", frames] if frames else []
    analyze = measured(["analyze", str(plate), "-o", str(analysis), *picked], work)
    render = measured(["render", str(plate), "--analysis", str(analysis), "--emotion", "happy", "-o", str(movie),
                       *picked], work)
    count = int(cv2.VideoCapture(str(movie)).get(cv2.CAP_PROP_FRAME_COUNT))
    for step in (analyze, render):
        step["frames"] = count
        step["fps"] = round(count / step["seconds"], 1)
    return {"analyze": analyze, "render": render, "analysis_file_mb": round(analysis.stat().st_size / 1e6, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/emotionedit-scale")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results/bench_scale.json"))
    parser.add_argument("--frames", type=int, default=480, help="frames of the 1080p plate")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    franck = fetch_clip("franck.mp4")
    hd = upscaled_plate(franck, work / "franck_1080p.mkv", args.frames, (1920, 1080))
    results = {"machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               "load_before": os.getloadavg()}
    results["1080p_480"] = job(hd, work, "hd", None)
    results["native_all"] = job(franck, work, "franck", None)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
