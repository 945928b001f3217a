"""Regions of interest: the engine plans a frame, then its pixel phase gets only the rectangles it asked for.

In-process, the C++ node copies the source's read rectangle into private memory, the pixel phase writes
the write rectangle into more, and the render thread fills the render window with the background (the
source's pixels, or 0) and copies that rectangle over it. A stand-in engine (tests/node/engines/
region_probe.py) asks for rectangles the tests choose and writes what it was given, inverted; then the
real engine, with render windows cutting the face every way (tiles), against the command line.
"""

from __future__ import annotations

import numpy as np
import pytest
from ofxhost import DEPTHS, Frame, cli_render, engine_env, run, window_slice

from emotionedit.io import FrameSpec, open_frames, open_writer

pytestmark = pytest.mark.usefixtures("node_built")

FIRST = 672
SENTINEL = 0xA5  # what the test host fills an output with before Render
WIDTH, HEIGHT = 96, 64
WINDOW = (10, 5, 90, 60)  # OFX x1, y1, x2, y2 (y up)


def pattern(depth: str, channels: int) -> np.ndarray:
    """A picture whose every value differs from its neighbours' (and from the inverse of any other)."""
    dtype = np.dtype(DEPTHS[depth])
    values = np.random.default_rng(3).random((HEIGHT, WIDTH, channels)) * 0.9 + 0.05
    if dtype.kind == "u":
        return np.round(values * np.iinfo(dtype).max).astype(dtype)
    return values.astype(dtype)


def probe(tmp_path, image: np.ndarray, depth: str, read: str, write: str, background: str = "source",
          flags: str = "", **options):
    env = engine_env(EMOTIONEDIT_NODE_MODULE="region_probe", EMOTIONEDIT_TRANSPORT="in-process",
                     EMOTIONEDIT_TEST_READ=read, EMOTIONEDIT_TEST_WRITE=write,
                     EMOTIONEDIT_TEST_BACKGROUND=background, EMOTIONEDIT_TEST_FLAGS=flags, EMOTIONEDIT_TIMING="1")
    return run(tmp_path, [Frame(1, image, WINDOW)], {"analysisFile": "/unused"}, depth=depth, env=env, **options)


def full_value(dtype) -> float:
    return np.iinfo(dtype).max if np.dtype(dtype).kind == "u" else 1.0


@pytest.mark.parametrize(("depth", "channels", "rows", "padding"),
                         [("byte", 3, "negative", 0), ("byte", 4, "positive", 12), ("short", 3, "positive", 0),
                          ("half", 4, "negative", 6), ("float", 4, "negative", 0), ("float", 3, "positive", 4)])
def test_the_pixel_phase_gets_exactly_its_rectangles(tmp_path, depth, channels, rows, padding):
    """The pixel phase receives the read rectangle's pixels (right rows, any row order or padding), its write
    rectangle lands where it says, the rest of the window is the source, and nothing outside is written."""
    image = pattern(depth, channels)
    result = probe(tmp_path, image, depth, read="20,10,70,50", write="30,15,60,45", rows=rows, padding=padding)
    assert result.status(1) == 0, result.text(1) + result.stderr[-2000:]
    assert result.checks[1]["outside_window_bytes"] == "0"
    assert result.checks[1]["source_intact"] == "1"
    want = image.copy()
    r, c = window_slice((30, 15, 60, 45), HEIGHT)
    want[r, c] = full_value(image.dtype) - image[r, c]
    r, c = window_slice(WINDOW, HEIGHT)
    np.testing.assert_array_equal(result.outputs[1][r, c], want[r, c])
    # What the node copied, from its own account (EMOTIONEDIT_TIMING).
    timing = next(line for line in result.stderr.splitlines() if "timing:" in line)
    assert "window=80x55 read=50x40 write=30x30" in timing, timing


def test_zero_background_and_a_plan_that_reads_nothing(tmp_path):
    """The matte's case: no read rectangle (the pixel phase gets None), the window 0 outside the written part."""
    image = pattern("float", 4)
    result = probe(tmp_path, image, "float", read="none", write="40,20,50,30", background="zero")
    assert result.status(1) == 0, result.text(1) + result.stderr[-2000:]
    want = np.zeros_like(image)
    r, c = window_slice((40, 20, 50, 30), HEIGHT)
    want[r, c] = 3
    r, c = window_slice(WINDOW, HEIGHT)
    np.testing.assert_array_equal(result.outputs[1][r, c], want[r, c])
    assert result.checks[1]["outside_window_bytes"] == "0"


@pytest.mark.parametrize("background", ["source", "zero"])
def test_a_pass_through_plan_costs_the_window_copy_alone(tmp_path, background):
    """No write rectangle: the pixel phase never runs and the window is the background."""
    image = pattern("byte", 4)
    result = probe(tmp_path, image, "byte", read="20,10,70,50", write="none", background=background,
                   flags="raise_if_called")
    assert result.status(1) == 0, result.text(1) + result.stderr[-2000:]
    r, c = window_slice(WINDOW, HEIGHT)
    want = image if background == "source" else np.zeros_like(image)
    np.testing.assert_array_equal(result.outputs[1][r, c], want[r, c])
    timing = next(line for line in result.stderr.splitlines() if "timing:" in line)
    assert "pixels_ms=0.000" in timing and "write=none" in timing, timing


