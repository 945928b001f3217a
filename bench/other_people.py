"""Edits on faces the engine was never tuned on: stills of ten other people, each made happy, sad, surprised
and angry (intensity 1, full lip preservation), side by side with the still itself.

    PYTHONPATH=python python bench/other_people.py --images docs/images

    PYTHONPATH=python python bench/other_people.py --look-test /tmp/lt22 --key docs/look-tests/DAY/KEY.json

writes ``other_people.jpg`` (one row a person: the still, then the four edits) and ``other_people_folds.jpg``
(the smile's skin detail at full size: grey creases, as shipped until session 12, against creases that shade
skin as the footage's real folds do, redder than the skin beside them) and ``other_people_intensity.jpg``
(anger, sadness and surprise, the emotions round 22's viewers did not name, on four people at intensity 1,
1.5 and 2) and ``other_people_glasses.jpg``
(a pair of glasses under raised brows, enlarged), and prints what it did. The stills are
fetched from the registry like the clips (emotionedit.footage.STILLS); nothing of them is committed but these
figures. A still is a one-frame shot: the edit is added to the face as it is (mode add), with no shot to find
the person's resting face in.

``--look-test`` builds a blind look test instead: two folders of ten shuffled crops (group_a, group_b), each
with five people's stills as they are and five other people's edits, so that no viewer sees one person both
real and edited (a viewer who can compare the two spots the edit by the difference, not by the face). The
key, kept apart, says which crop is which; bench/score_look_test.py scores each group's answers against the
group's key (``KEY_group_a.json``, written beside it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.analysis import PlateInfo
from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor, analyze
from emotionedit.fit import topology as topo
from emotionedit.footage import STILLS, fetch_still
from emotionedit.render import detail

EMOTIONS = ("happy", "sad", "surprised", "angry")
TILE = 240  # pixels a side in the overview
# The fold comparison: the palest, evenly lit faces (where grey creases showed most) and a darker one.
FOLD_PEOPLE = ("audrey.jpg", "cage.jpg", "obama4_crop.jpg")


def load(name: str) -> tuple[np.ndarray, ShotEditor]:
    rgb = cv2.cvtColor(cv2.imread(str(fetch_still(name))), cv2.COLOR_BGR2RGB)
    plate = PlateInfo(path=name, width=rgb.shape[1], height=rgb.shape[0], frame_numbers=[0], fps=24.0)
    analysis = analyze(iter([(0, rgb)]), plate)
    if analysis.fit.flags[0] != 0:
        raise SystemExit(f"{name}: no usable face found")
    return rgb, ShotEditor(analysis)


def face_box(editor: ShotEditor, scale: float, shape) -> tuple[int, int, int, int]:
    """A square around the face outline (``scale`` times its size), inside the image: (x0, y0, x1, y1)."""
    oval = editor.analysis.track.landmarks[0][list(topo.FACE_OVAL), :2]
    centre = 0.5 * (oval.min(axis=0) + oval.max(axis=0))
    half = 0.5 * scale * float((oval.max(axis=0) - oval.min(axis=0)).max())
    x0, y0 = np.maximum(0, np.round(centre - half)).astype(int)
    x1, y1 = np.minimum([shape[1], shape[0]], np.round(centre + half)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.putText(out, text, (6, out.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, out.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def overview(names: list[str]) -> np.ndarray:
    rows = []
    for name in names:
        rgb, editor = load(name)
        x0, y0, x1, y1 = face_box(editor, 1.2, rgb.shape)
        tiles = [label(cv2.resize(rgb[y0:y1, x0:x1], (TILE, TILE), interpolation=cv2.INTER_AREA), name.split(".")[0])]
        for emotion in EMOTIONS:
            edited = editor.render(rgb, 0, EditParams(emotion=Emotion.parse(emotion), intensity=1.0,
                                                      lip_preservation=1.0))
            tiles.append(label(cv2.resize(edited[y0:y1, x0:x1, :3], (TILE, TILE), interpolation=cv2.INTER_AREA),
                               emotion))
        rows.append(np.hstack(tiles))
        print(f"{name}: {', '.join(EMOTIONS)}", file=sys.stderr)
    return np.vstack(rows)


def folds() -> np.ndarray:
    """Per person: the still's lower face, the smile with grey creases, with the measured colour, without."""
    shipped = detail.detail_maps()
    grey = dataclasses.replace(shipped, channels={name: np.ones(3, np.float32) for name in shipped.channels})
    happy = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)
    rows = []
    for name in FOLD_PEOPLE:
        rgb, editor = load(name)
        x0, y0, x1, y1 = face_box(editor, 1.0, rgb.shape)
        y0 = y1 - int(0.6 * (x1 - x0))  # the lower face: cheeks, folds and mouth
        original = detail.detail_maps
        try:
            detail.detail_maps = lambda: grey  # noqa: E731 (the figure's "before": one ratio on all channels)
            as_grey = editor.render(rgb, 0, happy)
        finally:
            detail.detail_maps = original
        warm = editor.render(rgb, 0, happy)
        plain = editor.render(rgb, 0, dataclasses.replace(happy, skin_detail=0.0))
        tiles = [cv2.resize(image[y0:y1, x0:x1, :3], (300, 180), interpolation=cv2.INTER_AREA)
                 for image in (rgb, as_grey, warm, plain)]
        texts = (name.split(".")[0], "grey creases (before)", "measured colour (now)", "no skin detail")
        rows.append(np.hstack([label(t, s) for t, s in zip(tiles, texts, strict=True)]))
        print(f"{name}: folds", file=sys.stderr)
    return np.vstack(rows)


