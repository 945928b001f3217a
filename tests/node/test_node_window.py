"""Render windows: the window holds the source's pixels (or 0), transparent black past the source."""

from __future__ import annotations

import numpy as np

from emotionedit.node.window import fill_window


def pattern(shape, dtype=np.uint8) -> np.ndarray:
    return (np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) % 251).astype(dtype)


def test_whole_window_is_the_source():
    src = pattern((6, 8, 3))
    dst = np.zeros_like(src)
    fill_window(dst, src, 0, 0)
    np.testing.assert_array_equal(dst, src)


def test_window_inside_the_plate():
    src = pattern((6, 8, 3))
    dst = np.full((3, 4, 3), 7, np.uint8)
    fill_window(dst, src, 2, 1)
    np.testing.assert_array_equal(dst, src[2:5, 1:5])


def test_window_reaching_past_the_plate_is_transparent_black_there():
    src = pattern((6, 8, 4), np.float32)
    dst = np.full((4, 4, 4), np.nan, np.float32)
    fill_window(dst, src, -2, 6)
    want = np.zeros_like(dst)
    want[2:4, 0:2] = src[0:2, 6:8]
    np.testing.assert_array_equal(dst, want)


def test_window_outside_the_plate():
    src = pattern((6, 8, 3), np.uint16)
    dst = np.full((2, 2, 3), 9, np.uint16)
    fill_window(dst, src, 10, 10)
    assert not dst.any()


def test_zero_background_the_matte_output():
    src = pattern((6, 8, 3)) + 1
    dst = np.full((3, 3, 3), 9, np.uint8)
    fill_window(dst, src, 1, 1, zero=True)
    assert not dst.any()


def test_negative_strides_as_hosts_give_them():
    """OFX rows run bottom-up: views of host memory have negative row strides."""
    memory = pattern((6, 8, 3))
    src = memory[::-1]
    dst_memory = np.zeros((6, 8, 3), np.uint8)
    dst = dst_memory[::-1][1:4, 2:6]
    fill_window(dst, src, 1, 2)
    np.testing.assert_array_equal(dst_memory[::-1][1:4, 2:6], src[1:4, 2:6])
    untouched = dst_memory[::-1].copy()
    untouched[1:4, 2:6] = 0
    assert not untouched.any()
