"""Peak memory and frames per second of whole-shot batch jobs, as a farm runs them (issue 11, "Scale").

Usage: python bench/bench_scale.py [--work /tmp/emotionedit-scale] [--out docs/results/bench_scale.json]
       [--frames N]

Runs the command line in child processes, each measured by GNU time (peak resident memory of the
process, wall time, and CPU time: over the wall time, how many cores the job kept busy on average):

- ``analyze`` and ``render`` (happy, to an FFV1 .mkv) of franck.mp4, all of its frames (4 800 at 360x288);
- how analysis memory grows with the shot, in a child process that runs ``analyze`` (the engine's, not
  the command's) over the first 2 400 frames: its resident size every 400 frames while tracking (bytes
  a frame, beside what the analysis file stores a frame) and the shot fit's peak over what it is given
  (tracemalloc: numpy's arrays);
- ``analyze`` and ``render`` of a 1080p plate of 480 of its frames (upscaled bicubic, written once as
  an FFV1 .mkv).

What it shows: whether memory stays flat as a shot grows (analysis holds every frame's tracking in RAM
until it is written; the render streams frames), and the throughput a farm node gets. The machine is
shared: compare figures within one run; the 1-minute load average is recorded before each step.
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
import numpy as np

from emotionedit.footage import fetch_clip

CLI = [sys.executable, "-m", "emotionedit"]


def measured(args: list[str], work: Path) -> dict:
    """Run ``emotionedit ARGS`` in a child process under GNU time: its wall time and peak resident memory."""
    report = work / "time.txt"
    proc = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%M %e %U %S"] + CLI + args,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"emotionedit {' '.join(args[:1])} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    peak_kb, seconds, user, system = report.read_text().split()[-4:]
    return {"seconds": float(seconds), "peak_rss_mb": round(int(peak_kb) / 1024, 1),
            "cpu_seconds": round(float(user) + float(system), 1)}


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


def load() -> float:
    """The 1-minute load average (other jobs on this shared machine)."""
    return round(os.getloadavg()[0], 2)


def job(plate: Path, work: Path, name: str, frames: str | None) -> dict:
    analysis = work / f"{name}.analysis.npz"
    movie = work / f"{name}_happy.mkv"
    for stale in (analysis, movie):
        stale.unlink(missing_ok=True)
    picked = ["--frames", frames] if frames else []
    steps = {"analyze": {"load": load(), **measured(["analyze", str(plate), "-o", str(analysis), *picked], work)}}
    steps["render"] = {"load": load(), **measured(["render", str(plate), "--analysis", str(analysis), "--emotion",
                                                   "happy", "-o", str(movie), *picked], work)}
    with np.load(analysis) as stored:
        count = len(stored["found"])
    for step in steps.values():
        step["frames"] = count
        step["fps"] = round(count / step["seconds"], 1)
    return {**steps, "analysis_file_mb": round(analysis.stat().st_size / 1e6, 2)}


def analysis_memory(plate: Path, work: Path, frames: int) -> dict:
    """:func:`trace_analysis` in a child process (a fresh interpreter, as a farm node runs it)."""
    out = work / "traced.analysis.npz"
    proc = subprocess.run([sys.executable, __file__, "--trace-analysis", str(plate), str(frames), str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the traced analysis failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return {"load": load(), **json.loads(proc.stdout.splitlines()[-1])}


def trace_analysis(plate: str, frames: int, out: Path) -> dict:
    """Analyse the first ``frames`` frames of ``plate``: resident size while tracking, the fit's peak, the file.

    Resident size (MiB) every 400 frames while tracking; its growth per frame from the 800th frame to the
    last, in KB (decimal), beside the analysis file's bytes per frame; the shot fit's peak of traced
    allocations over what it is given, in MB.
    """
    import tracemalloc

    import emotionedit.engine as engine
    from emotionedit.analysis import PlateInfo, save
    from emotionedit.io import open_frames

    def resident() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    samples: dict[int, float] = {}
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if done % 400 == 0:
            samples[done] = round(resident(), 1)

    fit_peak = {}
    fit_shot = engine.fit_shot

    def traced_fit(*args, **kwargs):
        tracemalloc.start()
        try:
            return fit_shot(*args, **kwargs)
        finally:
            fit_peak["mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
            tracemalloc.stop()

    engine.fit_shot = traced_fit
    with open_frames(plate, (0, frames - 1)) as reader:
        info = PlateInfo(str(plate), reader.spec.width, reader.spec.height, list(reader.frame_numbers), reader.spec.fps)
        analysis = engine.analyze(iter(reader), info, progress=progress)
    save(analysis, out, overwrite=True)
    first, last = 800, max(samples)
    return {"frames": frames, "tracking_rss_mib": samples,
            "tracking_kb_per_frame": round((samples[last] - samples[first]) * 2**20 / 1000 / (last - first), 2),
            "fit_peak_mb": fit_peak["mb"],
            "analysis_file_kb_per_frame": round(out.stat().st_size / 1000 / frames, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/emotionedit-scale")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results/bench_scale.json"))
    parser.add_argument("--frames", type=int, default=480, help="frames of the 1080p plate")
    parser.add_argument("--trace-analysis", nargs=3, metavar=("PLATE", "FRAMES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trace_analysis:
        plate, frames, out = args.trace_analysis
        print(json.dumps(trace_analysis(plate, int(frames), Path(out))))
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    franck = fetch_clip("franck.mp4")
    hd = upscaled_plate(franck, work / "franck_1080p.mkv", args.frames, (1920, 1080))
    results = {"machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               "load_before": os.getloadavg()}
    results["1080p_480"] = job(hd, work, "hd", None)
    results["native_all"] = job(franck, work, "franck", None)
    results["analysis_memory"] = analysis_memory(franck, work, 2400)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
