"""The movie writer's read-back, split over threads, and its encoder behind the caller (issue 11, Scale).

The written movie is decoded back before it gets its name. Split into ranges read on several
threads, each range must hold its frames in order by their timestamps: a frame lost in the
middle of the file (which leaves every range with enough frames to decode) is still refused,
with the count the one-pass read-back finds.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

import emotionedit.io.movie as movie
from emotionedit.errors import UserError
from emotionedit.io import FrameSpec, open_frames, open_writer
from emotionedit.io.output import WriteCheckFailed
from file_helpers import Cv2WithEncoder

W, H, FPS, COUNT = 64, 48, 24.0, 40


def _frame(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def _spec() -> FrameSpec:
    return FrameSpec(W, H, 3, ("R", "G", "B"), np.dtype(np.uint8), FPS, (), "movie")


def _write(path: Path, count: int = COUNT) -> Path:
    with open_writer(path, _spec(), list(range(count))) as writer:
        for n in range(count):
            writer.write(n, _frame(n))
    return path


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("check") / "whole.mkv")


@pytest.fixture()
def two_cores(monkeypatch):
    monkeypatch.setattr(movie.os, "cpu_count", lambda: 2)


@pytest.mark.parametrize("name", ["whole.mkv", "whole.avi", "whole.mp4", "whole.mov"])
def test_a_whole_movie_passes_the_split_read_back_alone(tmp_path, monkeypatch, two_cores, name):
    path = _write(tmp_path / name)

    def one_pass(*args):
        raise AssertionError("the one-pass read-back ran: a range doubted a whole movie")

    monkeypatch.setattr(movie, "_count_frames", one_pass)
    movie.verify_movie(path, W, H, COUNT, FPS)


class _Gap:
    """OpenCV, except that the movies it reads lack frame ``lost`` (a packet lost in the middle of the file:
    the frames after it keep their own timestamps, as a muxer that failed one write leaves them)."""

    def __init__(self, lost: int):
        self.lost = lost

        def capture(*args):
            return _GapCapture(cv2.VideoCapture(*args), lost)

        self.VideoCapture = capture

    def __getattr__(self, name):
        return getattr(cv2, name)


class _GapCapture:
    def __init__(self, real, lost):
        self.real, self.lost = real, lost

    def grab(self):
        ok = self.real.grab()
        if ok and round(self.real.get(cv2.CAP_PROP_POS_MSEC) * FPS / 1000) == self.lost:
            ok = self.real.grab()
        return ok

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_frame_lost_in_the_middle_is_refused_with_the_count(whole, monkeypatch, two_cores):
    monkeypatch.setattr(movie, "cv2", _Gap(lost=7))
    with pytest.raises(WriteCheckFailed, match=f"holds {COUNT - 1} decodable frames, {COUNT} were written"):
        movie.verify_movie(whole, W, H, COUNT, FPS)


@pytest.mark.parametrize("claimed", [COUNT - 1, COUNT + 1])
def test_a_movie_with_another_count_is_refused(whole, two_cores, claimed):
    with pytest.raises(WriteCheckFailed, match=f"holds {COUNT} decodable frames, {claimed} were written"):
        movie.verify_movie(whole, W, H, claimed, FPS)


def test_the_caller_may_reuse_its_array_as_soon_as_write_returns(tmp_path):
    pixels = np.empty((H, W, 3), np.uint8)
    with open_writer(tmp_path / "reused.mkv", _spec(), list(range(12))) as writer:
        for n in range(12):
            pixels[:] = _frame(n)  # the same array, overwritten while earlier frames may still be encoding
            writer.write(n, pixels)
    with open_frames(tmp_path / "reused.mkv") as back:
        for n, got in back:
            np.testing.assert_array_equal(got, _frame(n))  # FFV1 is lossless


def _failing_at(fail_at: int):
    """An encoder that fails on its ``fail_at``-th frame (on the encoder's thread)."""

    def write(count, frame, real_write):
        if count == fail_at:
            raise cv2.error("encoder failed (test)")
        real_write(frame)

    return Cv2WithEncoder(write)


@pytest.mark.parametrize("fail_at", [3, 12])
def test_an_encoder_failure_behind_the_caller_leaves_nothing(tmp_path, monkeypatch, fail_at):
    monkeypatch.setattr(movie, "cv2", _failing_at(fail_at))
    with pytest.raises((UserError, cv2.error), match="encoder failed"):
        with open_writer(tmp_path / "m.mkv", _spec(), list(range(12))) as writer:
            for n in range(12):
                writer.write(n, _frame(n))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_frames_of_any_channel_count_are_written_as_their_rgb(tmp_path, channels):
    names = {1: ("Y",), 2: ("Y", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}[channels]
    spec = FrameSpec(W, H, channels, names, np.dtype(np.uint8), FPS, (), "movie")
    frames = [np.random.default_rng(n).integers(0, 256, (H, W, channels), dtype=np.uint8) for n in range(6)]
    with open_writer(tmp_path / "c.mkv", spec, list(range(6))) as writer:
        for n, pixels in enumerate(frames):
            writer.write(n, pixels)
    with open_frames(tmp_path / "c.mkv") as back:
        for n, got in back:
            want = np.repeat(frames[n][:, :, :1], 3, axis=2) if channels < 3 else frames[n][:, :, :3]
            np.testing.assert_array_equal(got, want)


def _slow(count, frame, real_write):
    """An encoder that takes a while per frame, so the writer's ring of buffers is refilled while the encoder
    is still behind: a buffer reused too early would change an earlier frame."""
    threading.Event().wait(0.01)
    real_write(frame)


def test_the_encoder_behind_gets_every_frame_as_it_was_written(tmp_path, monkeypatch):
    monkeypatch.setattr(movie, "cv2", Cv2WithEncoder(_slow))
    with open_writer(tmp_path / "slow.mkv", _spec(), list(range(30))) as writer:
        for n in range(30):
            writer.write(n, _frame(n))
    monkeypatch.undo()
    with open_frames(tmp_path / "slow.mkv") as back:
        for n, got in back:
            np.testing.assert_array_equal(got, _frame(n))


def test_resume_and_the_farm_check_read_a_movie_back_in_ranges(tmp_path, monkeypatch, two_cores):
    # A farm node's resume and `emotionedit check` decode a whole movie on as many threads as the writer's
    # own check does (they know its rate), and still find a movie cut short.
    from emotionedit.farm.resume import movie_problem, plan_resume

    path = _write(tmp_path / "edit.mkv")
    ranges = []
    real = movie._frames_in_order
    monkeypatch.setattr(movie, "_frames_in_order", lambda *a: ranges.append(a) or real(*a))
    assert plan_resume(path, _spec(), list(range(COUNT))).done == list(range(COUNT))
    assert len(ranges) == 2
    assert movie_problem(path, W, H, COUNT + 8, FPS) is not None