@pytest.mark.parametrize(("read", "write", "background", "message"), [
    ("-5,0,20,20", "30,15,60,45", "source", "a read rectangle (-5, 0, 20, 20) outside the source (0, 0, 96, 64)"),
    ("20,10,70,50", "5,15,60,45", "source",
     "a write rectangle (5, 15, 60, 45) outside the render window (10, 5, 90, 60)"),
    ("bad", "30,15,60,45", "source", "the plan's read_rect must be None or 4 integers (x1, y1, x2, y2), not 'x1,y1'"),
    ("20,10,70,50", "30,15,60,45", "purple", "the plan's background must be 'source' or 'zero', not 'purple'"),
])
def test_rectangles_the_node_cannot_honour_fail_the_frame(tmp_path, read, write, background, message):
    """A plan asking for pixels outside the images (a bug in a node module) fails the frame with a message; the
    node neither reads nor writes out of bounds, and writes nothing."""
    result = probe(tmp_path, pattern("byte", 3), "byte", read=read, write=write, background=background)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.status(1) == 1
    assert message in result.text(1), result.text(1)
    assert (result.outputs[1] == SENTINEL).all()


@pytest.fixture(scope="module")
def franck(franck_path):
    with open_frames(str(franck_path), (FIRST, FIRST + 4)) as reader:
        return dict(iter(reader))


@pytest.mark.parametrize("transport", ["in-process", "server"])
def test_render_windows_cutting_the_face_match_the_cli(tmp_path, franck, analysis_file, transport):
    """Hosts that render in tiles: windows through the middle of the face, a single row through it, one inside
    it, one away from it. Each equals the command line's render there, bit for bit, and nothing outside it
    is written."""
    windows = [(0, 0, 180, 288), (0, 144, 360, 288), (0, 100, 360, 101), (150, 120, 200, 170), (0, 0, 40, 40)]
    numbers = sorted(franck)
    expected = cli_render_frames(tmp_path, franck, analysis_file)
    frames = [Frame(n, franck[n], w) for n, w in zip(numbers, windows, strict=True)]
    result = run(tmp_path, frames, {"analysisFile": analysis_file, "emotion": "Surprised", "intensity": 1.2},
                 threads=2, env=engine_env(EMOTIONEDIT_TRANSPORT=transport))
    assert result.returncode == 0, result.stderr
    for n, window in zip(numbers, windows, strict=True):
        assert result.status(n) == 0, result.text(n)
        assert result.checks[n]["outside_window_bytes"] == "0"
        r, c = window_slice(window, 288)
        np.testing.assert_array_equal(result.outputs[n][r, c], expected[n][r, c], err_msg=f"window {window}")
    r, c = window_slice(windows[0], 288)
    assert (expected[numbers[0]][r, c] != franck[numbers[0]][r, c]).any(), "the face should be in the first window"


def cli_render_frames(tmp_path, franck, analysis_file) -> dict[int, np.ndarray]:
    """``emotionedit render`` of these frames (written as a PNG sequence) with the tiles test's edit."""
    numbers = sorted(franck)
    plate = tmp_path / "plate" / "plate.####.png"
    spec = FrameSpec(width=360, height=288, channels=3, channel_names=("R", "G", "B"), dtype=np.dtype(np.uint8),
                     fps=24.0, metadata=(), format_name="png")
    with open_writer(str(plate), spec, numbers) as writer:
        for n in numbers:
            writer.write(n, franck[n])
    return cli_render(tmp_path, str(plate), f"{numbers[0]}-{numbers[-1]}", analysis_file, "--emotion", "surprised",
                      "--intensity", "1.2")


def test_preview_frames_render_alike_in_process_and_in_the_server(tmp_path, franck):
    """Preview mode (no Analysis File): in-process the engine tracks the frame while planning, from the node's
    private copy of the source; the server tracks it from shared memory. Same pixels, same frame."""
    outputs = {}
    for transport in ("in-process", "server"):
        result = run(tmp_path, [Frame(FIRST, franck[FIRST], (20, 10, 340, 280))], {"analysisFile": "",
                                                                                  "emotion": "Sad"},
                     env=engine_env(EMOTIONEDIT_TRANSPORT=transport))
        assert result.status(FIRST) == 0, result.text(FIRST)
        assert "preview quality" in result.text(FIRST)
        outputs[transport] = result.outputs[FIRST]
    np.testing.assert_array_equal(outputs["in-process"], outputs["server"])
    r, c = window_slice((20, 10, 340, 280), 288)
    assert (outputs["server"][r, c] != franck[FIRST][r, c]).any(), "the preview should edit the face"
