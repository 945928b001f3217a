"""The node in a real host: MLT's melt (>= 7.38 has an OpenFX module; Shotcut uses it).

Runs only where EMOTIONEDIT_MELT names a melt binary (built outside this repository;
see docs/ofx-node.md). Renders 48 frames of franck talking with Intensity keyframed
0 -> 1 through the node and compares every frame with the command line's render of
the same pixels: once from melt (the engine in-process), and once from a Python script
driving MLT through its Python binding (EMOTIONEDIT_MLT_PYTHONPATH names the folder
with ``mlt7``), whose blocking ``Consumer.run()`` holds the GIL while frames render:
the deadlock case, where the node must use its engine server.

The plate is a PNG sequence and the output is written as RGB PNGs (``pix_fmt=rgb24``),
so MLT converts nothing on either side of the node: from an .mp4, MLT's decoder gives
slightly different pixels from run to run when frames render on several threads, and
without ``pix_fmt=rgb24`` MLT takes each frame through YUV after the node.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ofxhost import bundle_path, engine_env

from emotionedit.cli import main as cli_main
from emotionedit.io import open_frames
from emotionedit.preview import write_png

pytestmark = [pytest.mark.host, pytest.mark.usefixtures("node_built")]

FIRST, COUNT = 672, 48
SERVICE = "openfx.io.emotionedit.EmotionEdit"


@pytest.fixture(scope="module")
def melt():
    path = os.environ.get("EMOTIONEDIT_MELT")
    if not path:
        pytest.skip("needs a real OFX host: set EMOTIONEDIT_MELT to an MLT melt >= 7.38 (built outside the repo)")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"melt (\d+)\.(\d+)", version)
    if not found or (int(found[1]), int(found[2])) < (7, 38):
        pytest.skip(f"{path} is not melt >= 7.38 (it says {version.strip()[:40]!r}); 7.38 added OpenFX")
    return path


@pytest.fixture(scope="module")
def scene(tmp_path_factory, franck_path, analysis_file):
    """The plate as melt reads it (numbered from 0) and the command line's render of it."""
    work = tmp_path_factory.mktemp("melt")
    source = work / "source"
    source.mkdir()
    with open_frames(str(franck_path), (FIRST, FIRST + COUNT - 1)) as reader:
        plate = dict(iter(reader))
    for n, image in plate.items():
        write_png(source / f"f_{n - FIRST:04d}.png", image)  # melt counts the clip from 0
        (source / f"plate.{n:04d}.png").symlink_to(source / f"f_{n - FIRST:04d}.png")  # the plate's numbers
    cli = work / "cli" / "f.####.png"
    assert cli_main(["render", str(source / "plate.####.png"), "--analysis", str(analysis_file), "-o", str(cli),
                     "--emotion", "happy", "--intensity", f"{FIRST}:0,{FIRST + COUNT - 1}:1"]) == 0
    with open_frames(str(cli)) as expected:
        return source, plate, dict(iter(expected))


