"""Score a blind look test: viewers' answers against the key written by bench/look_test.py.

    python bench/score_look_test.py KEY.json ANSWERS_A.json [ANSWERS_B.json ...] [-o SCORES.json]

Each answers file is the JSON array a viewer returned: one object per image with ``verdict``
("real"/"edited"), ``emotion`` (one label) and ``naturalness`` (1-5). Prints, per viewer and pooled,
the share of edits called "edited" against the share of real frames called so, the mean
naturalness of edits and of real frames, and how many edits were named with their intended
emotion (per emotion), with the issue's bars beside them.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("key")
    parser.add_argument("answers", nargs="+")
    parser.add_argument("-o", "--output", help="write the scores as JSON")
    args = parser.parse_args()
    key = json.loads(Path(args.key).read_text())["crops"]
    viewers = {Path(p).stem: json.loads(Path(p).read_text()) for p in args.answers}
    result = {name: score(key, rows) for name, rows in viewers.items()}
    result["pooled"] = score(key, [row for rows in viewers.values() for row in rows])
    result["bars"] = {"edits_called_edited": "<= reals_called_edited + 0.25", "naturalness_edits": ">= 4.0",
                      "emotion_named": ">= 9 of 12, happy >= 3 of 4"}
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
