"""The node in a real host: MLT's melt (>= 7.38 has an OpenFX module; Shotcut uses it).

Runs only where EMOTIONEDIT_MELT names a melt binary (built outside this repository;
see docs/ofx-node.md). Renders 48 frames of franck talking with Intensity keyframed
0 -> 1 through the node and compares every frame with the command line's render of
the same pixels.

The plate is a PNG sequence and the output is written as RGB PNGs (``pix_fmt=rgb24``),
so MLT converts nothing on either side of the node: from an .mp4, MLT's decoder gives
slightly different pixels from run to run when frames render on several threads, and
without ``pix_fmt=rgb24`` MLT takes each frame through YUV after the node.
"""

from __future__ import annotations

import os
import re
import subprocess

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


def test_melt_renders_keyframed_intensity_like_the_command_line(tmp_path, melt, franck_path, analysis_file):
    source = tmp_path / "source"
    source.mkdir()
    with open_frames(str(franck_path), (FIRST, FIRST + COUNT - 1)) as reader:
        plate = dict(iter(reader))
    for n, image in plate.items():
        write_png(source / f"f_{n - FIRST:04d}.png", image)  # melt counts the clip from 0
        (source / f"plate.{n:04d}.png").symlink_to(source / f"f_{n - FIRST:04d}.png")  # the plate's numbers

    out = tmp_path / "melt"
    out.mkdir()
    env = engine_env(OFX_PLUGIN_PATH=str(bundle_path().parent))
    command = [melt, f"avformat:{source}/f_%04d.png", "-filter", SERVICE, f"analysisFile={analysis_file}",
               "emotion=Happy", f"intensity=0=0;{COUNT - 1}=1", f"frameOffset={FIRST}",
               "-consumer", f"avformat:{out}/f_%04d.png", "real_time=-2", "vcodec=png", "pix_fmt=rgb24"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "EmotionEdit: error" not in proc.stderr, proc.stderr[-2000:]

    cli = tmp_path / "cli" / "f.####.png"
    assert cli_main(["render", str(source / "plate.####.png"), "--analysis", str(analysis_file), "-o", str(cli),
                     "--emotion", "happy", "--intensity", f"{FIRST}:0,{FIRST + COUNT - 1}:1"]) == 0
    with open_frames(str(out / "f_####.png")) as rendered, open_frames(str(cli)) as expected:
        got = [image for _, image in rendered]  # melt numbers its output from 1
        want = dict(iter(expected))
    assert len(got) == COUNT
    changed = []
    for i, image in enumerate(got):
        n = FIRST + i
        np.testing.assert_array_equal(image[..., :3], want[n], err_msg=f"frame {n}")
        changed.append(int((image[..., :3] != plate[n]).any(axis=2).sum()))
    assert changed[0] == 0 and changed[-1] > changed[COUNT // 2] > 0, changed
