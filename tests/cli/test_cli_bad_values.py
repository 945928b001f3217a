"""Ordinary mistakes get a message and exit status 2, before anything is written (issue 11, defects 7 and 9):
non-finite or huge --smoothing, an empty analysis file, keyframes on non-finite frames, --blend without
--emotion2, a --face point off the plate, --neutral-frames outside the shot; a hole in a sequence is said."""

from __future__ import annotations

import pytest
import torch

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


def test_blend_without_a_second_emotion_is_refused(small_shot, tmp_path, capsys):
    for blend in ("0.5", "700:0,703:1"):
        code = main(_render(small_shot, tmp_path / "o.####.png", "--blend", blend))
        err = capsys.readouterr().err
        assert code == 2 and "--emotion2" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    assert main(_render(small_shot, tmp_path / "o.####.png", "--blend", "0")) == 0  # the default says nothing


@pytest.mark.parametrize("extra", [["--face", "5000,20"], ["--face=-3,100"], ["--neutral-frames", "10-20"]])
def test_analyze_refuses_what_cannot_be_in_the_shot_before_tracking(small_shot, tmp_path, capsys, extra):
    out = tmp_path / "a.npz"
    code = main(["analyze", str(small_shot.plate), "-o", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert extra[0].split("=")[0] in err and "Traceback" not in err
    assert not out.exists()


def test_a_hole_in_a_sequence_is_said(small_shot, tmp_path, capsys):
    import shutil

    plate = tmp_path / "holes"
    plate.mkdir()
    for n in range(small_shot.first, small_shot.first + 6):
        if n not in (small_shot.first + 2, small_shot.first + 3):
            shutil.copy(str(small_shot.plate).replace("####", f"{n:04d}"), plate / f"p.{n:04d}.png")
    out = tmp_path / "o.####.png"
    code = main(["render", str(plate / "p.####.png"), "--analysis", str(small_shot.analysis), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"no frame {small_shot.first + 2}-{small_shot.first + 3}" in err
    assert len(list(tmp_path.glob("o.*.png"))) == 4


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where there is no GPU")
def test_a_gpu_render_without_a_gpu_is_a_message(small_shot, tmp_path, capsys):
    code = main(_render(small_shot, tmp_path / "o.####.png", "--device", "cuda"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "CUDA" in err and "--device cpu" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    # auto: the CPU where there is no GPU, the same frames as --device cpu
    assert main(_render(small_shot, tmp_path / "a.####.png", "--device", "auto")) == 0
    assert main(_render(small_shot, tmp_path / "c.####.png", "--device", "cpu")) == 0
    for number in range(small_shot.first, small_shot.first + 4):
        auto, cpu = (tmp_path / f"{name}.{number:04d}.png" for name in ("a", "c"))
        assert auto.read_bytes() == cpu.read_bytes()
