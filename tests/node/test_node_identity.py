"""IsIdentity: the node tells a host to pass the source through only where Render would succeed and change
nothing, and then clears a message an earlier frame left on the node.

Hosts such as Nuke and Resolve ask IsIdentity before Render and skip Render when told the
frame is the source. Runs the real bundle in the test host with one shared instance.
"""

from __future__ import annotations

import pytest
from ofxhost import Frame, engine_env, run

from emotionedit.io import open_frames

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host

FIRST = 672


@pytest.fixture(scope="module")
def picture(franck_path):
    with open_frames(str(franck_path), (FIRST, FIRST)) as reader:
        return dict(iter(reader))[FIRST]


def identities(result) -> list[str]:
    return [line for line in result.lines if line.startswith("IDENTITY")]


@pytest.mark.parametrize(("time", "offset", "problem"), [
    (FIRST, 0, "missing"),  # an Analysis File that does not exist
    (0, 0, "Frame Offset 672"),  # a frame the analysis does not cover
])
def test_no_identity_at_intensity_0_when_the_analysis_does_not_fit(tmp_path, picture, analysis_file, time, offset,
                                                                   problem):
    """At intensity 0 the command line still fails when the analysis does not fit the frame; so does the
    node, instead of passing the source through as if all were well."""
    path = tmp_path / "missing.analysis.npz" if problem == "missing" else analysis_file
    result = run(tmp_path, [Frame(time, picture)], {"analysisFile": path, "intensity": 0, "frameOffset": offset},
                 instances="shared", identity=True)
    assert result.returncode == 0, result.stderr
    assert not identities(result)
    assert result.status(time) == 1
    expected = "does not exist" if problem == "missing" else problem
    assert expected in result.text(time), result.text(time)


def test_identity_clears_the_message_an_earlier_frame_left(tmp_path, picture):
    """A frame fails (the engine raises) and leaves an error on the node; the next frame is at intensity 0
    without an Analysis File: the node claims identity, and the stale error goes."""
    env = engine_env(EMOTIONEDIT_NODE_MODULE="faulty_engine", EMOTIONEDIT_TEST_FAULT="raise")
    frames = [Frame(0, picture), Frame(1, picture)]
    result = run(tmp_path, frames, {"analysisFile": "", "intensity": "0=1;1=0"}, instances="shared", threads=1,
                 identity=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.status(0) == 1
    assert "simulated engine bug" in result.standing[0], result.standing
    assert identities(result) == [f"IDENTITY time={1:.6f} clip=Source"]
    assert result.standing[1] == "", result.standing
