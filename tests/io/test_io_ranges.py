"""The one frame-range syntax: parsing, selection against a plate's frames, canonical text and chunks."""

from __future__ import annotations

import pytest

from emotionedit.errors import UserError
from emotionedit.io import frames_text, parse_frame_range, parse_frames
from emotionedit.io.ranges import chunks
from emotionedit.io.sequence import select_frames


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("1001-1005", [1001, 1002, 1003, 1004, 1005]),
        ("1001", [1001]),
        (" 7 - 9 ", [7, 8, 9]),
        ("-5--3", [-5, -4, -3]),
        ("1001-1010x3", [1001, 1004, 1007, 1010]),
        ("1001-1011x3", [1001, 1004, 1007, 1010]),
        ("1001-1010:3", [1001, 1004, 1007, 1010]),  # Open Job Description's way of writing a step
        ("1001,1005,1010-1012", [1001, 1005, 1010, 1011, 1012]),
        ("1010-1012,1001,1011", [1001, 1010, 1011, 1012]),  # any order, overlaps once
        ("-3-3x3", [-3, 0, 3]),
    ],
)
def test_parse_frames_forms(text, numbers):
    frames = parse_frames(text)
    assert frames.numbers() == numbers
    assert parse_frames(str(frames)).numbers() == numbers  # the canonical text reads back the same


def test_what_already_worked_keeps_its_meaning():
    for text in ("1001-1100", "1001", " 7 - 9 ", "-5--1"):
        first, last = parse_frame_range(text)
        assert parse_frames(text).numbers() == list(range(first, last + 1))


@pytest.mark.parametrize("text", ["", "abc", "1001-", "1001..1100", "10-20-30", "1.5", "1-10x", "1-10x0", "1,,2",
                                  "1-10y2", "x2"])
def test_parse_frames_rejects_with_examples(text):
    with pytest.raises(UserError, match="1001-1100"):
        parse_frames(text)


def test_parse_frames_rejects_a_part_that_runs_backwards():
    with pytest.raises(UserError, match="starts after it ends"):
        parse_frames("1001,1100-1001")


def test_select_keeps_each_parts_meaning_against_the_plate():
    plate = [n for n in range(1001, 1021) if n != 1005]  # a sequence with frame 1005 missing
    assert select_frames(plate, parse_frames("1001-1010"), "plate") == [1001, 1002, 1003, 1004, 1006, 1007, 1008,
                                                                        1009, 1010]  # a gap inside a range: skipped
    assert select_frames(plate, parse_frames("1001-1009x4"), "plate") == [1001, 1009]
    assert select_frames(plate, parse_frames("1002,1010-1012"), "plate") == [1002, 1010, 1011, 1012]
    assert select_frames(plate, (1001, 1003), "plate") == [1001, 1002, 1003]  # the tuple form still works
    with pytest.raises(UserError, match=r"frame 1005 was asked for, but plate has frames 1001-1020 \(19 frames; "
                                        r"missing 1005\)"):
        select_frames(plate, parse_frames("1001,1005"), "plate")
    with pytest.raises(UserError, match="frames 1015-1025 were asked for"):
        select_frames(plate, parse_frames("1001,1015-1025"), "plate")


@pytest.mark.parametrize(
    ("numbers", "text"),
    [
        ([1001, 1002, 1003], "1001-1003"),
        ([1, 3, 5, 9], "1-5x2,9"),
        ([1, 5], "1,5"),
        ([7], "7"),
        ([1, 2, 3, 10, 20, 30, 31], "1-3,10,20,30-31"),
        ([700, 705, 710, 711, 712], "700,705,710-712"),
        ([1, 3, 5, 7, 8], "1-5x2,7-8"),
    ],
)
def test_frames_text_is_short_and_exact(numbers, text):
    assert str(frames_text(numbers)) == text
    assert parse_frames(text).numbers() == numbers


def test_chunks_cover_every_frame_once_in_order():
    numbers = parse_frames("1001-1030x2").numbers()
    parts = chunks(numbers, 4)
    assert [len(p) for p in parts] == [4, 4, 4, 3]
    assert sum(parts, []) == numbers
    with pytest.raises(UserError, match="at least 1 frame"):
        chunks(numbers, 0)


def test_open_job_description_reads_the_same_frames():
    openjd = pytest.importorskip("openjd.model", reason="openjd-model comes with the farm extra (make setup)")
    for text in ("1001-1100", "1001-1100x2", "1001,1005,1010-1020", "-5--1,3"):
        frames = parse_frames(text)
        assert list(openjd.IntRangeExpr.from_str(frames.openjd())) == frames.numbers()
