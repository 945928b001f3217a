"""One output guard for every command and every file it writes (issue 11, defect 2).

No command writes over one of its inputs, not even with --overwrite, and none
replaces an existing file (side files such as eval's plot included) without
--overwrite; both are refused before any work.
"""

from __future__ import annotations

import os

import pytest

from emotionedit.cli import main
from emotionedit.io import open_frames
from emotionedit.io.images import read_image


def _frame(shot, n):
    return shot.root / f"plate.{n:04d}.png"


@pytest.fixture(scope="module")
def edited(small_shot, tmp_path_factory):
    """The first 4 frames of the plate, edited to happy."""
    out = tmp_path_factory.mktemp("edited") / "happy.####.png"
    assert main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "--frames",
                 f"{small_shot.first}-{small_shot.first + 3}", "-o", str(out)]) == 0
    return out


def _refused(argv, capsys, *untouched, why="never overwrites its inputs"):
    """Run ``argv``; it must exit 2 saying ``why`` and leave every ``untouched`` file as it was."""
    before = {path: path.read_bytes() for path in untouched}
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert why in err
    assert "Traceback" not in err
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} was changed"
    return err


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_analyze_never_writes_over_its_input_frame_or_movie(small_shot, capsys, overwrite):
    frame = _frame(small_shot, small_shot.first + 2)
    _refused(["analyze", str(small_shot.plate), "-o", str(frame), *overwrite], capsys, frame)
    _refused(["analyze", str(small_shot.movie), "-o", str(small_shot.movie), *overwrite], capsys, small_shot.movie)


def test_analyze_never_writes_over_an_input_through_a_link(small_shot, tmp_path, capsys):
    frame = _frame(small_shot, small_shot.first)
    hard, soft = tmp_path / "hard.npz", tmp_path / "soft.npz"
    os.link(frame, hard)
    soft.symlink_to(frame)
    for alias in (hard, soft):
        _refused(["analyze", str(small_shot.plate), "-o", str(alias), "--overwrite"], capsys, frame)


def test_existing_analysis_sheet_or_report_needs_overwrite(small_shot, edited, tmp_path, capsys):
    earlier = tmp_path / "earlier"
    earlier.write_bytes(b"an earlier result")
    for argv in (["analyze", str(small_shot.plate)], ["preview", str(small_shot.plate), str(edited)],
                 ["eval", str(small_shot.plate), str(edited), str(edited)]):
        _refused([*argv, "-o", str(earlier)], capsys, earlier, why="--overwrite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier"]


def test_preview_never_writes_over_a_source_frame_the_edit_or_the_analysis(small_shot, edited, capsys):
    source_frame = _frame(small_shot, small_shot.first)
    edited_frame = edited.parent / f"happy.{small_shot.first:04d}.png"
    frames = ["--frames", f"{small_shot.first}-{small_shot.first + 3}"]
    for target in (source_frame, edited_frame, small_shot.analysis):
        _refused(["preview", str(small_shot.plate), str(edited), *frames, "--analysis", str(small_shot.analysis),
                  "-o", str(target), "--overwrite"], capsys, source_frame, edited_frame, small_shot.analysis)


def test_preview_movie_never_writes_over_the_input_movie(small_shot, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    _refused(["preview", str(small_shot.movie), str(small_shot.movie), "-o", str(sheet), "--movie",
              str(small_shot.movie), "--overwrite"], capsys, small_shot.movie)
    assert not sheet.exists()  # refused before anything was written


def test_preview_refuses_an_existing_sheet_or_movie_without_overwrite(small_shot, tmp_path, capsys):
    sheet, movie = tmp_path / "sheet.png", tmp_path / "side.mkv"
    movie.write_bytes(b"an earlier movie")
    _refused(["preview", str(small_shot.movie), str(small_shot.movie), "-o", str(sheet), "--movie", str(movie)],
             capsys, movie, why="--overwrite")
    assert not sheet.exists()
    assert main(["preview", str(small_shot.movie), str(small_shot.movie), "-o", str(sheet), "--movie", str(movie),
                 "--overwrite"]) == 0
    read_image(sheet)
    with open_frames(movie) as reader:
        assert len(reader) == 4


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_eval_plot_never_replaces_an_input_frame(small_shot, edited, capsys, overwrite):
    # -o plate.0701.json puts the plot at plate.0701.png: a frame of the source.
    frame = _frame(small_shot, small_shot.first + 1)
    report = frame.with_suffix(".json")
    _refused(["eval", str(small_shot.plate), str(edited), "-o", str(report), *overwrite], capsys, frame)
    assert not report.exists()


def test_eval_plot_and_sweep_plot_need_overwrite(small_shot, edited, tmp_path, capsys):
    plot, sweep = tmp_path / "r.png", tmp_path / "s_sweep.png"
    plot.write_bytes(b"someone's picture")
    sweep.write_bytes(b"an earlier sweep")
    _refused(["eval", str(small_shot.plate), str(edited), "-o", str(tmp_path / "r.json")], capsys, plot,
             why="--overwrite")
    _refused(["eval", str(small_shot.plate), str(edited), str(edited), "--intensities", "0,1", "-o",
              str(tmp_path / "s.json")], capsys, sweep, why="--overwrite")
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "s.json").exists()
    _refused(["eval", str(small_shot.plate), str(edited), "-o", str(tmp_path / "r.png"), "--overwrite"], capsys,
             plot, why="overwritten by its plot")


def test_eval_with_overwrite_replaces_its_own_side_files(small_shot, edited, tmp_path, capsys):
    plot = tmp_path / "r.png"
    plot.write_bytes(b"an earlier plot")
    assert main(["eval", str(small_shot.plate), str(edited), "--frames",
                 f"{small_shot.first}-{small_shot.first + 3}", "-o", str(tmp_path / "r.json"), "--overwrite"]) == 0
    read_image(plot)  # a whole, new PNG
    assert (tmp_path / "r.json").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.png"]
