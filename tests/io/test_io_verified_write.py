"""Every writer reads back what it wrote before the final rename (issue 11, defect 1), without a mount.

The encoders are made to fail the way they do on a full disk: the file is cut short
or emptied after the encoder said it succeeded (libpng and OpenCV do not report
every failed write), or a movie silently loses frames. The writer must raise a
UserError naming the file and leave nothing under the target's name.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

import emotionedit.io.images as images
import emotionedit.io.movie as movie
from emotionedit.errors import OutputExistsError, UserError
from emotionedit.io import FrameSpec, open_frames, open_writer
from emotionedit.io.images import read_image, write_image
from file_helpers import DamagingOiio, damage

W, H = 64, 48
FORMATS = {".png": ("png", np.uint8), ".tif": ("tiff", np.uint16), ".exr": ("openexr", np.float16),
           ".jpg": ("jpeg", np.uint8), ".dpx": ("dpx", np.uint16)}


def _pixels(dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random((H, W, 3)).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, (H, W, 3)).astype(dtype)


def _spec(fmt, dtype):
    return FrameSpec(W, H, 3, ("R", "G", "B"), np.dtype(dtype), 24.0, (), fmt)


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("suffix", list(FORMATS))
@pytest.mark.parametrize("how", ["half", "empty"])
def test_damaged_image_is_refused_and_never_named(tmp_path, monkeypatch, suffix, how):
    fmt, dtype = FORMATS[suffix]
    shim = DamagingOiio("0002", how)
    monkeypatch.setattr(images, "oiio", shim)
    pattern = tmp_path / f"o.####{suffix}"
    with pytest.raises(UserError) as caught:
        with open_writer(pattern, _spec(fmt, dtype), [1, 2, 3]) as writer:
            for n in (1, 2, 3):
                writer.write(n, _pixels(dtype, n))
    assert shim.damaged, "the encoder shim did not run"
    message = str(caught.value)
    assert f"o.0002{suffix}" in message and "could not be written" in message and "free" in message
    assert "frame 1 of" in message and "was written whole" in message  # says which frames are good
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"o.0001{suffix}"]
    read_image(tmp_path / f"o.0001{suffix}")  # the frame before is whole


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_image_cut_before_its_closing_marker_is_refused(tmp_path, monkeypatch, suffix):
    # A PNG without the last bytes of its IEND chunk still decodes: the closing marker is checked.
    fmt, dtype = FORMATS[suffix]
    monkeypatch.setattr(images, "oiio", DamagingOiio("x", "tail"))
    with pytest.raises(UserError, match="closing marker"):
        write_image(tmp_path / f"x{suffix}", _pixels(dtype), _spec(fmt, dtype))
    assert list(tmp_path.iterdir()) == []


def test_whole_images_are_written_and_read_back(tmp_path):
    for suffix, (fmt, dtype) in FORMATS.items():
        pixels = _pixels(dtype)
        write_image(tmp_path / f"w{suffix}", pixels, _spec(fmt, dtype))
        back, _ = read_image(tmp_path / f"w{suffix}")
        assert back.shape == pixels.shape
    assert _leftovers(tmp_path) == []


class _Cv2:
    """OpenCV, except that VideoWriter keeps only the first ``keep`` frames (FFmpeg's writes
    fail on a full disk and OpenCV does not say so), or cuts the file after release."""

    def __init__(self, keep: int | None = None, cut: bool = False):
        self.keep, self.cut = keep, cut
        outer = self

        def video_writer(name, *args):
            return _Video(cv2.VideoWriter(name, *args), name, outer)

        self.VideoWriter = video_writer

    def __getattr__(self, name):
        return getattr(cv2, name)


class _Video:
    def __init__(self, real, name, shim: _Cv2):
        self.real, self.name, self.shim, self.count = real, name, shim, 0

    def isOpened(self):  # noqa: N802 - OpenCV's name
        return self.real.isOpened()

    def write(self, frame):
        self.count += 1
        if self.shim.keep is None or self.count <= self.shim.keep:
            self.real.write(frame)

    def release(self):
        self.real.release()
        if self.shim.cut:
            damage(Path(self.name), "half")


@pytest.mark.parametrize("name", ["m.mkv", "m.mp4"])
@pytest.mark.parametrize("shim", [_Cv2(keep=5), _Cv2(cut=True)], ids=["frames-lost", "file-cut"])
def test_movie_missing_frames_is_refused_and_never_named(tmp_path, monkeypatch, name, shim):
    monkeypatch.setattr(movie, "cv2", shim)
    spec = _spec("movie", np.uint8)
    with pytest.raises(UserError) as caught:
        with open_writer(tmp_path / name, spec, list(range(20))) as writer:
            for n in range(20):
                writer.write(n, _pixels(np.uint8, n))
    message = str(caught.value)
    assert name in message and "could not be written" in message
    assert "frames" in message or "cannot be opened" in message
    assert list(tmp_path.iterdir()) == []


def test_whole_movie_is_counted_and_named(tmp_path):
    spec = _spec("movie", np.uint8)
    with open_writer(tmp_path / "m.mkv", spec, list(range(20))) as writer:
        for n in range(20):
            writer.write(n, _pixels(np.uint8, n))
    with open_frames(tmp_path / "m.mkv") as reader:
        assert len(reader) == 20
    assert _leftovers(tmp_path) == []


def test_output_guard_refuses_duplicates_directories_and_existing(tmp_path):
    from emotionedit.io import check_outputs

    (tmp_path / "d").mkdir()
    (tmp_path / "x.png").write_bytes(b"keep")
    with pytest.raises(UserError, match="same file"):
        check_outputs([tmp_path / "a.json", tmp_path / "." / "a.json"])
    with pytest.raises(UserError, match="is a directory"):
        check_outputs([tmp_path / "d"], overwrite=True)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        check_outputs([tmp_path / "a.json", tmp_path / "x.png"])
    with pytest.raises(UserError, match="never overwrites its inputs"):
        check_outputs([tmp_path / "x.png"], overwrite=True, protect=[tmp_path / "x.png"])
    (tmp_path / "plate.0007.png").write_bytes(b"plate")
    with pytest.raises(UserError, match="never overwrites its inputs"):
        check_outputs([tmp_path / "plate.0007.png"], overwrite=True, protect=[tmp_path / "plate.%04d.png"])
    check_outputs([tmp_path / "x.png"], overwrite=True)
    assert (tmp_path / "x.png").read_bytes() == b"keep"


def test_clean_up_never_raises(tmp_path, monkeypatch):
    # A read-only folder refuses the unlink too: the clean-up must not replace the real error.
    from emotionedit.io.output import remove_quietly

    victim = tmp_path / ".x.png.1-ab.tmp.png"
    victim.write_bytes(b"x")
    (tmp_path / (victim.name + ".partial")).write_bytes(b"x")

    def refuse(path, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(path))

    remove_quietly(tmp_path / "missing.png")
    monkeypatch.setattr(os, "unlink", refuse)
    remove_quietly(victim)
    monkeypatch.undo()
    remove_quietly(victim)
    assert list(tmp_path.iterdir()) == []
