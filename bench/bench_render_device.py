"""`emotionedit render --device cuda` against `--device cpu` on a 1080p float EXR sequence, and what bounds both.

Usage: python bench/bench_render_device.py --prepare DIR [--frames N]       (here: track the plate)
       python bench/bench_render_device.py --inputs DIR [--frames N] [--out FILE] (on the GPU machine)

The plate is franck's talking frames from 672 as float32 RGBA 1920x1080 (bench_engine.plate), written as an EXR
sequence (OpenImageIO, the writer's default compression). Three renders of the whole sequence, each a separate
`emotionedit render` process, timed from the start of the process to its end (seconds, then ms a frame):
  cpu          happy at intensity 1 on the CPU (the compiled kernel)
  cuda         the same on the GPU (one upload and one download a frame)
  io_floor     intensity 0 on the CPU: decode, plate check, copy, encode; what every render pays for its files
and the render loop alone, as `emotionedit render` reports it (frames/s: without the process's start-up, which
for cuda includes torch's and the device's).
The two edits are compared pixel for pixel (largest difference and the share of differing pixels). The lent GPU
machine has no mediapipe: --prepare tracks the plate here and keeps the analysis in DIR, which travels (the clip
travels in the footage cache, EMOTIONEDIT_CACHE: bench/gpu_inputs.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench_engine import plate, read_frames
from emotionedit.analysis import PlateInfo, save

FIRST = 672
SIZE = (1920, 1080)


def frames_of(count: int) -> list[np.ndarray]:
    """franck's talking frames from 672 as 1080p float RGBA plates (the clip from the footage cache, which travels
    to the GPU machine in .gpu/cache: bench/gpu_inputs.sh)."""
    return [plate(frame, SIZE) for frame in read_frames(count)]


def prepare(folder: Path, count: int) -> None:
    from emotionedit.engine import analyze

    folder.mkdir(parents=True, exist_ok=True)
    frames = frames_of(count)
    numbers = list(range(FIRST, FIRST + count))
    info = PlateInfo("plate.####.exr", SIZE[0], SIZE[1], numbers, 24.0)
    save(analyze(zip(numbers, frames, strict=True), info), folder / "plate.analysis.npz", overwrite=True)
    print(f"wrote {folder}")


def write_plate(frames: list[np.ndarray], pattern: Path) -> None:
    from emotionedit.io import FrameSpec, open_writer

    spec = FrameSpec(width=SIZE[0], height=SIZE[1], channels=4, channel_names=("R", "G", "B", "A"),
                     dtype=np.dtype(np.float32), fps=24.0, metadata=(), format_name="openexr")
    numbers = list(range(FIRST, FIRST + len(frames)))
    with open_writer(str(pattern), spec, numbers) as writer:
        for n, image in zip(numbers, frames, strict=True):
            writer.write(n, image)


def render(pattern: Path, analysis: Path, out: Path, count: int, device: str, intensity: float) -> tuple[float, float]:
    """(seconds of the whole process, frames per second of its render loop as it reports them)."""
    command = [sys.executable, "-m", "emotionedit", "render", str(pattern), "--frames",
               f"{FIRST}-{FIRST + count - 1}", "--analysis", str(analysis), "-o", str(out), "--device", device,
               "--emotion", "happy", "--intensity", str(intensity), "--overwrite"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    loop = re.search(r"\(([0-9.]+) frames/s\)", done.stdout)
    return seconds, float(loop.group(1)) if loop else float("nan")


def compare(a_pattern: Path, b_pattern: Path, count: int) -> dict:
    from emotionedit.io import open_frames

    largest, differing, total = 0.0, 0, 0
    with open_frames(str(a_pattern)) as a, open_frames(str(b_pattern)) as b:
        for (_, x), (_, y) in zip(iter(a), iter(b), strict=True):
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
            largest = max(largest, float(np.nanmax(diff)))
            differing += int((x.view(np.uint32) != y.view(np.uint32)).any(axis=2).sum())
            total += x.shape[0] * x.shape[1]
    return {"largest_abs_difference": largest, "share_of_pixels_differing": differing / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--prepare", type=Path)
    parser.add_argument("--inputs", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_render_device"))
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results"
                        / "bench_render_device.json"))
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.frames)
        return
    import torch

    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pattern = work / "plate.####.exr"
    started = time.perf_counter()
    write_plate(frames_of(args.frames), pattern)
    print(f"plate written in {time.perf_counter() - started:.1f} s", flush=True)
    analysis = args.inputs / "plate.analysis.npz"
    seconds, loop_fps = {}, {}
    for name, device, intensity in (("io_floor", "cpu", 0.0), ("cpu", "cpu", 1.0), ("cuda", "cuda", 1.0)):
        seconds[name], loop_fps[name] = render(pattern, analysis, work / f"{name}.####.exr", args.frames, device,
                                               intensity)
        print(f"{name}: {seconds[name]:.1f} s, render loop {loop_fps[name]:.1f} frames/s", flush=True)
    report = {
        "command": f"python bench/bench_render_device.py --inputs DIR --frames {args.frames}",
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "none",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "plate": f"{args.frames} frames, 1920x1080 float32 RGBA EXR",
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "ms_per_frame": {k: round(1000 * v / args.frames, 1) for k, v in seconds.items()},
        # The render loop alone (what `emotionedit render` reports): without the process's start, imports, the
        # analysis's loading and, for cuda, torch's and the device's start-up.
        "loop_ms_per_frame": {k: round(1000 / v, 1) for k, v in loop_fps.items()},
        "cuda_speedup_over_cpu": round(seconds["cpu"] / seconds["cuda"], 2),
        "cuda_vs_io_floor": round(seconds["cuda"] / seconds["io_floor"], 2),
        "cuda_vs_cpu_pixels": compare(work / "cpu.####.exr", work / "cuda.####.exr", args.frames),
    }
    print(json.dumps(report, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
