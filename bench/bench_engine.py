"""Per-stage milliseconds per frame of the engine on real footage, at native size, 1080p and 4K float.

Usage: python bench/bench_engine.py [--frames N] [--out docs/results/bench_engine.json]
franck.mp4's talking segment is upscaled (bicubic, aspect kept, widened with its edge columns)
to each size as a float32 RGBA plate (a real plate's format). Stages: tracking view (float ->
small 8-bit), landmarks (mediapipe), hands (mediapipe's hand landmarks on the same view), steady (the
landmarks made steady with the views' optical flow: each frame's flow plus the shot's solve), fit (per
shot, divided by frames), edit (AU delta), field (thin-plate map), matte and pixels (resampling
inside the matte, including the copy of the untouched frame), then the full render path:
plan (``ShotEditor.plan_frame``: field, layers, matte, skin detail), apply (``FramePlan.render_into``:
the frame's copy, the clamped bicubic resampling and the shading), render_total
(``ShotEditor.render_into``: both, the frame's copy on a second thread while the frame is planned), render_serial
(the same with the copy after the plan, as before) and copy (``np.copyto`` of the same plate, the floor), with the
ratios render_vs_copy, render_serial_vs_copy and apply_vs_copy taken from the same run. Each frame is timed
REPEATS times and its fastest run kept (the machine is shared: the fastest run is the least disturbed one); the
figures are medians of those over the frames. The load average before and after is recorded, so a
disturbed run shows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from contextlib import contextmanager
from pathlib import Path

from emotionedit.process import BLAS_THREAD_VARIABLES, own_process

# The engine as the `emotionedit` command and the engine server run it: one BLAS thread, set before numpy loads
# (emotionedit/process.py). With OpenBLAS's thread per core, each of the plan's two thin-plate solves took 5-24 ms
# on the 2-core development machine instead of 0.7-1.4.
own_process()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from emotionedit import engine  # noqa: E402
from emotionedit.analysis import Analysis, PlateInfo  # noqa: E402
from emotionedit.edit import EditParams  # noqa: E402
from emotionedit.engine import ShotEditor, to_tracking_rgb  # noqa: E402
from emotionedit.fit import fit_shot  # noqa: E402
from emotionedit.footage import fetch_clip  # noqa: E402
from emotionedit.render.field import backward_map, warp_region  # noqa: E402
from emotionedit.render.matte import face_matte  # noqa: E402
from emotionedit.render.mouth import mouth_interior  # noqa: E402
from emotionedit.render.pixels import warp_into  # noqa: E402
from emotionedit.track import MediaPipeFaceMesh, TrackerOptions, track_frames  # noqa: E402
from emotionedit.track.occluders import MediaPipeHands  # noqa: E402
from emotionedit.track.stabilise import FlowStabiliser  # noqa: E402

SIZES = {"native": None, "1080p": (1920, 1080), "4K": (3840, 2160)}
REPEATS = 5


def read_frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(fetch_clip("franck.mp4")))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 672)
    frames = []
    for _ in range(count):
        ok, frame = capture.read()
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    return frames


def plate(frame: np.ndarray, size) -> np.ndarray:
    """A float32 RGBA plate of ``size`` (w, h): the frame scaled to its height (aspect kept, so the
    face is not stretched) and widened with its own edge columns."""
    x = frame.astype(np.float32) / 255.0
    if size is not None:
        width, height = size
        scaled = cv2.resize(x, (round(x.shape[1] * height / x.shape[0]), height), interpolation=cv2.INTER_CUBIC)
        pad = width - scaled.shape[1]
        x = cv2.copyMakeBorder(scaled, 0, 0, pad // 2, pad - pad // 2, cv2.BORDER_REPLICATE)
    linear = np.power(np.clip(x, 0, None), 2.2)
    alpha = np.ones(linear.shape[:2] + (1,), np.float32)
    return np.ascontiguousarray(np.concatenate([linear, alpha], axis=2))


def timed(fn, *args):
    """(result, fastest of REPEATS runs in ms)."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, (time.perf_counter() - start) * 1000.0)
    return result, best


def matte_stage(source: np.ndarray, target: np.ndarray, region) -> np.ndarray:
    mouth_interior(source, target, region)
    return face_matte(source, region)


def pixel_stage(dst: np.ndarray, src: np.ndarray, map_x, map_y, matte, region) -> None:
    dst[...] = src
    warp_into(dst, dst, map_x, map_y, matte, region)


@contextmanager
def copy_after_planning():
    """The render as it was before the frame's copy ran while the frame is planned (engine.render_into), for the
    same run's comparison: every plate counts as too small to copy on the side."""
    kept = engine.COPY_WHILE_PLANNING_BYTES
    engine.COPY_WHILE_PLANNING_BYTES = 1 << 62
    try:
        yield
    finally:
        engine.COPY_WHILE_PLANNING_BYTES = kept


