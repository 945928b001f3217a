"""Starting the embedded engine leaves the host's locale and environment alone.

CPython, left to its defaults, sets LC_CTYPE from the environment and coerces the C locale
(setenv LC_CTYPE=C.UTF-8) while it starts, process-wide, from the node's worker thread while
the host's own threads run; MLT and Shotcut rely on the locale they set (LC_NUMERIC "C").
The test host sets the "C" locale, records it and LC_CTYPE, renders a real frame in-process
(the engine starts and reads an Analysis File under a non-ASCII folder, which needs Python's
UTF-8 mode in the C locale), and records both again.
"""

from __future__ import annotations

import shutil

import pytest
from ofxhost import Frame, engine_env, run

from emotionedit.io import open_frames

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host

FIRST = 672


@pytest.mark.parametrize("variables", [{"LANG": "C.UTF-8"}, {}], ids=["LANG=C.UTF-8", "no-locale-variables"])
def test_engine_start_keeps_the_hosts_locale(tmp_path, franck_path, analysis_file, variables):
    folder = tmp_path / "plans d'été"
    folder.mkdir()
    analysis = folder / "shot.analysis.npz"
    shutil.copy(analysis_file, analysis)
    with open_frames(str(franck_path), (FIRST, FIRST)) as reader:
        picture = dict(iter(reader))[FIRST]
    env = engine_env(EMOTIONEDIT_TRANSPORT="in-process")
    for name in [n for n in env if n.startswith("LC_") or n in ("LANG", "LANGUAGE")]:
        del env[name]
    env.update(variables)
    result = run(tmp_path, [Frame(FIRST, picture)], {"analysisFile": analysis}, env=env, locale="C")
    assert result.returncode == 0, result.stderr
    assert result.status(FIRST) == 0, result.text(FIRST)  # the engine started, and read the file
    assert result.engine_note(FIRST).startswith("Engine: in-process")
    before, after = result.locale["before"], result.locale["after"]
    assert before["all"] == "C" and before["ctype_env"] == "(unset)", before
    assert (after["all"], after["ctype_env"]) == (before["all"], before["ctype_env"])
