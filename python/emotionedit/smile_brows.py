"""How far a genuine smile lowers the brows, read from the pixels.

A genuine smile's eye-ring muscle (AU 6) draws the brows down a little. mediapipe's mesh hardly follows it:
on franck's closed smiles it reads the brows 0.002-0.007 IOD lower than at rest, and the measured smile field
(:mod:`emotionedit.calibrate`) kept brows at rest, while blind viewers said of smile edits "the eyes don't join
in". The picture shows more: optical flow from a resting frame to a smiling frame in the same head pose, the two
aligned on the skull (inner eye corners, nose bridge, forehead), moves franck's brows down 0.010-0.013 IOD in each
of his three pose-clean smiles.

:func:`brow_lowering` measures that on a clip. The smiling stretches and their resting frames come from
:func:`.evaluate.agreement.find_references` (dlib's points, so a second tracker chooses them; lips parted no more
than at rest, the kind of smile the smile field is measured on); each smiling frame is paired with resting frames
spread over its stretch's, and the flow's vertical part is read at the mesh's brow vertices. Flow reads a known
shift of franck's brows at about 0.92 of its size (tests/fit/test_smile_brows.py), so the figures are a little
low, not high. :func:`with_brows` writes the result into a smile field.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import cv2
import numpy as np
from tqdm import tqdm

from .evaluate import agreement
from .evaluate.metrics import to_uint8
from .evaluate.rigidity import fit_similarity
from .fit import topology as topo

# Points that stay with the skull whatever the face does: the inner eye corners, the nose's bridge, the forehead.
# (Not the outer eye corners, which a smile's cheeks push up, nor the nose's tip.)
SKULL_POINTS = (topo.RIGHT_EYE_INNER, topo.LEFT_EYE_INNER, 168, 6, 8, 9, 151)
# The brows' vertices, the subject's right then left; the k-th of each half are mirror partners.
BROW_VERTICES = topo.RIGHT_BROW + topo.LEFT_BROW
SCAN_STEP = 2  # dlib on every other frame: a smile lasts far longer than two frames
REST_PER_STRETCH = 6  # resting frames each smiling frame is compared with, spread over the stretch's own
# How far (IOD) the brows' change spreads into the skin about them (the forehead above, the lid's fold below).
SPREAD = 0.06


def scan(frames: Iterable[tuple[int, np.ndarray]], count: int) -> tuple[np.ndarray, np.ndarray]:
    """dlib's 68 points on every ``SCAN_STEP``-th of (number, image) ``frames``: (N, 68, 2) and their numbers."""
    numbers, images = [], []

    def chosen():
        for number, image in frames:
            if number % SCAN_STEP == 0:
                numbers.append(number)
                images.append(None)
                yield image

    with tqdm(total=(count + SCAN_STEP - 1) // SCAN_STEP, desc="dlib scan", unit="frame", file=sys.stderr,
              leave=False) as bar:
        shapes = agreement.measure_shapes(chosen(), lambda _done: bar.update(1))
    return shapes, np.array(numbers, np.int64)


def pairs(stretches: list[dict]) -> list[tuple[int, int, int]]:
    """(stretch index, smiling frame, resting frame) for every smiling frame of each stretch and up to
    ``REST_PER_STRETCH`` of its resting frames, spread over them."""
    out = []
    for k, stretch in enumerate(stretches):
        rest = np.asarray(stretch["rest"])
        rest = rest[np.linspace(0, len(rest) - 1, min(REST_PER_STRETCH, len(rest))).astype(int)]
        out += [(k, int(smile), int(still)) for smile in stretch["expression"] for still in rest]
    return out


