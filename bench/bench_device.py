"""The pixel step on a torch device (render/device.py) against the CPU kernel and the copy floor.

Usage: python bench/bench_device.py [--frames N] [--device cuda|cpu] [--out docs/results/bench_device.json]
       python bench/bench_device.py --save-inputs DIR [--frames N]   (here: frames and analyses to carry)
       python bench/bench_device.py --inputs DIR --device cuda        (on the GPU machine: no tracker needed)

franck's talking segment as RGBA plates of 1920x1080 and 3840x2160, half and float (bench_engine's plates),
one analysis per size. Per frame, in ms, each the fastest of REPEATS timings, medians over the frames:
  plan            ShotEditor.plan_frame (CPU, reads no pixels; the same for every pixel path)
  cpu_apply       the plan's pixel step on the CPU (the compiled kernel), frames in host memory
  device_apply    render_on_device with device-resident frames (the zero-copy OFX case), synchronised
  device_host     the same with frames in host memory: upload, render, download
  device_copy     a plain device-to-device copy of the frame (the floor), and device_apply / device_copy
  device_gathered device_apply computing only the matte's pixels, gathered on the CPU (the CPU's way), not
                  every pixel of the face's region (render/device.py's DENSE_DEVICES)
  plan_upload     the part of device_gathered that gathers the plan's face pixels on the CPU and uploads them
  device_torch_ops  device_apply through torch's operations (the path without CuPy), not the fused kernel
  fused_planes_upload  the fused kernel's arrays (matte, the field's grid and layers, gain) to pinned memory and up
  fused_kernel    the fused kernel alone over the face (planes already on the device)
  planes_pinned_alloc, planes_dma  parts of fused_planes_upload: a pinned buffer of the planes' size from torch's
                  host allocator, and its copy up
  render_fps      1000 / (plan + device_apply): the whole render stage of a device-resident frame
The device's name is recorded with the figures. Without CUDA it runs on torch's CPU device (a smoke run:
the CPU path is the kernel). The lent GPU machine has no mediapipe: --save-inputs writes the 8-bit frames and
each size's analysis to a folder that travels with the run, --inputs reads them there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from bench_engine import plate, read_frames
from emotionedit.analysis import Analysis, PlateInfo, load, save
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor, to_tracking_rgb
from emotionedit.fingerprint import thumbnail
from emotionedit.fit import fit_shot
from emotionedit.render import device as device_module
from emotionedit.render import gpu_kernel
from emotionedit.render.device import _upload, render_on_device

SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
REPEATS = 5
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def timed(fn, sync) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, (time.perf_counter() - start) * 1000.0)
    return best


def analysed(plates: list[np.ndarray]) -> Analysis:
    """Track and fit the plates here (mediapipe: not on the GPU machine)."""
    from emotionedit.track import MediaPipeFaceMesh, TrackerOptions, track_frames

    height, width = plates[0].shape[:2]
    options = TrackerOptions()
    tracker = MediaPipeFaceMesh(max_track_height=options.max_track_height)
    views = [to_tracking_rgb(p, options.max_track_height) for p in plates]
    track = track_frames(views, tracker, options)
    track.landmarks *= np.float32(height / views[0].shape[0])
    info = PlateInfo("bench", width, height, list(range(len(plates))), 24.0)
    return Analysis(plate=info, track=track, fit=fit_shot(track.landmarks, track.found), tracker=tracker.name,
                    thumbnails=np.stack([thumbnail(p) for p in plates]))


def bench_case(editor: ShotEditor, plates: list[np.ndarray], dtype, device: str) -> dict:
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    stages = {k: [] for k in ("plan", "cpu_apply", "device_apply", "device_host", "device_copy", "device_gathered",
                              "plan_upload", "device_torch_ops", "fused_planes_upload", "fused_kernel",
                              "planes_pinned_alloc", "planes_dma")}
    for i, frame in enumerate(plates):
        src = frame.astype(dtype)
        out = np.empty_like(src)
        plan = editor.plan_frame(src.shape, src.dtype, i, HAPPY)
        stages["plan"].append(timed(lambda: editor.plan_frame(src.shape, src.dtype, i, HAPPY), sync))  # noqa: B023
        stages["cpu_apply"].append(timed(lambda: plan.render_into(out, src), sync))  # noqa: B023
        on_device = torch.from_numpy(src).to(device)
        result = torch.empty_like(on_device)
        stages["device_apply"].append(timed(lambda: render_on_device(plan, result, on_device), sync))  # noqa: B023

        def host_frames():
            there = torch.from_numpy(src).to(device)  # noqa: B023
            back = torch.empty_like(there)
            render_on_device(plan, back, there)  # noqa: B023
            back.cpu().numpy()

        stages["device_host"].append(timed(host_frames, sync))
        stages["device_copy"].append(timed(lambda: result.copy_(on_device), sync))  # noqa: B023

        def plan_upload():
            r = plan.resampling  # noqa: B023
            found = np.nonzero(r.matte > 0)
            for values in (r.matte[found], r.offset_x[found], r.offset_y[found], found[0], found[1]):
                _upload(values, on_device.device)  # noqa: B023

        if plan.write_rect is not None:
            stages["plan_upload"].append(timed(plan_upload, sync))
        if device == "cuda" and plan.write_rect is not None and gpu_kernel.applies(on_device):
            gpu_kernel.ENABLED = False
            try:
                stages["device_torch_ops"].append(timed(lambda: render_on_device(plan, result, on_device), sync))  # noqa: B023
            finally:
                gpu_kernel.ENABLED = True
            r = plan.resampling
            planes = gpu_kernel.Planes(r, plan.shading, src.shape[2], on_device.dtype, on_device.device)
            stages["fused_planes_upload"].append(timed(lambda: gpu_kernel.Planes(  # noqa: B023
                r, plan.shading, src.shape[2], on_device.dtype, on_device.device), sync))  # noqa: B023
            size = planes.values.numel()
            stages["planes_pinned_alloc"].append(timed(lambda: torch.empty(  # noqa: B023
                size, dtype=torch.float32, pin_memory=True), sync))  # noqa: B023
            staged = torch.empty(size, dtype=torch.float32, pin_memory=True)
            stages["planes_dma"].append(timed(lambda: staged.to(on_device.device, non_blocking=True), sync))  # noqa: B023
            target = result[r.region.y0 : r.region.y1, r.region.x0 : r.region.x1]
            window = on_device[r.window.y0 : r.window.y1, r.window.x0 : r.window.x1]
            stages["fused_kernel"].append(timed(lambda: gpu_kernel.launch(target, window, planes, False), sync))  # noqa: B023
        dense = device_module.DENSE_DEVICES
        device_module.DENSE_DEVICES = ()
        try:
            stages["device_gathered"].append(timed(lambda: render_on_device(plan, result, on_device), sync))  # noqa: B023
        finally:
            device_module.DENSE_DEVICES = dense
        # The device's pixels are the CPU's (bit for bit on the CPU; on a GPU see tests/engine/test_device_render.py).
        if i == 0:
            render_on_device(plan, result, on_device)
            device_out = result.cpu().numpy()
            diff = np.abs(device_out.astype(np.float64) - out.astype(np.float64))
            stages.setdefault("max_abs_diff_vs_cpu", []).append(float(np.nanmax(diff)))
            outside = np.ones(src.shape[:2], bool)
            r = plan.resampling.region
            outside[r.y0 : r.y1, r.x0 : r.x1] = plan.resampling.matte <= 0
            same = device_out[outside].tobytes() == src[outside].tobytes()
            stages.setdefault("outside_matte_bit_identical", []).append(float(same))
    med = {k: round(float(np.median(v)), 3) for k, v in stages.items() if v}
    med["device_apply_vs_copy"] = round(med["device_apply"] / med["device_copy"], 2)
    med["device_fps"] = round(1000.0 / med["device_apply"], 1)
    # The whole render stage of a device-resident frame: the plan (CPU), then the pixel step (device).
    med["render_fps"] = round(1000.0 / (med["plan"] + med["device_apply"]), 1)
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results/bench_device.json"))
    parser.add_argument("--save-inputs", type=Path, help="write the frames and analyses here, then stop")
    parser.add_argument("--inputs", type=Path, help="read the frames and analyses written by --save-inputs")
    args = parser.parse_args()
    if args.inputs:
        frames = list(np.load(args.inputs / "frames.npy"))
    else:
        frames = read_frames(args.frames)
    if args.save_inputs:
        args.save_inputs.mkdir(parents=True, exist_ok=True)
        np.save(args.save_inputs / "frames.npy", np.stack(frames))
        for size_name, size in SIZES.items():
            save(analysed([plate(f, size) for f in frames]), args.save_inputs / f"{size_name}.analysis.npz",
                 overwrite=True)
        print(f"wrote {args.save_inputs}")
        return
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"torch CPU ({os.cpu_count()} cores)"
    report = {"command": f"python bench/bench_device.py --frames {len(frames)} --device {args.device}",
              "device": name, "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "torch": torch.__version__, "repeats_per_frame": REPEATS, "ms_per_frame": {}}
    for size_name, size in SIZES.items():
        plates = [plate(f, size) for f in frames]
        found = args.inputs / f"{size_name}.analysis.npz" if args.inputs else None
        editor = ShotEditor(load(found) if found else analysed(plates))
        for dtype in (np.float16, np.float32):
            key = f"{size_name} {np.dtype(dtype).name} RGBA"
            report["ms_per_frame"][key] = bench_case(editor, plates, dtype, args.device)
            print(key, json.dumps(report["ms_per_frame"][key]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
