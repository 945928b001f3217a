"""Everything that can go wrong ends in a message on the node and a status, never a crash or a hang.

Each case runs the real bundle in the test host; the host printing its SUMMARY line
at the end is the proof it survived.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from ofxhost import Frame, Pause, engine_env, run

from emotionedit.io import open_frames

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host

FIRST = 672
SENTINEL = 0xA5  # what the test host fills an output with before Render


@pytest.fixture(scope="module")
def plate(franck_path):
    with open_frames(str(franck_path), (FIRST, FIRST + 3)) as reader:
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


@pytest.mark.parametrize(("transport", "analysis"), [("in-process", True), ("server", True), ("in-process", False)],
                         ids=["in-process", "server", "in-process-preview"])
def test_engine_stuck_in_its_render_fails_at_the_time_limit(tmp_path, plate, analysis_file, transport, analysis):
    """The engine stalls in a frame's render (the pixel phase: the warp) for longer than the time limit: that
    frame fails at the limit with a message, not when the engine comes back; the frame behind it fails at once
    or renders; once the engine is back, frames render as usual; the host's images are never touched after
    Render returned (the engine renders the stalled frame late, into memory of the node's own: in preview
    mode, the private copy of the whole source it tracked the frame on); and the host exits normally."""
    stall, behind, later = FIRST + 1, FIRST + 2, FIRST + 3
    env = engine_env(EMOTIONEDIT_TRANSPORT=transport, EMOTIONEDIT_NODE_MODULE="stalling_engine",
                     EMOTIONEDIT_TEST_STALL_AT=str(stall), EMOTIONEDIT_TEST_STALL_SECONDS="3.5",
                     EMOTIONEDIT_RENDER_TIMEOUT="1.5")
    frames = [Frame(FIRST, plate[FIRST]), Frame(stall, plate[stall]), Frame(behind, plate[behind]), Pause(3),
              Frame(later, plate[later])]
    started = time.monotonic()
    params = {"analysisFile": analysis_file if analysis else ""}
    result = run(tmp_path, frames, params, env=env, late_check=True, timeout=120)
    assert survived(result), result.stderr[-2000:]
    assert time.monotonic() - started < 60
    assert result.status(stall) == 1
    assert "did not finish" in result.text(stall) and "within 1.5 s" in result.text(stall), result.text(stall)
    assert 1400 < float(result.renders[stall][-1]["ms"]) < 3400  # at the limit, before the engine came back
    assert (result.outputs[stall] == SENTINEL).all(), "a failed frame's output was written"
    behind_ms = float(result.renders[behind][-1]["ms"])
    assert result.status(behind) == 0 or behind_ms < 500, (result.status(behind), behind_ms, result.text(behind))
    plain = run(tmp_path, [Frame(FIRST, plate[FIRST]), Frame(later, plate[later])], params)
    for n in (FIRST, later):
        assert result.status(n) == 0, result.text(n)
        np.testing.assert_array_equal(result.outputs[n], plain.outputs[n], err_msg=f"frame {n}")
    for n in (FIRST, stall, behind, later):
        assert result.late[n]["dst_changed"] == "0" and result.late[n]["src_changed"] == "0", result.late[n]


@pytest.mark.parametrize("transport", ["in-process", "server"])
@pytest.mark.parametrize("phase", ["prepare", "render"])
def test_an_exception_always_fails_the_frame(tmp_path, plate, transport, phase):
    """An engine whose describe_error calls its exceptions OK: the frame still fails (its output was never
    written), with the engine's message."""
    env = engine_env(EMOTIONEDIT_TRANSPORT=transport, EMOTIONEDIT_NODE_MODULE="lenient_errors",
                     EMOTIONEDIT_TEST_RAISE_IN=phase)
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": ""}, env=env)
    assert survived(result)
    assert result.status(FIRST) == 1
    assert f"all is well, really (the {phase} phase raised)" in result.text(FIRST), result.text(FIRST)
    assert (result.outputs[FIRST] == SENTINEL).all()


def test_render_without_a_render_window_fails(tmp_path, plate, analysis_file):
    """A host that gives no render window: the node cannot know what to write, so the frame fails with a
    message instead of reporting success with nothing written."""
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, render_window=False)
    assert survived(result)
    assert result.status(FIRST) == 1
    assert "OfxImageEffectPropRenderWindow" in result.text(FIRST), result.text(FIRST)
    assert (result.outputs[FIRST] == SENTINEL).all()