def vertical_flow(resting: np.ndarray, smiling: np.ndarray, rest_points: np.ndarray,
                  smile_points: np.ndarray) -> np.ndarray:
    """How far each brow vertex moves down (IOD) from a resting to a smiling frame of one head pose.

    ``resting``, ``smiling``: (H, W) uint8 grey images; ``*_points``: their (478, 2) mesh landmarks. The smiling
    frame is laid on the resting one by a similarity on :data:`SKULL_POINTS`, so the skull stays and only the
    face's own motion is left; the flow is read at the resting frame's brow vertices. Returns (20,).
    """
    matrix = fit_similarity(smile_points[list(SKULL_POINTS)], rest_points[list(SKULL_POINTS)])
    laid = cv2.warpAffine(smiling, matrix, resting.shape[::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(resting, laid, None)
    down = np.array([cv2.getRectSubPix(flow[..., 1], (1, 1), (float(x), float(y)))[0, 0]
                     for x, y in rest_points[list(BROW_VERTICES)]])
    return down / float(topo.interocular(rest_points))


def brow_lowering(frames: Iterable[tuple[int, np.ndarray]], count: int, landmarks: np.ndarray,
                  resting: np.ndarray, read_again: Iterable[tuple[int, np.ndarray]]) -> dict | None:
    """The brows' drop in a clip's genuine smiles, or None where it shows none that qualifies.

    ``frames`` and ``read_again``: the clip's (number, RGB image) twice (the scan, then the chosen frames);
    ``count``: its length; ``landmarks``: (T, 478, 2) mesh landmarks in pixels (NaN where unusable);
    ``resting``: (T,) the actor's resting frames, which set what his smile's cues are measured from.
    Returns ``per_vertex`` (20,) mirror-symmetric drops (IOD, + = down) in :data:`BROW_VERTICES` order, the mean
    over the stretches, and ``stretches``: each one's frames and its own mean drop.
    """
    shapes, numbers = scan(frames, count)
    at_rest = shapes[resting[numbers]]
    at_rest = at_rest[np.all(np.isfinite(at_rest), axis=(1, 2))]
    if len(at_rest) == 0:
        return None
    stretches = agreement.find_references(shapes, numbers, at_rest, "happy")
    usable = np.all(np.isfinite(landmarks), axis=(1, 2))
    chosen = [(k, smile, still) for k, smile, still in pairs(stretches) if usable[smile] and usable[still]]
    if not chosen:
        return None
    wanted = {i for _, smile, still in chosen for i in (smile, still)}
    grey = {}
    for number, image in read_again:
        if number in wanted:
            grey[number] = cv2.cvtColor(to_uint8(image), cv2.COLOR_RGB2GRAY)
    drops: dict[int, list[np.ndarray]] = {}
    for k, smile, still in chosen:
        drops.setdefault(k, []).append(vertical_flow(grey[still], grey[smile], landmarks[still], landmarks[smile]))
    half = len(topo.RIGHT_BROW)
    per_stretch = []
    for k in sorted(drops):
        mean = np.mean(drops[k], axis=0)
        per_stretch.append(0.5 * (mean + np.concatenate([mean[half:], mean[:half]])))
    return {"per_vertex": np.mean(per_stretch, axis=0),
            "stretches": [{"expression": [stretches[k]["expression"][0], stretches[k]["expression"][-1]],
                           "rest_frames": len(stretches[k]["rest"]), "pose_gap": stretches[k]["pose_gap"],
                           "brow_drop_iod": round(float(drop.mean()), 4)}
                          for k, drop in zip(sorted(drops), per_stretch, strict=True)]}


def with_brows(field: np.ndarray, face: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """A (478, 3) smile field whose brows move down by ``drop`` ((20,) IOD at :data:`BROW_VERTICES`) instead of
    its own, on a canonical face (478, 3). The change fades over :data:`SPREAD` IOD into the skin about the brows
    (the forehead, the lid's fold) and leaves everything below the eyes' corners as it was."""
    brows = face[list(BROW_VERTICES), :2]
    change = drop - field[list(BROW_VERTICES), 1]
    d2 = ((face[:, None, :2] - brows[None, :, :]) ** 2).sum(axis=2)  # (478, 20)
    kernel = np.exp(-d2 / SPREAD**2)
    # Each vertex takes its nearest brow vertices' change, by as much as it is near the brow.
    value = (kernel * change[None, :]).sum(axis=1) / np.maximum(kernel.sum(axis=1), 1e-12)
    reach = np.exp(-d2.min(axis=1) / SPREAD**2)
    corners = face[[topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER], 1]
    above_eyes = face[:, 1] < corners.mean()
    out = field.copy()
    out[:, 1] += np.where(above_eyes, reach * value, 0.0)
    out[list(topo.RIGHT_IRIS + topo.LEFT_IRIS)] = field[list(topo.RIGHT_IRIS + topo.LEFT_IRIS)]
    return out

