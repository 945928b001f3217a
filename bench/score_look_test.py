"""Score a blind look test: viewers' answers against the key written by bench/look_test.py.

    python bench/score_look_test.py KEY.json ANSWERS_A.json [ANSWERS_B.json ...] [-o SCORES.json]

Two panels shown the same crops (the same key) pool by passing both panels' answers: files whose names repeat
are told apart by their folder (``round46/viewer_a``, ``round47/viewer_a``). Where a round changed some crops'
pixels and kept the others (within a code), ``--changed 12.png`` pools the rest: the answers to a changed crop count
only from files in the key's own folder (the panel shown the new pixels).

Each answers file is the JSON array a viewer returned: one object per image with ``verdict``
("real"/"edited"), ``emotion`` (one label) and ``naturalness`` (1-5). Prints, per viewer and pooled,
the share of edits called "edited" against the share of real frames called so, the mean
naturalness of edits and of real frames, and how many edits were named with their intended
emotion (per emotion), with the issue's bars beside them; then each crop's own figures, and 90 % intervals of
the pooled ones that resample both the viewers and the crops (a panel of six has drawn 1 of 6 and 6 of 6
"edited" for the same pixels: one round's figure alone says little).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

# Viewers name emotions as nouns or adjectives ("surprise", "anger"); the key uses the engine's names.
SYNONYMS = {"surprise": "surprised", "anger": "angry", "happiness": "happy", "joy": "happy", "sadness": "sad",
            "fear": "fearful", "afraid": "fearful", "disgust": "disgusted"}


def emotion_name(text: str) -> str:
    """A viewer's label in the key's vocabulary."""
    word = text.strip().lower()
    return SYNONYMS.get(word, word)


def score(key: list[dict], answers: list[dict]) -> dict:
    """One viewer's (or the pooled viewers') scores; ``answers`` rows name their ``image``."""
    truth = {item["image"]: item for item in key}
    edits = [a for a in answers if truth[a["image"]]["kind"] == "edited"]
    reals = [a for a in answers if truth[a["image"]]["kind"] == "real"]
    named = defaultdict(lambda: [0, 0])
    for a in edits:
        intended = truth[a["image"]]["emotion"]
        named[intended][1] += 1
        named[intended][0] += int(emotion_name(a["emotion"]) == intended)

    def share(rows, verdict):
        return round(sum(r["verdict"] == verdict for r in rows) / len(rows), 3) if rows else None

    def mean(rows):
        return round(sum(float(r["naturalness"]) for r in rows) / len(rows), 2) if rows else None

    right = sum(v[0] for v in named.values())
    return {
        "edits_called_edited": share(edits, "edited"),
        "reals_called_edited": share(reals, "edited"),
        "naturalness_edits": mean(edits),
        "naturalness_reals": mean(reals),
        "emotion_named": f"{right} of {len(edits)}",
        "emotion_named_share": round(right / len(edits), 3) if edits else None,
        "by_emotion": {emotion: f"{v[0]} of {v[1]}" for emotion, v in sorted(named.items())},
        "edits": len(edits),
        "reals": len(reals),
    }


def per_crop(key: list[dict], viewers: dict[str, list[dict]]) -> list[dict]:
    """Each crop's verdicts, emotions and mean naturalness over the viewers, in the key's order."""
    out = []
    for item in key:
        rows = [a for rows in viewers.values() for a in rows if a["image"] == item["image"]]
        named = defaultdict(int)
        for a in rows:
            named[emotion_name(a["emotion"])] += 1
        out.append({"image": item["image"], "kind": item["kind"], "clip": item["clip"], "frame": item["frame"],
                    "emotion": item.get("emotion", item.get("shows")),
                    "called_edited": f"{sum(a['verdict'] == 'edited' for a in rows)} of {len(rows)}",
                    "naturalness": round(sum(float(a["naturalness"]) for a in rows) / len(rows), 2) if rows else None,
                    "named": dict(sorted(named.items(), key=lambda kv: -kv[1]))})
    return out


def intervals(key: list[dict], viewers: dict[str, list[dict]], draws: int = 2000, seed: int = 0) -> dict:
    """5-95 % bootstrap intervals of the pooled spotting gap (edits called edited less reals called so), the
    edits' naturalness, its gap to the real frames' (edits less reals, by the same panel: one panel scores every face
    higher than the next, rounds 44-46) and the share of edits named right, resampling viewers and crops (edits and
    reals each)."""
    truth = {item["image"]: item for item in key}
    names = sorted(viewers)
    answer = {(name, a["image"]): a for name in names for a in viewers[name]}
    edits = [i["image"] for i in key if i["kind"] == "edited"]
    reals = [i["image"] for i in key if i["kind"] == "real"]
    rng = random.Random(seed)
    gaps, naturalness, naturalness_gaps, named = [], [], [], []
    for _ in range(draws):
        panel = [rng.choice(names) for _ in names]
        some_edits = [rng.choice(edits) for _ in edits]
        some_reals = [rng.choice(reals) for _ in reals]
        e = [answer[(v, c)] for v in panel for c in some_edits if (v, c) in answer]
        r = [answer[(v, c)] for v in panel for c in some_reals if (v, c) in answer]
        if not e or not r:
            continue
        called = [sum(a["verdict"] == "edited" for a in rows) / len(rows) for rows in (e, r)]
        gaps.append(called[0] - called[1])
        naturalness.append(sum(float(a["naturalness"]) for a in e) / len(e))
        naturalness_gaps.append(naturalness[-1] - sum(float(a["naturalness"]) for a in r) / len(r))
        named.append(sum(emotion_name(a["emotion"]) == truth[a["image"]]["emotion"] for a in e) / len(e))

    def span(values):
        values = sorted(values)
        return [round(values[int(0.05 * (len(values) - 1))], 3), round(values[int(0.95 * (len(values) - 1))], 3)]

    return {"spotting_gap": span(gaps), "naturalness_edits": span(naturalness),
            "naturalness_gap": span(naturalness_gaps), "emotion_named_share": span(named), "draws": len(gaps)}


def viewer_names(paths: list[str]) -> dict[str, str]:
    """Each answers file's name in the scores: its stem, or folder/stem where stems repeat (two panels of the same
    crops pooled: ``round46/viewer_a.json round47/viewer_a.json``; keyed by stem alone, one panel's viewer
    silently replaced the other's). The same file twice is an error, not a second viewer."""
    files = [Path(p) for p in paths]
    if len({f.resolve() for f in files}) < len(files):
        raise SystemExit("the same answers file is given twice")
    stems = [f.stem for f in files]
    names = {(f.stem if stems.count(f.stem) == 1 else f"{f.parent.name}/{f.stem}"): str(f) for f in files}
    if len(names) < len(files):  # same stem and same folder name (a/round/viewer_a, b/round/viewer_a)
        raise SystemExit("two answers files share their folder's name and their own: rename one")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("key")
    parser.add_argument("answers", nargs="+")
    parser.add_argument("-o", "--output", help="write the scores as JSON")
    parser.add_argument("--changed", nargs="+", default=[], metavar="IMAGE",
                        help="crops whose pixels the key's round changed: only the key's folder's answers count")
    args = parser.parse_args()
    key = json.loads(Path(args.key).read_text())["crops"]
    own = Path(args.key).resolve().parent
    viewers = {name: [row for row in json.loads(Path(p).read_text())
                      if Path(p).resolve().parent == own or row["image"] not in args.changed]
               for name, p in viewer_names(args.answers).items()}
    result = {name: score(key, rows) for name, rows in viewers.items()}
    result["pooled"] = score(key, [row for rows in viewers.values() for row in rows])
    result["pooled_90_percent_intervals"] = intervals(key, viewers)
    result["crops"] = per_crop(key, viewers)
    edited = [crop for crop in result["crops"] if crop["kind"] == "edited"]
    named = sum(2 * crop["named"].get(crop["emotion"], 0) > int(crop["called_edited"].split(" of ")[1])
                for crop in edited)
    result["pooled"]["edits_named_by_most_viewers"] = f"{named} of {len(edited)}"
    result["bars"] = {"edits_called_edited": "<= reals_called_edited + 0.25", "naturalness_edits": ">= 4.0",
                      "emotion_named": ">= 9 of 12, happy >= 3 of 4"}
    report(result, args.output)
    return 0


def report(result: dict, output: str | None) -> None:
    """Print the scores as JSON, and write them to ``output`` too when one is given."""
    text = json.dumps(result, indent=1)
    print(text)
    if output:
        Path(output).write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
