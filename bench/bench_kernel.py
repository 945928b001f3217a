"""The resampling kernel alone (cpp/engine/resample.cpp) on a 4K face, per pixel type and thread count.

Usage: PYTHONPATH=python python bench/bench_kernel.py [--frames N] [--out docs/results/bench_kernel.json]

franck's talking segment as 3840x2160 RGBA plates (bench_engine's), planned for happy at intensity 1; the
face's resampling (``_resample.resample`` over the plan's region: the edited pixels' cubic, clamp, NaN rule
and store) timed alone, in uint8, uint16, float16 (F16C where the CPU has it, and the portable code) and
float32, on one thread and on OpenCV's count; then on OpenCV's count with the plan's shading as the render
passes it (the skin detail's coarse grid, which the kernel interpolates per pixel: "shaded, grid") and with
the same gains spelled out as one plane over the region ("shaded, planes", the form plans had until session
21). Each figure is the fastest of REPEATS runs, median over frames, in ms; the edited pixels per frame are
recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np

from bench_device import analysed
from bench_engine import plate, read_frames
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.render import _resample

REPEATS = 7
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def as_type(frame: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype).kind == "u":
        return np.round(np.clip(frame, 0, 1) * np.iinfo(dtype).max).astype(dtype)
    return frame.astype(dtype)


def kernel_ms(plan, src: np.ndarray, threads: int, shading: str | None = None) -> float:
    """shading: None (none), "grid" (the plan's, as the render passes it) or "planes" (its gains spelled out)."""
    rs = plan.resampling
    region, window = rs.region, rs.window
    target = src[region.y0 : region.y1, region.x0 : region.x1].copy()
    samples = src[window.y0 : window.y1, window.x0 : window.x1]
    plane, origin, grid = None, (0, 0), None
    if shading is not None and plan.shading is not None:
        shaded = plan.shading.for_plate(src.shape[2], np.dtype(src.dtype).kind == "u")
        if shading == "grid":
            grid = shaded.grid_arguments()
            if shaded.plane is not None:
                plane, origin = shaded.plane, (shaded.rect.x0 - region.x0, shaded.rect.y0 - region.y0)
        else:
            gains = shaded.gains(region)
            plane = gains if gains.shape[2] == 3 else gains[..., 0]
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        _resample.resample(target, samples, window.x0, window.y0, rs.field.arguments(), rs.matte, region.x0,
                           region.y0, plane, *origin, threads, grid)
        best = min(best, (time.perf_counter() - start) * 1000.0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results/bench_kernel.json"))
    args = parser.parse_args()
    plates = [plate(f, (3840, 2160)) for f in read_frames(args.frames)]
    editor = ShotEditor(analysed(plates))
    cases = [("uint8", np.uint8, False), ("uint16", np.uint16, False), ("float16", np.float16, False),
             ("float16 portable", np.float16, True), ("float32", np.float32, False)]
    counts = (1, max(1, cv2.getNumThreads()))
    shaded = [f"{counts[-1]} threads, shaded, {form}" for form in ("grid", "planes")]
    figures = {name: {key: [] for key in [f"{n} threads" for n in counts] + shaded} for name, _, _ in cases}
    edited = []
    for i, frame in enumerate(plates):
        for name, dtype, portable in cases:
            src = as_type(frame, dtype)
            plan = editor.plan_frame(src.shape, src.dtype, i, HAPPY)
            if name == "float32":
                edited.append(int((plan.resampling.matte > 0).sum()))
            _resample.use_portable_half(portable)
            try:
                for n in counts:
                    figures[name][f"{n} threads"].append(kernel_ms(plan, src, n))
                for key, form in zip(shaded, ("grid", "planes"), strict=True):
                    figures[name][key].append(kernel_ms(plan, src, counts[-1], form))
            finally:
                _resample.use_portable_half(False)
    report = {"command": f"PYTHONPATH=python python bench/bench_kernel.py --frames {args.frames}",
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "half_kernel": _resample.half_kernel(), "plate": "3840x2160 RGBA",
              "edited_pixels_per_frame": int(np.median(edited)), "repeats_per_frame": REPEATS,
              "load_average": [round(x, 2) for x in os.getloadavg()],
              "ms_per_frame": {name: {k: round(float(np.median(v)), 2) for k, v in per.items()}
                               for name, per in figures.items()}}
    for name, per in report["ms_per_frame"].items():
        print(f"{name:18s}", "  ".join(f"{k}: {v:6.1f} ms" for k, v in per.items()))
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
