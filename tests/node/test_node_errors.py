"""Everything that can go wrong ends in a message on the node and a status, never a crash or a hang.

Each case runs the real bundle in the test host; the host printing its SUMMARY line
at the end is the proof it survived.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from ofxhost import Frame, engine_env, run

from emotionedit.io import open_frames

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host

FIRST = 672


@pytest.fixture(scope="module")
def plate(franck_path):
    with open_frames(str(franck_path), (FIRST, FIRST + 2)) as reader:
        return dict(iter(reader))


def survived(result) -> bool:
    return result.returncode == 0 and any(line.startswith("SUMMARY") for line in result.lines)


def test_missing_analysis_file(tmp_path, plate):
    missing = tmp_path / "nowhere.analysis.npz"
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": missing})
    assert survived(result)
    assert result.status(FIRST) == 1
    text = result.text(FIRST)
    assert str(missing) in text and "does not exist" in text and "emotionedit analyze" in text


def test_analysis_of_another_clip(tmp_path, plate, analysis_file):
    """A plate of another size: refused, naming both sizes."""
    cropped = np.ascontiguousarray(plate[FIRST][:240, :320])
    result = run(tmp_path, [Frame(FIRST, cropped)], {"analysisFile": analysis_file})
    assert survived(result)
    assert result.status(FIRST) == 1
    assert "360x288" in result.text(FIRST) and "320x240" in result.text(FIRST)


def test_frames_outside_the_analysis_suggest_a_frame_offset(tmp_path, plate, analysis_file):
    """The host counts from 0 while the analysis covers 672-719: the message says which Frame Offset fits,
    and with it the frame renders."""
    result = run(tmp_path, [Frame(0, plate[FIRST])], {"analysisFile": analysis_file, "frameOffset": 0})
    assert result.status(0) == 1
    assert "Frame Offset 672" in result.text(0)
    fixed = run(tmp_path, [Frame(0, plate[FIRST])], {"analysisFile": analysis_file, "frameOffset": 672})
    assert fixed.status(0) == 0, fixed.text(0)


def test_no_face_passes_through_with_a_warning(tmp_path):
    """Preview tracking of a frame without a face: the picture passes through unedited, with a warning."""
    blank = np.full((120, 160, 3), 90, np.uint8)
    result = run(tmp_path, [Frame(5, blank)], {"analysisFile": ""})
    assert survived(result)
    assert result.status(5) == 0
    assert "no usable face" in result.text(5)
    assert "preview quality" in result.text(5)
    np.testing.assert_array_equal(result.outputs[5], blank)


def test_preview_without_analysis_edits_and_says_so(tmp_path, plate):
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": "", "intensity": 1})
    assert result.status(FIRST) == 0, result.text(FIRST)
    assert "preview quality" in result.text(FIRST)
    assert (result.outputs[FIRST] != plate[FIRST]).any()


def test_engine_missing(tmp_path, plate, analysis_file):
    env = engine_env(EMOTIONEDIT_PYTHON="/nonexistent/venv/bin/python")
    result = run(tmp_path, [Frame(FIRST, plate[FIRST]), Frame(FIRST + 1, plate[FIRST + 1])],
                 {"analysisFile": analysis_file}, env=env)
    assert survived(result)
    for n in (FIRST, FIRST + 1):
        assert result.status(n) == 1
        assert "engine is missing" in result.text(n) and "EMOTIONEDIT_PYTHON" in result.text(n)


def test_engine_not_importable(tmp_path, plate, analysis_file):
    env = engine_env(EMOTIONEDIT_NODE_MODULE="emotionedit.no_such_module")
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, env=env)
    assert survived(result)
    assert result.status(FIRST) == 1
    assert "could not be imported" in result.text(FIRST) and "No module named" in result.text(FIRST)


def test_engine_raising(tmp_path, plate, analysis_file):
    env = engine_env(EMOTIONEDIT_NODE_MODULE="faulty_engine", EMOTIONEDIT_TEST_FAULT="raise")
    frames = [Frame(n, plate[n]) for n in plate]
    result = run(tmp_path, frames, {"analysisFile": analysis_file}, env=env, threads=2)
    assert survived(result)
    for n in plate:
        assert result.status(n) == 1
        assert "internal error in the engine: ValueError: simulated engine bug" in result.text(n)
    assert "Traceback" in result.stderr  # the whole story goes to the terminal


def test_hung_engine_times_out(tmp_path, plate, analysis_file):
    """An engine that never answers: the first frame fails at the time limit, the frames queued behind
    it fail without waiting, and the host goes on."""
    env = engine_env(EMOTIONEDIT_NODE_MODULE="faulty_engine", EMOTIONEDIT_TEST_FAULT="hang",
                     EMOTIONEDIT_STARTUP_TIMEOUT="2")
    frames = [Frame(n, plate[n]) for n in plate]
    started = time.monotonic()
    result = run(tmp_path, frames, {"analysisFile": analysis_file}, env=env, threads=2, timeout=60)
    elapsed = time.monotonic() - started
    assert survived(result)
    assert elapsed < 20, elapsed
    texts = [result.text(n) for n in plate]
    assert all(result.status(n) == 1 for n in plate)
    assert any("did not start within 2 s" in t for t in texts), texts
    assert any("still busy" in t for t in texts), texts
    for n in plate:  # a timed-out frame leaves the host's images alone
        assert result.checks[n]["outside_window_bytes"] == "0"
