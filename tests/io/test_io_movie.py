"""Movies: RGB order, frame counts and ranges, write and read back, early end."""

import cv2
import numpy as np
import pytest

from emotionedit.errors import InputError, UserError
from emotionedit.io import FrameSpec, is_movie_path, open_frames, open_writer

W, H, COUNT = 64, 48, 12


def _frame(index):
    """Frame ``index`` as RGB: frame 0 pure red, then a brightness ramp with a moving bar."""
    rgb = np.zeros((H, W, 3), np.uint8)
    if index == 0:
        rgb[..., 0] = 255
    else:
        rgb[...] = 10 * index
        rgb[:, 4 * index : 4 * index + 4] = 255
    return rgb


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    path = tmp_path_factory.mktemp("movie") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25.0, (W, H))
    assert writer.isOpened()
    for i in range(COUNT):
        writer.write(cv2.cvtColor(_frame(i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_is_movie_path():
    assert is_movie_path("a/b.MP4") and is_movie_path("x.mkv") and not is_movie_path("x.####.exr")


def test_movie_read_count_rgb_and_spec(movie):
    with open_frames(movie) as reader:
        assert reader.frame_numbers == list(range(COUNT))
        assert len(reader) == COUNT
        spec = reader.spec
        assert (spec.width, spec.height, spec.channels, spec.dtype) == (W, H, 3, np.uint8)
        assert spec.fps == pytest.approx(25.0) and spec.format_name == "movie"
        frames = list(reader)
    assert [n for n, _ in frames] == list(range(COUNT))
    red = frames[0][1]
    assert red.shape == (H, W, 3) and red.dtype == np.uint8
    np.testing.assert_array_equal(red[..., 0], 255)
    np.testing.assert_array_equal(red[..., 1:], 0)
    for number, pixels in frames:
        np.testing.assert_array_equal(pixels, _frame(number))  # FFV1 is lossless


def test_movie_frame_range_and_random_access(movie):
    with open_frames(movie, (5, 8)) as reader:
        assert reader.frame_numbers == [5, 6, 7, 8]
        got = dict(iter(reader))
        assert list(got) == [5, 6, 7, 8]
        for number, pixels in got.items():
            np.testing.assert_array_equal(pixels, _frame(number))
        np.testing.assert_array_equal(reader.read(6), _frame(6))  # seeks back
    with pytest.raises(UserError, match=r"0-11 \(12 frames\)"):
        open_frames(movie, (10, 20))


@pytest.mark.parametrize("name, exact", [("out.mp4", False), ("out.mkv", True)])
def test_movie_write_and_read_back(tmp_path, movie, name, exact):
    with open_frames(movie) as reader:
        target = tmp_path / name
        with open_writer(target, reader.spec, reader.frame_numbers, protect=[movie]) as writer:
            assert not target.exists()  # appears only on close
            for number, pixels in reader:
                writer.write(number, pixels)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    with open_frames(target) as back:
        assert len(back) == COUNT and back.spec.fps == pytest.approx(25.0)
        for number, pixels in back:
            if exact:
                np.testing.assert_array_equal(pixels, _frame(number))
            else:
                assert np.abs(pixels.astype(int) - _frame(number)).mean() < 12


def test_movie_writer_exception_removes_partial_movie(tmp_path):
    spec = FrameSpec(W, H, 4, ("R", "G", "B", "A"), np.float32, 24.0, (), "openexr")
    with pytest.raises(RuntimeError):
        with open_writer(tmp_path / "bad.mp4", spec, [0, 1]) as writer:
            writer.write(0, np.full(spec.shape, 0.5, np.float32))
            raise RuntimeError("engine failed")
    assert list(tmp_path.iterdir()) == []


def test_movie_writer_refuses_odd_size_and_output_over_input(tmp_path, movie):
    odd = FrameSpec(33, 21, 3, ("R", "G", "B"), np.uint8, 24.0, (), "movie")
    with pytest.raises(UserError, match="even width and height"):
        open_writer(tmp_path / "odd.mp4", odd, [0])
    with open_frames(movie) as reader:
        with pytest.raises(UserError, match="never overwrites its inputs"):
            open_writer(movie, reader.spec, reader.frame_numbers, overwrite=True, protect=[movie])


def test_movie_that_ends_early_names_the_frame(tmp_path):
    path = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25.0, (W, H))
    rng = np.random.default_rng(7)
    for _ in range(COUNT):
        writer.write(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))  # noise: equal-sized frames
    writer.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header still promises COUNT frames
    with open_frames(path) as reader:
        assert len(reader) == COUNT
        with pytest.raises(InputError, match=r"short\.avi: frame \d+ cannot be decoded: the movie ends"):
            for _ in reader:
                pass
