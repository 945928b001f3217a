"""One frame-range syntax in every command (issue 11): 1001-1100, 1001-1100x2, 1001,1005,1010-1020."""

from __future__ import annotations

import numpy as np
import pytest

from emotionedit.analysis import load as load_analysis
from emotionedit.cli import main
from emotionedit.io import open_frames


def _written(folder) -> list[int]:
    return sorted(int(p.name.split(".")[1]) for p in folder.glob("out.*.png"))


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ("700-709x3", [700, 703, 706, 709]),
        ("700-709:3", [700, 703, 706, 709]),
        ("700,705,710-712", [700, 705, 710, 711, 712]),
        ("700-701,738-739", [700, 701, 738, 739]),
    ],
)
def test_render_writes_exactly_the_frames_named(small_shot, tmp_path, frames, expected):
    out = tmp_path / "out.####.png"
    assert main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "--frames", frames,
                 "-o", str(out)]) == 0
    assert _written(tmp_path) == expected
    # Each frame is the one a plain single-range render gives (the frames were not renumbered or shifted).
    one = tmp_path / "one" / "out.####.png"
    assert main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "--frames",
                 f"{expected[-1]}", "-o", str(one)]) == 0
    with open_frames(out) as got, open_frames(one) as alone:
        assert np.array_equal(got.read(expected[-1]), alone.read(expected[-1]))


def test_a_list_reaching_outside_the_plate_is_refused_naming_what_exists(small_shot, tmp_path, capsys):
    out = tmp_path / "out.####.png"
    code = main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "--frames",
                 "700,735-745", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "frames 735-745 were asked for" in err and "700-739 (40 frames)" in err
    assert not list(tmp_path.iterdir())


def test_movie_plates_and_analyze_take_the_same_syntax(small_shot, tmp_path):
    out = tmp_path / "out.####.png"
    assert main(["render", str(small_shot.movie), "--intensity", "0", "--frames", "0-3x2", "-o", str(out)]) == 0
    assert _written(tmp_path) == [0, 2]
    analysis = tmp_path / "a.npz"
    assert main(["analyze", str(small_shot.plate), "--frames", "700-739x13", "--neutral-frames", "700,713",
                 "-o", str(analysis)]) == 0
    result = load_analysis(analysis)
    assert list(result.plate.frame_numbers) == [700, 713, 726, 739]
