"""Sequence patterns, frame ranges and frame selection."""

from pathlib import Path

import numpy as np
import pytest

from emotionedit.errors import InputError, UserError
from emotionedit.io import FrameSpec, frame_path, open_frames, open_writer, parse_frame_range, parse_pattern
from emotionedit.io.sequence import describe_frames, number_in_name


def test_parse_frame_range_forms():
    assert parse_frame_range("1001-1100") == (1001, 1100)
    assert parse_frame_range("1001") == (1001, 1001)
    assert parse_frame_range(" 7 - 9 ") == (7, 9)
    assert parse_frame_range("-5--1") == (-5, -1)


@pytest.mark.parametrize("text", ["", "abc", "1001-", "1001..1100", "10-20-30", "1.5"])
def test_parse_frame_range_rejects_with_example(text):
    with pytest.raises(UserError, match="1001-1100"):
        parse_frame_range(text)


def test_parse_frame_range_rejects_reversed():
    with pytest.raises(UserError, match="starts after it ends"):
        parse_frame_range("1100-1001")


def test_frame_path_padding_forms():
    assert frame_path("a/shot.####.exr", 7) == Path("a/shot.0007.exr")
    assert frame_path("shot.#.exr", 7) == Path("shot.7.exr")
    assert frame_path("shot.%04d.png", 1001) == Path("shot.1001.png")
    assert frame_path("shot.%d.png", 12) == Path("shot.12.png")
    assert frame_path("shot.####.exr", 12345) == Path("shot.12345.exr")
    assert frame_path("shot.####.exr", -1) == Path("shot.-001.exr")
    assert frame_path("still.png", 3) == Path("still.png")


def test_parse_pattern_rejects_two_placeholders_and_directory_placeholder():
    with pytest.raises(UserError, match="exactly one"):
        parse_pattern("shot.##.%04d.exr")
    with pytest.raises(UserError, match="directory"):
        parse_pattern("v###/shot.####.exr")


def test_number_in_name():
    assert number_in_name("shot.1001.exr") == 1001
    assert number_in_name("frame_0042.png") == 42
    assert number_in_name("plate_v2.png") is None
    assert number_in_name("plate.png") is None


def test_describe_frames_lists_gaps():
    assert describe_frames([1, 2, 4, 5, 9]) == "1-9 (5 frames; missing 3, 6-8)"


def _write_sequence(pattern, numbers, size=(6, 8)):
    spec = FrameSpec(size[1], size[0], 3, ("R", "G", "B"), np.uint8, 24.0, (), "png")
    with open_writer(pattern, spec, numbers) as writer:
        for n in numbers:
            writer.write(n, np.full(spec.shape, n % 256, np.uint8))


def test_sequence_with_gap(tmp_path):
    pattern = tmp_path / "s.####.png"
    _write_sequence(pattern, [1, 2, 3, 5, 6])
    (tmp_path / "s.01004.png").write_bytes(b"not a frame of this padding")
    reader = open_frames(pattern)
    assert reader.frame_numbers == [1, 2, 3, 5, 6]
    assert [n for n, _ in reader] == [1, 2, 3, 5, 6]
    assert reader.read(5)[0, 0, 0] == 5
    assert open_frames(pattern, (2, 5)).frame_numbers == [2, 3, 5]
    with pytest.raises(UserError, match=r"1-6 \(5 frames; missing 4\)"):
        open_frames(pattern, (0, 3))
    with pytest.raises(UserError, match="missing 4"):
        open_frames(pattern, (4, 4))


def test_missing_sequence_is_input_error(tmp_path):
    with pytest.raises(InputError, match="no files match"):
        open_frames(tmp_path / "none.####.exr")
    with pytest.raises(InputError, match="does not exist"):
        open_frames(tmp_path / "nodir" / "none.####.exr")
    with pytest.raises(InputError, match="does not exist"):
        open_frames(tmp_path / "still.png")


def test_resolution_change_mid_sequence_names_frame(tmp_path):
    pattern = tmp_path / "s.####.png"
    _write_sequence(pattern, [1, 2])
    _write_sequence(pattern, [3], size=(8, 8))
    with pytest.raises(InputError, match=r"frame 3 .*s\.0003\.png"):
        open_frames(pattern)
    assert open_frames(pattern, (1, 2)).frame_numbers == [1, 2]


def test_still_image_is_one_frame_named_by_its_number(tmp_path):
    _write_sequence(tmp_path / "s.####.png", [1001])
    with open_frames(tmp_path / "s.1001.png") as reader:
        assert reader.frame_numbers == [1001]
        assert reader.read(1001).shape == (6, 8, 3)
    still = tmp_path / "plate.png"
    (tmp_path / "s.1001.png").rename(still)
    assert open_frames(still).frame_numbers == [0]