# Which emotion each person's edit takes in the look test (the people in STILLS's order: the first five are
# edited for group A, the other five for group B): happy and sad three times, surprised and angry twice.
LOOK_TEST_EMOTIONS = ("happy", "sad", "surprised", "angry", "sad", "happy", "sad", "surprised", "angry", "happy")
CROP = 320


def look_test(folder: Path, key_path: Path, seed: int) -> None:
    people = list(STILLS)
    items = {"group_a": [], "group_b": []}
    for k, (name, emotion) in enumerate(zip(people, LOOK_TEST_EMOTIONS, strict=True)):
        rgb, editor = load(name)
        x0, y0, x1, y1 = face_box(editor, 1.25, rgb.shape)
        edited = editor.render(rgb, 0, EditParams(emotion=Emotion.parse(emotion), intensity=1.0,
                                                  lip_preservation=1.0))
        edited_crop, real_crop = (cv2.resize(image[y0:y1, x0:x1, :3], (CROP, CROP), interpolation=cv2.INTER_AREA)
                                  for image in (edited, rgb))
        edited_group, real_group = ("group_a", "group_b") if k < 5 else ("group_b", "group_a")
        items[edited_group].append({"image": edited_crop, "kind": "edited", "person": name, "emotion": emotion})
        items[real_group].append({"image": real_crop, "kind": "real", "person": name})
        print(f"{name}: {emotion} for {edited_group}, real for {real_group}", file=sys.stderr)
    key = {"seed": seed, "groups": {}}
    for group, crops in items.items():
        random.Random(f"{seed}-{group}").shuffle(crops)
        (folder / group).mkdir(parents=True, exist_ok=True)
        listed = []
        for k, item in enumerate(crops, start=1):
            name = f"{k:02d}.png"
            cv2.imwrite(str(folder / group / name), cv2.cvtColor(item.pop("image"), cv2.COLOR_RGB2BGR))
            listed.append({"image": name, **item})
        key["groups"][group] = {"crops": listed}
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, indent=1) + "\n")
    for group, listed in key["groups"].items():  # each group's key as bench/score_look_test.py reads it
        group_key = key_path.with_name(f"{key_path.stem}_{group}.json")
        group_key.write_text(json.dumps({"seed": seed, "group": group, **listed}, indent=1) + "\n")
    print(f"wrote {folder}/group_a, {folder}/group_b and the key {key_path} (and one per group beside it)")


