"""franck's edit against his own closed-lip smiles where resting frames beside them share their head pose.

    PYTHONPATH=python .venv/bin/python bench/own_smiles.py --work /tmp/own-smiles \
        -o docs/images/happy_vs_own_smiles.png

Scans franck.mp4 with dlib (every other frame), finds his closed-lip smiles that have resting frames within
150 frames in the same head pose (``agreement.find_references``, what ``eval --reference-expression auto``
uses), renders his talking 672-767 happy at intensity 1, lip preservation 1, and draws:

- per smile found, a resting frame beside it (the one nearest in head pose to the smile's middle frame) and that
  middle frame, face crops at 3x;
- the talking frame 720 and its edit;
- the 68 points' displacement from rest, drawn 4x on the mean resting face: his smiles (each stretch against its
  own resting frames, pooled) and the edit (each edited frame against its source), with the direction cosine
  and the outer-lip size ratio of ``agreement.compare``.

It also prints each smile's comparison alone, how far his smiles agree with each other, and a table of the
pooled comparison with each of the search's settings moved (window, pose-gap limit, the cues' size).

About 3 minutes on the 2-core machine. Prints the comparison; the figure goes to ``-o``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from emotionedit.cli import main as cli
from emotionedit.evaluate import agreement as A
from emotionedit.footage import fetch_clip
from emotionedit.io import open_frames

TALKING, SHOWN = "672-767", 720
TILE = 240


def face_tile(image: np.ndarray, shape: np.ndarray, text: str) -> np.ndarray:
    """A square crop around dlib's 68 points (1.5x their extent), TILE pixels, labelled."""
    low, high = shape.min(axis=0), shape.max(axis=0)
    centre, half = 0.5 * (low + high), 0.75 * float((high - low).max())
    x0, y0 = np.round(centre - half).astype(int)
    side = int(round(2 * half))
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_REPLICATE)
    tile = cv2.resize(padded[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side], (TILE, TILE),
                      interpolation=cv2.INTER_LANCZOS4)
    cv2.rectangle(tile, (0, 0), (TILE, 20), (0, 0, 0), -1)
    cv2.putText(tile, text, (5, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def arrows(rest: np.ndarray, real: np.ndarray, edit: np.ndarray, title: str) -> np.ndarray:
    """The displacements drawn 4x on the mean resting face (aligned, IOD), as an RGB image 3 tiles high."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 7.2), dpi=100)
    ax.scatter(rest[:, 0], rest[:, 1], s=6, c="0.5")
    for field, colour, name in ((real, "tab:green", "his smiles"), (edit, "tab:orange", "the edit")):
        ax.quiver(rest[:, 0], rest[:, 1], 4 * field[:, 0], 4 * field[:, 1], color=colour, angles="xy",
                  scale_units="xy", scale=1, width=0.005, label=f"{name} (x4)")
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return cv2.resize(image, (3 * TILE, 3 * TILE), interpolation=cv2.INTER_AREA)


def _real(scanned: np.ndarray, index: dict[int, int], item: dict, reference: np.ndarray) -> np.ndarray:
    """One found smile's displacement from its own resting frames (each frame paired with those nearest in pose)."""
    rest = A._valid(A.align(scanned[[index[n] for n in item["rest"]]], reference))
    shown = A._valid(A.align(scanned[[index[n] for n in item["expression"]]], reference))
    return (shown - A.pose_matched(rest, shown)).mean(axis=0)


def pooled(scanned: np.ndarray, index: dict[int, int], found: list[dict], source: np.ndarray, edit: np.ndarray):
    """``agreement.compare`` with each found smile against its own resting frames: (result, rest rows, smile rows,
    labels), as ``eval --reference-expression auto`` pools them."""
    rest = scanned[[index[n] for item in found for n in item["rest"]]]
    smiles = scanned[[index[n] for item in found for n in item["expression"]]]
    labels = tuple(np.array([g for g, item in enumerate(found) for _ in item[key]]) for key in ("rest", "expression"))
    return A.compare(rest, smiles, source, edit, groups=labels), rest, smiles, labels


def sweep(scanned: np.ndarray, numbers: list[int], index: dict[int, int], source: np.ndarray,
          edit: np.ndarray) -> None:
    """The pooled comparison again with each of the search's settings moved: how much the verdict owes to them."""
    shipped = dict(A.EXPRESSION_CUES["happy"])
    settings = [("as shipped", {}, 1.0), ("window 75", {"window": 75}, 1.0), ("window 300", {"window": 300}, 1.0),
                ("pose gap <= 2.5", {"gap_limit": 2.5}, 1.0), ("pose gap <= 6", {"gap_limit": 6.0}, 1.0),
                ("cues x0.5", {}, 0.5), ("cues x0.75", {}, 0.75), ("cues x1.25", {}, 1.25), ("cues x1.5", {}, 1.5)]
    print("| setting | smiles found | cosine | outer-lip size | features outside 35 % |")
    print("|---|---|---|---|---|")
    try:
        for name, options, scale in settings:
            A.EXPRESSION_CUES["happy"] = {cue: value * scale for cue, value in shipped.items()}
            found = A.find_references(scanned, numbers, source, "happy", **options)
            if not found:
                print(f"| {name} | none | | | |")
                continue
            result = pooled(scanned, index, found, source, edit)[0]
            misses = [f"{cue} ({row['real']:+.3f} / {row['edit']:+.3f})" for cue, row in result["features"].items()
                      if not row["ok"]]
            spans = ", ".join(f"{i['expression'][0]}-{i['expression'][-1]}" for i in found)
            print(f"| {name} | {spans} | {result['cosine']:.2f} | {result['outer_lip_ratio']:.2f} | "
                  f"{', '.join(misses) or 'none'} |")
    finally:
        A.EXPRESSION_CUES["happy"] = shipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/emotionedit-own-smiles")
    parser.add_argument("-o", "--output", default="docs/images/happy_vs_own_smiles.png")
    args = parser.parse_args()
    work = Path(args.work)
    franck = str(fetch_clip("franck.mp4"))
    analysis, edited = work / "talking.npz", work / "happy" / "f.####.png"
    for command in (["analyze", franck, "--frames", TALKING, "-o", str(analysis), "--overwrite"],
                    ["render", franck, "--frames", TALKING, "--analysis", str(analysis), "--emotion", "happy",
                     "--intensity", "1", "--lip-preservation", "1", "-o", str(edited), "--overwrite"]):
        if cli(command) != 0:
            raise SystemExit(f"emotionedit {command[0]} failed")

    frames: dict[int, np.ndarray] = {}  # every other frame (a reader may reuse its buffer: copies)
    with open_frames(franck) as reader:
        for n, image in reader:
            if n % 2 == 0:
                frames[n] = image.copy()
    numbers = sorted(frames)
    scanned = A.measure_shapes(frames[n] for n in numbers)
    with open_frames(franck, (672, 767)) as reader:
        source_frames = {n: image.copy() for n, image in reader}
    with open_frames(str(edited)) as reader:
        edited_frames = {n: image.copy() for n, image in reader}
    source = A.measure_shapes(source_frames.values())
    edit = A.measure_shapes(edited_frames.values())

    found = A.find_references(scanned, numbers, source, "happy")
    if not found:
        raise SystemExit("no closed-lip smile of his was found beside resting frames in its head pose")
    index = {n: k for k, n in enumerate(numbers)}
    result, rest, smiles, labels = pooled(scanned, index, found, source, edit)
    reference = A.reference_shape(rest)  # compare's own frame: the mean resting face, IOD
    print(f"{len(found)} smiles: " + ", ".join(f"{i['expression'][0]}-{i['expression'][-1]} (gap {i['pose_gap']}, "
                                               f"{len(i['rest'])} resting frames)" for i in found))
    print(f"each against its own resting frames, pooled: cosine {result['cosine']}, outer-lip size "
          f"{result['outer_lip_ratio']}, all features ok: {result['all_ok']}")
    for name, row in result["features"].items():
        print(f"  {name:12s} real {row['real']:+.3f}  edit {row['edit']:+.3f}  {'ok' if row['ok'] else row['why']}")
    for item in found:  # each smile alone
        alone = A.compare(scanned[[index[n] for n in item["rest"]]], scanned[[index[n] for n in item["expression"]]],
                          source, edit)
        misses = [f"{name} ({row['why']})" for name, row in alone["features"].items() if not row["ok"]]
        print(f"  his smile {item['expression'][0]}-{item['expression'][-1]} alone: cosine {alone['cosine']}, "
              f"outer-lip size {alone['outer_lip_ratio']}; {'; '.join(misses) or 'every feature within 35 %'}")
    for other in found[1:]:  # how far two of his own real smiles agree: the spread a reference carries
        a, b = (_real(scanned, index, item, reference) for item in (found[0], other))
        print(f"  his smiles {found[0]['expression'][0]} and {other['expression'][0]} agree: cosine "
              f"{A._cosine(a[A.COMPARED_POINTS], b[A.COMPARED_POINTS]):.3f}")
    sweep(scanned, numbers, index, source, edit)

    rest_al, smiles_al = A.align(rest, reference), A.align(smiles, reference)
    real = np.nanmean(smiles_al - A.pose_matched(rest_al, smiles_al, groups=labels), axis=0)
    pairs = A.align(edit, reference) - A.align(source, reference)
    shift = np.nanmean(pairs, axis=0)

    rows = []
    for item in found:
        middle = item["expression"][len(item["expression"]) // 2]
        near = A.align(scanned[[index[n] for n in item["rest"]]], reference)
        here = A.align(scanned[[index[middle]]], reference)
        at_rest = item["rest"][int(np.argmin(A._pose_distances2(here, near)[0]))]
        rows.append(np.hstack([face_tile(frames[at_rest], scanned[index[at_rest]], f"rest {at_rest}"),
                               face_tile(frames[middle], scanned[index[middle]], f"his smile {middle}")]))
    k = SHOWN - 672
    rows.append(np.hstack([face_tile(source_frames[SHOWN], source[k], f"talking {SHOWN}"),
                           face_tile(edited_frames[SHOWN], source[k], "happy, i 1, w 1")]))
    left = np.vstack(rows)
    title = (f"cosine {result['cosine']:.2f}, outer-lip size {result['outer_lip_ratio']:.2f}x, "
             "outside 35 %: " + (", ".join(n for n, row in result["features"].items() if not row["ok"]) or "none"))
    right = arrows(np.nanmean(rest_al, axis=0), real, shift, title)
    height = max(left.shape[0], right.shape[0])
    sheet = np.hstack([cv2.copyMakeBorder(im, 0, height - im.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(255,) * 3)
                       for im in (left, right)])
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(args.output, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise SystemExit(f"could not write {args.output}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
