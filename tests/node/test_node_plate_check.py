"""The node checks the pixels it edits against the Analysis File's fingerprint (issue 11, defects 4 and 12).

A wrong Frame Offset that still lands inside the analysis (MLT counts a clip from 0: a clip starting at
plate frame 673 given Frame Offset 672), or another clip of the same size, fails the frame with a message
that says which Frame Offset fits, before anything is written; EMOTIONEDIT_IGNORE_PLATE_MISMATCH=1 in the
host's environment turns the check off. In-process CPU renders read only the face's neighbourhood
(``read_rect``, widened to enough of the fingerprint's cells); the engine server and CUDA renders get the
whole source. Both are exercised here through :func:`emotionedit.node.prepare` and through the real bundle.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from ofxhost import Frame, engine_env, run

from emotionedit.analysis import UNCHECKED, UNSTEADY, save
from emotionedit.errors import AnalysisMismatchError
from emotionedit.fingerprint import MIN_SIDE, thumbnail_cells
from emotionedit.node import prepare
from emotionedit.node.plan import IGNORE_PLATE_MISMATCH

FIRST = 672  # the analysis_file fixture: franck's talking frames 672-719
HEIGHT, WIDTH = 288, 360
SENTINEL = 0xA5


def request(analysis_file, time: float, offset: int = 0, size: tuple[int, int] = (WIDTH, HEIGHT), **params) -> dict:
    """What the in-process node sends for a CPU render with an Analysis File (no source: planned without pixels),
    of a ``size`` (width, height) plate."""
    values = {"emotion": 1, "intensity": 1.0, "emotion2": 0, "blend": 0.0, "lipPreservation": 1.0, "mode": 0,
              "regionBrows": 1, "regionEyes": 1, "regionCheeks": 1, "regionNose": 1, "regionMouth": 1,
              "smoothing": 1.5, "analysisFile": str(analysis_file), "frameOffset": offset, "face": "largest",
              "output": 0}
    values.update(params)
    bounds = (0, 0, *size)
    return {"time": float(time), "params": values, "dtype": "uint8", "components": 3,
            "premultiplication": "OfxImageOpaque", "src_bounds": bounds, "dst_bounds": bounds, "window": bounds,
            "render_scale": (1.0, 1.0), "cuda": False, "source": None}


def rows_cols(rect) -> tuple[slice, slice]:
    """Top-down array slices of an OFX rectangle (y up) of the whole plate."""
    x1, y1, x2, y2 = rect
    return slice(HEIGHT - y2, HEIGHT - y1), slice(x1, x2)


def pixel_phase(plan, source: np.ndarray) -> np.ndarray:
    """The in-process CPU render: the node copies read_rect of the source, the plan writes write_rect."""
    out = np.full((HEIGHT, WIDTH, 3), SENTINEL, np.uint8)
    read = source[rows_cols(plan.read_rect)].copy()
    into = out[rows_cols(plan.write_rect)]
    plan.render_region(read, into)
    return out


def test_the_in_process_node_reads_enough_cells_and_renders_as_before(talking, analysis_file):
    frames, _ = talking
    plan = prepare(request(analysis_file, FIRST + 10))
    frame = plan.frame
    assert plan.read_rect is not None and plan.write_rect is not None
    rows, cols = rows_cols(plan.read_rect)
    cells, _ = thumbnail_cells(frames[10][rows, cols], (HEIGHT, WIDTH), (rows.start, cols.start))
    assert len(cells) >= MIN_SIDE * MIN_SIDE
    # The widened rectangle holds the engine's own, and the pixels are the whole-source render's.
    r = frame.read_rect
    assert rows.start <= r.y0 and cols.start <= r.x0 and r.y1 <= rows.stop and r.x1 <= cols.stop
    windowed = pixel_phase(plan, frames[10])
    whole = np.zeros_like(frames[10])
    prepare(request(analysis_file, FIRST + 10)).render(frames[10], whole)
    written = rows_cols(plan.write_rect)
    np.testing.assert_array_equal(windowed[written], whole[written])
    assert (whole != frames[10]).any()


@pytest.mark.parametrize("phase", ["read_rect", "whole source"])
def test_a_frame_offset_off_by_one_fails_the_frame_and_says_which_offset_fits(talking, analysis_file, phase):
    """Host frame 0 holds plate frame 673 (a clip starting there); Frame Offset 672 reads it as frame 672."""
    frames, _ = talking
    source = frames[1]
    plan = prepare(request(analysis_file, 0, offset=FIRST))
    with pytest.raises(AnalysisMismatchError) as refused:
        if phase == "read_rect":
            out = pixel_phase(plan, source)
        else:
            out = np.full_like(source, SENTINEL)
            plan.render(source, out)
    text = str(refused.value)
    assert f"frame {FIRST} of the plate is not frame {FIRST} of the analysis" in text
    assert f"its pixels are analysed frame {FIRST + 1}" in text and f"set Frame Offset to {FIRST + 1}" in text
    if phase == "whole source":
        assert (out == SENTINEL).all()  # refused before the window was filled
    fixed = prepare(request(analysis_file, 0, offset=FIRST + 1))
    pixel_phase(fixed, source)


def test_another_clip_fails_and_the_environment_turns_the_check_off(smiling, analysis_file, monkeypatch):
    other, _ = smiling
    plan = prepare(request(analysis_file, FIRST + 4))
    with pytest.raises(AnalysisMismatchError, match="another shot.*EMOTIONEDIT_IGNORE_PLATE_MISMATCH=1"):
        pixel_phase(plan, other[4])
    monkeypatch.setenv(IGNORE_PLATE_MISMATCH, "1")
    plan = prepare(request(analysis_file, FIRST + 4))
    assert plan.read_rect == plan._ofx(plan.frame.read_rect)  # nothing widened: no check
    pixel_phase(plan, other[4])


def test_pass_through_frames_read_and_check_nothing(analysis_file):
    plan = prepare(request(analysis_file, FIRST + 4, intensity=0.0))
    assert (plan.read_rect, plan.write_rect) == (None, None)


def test_an_analysis_without_a_fingerprint_warns(talking, analysis_file, tmp_path):
    with np.load(analysis_file) as data:
        arrays = {key: data[key] for key in data.files if key != "thumbnails"}
    header = json.loads(bytes(arrays["header"]).decode())
    header["version"] = 2
    del header["fingerprint"]
    del header["landmarks"]  # format 2 files predate the steady landmarks too
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    old = tmp_path / "v2.analysis.npz"
    np.savez(old, **arrays)
    assert zipfile.is_zipfile(old)
    plan = prepare(request(old, FIRST + 4))
    assert ("warning", f"Analysis File {old}: {UNCHECKED}") in plan.messages
    assert ("warning", f"Analysis File {old}: {UNSTEADY}") in plan.messages
    pixel_phase(plan, talking[0][4])
    assert not any(UNSTEADY in text for _, text in prepare(request(analysis_file, FIRST + 4)).messages)


def test_the_node_warns_of_a_resting_face_that_does_not_look_at_rest(crying_at_rest_in_tears, analysis_file,
                                                                    tmp_path):
    """In a host the compositor never sees analyze's output: the node says it with each frame's messages."""
    path = tmp_path / "crying.analysis.npz"
    save(crying_at_rest_in_tears, path)
    said = [text for level, text in prepare(request(path, 20, emotion=0, size=(640, 360))).messages
            if level == "warning" and "resting face" in text]
    assert len(said) == 1
    assert said[0].startswith(f"Analysis File {path}: the actor's resting face was estimated from frames 0-")
    assert not any("resting face" in text for _, text in prepare(request(analysis_file, FIRST + 4)).messages)


@pytest.mark.usefixtures("node_built")
@pytest.mark.parametrize("transport", ["in-process", "server"])
def test_the_bundle_refuses_a_wrong_frame_offset(tmp_path, talking, smiling, analysis_file, transport):
    """Through the real bundle in the test host: the offset that lands inside the analysis fails with the
    fitting Frame Offset named, the right one renders, another clip fails; the output is never written."""
    frames, _ = talking
    env = engine_env(EMOTIONEDIT_TRANSPORT=transport)
    params = {"analysisFile": analysis_file, "intensity": 1, "frameOffset": FIRST}
    wrong = run(tmp_path, [Frame(0, frames[1]), Frame(5, smiling[0][5])], params, env=env)
    assert wrong.status(0) == 1 and f"set Frame Offset to {FIRST + 1}" in wrong.text(0), wrong.text(0)
    assert wrong.status(5) == 1 and "another shot" in wrong.text(5), wrong.text(5)
    assert (wrong.outputs[0] == SENTINEL).all() and (wrong.outputs[5] == SENTINEL).all()
    right = run(tmp_path, [Frame(0, frames[1])], dict(params, frameOffset=FIRST + 1), env=env)
    assert right.status(0) == 0, right.text(0)
    assert (right.outputs[0] != frames[1]).any()
