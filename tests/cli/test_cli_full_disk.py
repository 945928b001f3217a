"""Nothing damaged on a full or read-only disk (issue 11, defects 1 and 7).

Every output format rendered into a 2 MB tmpfs either writes whole, verified
frames and exits 0, or exits 2 with a message; it never exits 0 with a damaged or
missing frame, and never leaves a damaged file under a final name or a temporary
behind. The mount tests are skipped (with the reason) where mounting is not
permitted; the encoder-level tests below them need no mount and always run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emotionedit.io.images as images
import emotionedit.io.movie as movie
from emotionedit.cli import main
from emotionedit.io import open_frames
from emotionedit.io.images import read_image
from file_helpers import Cv2WithEncoder, DamagingOiio

FIRST, LAST = 700, 739  # the frames of the small_shot fixture (tests/cli/conftest.py)
SEQUENCES = ["p.####.png", "t.####.tif", "e.####.exr", "j.####.jpg", "d.####.dpx"]
MOVIES = ["m.mkv", "m.mp4", "m.mov", "m.avi"]
# Per output: the size of the disk, and whether 40 frames fill it (exit 2) or fit (exit 0 with every
# frame). PNG ~80 kB a frame, TIFF ~90 kB, EXR ~170 kB, DPX ~310 kB, JPEG ~20 kB; the FFV1 movie
# (.mkv, .avi) 1.8 MB in all, the MPEG-4 one (.mp4, .mov) ~55 kB.
DISKS = {
    "p.####.png": ("2m", "fills"), "t.####.tif": ("2m", "fills"), "e.####.exr": ("2m", "fills"),
    "d.####.dpx": ("2m", "fills"), "j.####.jpg": ("2m", "fits"),
    "m.mkv": ("1m", "fills"), "m.avi": ("1m", "fills"), "m.mp4": ("2m", "fits"), "m.mov": ("32k", "fills"),
}


def _hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") or p.name.endswith(".partial"))


def _check_only_whole_outputs(directory: Path, name: str, code: int, frames: int) -> None:
    """Every file under a final name reads back whole; exit 0 only with every frame there."""
    assert _hidden(directory) == [], "temporaries of the failed write were left behind"
    if name in MOVIES:
        path = directory / name
        if code == 2:
            assert not path.exists(), "a movie that failed to be written whole was left under its name"
            return
        with open_frames(path) as reader:
            assert len(reader) == frames
            assert sum(1 for _ in reader) == frames  # every frame decodes
        return
    written = sorted(directory.iterdir())
    for path in written:
        read_image(path)  # raises for a truncated or empty frame
    if code == 0:
        assert len(written) == frames
    else:
        assert len(written) < frames


@pytest.mark.parametrize("name", SEQUENCES + MOVIES)
def test_render_into_a_full_disk_writes_whole_frames_or_exits_2(small_shot, small_disk, name, capsys):
    assert (small_shot.first, small_shot.last) == (FIRST, LAST)
    size, expected = DISKS[name]
    disk = small_disk(size)
    capsys.readouterr()
    code = main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "-o", str(disk / name)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    _check_only_whole_outputs(disk, name, code, small_shot.frames)
    if code == 2:
        assert "could not be written" in err and "free" in err and "Traceback" not in err
    if expected == "fills":
        assert code == 2, f"{name}: 40 frames cannot fit in {size}, yet the render reported success"
    else:
        assert code == 0, err


def test_analyze_preview_and_eval_into_a_full_disk_exit_2_and_leave_nothing(small_shot, small_disk, capsys,
                                                                             tmp_path):
    disk = small_disk("64k")
    plate, analysis = str(small_shot.plate), str(small_shot.analysis)
    frames = ["--frames", f"{FIRST}-{FIRST + 3}"]
    runs = {
        "analyze": ["analyze", plate, "-o", str(disk / "a.npz")],  # 40 frames: ~250 kB
        "preview": ["preview", plate, plate, "--analysis", analysis, "-o", str(disk / "sheet.png")],
        "preview movie": ["preview", plate, plate, "-o", str(tmp_path / "sheet.png"), "--movie",
                          str(disk / "side.mkv")],
        "eval": ["eval", plate, plate, *frames, "-o", str(disk / "r.json")],
    }
    for what, argv in runs.items():
        capsys.readouterr()
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, f"{what}: {err}"
        assert "could not be written" in err and "free" in err, f"{what}: {err}"
        assert list(disk.iterdir()) == [], f"{what} left {sorted(p.name for p in disk.iterdir())}"


@pytest.mark.parametrize("what", ["render png", "render mkv", "analyze", "preview"])
def test_a_read_only_folder_gives_a_message_not_a_traceback(small_shot, readonly_dir, what, capsys):
    plate, analysis = str(small_shot.plate), str(small_shot.analysis)
    frames = ["--frames", f"{FIRST}-{FIRST + 1}"]
    argv = {
        "render png": ["render", plate, "--analysis", analysis, *frames, "-o", str(readonly_dir / "o.####.png")],
        "render mkv": ["render", plate, "--analysis", analysis, *frames, "-o", str(readonly_dir / "o.mkv")],
        "analyze": ["analyze", plate, *frames, "-o", str(readonly_dir / "a.npz")],
        "preview": ["preview", plate, plate, *frames, "-o", str(readonly_dir / "sheet.png")],
    }[what]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(readonly_dir) in err
    assert list(readonly_dir.iterdir()) == []


# Without a mount: the encoders damage what they write the way a full disk does, silently.


def _drop_after_ten(count, frame, real_write):
    """FFmpeg on a full disk: every frame after the 10th is silently dropped."""
    if count <= 10:
        real_write(frame)


def test_render_with_a_damaged_frame_exits_2_and_keeps_only_whole_frames(small_shot, tmp_path, monkeypatch,
                                                                          capsys):
    monkeypatch.setattr(images, "oiio", DamagingOiio(f".{FIRST + 5:04d}.", "half"))
    out = tmp_path / "out"
    code = main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "-o",
                 str(out / "o.####.png")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"o.{FIRST + 5:04d}.png" in err and "does not read back" in err
    assert f"frames {FIRST}-{FIRST + 4} (5 frames)" in err  # which frames are good
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"o.{n:04d}.png" for n in range(FIRST, FIRST + 5)]
    for n in range(FIRST, FIRST + 5):
        read_image(out / f"o.{n:04d}.png")


@pytest.mark.parametrize("name", ["m.mkv", "m.mp4"])
def test_render_to_a_movie_that_loses_frames_exits_2_and_leaves_no_movie(small_shot, tmp_path, monkeypatch,
                                                                         capsys, name):
    monkeypatch.setattr(movie, "cv2", Cv2WithEncoder(_drop_after_ten))
    code = main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis), "-o",
                 str(tmp_path / name)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"10 decodable frames, {LAST - FIRST + 1} were written" in err
    assert list(tmp_path.iterdir()) == []


def test_whole_outputs_still_exit_0(small_shot, tmp_path, capsys):
    for name in ("o.####.png", "o.mkv"):
        assert main(["render", str(small_shot.plate), "--analysis", str(small_shot.analysis),
                     "--frames", f"{FIRST}-{FIRST + 3}", "-o", str(tmp_path / name)]) == 0
    with open_frames(tmp_path / "o.mkv") as reader, open_frames(tmp_path / "o.####.png") as frames:
        assert len(reader) == len(frames) == 4
        assert np.array_equal(frames.read(FIRST).shape, reader.read(0).shape)
    assert _hidden(tmp_path) == []
