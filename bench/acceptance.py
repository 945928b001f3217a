"""Issue 2's acceptance runs on franck.mp4: edit, evaluate, and draw contact sheets.

Usage: python bench/acceptance.py [--work DIR]
Writes docs/results/acceptance.json and docs/images/*.png; prints a summary table.
Outputs are lossless PNG sequences so the evaluation sees the edit, not a codec.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2

from emotionedit.cli import main as cli
from emotionedit.footage import fetch_clip
from emotionedit.io import open_frames

ROOT = Path(__file__).resolve().parents[1]
TALKING = "672-1031"  # 28-43 s
SMILING = "3600-3959"  # 150-165 s


def run(args: list[str]) -> None:
    print("$ emotionedit " + " ".join(args), flush=True)
    code = cli(args + ["--overwrite"])
    if code:
        sys.exit(f"step failed with status {code}")


def jpeg_copy(clip: Path, frames: str, out: Path) -> str:
    """The unedited source through JPEG q90: the lip-sync measure's noise floor."""
    first, last = (int(v) for v in frames.split("-"))
    out.mkdir(parents=True, exist_ok=True)
    with open_frames(clip, (first, last)) as reader:
        for number, image in reader:
            cv2.imwrite(str(out / f"f.{number:04d}.jpg"), image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return str(out / "f.####.jpg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default="/tmp/emotionedit-acceptance")
    args = parser.parse_args()
    work = Path(args.work)
    clip = str(fetch_clip("franck.mp4"))
    results: dict = {"command": "python bench/acceptance.py", "clip": "franck.mp4"}

    talk_an = str(work / "talk.analysis.npz")
    run(["analyze", clip, "--frames", TALKING, "-o", talk_an])
    sweep = []
    for intensity in ("0", "0.25", "0.5", "0.75", "1"):
        out = str(work / f"happy_i{intensity}_w1" / "f.####.png")
        run(["render", clip, "--frames", TALKING, "--analysis", talk_an, "--emotion", "happy",
             "--intensity", intensity, "--lip-preservation", "1", "-o", out])
        sweep.append(out)
    run(["eval", clip, *sweep, "--frames", TALKING, "--target", "happy", "--intensities", "0,0.25,0.5,0.75,1",
         "-o", str(work / "happy_sweep.json")])
    results["happy_sweep"] = json.loads((work / "happy_sweep.json").read_text())

    lips = {}
    for w in ("0", "0.5"):
        out = str(work / f"happy_i1_w{w}" / "f.####.png")
        run(["render", clip, "--frames", TALKING, "--analysis", talk_an, "--emotion", "happy",
             "--intensity", "1", "--lip-preservation", w, "-o", out])
        run(["eval", clip, out, "--frames", TALKING, "--target", "happy", "-o", str(work / f"happy_w{w}.json")])
        lips[w] = json.loads((work / f"happy_w{w}.json").read_text())
    # Control for the pose measure: a mouth-only edit moves no nose or eye pixel.
    out = str(work / "happy_i1_w1_mouth" / "f.####.png")
    run(["render", clip, "--frames", TALKING, "--analysis", talk_an, "--emotion", "happy", "--intensity", "1",
         "--lip-preservation", "1", "--regions", "mouth", "-o", out])
    run(["eval", clip, out, "--frames", TALKING, "--target", "happy", "-o", str(work / "happy_mouth.json")])
    lips["1, mouth region only"] = json.loads((work / "happy_mouth.json").read_text())
    floor = jpeg_copy(Path(clip), TALKING, work / "jpeg_q90")
    run(["eval", clip, floor, "--frames", TALKING, "--target", "happy", "-o", str(work / "jpeg_floor.json")])
    lips["jpeg_q90_floor"] = json.loads((work / "jpeg_floor.json").read_text())
    results["lip_preservation"] = lips
    run(["preview", clip, sweep[-1], "--frames", TALKING, "--analysis", talk_an,
         "-o", str(ROOT / "docs/images/talking_happy_i1_w1.png"),
         "--title", "franck 28-43 s: happy, intensity 1, lip preservation 1 (add)"])
    run(["preview", clip, str(work / "happy_i1_w0" / "f.####.png"), "--frames", TALKING, "--analysis", talk_an,
         "-o", str(ROOT / "docs/images/talking_happy_i1_w0.png"),
         "--title", "franck 28-43 s: happy, intensity 1, lip preservation 0 (add)"])

    smile_an = str(work / "smile.analysis.npz")
    run(["analyze", clip, "--frames", SMILING, "-o", smile_an])
    sad = {}
    for intensity in ("0.5", "1"):
        out = str(work / f"sad_replace_i{intensity}" / "f.####.png")
        run(["render", clip, "--frames", SMILING, "--analysis", smile_an, "--emotion", "sad", "--mode", "replace",
             "--intensity", intensity, "--lip-preservation", "1", "-o", out])
        run(["eval", clip, out, "--frames", SMILING, "--target", "sad", "-o", str(work / f"sad_{intensity}.json")])
        sad[intensity] = json.loads((work / f"sad_{intensity}.json").read_text())
    results["sad_replace"] = sad
    run(["preview", clip, str(work / "sad_replace_i1" / "f.####.png"), "--frames", SMILING, "--analysis", smile_an,
         "-o", str(ROOT / "docs/images/smiling_sad_replace_i1_w1.png"),
         "--title", "franck 150-165 s: sad, intensity 1, lip preservation 1 (replace)"])

    out = ROOT / "docs/results/acceptance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_strip(results), indent=1))
    print(f"wrote {out}")
    subprocess.run([sys.executable, str(Path(__file__).with_name("summarise_acceptance.py")), str(out)], check=False)


def _strip(value):
    """Drop per-frame series: the summary keeps the figures a reader compares."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()
                if not (isinstance(v, list) and len(v) > 12) and k not in ("per_frame",)}
    return value


if __name__ == "__main__":
    main()