# Anger, sadness and surprise, the emotions round 22's viewers did not name (docs/results.md, "Other people"),
# on four people at rising intensity.
SWEEP = (("bieber_small.jpg", "angry"), ("audrey.jpg", "angry"), ("kim1_crop.jpg", "sad"),
         ("walter2_crop.jpg", "surprised"))
SWEEP_INTENSITIES = (1.0, 1.5, 2.0)


def sweep() -> np.ndarray:
    """Per person: the still, then the edit at each of SWEEP_INTENSITIES (w = 1)."""
    rows = []
    for name, emotion in SWEEP:
        rgb, editor = load(name)
        x0, y0, x1, y1 = face_box(editor, 1.1, rgb.shape)
        tiles = [label(cv2.resize(rgb[y0:y1, x0:x1], (TILE, TILE), interpolation=cv2.INTER_AREA), name.split(".")[0])]
        for intensity in SWEEP_INTENSITIES:
            edited = editor.render(rgb, 0, EditParams(emotion=Emotion.parse(emotion), intensity=intensity,
                                                      lip_preservation=1.0))
            tiles.append(label(cv2.resize(edited[y0:y1, x0:x1, :3], (TILE, TILE), interpolation=cv2.INTER_AREA),
                               f"{emotion} {intensity:g}"))
        rows.append(np.hstack(tiles))
        print(f"{name}: {emotion} at {', '.join(f'{i:g}' for i in SWEEP_INTENSITIES)}", file=sys.stderr)
    return np.vstack(rows)


def glasses() -> np.ndarray:
    """Walter White's glasses at 3x: the still, then surprised at intensity 1 and 2 (the brows' raise bends
    the frames' top rims: glasses are not yet held out)."""
    rgb, editor = load("walter2_crop.jpg")
    points = editor.analysis.track.landmarks[0, :, :2]
    iod = float(topo.interocular(points[None])[0])
    eyes = points[[33, 133, 263, 362]]
    x0, y0 = np.maximum(0, np.round(eyes.min(axis=0) - [0.45 * iod, 0.55 * iod]).astype(int))
    x1, y1 = np.round(eyes.max(axis=0) + [0.45 * iod, 0.35 * iod]).astype(int)
    tiles = [label(cv2.resize(rgb[y0:y1, x0:x1], None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC), "walter2_crop")]
    for intensity in (1.0, 2.0):
        edited = editor.render(rgb, 0, EditParams(emotion=Emotion.SURPRISED, intensity=intensity, lip_preservation=1.0))
        tiles.append(label(cv2.resize(edited[y0:y1, x0:x1, :3], None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC),
                           f"surprised {intensity:g}"))
    return np.vstack(tiles)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default="docs/images", help="folder for the figures")
    parser.add_argument("--people", default=",".join(STILLS), help="comma list of stills (default: all ten)")
    parser.add_argument("--look-test", help="build a blind look test in this folder instead of the figures")
    parser.add_argument("--key", help="with --look-test: the key to write (keep it away from the viewers)")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    if args.look_test:
        if not args.key:
            parser.error("--look-test needs --key")
        look_test(Path(args.look_test), Path(args.key), args.seed)
        return 0
    images = Path(args.images)
    images.mkdir(parents=True, exist_ok=True)
    quality = [cv2.IMWRITE_JPEG_QUALITY, 92]  # photographs: a tenth of a PNG's size, nothing visible lost
    cv2.imwrite(str(images / "other_people.jpg"), cv2.cvtColor(overview(args.people.split(",")), cv2.COLOR_RGB2BGR),
                quality)
    cv2.imwrite(str(images / "other_people_folds.jpg"), cv2.cvtColor(folds(), cv2.COLOR_RGB2BGR), quality)
    cv2.imwrite(str(images / "other_people_intensity.jpg"), cv2.cvtColor(sweep(), cv2.COLOR_RGB2BGR), quality)
    cv2.imwrite(str(images / "other_people_glasses.jpg"), cv2.cvtColor(glasses(), cv2.COLOR_RGB2BGR), quality)
    print(f"wrote other_people.jpg, other_people_folds.jpg, other_people_intensity.jpg and other_people_glasses.jpg "
          f"to {images}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