def bench_size(frames: list[np.ndarray], size) -> dict:
    plates = [plate(f, size) for f in frames]
    height, width = plates[0].shape[:2]
    options = TrackerOptions()
    tracker = MediaPipeFaceMesh(max_track_height=options.max_track_height)
    views, t_view = [], []
    for p in plates:
        v, ms = timed(to_tracking_rgb, p, options.max_track_height)
        views.append(v)
        t_view.append(ms)
    t_track = []
    tracker.reset()
    for v in views:
        _, ms = timed(tracker.detect, v)
        t_track.append(ms)
    hands = MediaPipeHands()
    hands.reset()
    t_hands = []
    for v in views:
        _, ms = timed(hands.detect, v)
        t_hands.append(ms)
    hands.close()
    track = track_frames(views, tracker, options)
    # The landmarks made steady with the views' flow, as `analyze` does: each frame's flow (once: it keeps
    # state), then the shot's solve, per frame.
    steadier, t_steady = FlowStabiliser(len(views)), []
    for view, points, found in zip(views, track.landmarks, track.found, strict=True):
        start = time.perf_counter()
        steadier.observe(view, points if found else None)
        t_steady.append((time.perf_counter() - start) * 1000.0)
    start = time.perf_counter()
    track.landmarks = steadier.steady(track.landmarks, track.found)
    t_solve = (time.perf_counter() - start) * 1000.0
    track.landmarks *= np.float32(height / views[0].shape[0])
    fit, t_fit = timed(fit_shot, track.landmarks, track.found)
    info = PlateInfo("bench", width, height, list(range(len(frames))), 24.0)
    analysis = Analysis(plate=info, track=track, fit=fit, tracker=tracker.name)
    editor, t_setup = timed(ShotEditor, analysis)
    params = EditParams()
    stages = {k: [] for k in ("edit", "field", "matte", "pixels", "plan", "apply", "render_total", "render_serial",
                              "copy")}
    dst = np.empty_like(plates[0])
    for i, p in enumerate(plates):
        targets, ms = timed(editor.targets, i, params)
        stages["edit"].append(ms)
        region = warp_region(targets.source, width, height)
        (mx, my), ms = timed(backward_map, targets.source, targets.target, region)
        stages["field"].append(ms)
        matte, ms = timed(matte_stage, targets.source, targets.target, region)
        stages["matte"].append(ms)
        _, ms = timed(pixel_stage, dst, p, mx, my, matte, region)
        stages["pixels"].append(ms)
        plan, ms = timed(editor.plan_frame, p.shape, p.dtype, i, params)
        stages["plan"].append(ms)
        _, ms = timed(plan.render_into, dst, p)
        stages["apply"].append(ms)
        _, ms = timed(editor.render_into, dst, p, i, params)
        stages["render_total"].append(ms)
        with copy_after_planning():
            _, ms = timed(editor.render_into, dst, p, i, params)
        stages["render_serial"].append(ms)
        _, ms = timed(np.copyto, dst, p)
        stages["copy"].append(ms)
    med = {k: round(float(np.median(v)), 2) for k, v in stages.items()}
    med.update({
        "tracking_view": round(float(np.median(t_view)), 2),
        "landmarks": round(float(np.median(t_track)), 2),
        "hands": round(float(np.median(t_hands)), 2),
        "steady": round(float(np.median(t_steady)) + t_solve / len(frames), 2),
        "fit_per_frame": round(t_fit / len(frames), 3),
        "shot_setup_per_frame": round(t_setup / len(frames), 3),
    })
    med["analyze_total"] = round(med["tracking_view"] + med["landmarks"] + med["hands"] + med["steady"]
                                 + med["fit_per_frame"], 2)
    med["analyze_fps"] = round(1000.0 / med["analyze_total"], 1)
    med["render_fps"] = round(1000.0 / med["render_total"], 1)
    # Per frame, then the median: each ratio's two timings ran back to back on the same plate.
    for name in ("render_total", "render_serial", "apply"):
        ratios = [a / b for a, b in zip(stages[name], stages["copy"], strict=True)]
        med[f"{name.replace('_total', '')}_vs_copy"] = round(float(np.median(ratios)), 2)
    med["plate"] = f"{width}x{height} float32 RGBA"
    med["face_region_px"] = f"{region.width}x{region.height}"
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results/bench_engine.json"))
    args = parser.parse_args()
    frames = read_frames(args.frames)
    report = {
        "command": f"python bench/bench_engine.py --frames {args.frames}",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPU only",
        "frames": args.frames,
        "repeats_per_frame": REPEATS,
        "opencv_threads": cv2.getNumThreads(),
        "blas_threads": next((f"{name}={os.environ[name]}" for name in BLAS_THREAD_VARIABLES if os.environ.get(name)),
                             "one per core"),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "ms_per_frame": {},
    }
    for name, size in SIZES.items():
        report["ms_per_frame"][name] = bench_size(frames, size)
        print(name, json.dumps(report["ms_per_frame"][name]), flush=True)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print("load average before / after:", report["load_average_before"], report["load_average_after"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
