"""Ordinary mistakes get a message and exit status 2, before anything is written (issue 11, defects 7 and 9):
non-finite or huge --smoothing, an empty analysis file, keyframes on non-finite frames."""

from __future__ import annotations

import pytest

from emotionedit.cli import main


def _render(shot, out, *extra):
    return ["render", str(shot.plate), "--analysis", str(shot.analysis), "--frames",
            f"{shot.first}-{shot.first + 3}", "-o", str(out), *extra]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e9", "-1", "ten"])
def test_smoothing_outside_its_range_is_refused(small_shot, tmp_path, capsys, value):
    out = tmp_path / "o.####.png"
    with pytest.raises(SystemExit) as exited:
        main(_render(small_shot, out, f"--smoothing={value}"))
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "--smoothing" in err and value in err and "Traceback" not in err
    assert not tmp_path.joinpath("o.0700.png").exists()


def test_smoothing_inside_its_range_renders(small_shot, tmp_path):
    assert main(_render(small_shot, tmp_path / "o.####.png", "--smoothing", "10")) == 0
    assert main(_render(small_shot, tmp_path / "z.####.png", "--smoothing", "0")) == 0


def test_an_empty_analysis_file_is_a_message(small_shot, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"")
    out = tmp_path / "o.####.png"
    code = main(["render", str(small_shot.plate), "--analysis", str(bad), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(bad) in err and "empty" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [bad]
    code = main(["preview", str(small_shot.plate), str(small_shot.plate), "--analysis", str(bad), "-o",
                 str(tmp_path / "sheet.png")])
    assert code == 2
    assert list(tmp_path.iterdir()) == [bad]


@pytest.mark.parametrize("curve", ["nan:1", "inf:0,1000:1", "700:0,nan:1", "smooth:-inf:1"])
def test_keyframes_on_non_finite_frames_are_refused(small_shot, tmp_path, capsys, curve):
    out = tmp_path / "o.####.png"
    code = main(_render(small_shot, out, "--intensity", curve))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--intensity" in err and "frame" in err
    assert list(tmp_path.iterdir()) == []
