"""A genuine smile's brows, read from the pixels: the flow measure, the field it writes, and franck's real smiles."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotionedit import smile_brows
from emotionedit.analysis import PlateInfo
from emotionedit.engine import analyze
from emotionedit.fit import topology as topo
from emotionedit.fit.measured import measured_fields
from file_helpers import read_clip


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _brows_moved_down(image: np.ndarray, points: np.ndarray, pixels: float) -> np.ndarray:
    """The image with everything above the eyes' corners moved down by ``pixels`` (fading out just above them)."""
    height, width = image.shape
    corners_y = points[[topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER], 1].mean()
    brows_y = points[list(smile_brows.BROW_VERTICES), 1].max()  # the brows' lowest point
    ys = np.arange(height, dtype=np.float32)
    # Full motion on the whole brow and above it, none at the eyes' corners line and below.
    weight = np.clip((corners_y - ys) / max(corners_y - brows_y, 1.0), 0.0, 1.0)
    map_y = np.repeat((ys - pixels * weight)[:, None], width, axis=1)
    map_x = np.repeat(np.arange(width, dtype=np.float32)[None, :], height, axis=0)
    return cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def test_the_flow_reads_brows_lowered_by_a_known_amount_and_ignores_the_head_moving(talking):
    frames, analysis = talking
    image, points = _grey(frames[0]), analysis.track.landmarks[0][:, :2].astype(np.float64)
    iod = float(topo.interocular(points))
    # An unchanged face reads nothing.
    assert np.abs(smile_brows.vertical_flow(image, image, points, points)).max() < 0.003
    # The brows lowered 1.5 px read 1.5 px (in IOD), within a fifth.
    lowered = _brows_moved_down(image, points, 1.5)
    drop = smile_brows.vertical_flow(image, lowered, points, points)
    assert drop.mean() == pytest.approx(1.5 / iod, rel=0.2)
    # The whole head moved (turned 2 degrees in the picture and shifted) with its brows lowered: the skull's
    # alignment takes the head's motion out, and the brows' own drop is what is left.
    matrix = cv2.getRotationMatrix2D((float(points[6, 0]), float(points[6, 1])), 2.0, 1.0)
    matrix[:, 2] += (3.0, -2.0)
    moved = cv2.warpAffine(lowered, matrix, image.shape[::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    moved_points = points @ matrix[:, :2].T + matrix[:, 2]
    drop = smile_brows.vertical_flow(image, moved, points, moved_points)
    assert drop.mean() == pytest.approx(1.5 / iod, rel=0.25)


def test_the_field_takes_the_drop_at_the_brows_and_leaves_the_eyes_and_below_alone():
    fields = measured_fields()
    face, smile = fields["reference_neutral"], fields["smile"]
    drop = np.full(len(smile_brows.BROW_VERTICES), 0.012)
    out = smile_brows.with_brows(smile, face, drop)
    np.testing.assert_allclose(out[list(smile_brows.BROW_VERTICES), 1], 0.012, atol=2e-3)
    corners_y = face[[topo.RIGHT_EYE_OUTER, topo.RIGHT_EYE_INNER, topo.LEFT_EYE_OUTER, topo.LEFT_EYE_INNER], 1].mean()
    below = face[:, 1] >= corners_y
    np.testing.assert_array_equal(out[below], smile[below])
    lids = list(topo.RIGHT_UPPER_LID + topo.LEFT_UPPER_LID)
    assert np.abs(out[lids] - smile[lids]).max() < 0.004  # the lids' fold follows a little, the lids hardly
    np.testing.assert_array_equal(out[:, [0, 2]], smile[:, [0, 2]])  # only down


def _shot(path, start: int, count: int):
    frames = read_clip(path, start, count)
    numbers = list(range(start, start + count))
    plate = PlateInfo(path=str(path), width=frames[0].shape[1], height=frames[0].shape[0], frame_numbers=numbers,
                      fps=24.0)
    analysis = analyze(zip(numbers, frames, strict=True), plate)
    landmarks = analysis.track.landmarks[..., :2].astype(np.float64)
    landmarks[analysis.fit.flags != 0] = np.nan
    resting = np.zeros(count, bool)
    resting[analysis.fit.neutral_frames] = True
    return frames, landmarks, resting


def test_franck_real_smile_lowers_his_brows_and_his_talking_shows_no_smile(franck_path):
    # 2200-2419: he rests (2216-2314), then smiles with his lips together (2330-2370), his head where it was.
    frames, landmarks, resting = _shot(franck_path, 2200, 220)

    def numbered():
        return enumerate(frames)

    found = smile_brows.brow_lowering(numbered(), len(frames), landmarks, resting, numbered())
    assert found is not None
    (stretch,) = found["stretches"]
    assert 2330 - 2200 - 20 <= stretch["expression"][0] <= 2330 - 2200 + 20
    # The brows come down about a hundredth of the eyes' distance (0.010-0.014 in each of his smiles measured
    # over the whole clip): visible, not a frown.
    assert 0.006 < stretch["brow_drop_iod"] < 0.02
    assert np.all(found["per_vertex"] > 0.0)
    # Two seconds of him talking have no smile to measure.
    frames, landmarks, resting = _shot(franck_path, 672, 96)
    assert smile_brows.brow_lowering(numbered(), len(frames), landmarks, resting, numbered()) is None


def test_the_shipped_smile_lowers_the_brows_as_his_real_smiles_do():
    fields = measured_fields()
    smile, measured = fields["smile"], fields["smile_brow_drop"]
    drop = smile[list(smile_brows.BROW_VERTICES), 1]
    # The field carries what the pixels of his smiles showed (up to the mirror's averaging), about a hundredth of
    # the eyes' distance, every brow vertex down, the two brows alike.
    np.testing.assert_allclose(drop, measured, atol=1e-3)
    assert 0.006 < drop.mean() < 0.02
    assert np.all(drop > 0.0)
    half = len(topo.RIGHT_BROW)
    np.testing.assert_allclose(drop[:half], drop[half:], atol=1e-3)