def check_like_the_command_line(out: Path, plate: dict, want: dict) -> None:
    with open_frames(str(out / "f_####.png")) as rendered:
        got = [image for _, image in rendered]  # melt numbers its output from 1
    assert len(got) == COUNT
    changed = []
    for i, image in enumerate(got):
        n = FIRST + i
        np.testing.assert_array_equal(image[..., :3], want[n], err_msg=f"frame {n}")
        changed.append(int((image[..., :3] != plate[n]).any(axis=2).sum()))
    assert changed[0] == 0 and changed[-1] > changed[COUNT // 2] > 0, changed


FILTER = {"emotion": "Happy", "intensity": f"0=0;{COUNT - 1}=1", "frameOffset": str(FIRST)}


@pytest.mark.parametrize("transport", ["auto", "server"])
def test_melt_renders_keyframed_intensity_like_the_command_line(tmp_path, melt, scene, analysis_file, transport):
    """melt runs no Python: the node picks in-process by itself; forced, it renders through its server."""
    source, plate, want = scene
    out = tmp_path / "melt"
    out.mkdir()
    env = engine_env(OFX_PLUGIN_PATH=str(bundle_path().parent), EMOTIONEDIT_TRANSPORT=transport)
    command = [melt, f"avformat:{source}/f_%04d.png", "-filter", SERVICE, f"analysisFile={analysis_file}",
               *(f"{k}={v}" for k, v in FILTER.items()),
               # real_time=-1: with -2 MLT sometimes hands a filter a copy of a frame 1-5 later (plain melt
               # with no filter does it too), so frames compared with the command line's must come from -1.
               "-consumer", f"avformat:{out}/f_%04d.png", "real_time=-1", "vcodec=png", "pix_fmt=rgb24"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "EmotionEdit: error" not in proc.stderr, proc.stderr[-2000:]
    where = "in-process (no other Python" if transport == "auto" else "in its server process (set by"
    assert f"the engine runs {where}" in proc.stderr, proc.stderr[-2000:]
    check_like_the_command_line(out, plate, want)


@pytest.mark.parametrize("transport", ["auto", "server"])
def test_melt_with_an_engine_stuck_in_its_render_exits_by_itself(tmp_path, melt, scene, analysis_file, transport):
    """The engine never returns from one frame's render: melt gets a failed frame at the time limit (and
    writes the source there, as it does for any failed frame), goes on, and exits by itself. (With an
    in-process engine the frames after it fail too while the engine stays stuck; the server is replaced.)"""
    source, plate, want = scene
    out = tmp_path / "melt-stuck"
    out.mkdir()
    stuck, last = 2, 5  # melt's frame numbers (OFX time), from 0
    env = engine_env(OFX_PLUGIN_PATH=str(bundle_path().parent), EMOTIONEDIT_TRANSPORT=transport,
                     EMOTIONEDIT_NODE_MODULE="stalling_engine", EMOTIONEDIT_TEST_STALL_AT=str(stuck),
                     EMOTIONEDIT_TEST_STALL_SECONDS="3600", EMOTIONEDIT_RENDER_TIMEOUT="2")
    command = [melt, f"avformat:{source}/f_%04d.png", f"out={last}", "-filter", SERVICE,
               f"analysisFile={analysis_file}", *(f"{k}={v}" for k, v in FILTER.items()),
               "-consumer", f"avformat:{out}/f_%04d.png", "real_time=-1", "vcodec=png", "pix_fmt=rgb24"]
    # A hung melt ends here, killed at the timeout, and the test fails.
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "did not finish" in proc.stderr and "within 2 s" in proc.stderr, proc.stderr[-2000:]
    with open_frames(str(out / "f_####.png")) as rendered:
        got = [image[..., :3] for _, image in rendered]  # melt numbers its output from 1
    assert len(got) == last + 1
    for t, image in enumerate(got):
        n = FIRST + t
        if t < stuck:
            np.testing.assert_array_equal(image, want[n], err_msg=f"frame {n}")
        elif t == stuck:
            np.testing.assert_array_equal(image, plate[n], err_msg=f"frame {n}")  # failed: the source
        else:  # failed while the engine is stuck (in-process), or rendered by a fresh server
            assert np.array_equal(image, plate[n]) or np.array_equal(image, want[n]), f"frame {n}"


# MLT driven from Python: the render call blocks in C with the GIL held (SWIG releases nothing).
MLT_SCRIPT = """
import sys
import mlt7 as mlt

source, out, settings = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
mlt.Factory().init()
profile = mlt.Profile()
profile.from_producer(mlt.Producer(profile, f"avformat:{source}/f_%04d.png"))
producer = mlt.Producer(profile, f"avformat:{source}/f_%04d.png")
effect = mlt.Filter(profile, "openfx.io.emotionedit.EmotionEdit")
for name, value in settings.items():
    effect.set(name, value)
producer.attach(effect)
consumer = mlt.Consumer(profile, "avformat", f"{out}/f_%04d.png")
for name, value in {"real_time": -1, "vcodec": "png", "pix_fmt": "rgb24", "terminate_on_pause": 1}.items():
    consumer.set(name, value)
consumer.connect(producer)
consumer.run()
"""


def test_mlt_driven_from_python_renders_through_the_engine_server(tmp_path, melt, scene, analysis_file):
    """The deadlock case in a real host: 48 frames on MLT's two render threads while Python holds the GIL
    in Consumer.run(). The node sees the running Python, renders through its server, and every frame
    equals the command line's."""
    binding = os.environ.get("EMOTIONEDIT_MLT_PYTHONPATH")
    if not binding:
        pytest.skip("needs MLT's Python binding: set EMOTIONEDIT_MLT_PYTHONPATH to the folder holding mlt7.py")
    source, plate, want = scene
    out = tmp_path / "mlt-python"
    out.mkdir()
    env = engine_env(OFX_PLUGIN_PATH=str(bundle_path().parent), PYTHONPATH=binding)
    env.pop("EMOTIONEDIT_TRANSPORT", None)  # the node decides
    settings = {"analysisFile": str(analysis_file), **FILTER}
    proc = subprocess.run([sys.executable, "-c", MLT_SCRIPT, str(source), str(out),
                           *(f"{k}={v}" for k, v in settings.items())],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "EmotionEdit: error" not in proc.stderr, proc.stderr[-2000:]
    assert "the engine runs in its server process (this host already runs Python in its process" in proc.stderr, \
        proc.stderr[-2000:]
    check_like_the_command_line(out, plate, want)
