"""Render windows: the engine renders whole plates; only the window is written."""

from __future__ import annotations

import numpy as np

from emotionedit.node.window import render_window


def plate_render(out: np.ndarray) -> None:
    out[...] = np.arange(out.size, dtype=np.int64).reshape(out.shape) % 251


def expected_plate(shape) -> np.ndarray:
    out = np.empty(shape, np.uint8)
    plate_render(out)
    return out


def test_whole_window_renders_straight_into_the_host_image():
    src = np.zeros((6, 8, 3), np.uint8)
    dst = np.zeros_like(src)
    seen = []
    render_window(lambda out: (seen.append(out), plate_render(out)), src, dst, 0, 0)
    assert seen[0] is dst  # no temporary plate
    np.testing.assert_array_equal(dst, expected_plate(src.shape))


def test_window_inside_the_plate():
    src = np.zeros((6, 8, 3), np.uint8)
    dst = np.full((3, 4, 3), 7, np.uint8)
    render_window(plate_render, src, dst, 2, 1)
    np.testing.assert_array_equal(dst, expected_plate(src.shape)[2:5, 1:5])


def test_window_reaching_past_the_plate_is_transparent_black_there():
    src = np.zeros((6, 8, 4), np.float32)
    dst = np.full((4, 4, 4), np.nan, np.float32)
    render_window(plate_render, src, dst, -2, 6)
    want = np.zeros_like(dst)
    want[2:4, 0:2] = expected_plate(src.shape).astype(np.float32)[0:2, 6:8]
    np.testing.assert_array_equal(dst, want)


def test_window_outside_the_plate():
    src = np.zeros((6, 8, 3), np.uint16)
    dst = np.full((2, 2, 3), 9, np.uint16)
    render_window(plate_render, src, dst, 10, 10)
    assert not dst.any()


def test_negative_strides_as_hosts_give_them():
    """OFX rows run bottom-up: the node's views of host memory have negative row strides."""
    memory = np.zeros((6, 8, 3), np.uint8)
    src = memory[::-1]
    dst_memory = np.zeros((6, 8, 3), np.uint8)
    dst = dst_memory[::-1][1:4, 2:6]
    render_window(plate_render, src, dst, 1, 2)
    np.testing.assert_array_equal(dst_memory[::-1][1:4, 2:6], expected_plate(src.shape)[1:4, 2:6])
    untouched = dst_memory[::-1].copy()
    untouched[1:4, 2:6] = 0
    assert not untouched.any()
