"""`emotionedit verify` (issue 11's check step): missing, damaged and mismatched frames of a real render."""

from __future__ import annotations

import shutil
import socket

import numpy as np
import OpenImageIO as oiio
import pytest

from emotionedit.cli import main


@pytest.fixture(scope="module")
def rendered(small_shot, tmp_path_factory):
    """Frames 700-719 of the plate edited to happy, a movie of 700-703, and a frame of another moment of the clip."""
    root = tmp_path_factory.mktemp("rendered")
    base = ["--analysis", str(small_shot.analysis), "--emotion", "happy"]
    assert main(["render", str(small_shot.plate), *base, "--frames", "700-719", "-o", str(root / "out.####.png")]) == 0
    assert main(["render", str(small_shot.plate), *base, "--frames", "700-703", "-o", str(root / "edit.mkv")]) == 0
    return root


def _copy(rendered, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    for path in rendered.glob("out.*.png"):
        shutil.copy2(path, folder / path.name)
    return folder


def _verify(capsys, output, shot, *extra):
    capsys.readouterr()
    code = main(["verify", str(output), "--analysis", str(shot.analysis), *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def test_a_complete_render_passes(small_shot, rendered, capsys):
    code, out = _verify(capsys, rendered / "out.####.png", small_shot, "--frames", "700-719")
    assert code == 0, out
    assert "20 frames expected (700-719 of the analysed shot, 360x288)" in out and "complete" in out
    code, out = _verify(capsys, rendered / "edit.mkv", small_shot, "--frames", "700-703")
    assert code == 0, out


def test_missing_damaged_and_mismatched_frames_are_named_and_exit_1(small_shot, rendered, franck_path, tmp_path,
                                                                    capsys):
    folder = _copy(rendered, tmp_path)
    (folder / "out.0703.png").unlink()
    (folder / "out.0705.png").write_bytes((folder / "out.0705.png").read_bytes()[:3000])
    data = bytearray((folder / "out.0707.png").read_bytes())  # header intact, pixels damaged
    data[len(data) // 2: len(data) // 2 + 64] = bytes(b ^ 0x5A for b in data[len(data) // 2: len(data) // 2 + 64])
    (folder / "out.0707.png").write_bytes(bytes(data))
    oiio.ImageBuf(np.zeros((80, 100, 3), np.uint8)).write(str(folder / "out.0709.png"))  # another size
    shutil.copy2(folder / "out.0700.png", folder / "out.0001.png")  # numbered outside the shot
    # Frame 711 replaced by another moment of the clip (franck smiling, two minutes later).
    other = tmp_path / "other"
    assert main(["render", str(franck_path), "--intensity", "0", "--frames", "3600", "-o",
                 str(other / "o.####.png")]) == 0
    shutil.copy2(other / "o.3600.png", folder / "out.0711.png")
    dead = f".out.0712.png.999999-0a1b2c3d@{socket.gethostname()}.tmp.png"
    (folder / dead).write_bytes(b"partial")

    code, out = _verify(capsys, folder / "out.####.png", small_shot)
    assert code == 1, out
    assert "damaged (do not decode whole): 2 frames: 705,707" in out
    assert "not the shot's size: 1 frames: 709" in out and "100x80, the shot is 360x288" in out
    assert "not the shot's frame numbers: 1 files numbered 1" in out
    assert "not the shot's pictures: 1 frames: 711" in out
    assert dead in out
    assert "whole: 15 frames" in out and "INCOMPLETE" in out and "--resume" in out
    assert "missing: 21 frames: 703,720-739" in out  # every analysed frame is expected: 720-739 were never rendered
    # Only the frames asked for are checked (and files numbered outside the shot are not looked for).
    code, out = _verify(capsys, folder / "out.####.png", small_shot, "--frames", "712-719")
    assert code == 0 and "whole: 8 frames" in out and "  missing:" not in out


def test_a_movie_short_of_frames_fails_and_a_matte_render_needs_no_picture_check(small_shot, rendered, tmp_path,
                                                                                 capsys):
    code, out = _verify(capsys, rendered / "edit.mkv", small_shot, "--frames", "700-705")
    assert code == 1 and "holds 4 decodable frames, 6 were written" in out
    matte = tmp_path / "matte.####.png"
    assert main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "--frames", "700-703",
                 "--output-mode", "matte", "-o", str(matte)]) == 0
    code, out = _verify(capsys, matte, small_shot, "--frames", "700-703")
    assert code == 1 and "not the shot's pictures: 4 frames" in out
    code, out = _verify(capsys, matte, small_shot, "--frames", "700-703", "--no-picture-check")
    assert code == 0, out


def test_usage_errors_exit_2(small_shot, rendered, tmp_path, capsys):
    assert main(["verify", str(rendered / "out.####.png"), "--analysis", str(tmp_path / "none.npz")]) == 2
    assert main(["verify", str(rendered / "out.####.png"), "--analysis", str(small_shot.analysis),
                 "--frames", "650-700"]) == 2
    assert "650-700 were asked for" in capsys.readouterr().err
