"""`emotionedit job` (issue 11): jobs for Open Job Description (run locally end to end on the real clip), OpenCue
(compared with OpenCue's own pyoutline) and Deadline 10 (the submission files parsed)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from emotionedit.cli import _add_edit_options, main
from emotionedit.farm.deadline import parse
from emotionedit.io import open_frames, parse_frames

FRAMES = "700-719"  # 20 frames of franck talking: the end-to-end run stays short
BIN = Path(sys.executable).parent


def _job(franck_path, tmp_path, fmt, output, *extra, frames=FRAMES, chunk="7"):
    return ["job", "--format", fmt, str(franck_path), "--analysis", str(tmp_path / "shot.analysis.npz"),
            "-o", str(output), "--render-output", str(tmp_path / "render" / "edit.####.png"), "--frames", frames,
            "--chunk", chunk, "--emotion", "sad", "--intensity", "0.8", *extra]


@pytest.mark.slow
def test_openjd_template_passes_openjd_check_and_runs_end_to_end(franck_path, tmp_path, capsys):
    openjd = shutil.which("openjd", path=str(BIN)) or pytest.skip("openjd (the farm extra) is not installed")
    template = tmp_path / "job.yaml"
    assert main(_job(franck_path, tmp_path, "openjd", template, "--verify", "--executable",
                     str(BIN / "emotionedit"))) == 0
    assert "render 20 frames (700-719) in 3 tasks of up to 7, then verify" in capsys.readouterr().out
    check = subprocess.run([openjd, "check", str(template)], capture_output=True, text=True, check=False)
    assert check.returncode == 0 and "passes validation" in check.stdout, check.stdout + check.stderr
    # Every step, locally, as a worker would run them: Analyze, then Render in chunks, then Verify.
    run = subprocess.run([openjd, "run", str(template), "--step", "Verify", "--run-dependencies"],
                         capture_output=True, text=True, check=False, cwd=tmp_path, timeout=900)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    for chunk in ("700-706", "707-713", "714-719"):  # the tasks the scheduler made, each rendered
        assert f"Frames(CHUNK[INT]) = {chunk}" in log, chunk
    assert log.count("wrote 7 frames to") == 2 and log.count("wrote 6 frames to") == 1
    assert "complete: every frame is present, whole and of the shot" in log
    # The farm's frames are the frames one plain render gives.
    direct = tmp_path / "direct" / "edit.####.png"
    assert main(["render", str(franck_path), "--analysis", str(tmp_path / "shot.analysis.npz"), "--frames", FRAMES,
                 "--emotion", "sad", "--intensity", "0.8", "-o", str(direct)]) == 0
    with open_frames(tmp_path / "render" / "edit.####.png") as farm, open_frames(direct) as one:
        assert farm.frame_numbers == list(range(700, 720))
        for (_, a), (_, b) in zip(farm, one, strict=True):
            assert np.array_equal(a, b)


def test_openjd_chunks_of_a_stepped_range_are_the_frames_render_reads(franck_path, tmp_path):
    pytest.importorskip("openjd.model", reason="openjd-model comes with the farm extra (make setup)")
    import yaml
    from openjd.model import StepParameterSpaceIterator, create_job, decode_job_template

    template = tmp_path / "job.yaml"
    assert main(_job(franck_path, tmp_path, "openjd", template, frames="700-739x3,745", chunk="4")) == 0
    document = yaml.safe_load(template.read_text())
    job = create_job(job_template=decode_job_template(template=document, supported_extensions=["TASK_CHUNKING"]),
                     job_parameter_values={})
    render = next(step for step in job.steps if step.name == "Render")
    chunks = [task["Frames"].value for task in StepParameterSpaceIterator(space=render.parameterSpace,
                                                                          chunks_task_count_override=4)]
    frames = [n for chunk in chunks for n in parse_frames(chunk).numbers()]
    assert frames == parse_frames("700-739x3,745").numbers()
    assert all(len(parse_frames(chunk).numbers()) <= 4 for chunk in chunks)


def _outline_spec(job_name, layers, show, shot, user, home):
    """The same job built with OpenCue's pyoutline and serialised by it (its gRPC client stubbed: never used)."""
    pytest.importorskip("FileSequence", reason="opencue-pycue is installed by `make setup` (--no-deps)")
    sys.modules.setdefault("opencue", types.ModuleType("opencue"))
    try:
        import outline
        import outline.cuerun
        import outline.depend
        import outline.modules.shell
    except ImportError as exc:
        pytest.skip(f"opencue-pyoutline is installed by `make setup` (--no-deps): {exc}")
    outline.config.set("outline", "session_dir", str(home / "sessions"))
    ol = outline.Outline(job_name, shot=shot, show=show, user=user)
    made = {}
    for name, command, frames, chunk, after in layers:
        layer = outline.modules.shell.Shell(name, command=command, range=frames, chunk=chunk)
        if after:
            layer.depend_on(made[after], outline.depend.DependType.LayerOnLayer)
        ol.add_layer(layer)
        made[name] = layer
    return outline.cuerun.OutlineLauncher(ol, user=user).serialize(use_pycuerun=False)


def _tree(text: str) -> list:
    """An XML document as nested (tag, attributes, text, children), whitespace and email/uid aside."""
    def walk(element):
        return (element.tag, dict(element.attrib), (element.text or "").strip(),
                [walk(child) for child in element if child.tag not in ("email", "uid")])
    return walk(ElementTree.fromstring(text.split("?>", 1)[1].split(">", 1)[1] if "<!DOCTYPE" in text else text))


def test_opencue_spec_is_what_pyoutline_serialises(franck_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    spec = tmp_path / "job.xml"
    assert main(_job(franck_path, tmp_path, "opencue", spec, "--verify", "--show", "ee", "--shot", "ee_0010",
                     "--name", "ee_0010_sad", frames="700-739x3")) == 0
    ours = spec.read_text()
    assert '<!DOCTYPE spec PUBLIC "SPI Cue  Specification Language"' in ours and "cjsl-1.15.dtd" in ours
    root = ElementTree.fromstring(ours.split("\n", 2)[2])
    layers = {layer.get("name"): layer for layer in root.iter("layer")}
    render = layers["render"]
    assert render.findtext("range") == "700-739x3" and render.findtext("chunk") == "7"
    assert "--frames '#FRAMESPEC#' --resume" in render.findtext("cmd")
    user = root.findtext("user")
    built = _outline_spec("ee_0010_sad", [
        (name, layers[name].findtext("cmd"), layers[name].findtext("range"), int(layers[name].findtext("chunk")),
         after) for name, after in (("analyze", None), ("render", "analyze"), ("verify", "render"))
    ], "ee", "ee_0010", user, tmp_path)
    theirs = _tree(built)
    mine = _tree(ours)
    # pyoutline's job has no environment; ours records the job file's version there (the DTD's env* allows it).
    job = next(child for child in mine[3] if child[0] == "job")
    env = next(child for child in job[3] if child[0] == "env")
    assert env[3] == [("key", {"name": "EMOTIONEDIT_JOB_VERSION"}, "1", [])]
    env[3].clear()
    assert mine == theirs


def test_opencue_and_deadline_read_the_frame_range_as_render_does():
    file_sequence = pytest.importorskip("FileSequence", reason="opencue-pycue is installed by `make setup`")
    for text in ("1001-1100", "1001-1100x2", "1001,1005,1010-1020", "1-9x4,12"):
        assert list(file_sequence.FrameSet(text).getAll()) == parse_frames(text).numbers()


def test_deadline_files_hold_every_key_the_commandline_plugin_needs(franck_path, tmp_path):
    folder = tmp_path / "job.deadline"
    assert main(_job(franck_path, tmp_path, "deadline", folder, "--verify", frames="700-739x2")) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["1_analyze.job", "1_analyze.plugin", "2_render.job", "2_render.plugin", "3_verify.job",
                     "3_verify.plugin", "submit.sh"]
    for stem in ("1_analyze", "2_render", "3_verify"):
        info, plugin = parse(folder / f"{stem}.job"), parse(folder / f"{stem}.plugin")
        assert info["Plugin"] == "CommandLine" and info["BatchName"] == info["Name"].split()[0]
        assert int(info["ChunkSize"]) >= 1 and parse_frames(info["Frames"])
        assert plugin["Executable"] == "emotionedit" and plugin["Arguments"]
    render, plugin = parse(folder / "2_render.job"), parse(folder / "2_render.plugin")
    assert parse_frames(render["Frames"]).numbers() == list(range(700, 740, 2)) and render["ChunkSize"] == "7"
    assert "--frames <STARTFRAME>-<ENDFRAME>x2 --resume" in plugin["Arguments"]
    # Every option of the edit reaches the tasks, spelt out (an option added to `render` included).
    probe = argparse.ArgumentParser(add_help=False)
    _add_edit_options(probe)
    for action in probe._actions:
        if action.default is not None:
            assert f" {action.option_strings[-1]} " in plugin["Arguments"], action.option_strings
    assert " --emotion sad --intensity 0.8 " in plugin["Arguments"]
    # A task's first and last frames with the step are its frames: 700-712x2 is 700, 702, ... 712.
    assert parse_frames("700-712x2").numbers() == list(range(700, 714, 2))
    assert "--analysis" in parse(folder / "3_verify.plugin")["Arguments"]
    script = (folder / "submit.sh").read_text()
    assert "-SubmitMultipleJobs -dependent -job 1_analyze.job 1_analyze.plugin -job 2_render.job" in script
    assert os.access(folder / "submit.sh", os.X_OK)


def test_deadline_sends_a_list_of_several_parts_one_frame_a_task(franck_path, tmp_path):
    folder = tmp_path / "job.deadline"
    assert main(_job(franck_path, tmp_path, "deadline", folder, frames="700,705,710-712")) == 0
    render, plugin = parse(folder / "2_render.job"), parse(folder / "2_render.plugin")
    assert render["Frames"] == "700,705,710-712" and render["ChunkSize"] == "1"
    assert "--frames <STARTFRAME> --resume" in plugin["Arguments"]
    assert "--device" not in plugin["Arguments"]  # the CPU, as render's default
    # GPU render nodes: the tasks ask for the GPU (checked there, not on the machine that writes the job).
    gpu = tmp_path / "gpu.deadline"
    assert main(_job(franck_path, tmp_path, "deadline", gpu, "--device", "cuda", frames="700,705")) == 0
    assert " --device cuda" in parse(gpu / "2_render.plugin")["Arguments"]
    assert "--device" not in parse(gpu / "1_analyze.plugin")["Arguments"]


def test_job_refusals_come_before_anything_is_written(franck_path, tmp_path, capsys):
    template = tmp_path / "job.yaml"
    assert main(_job(franck_path, tmp_path, "openjd", template, frames="700-760,9000")) == 2
    assert "frame 9000 was asked for" in capsys.readouterr().err
    movie = ["--render-output", str(tmp_path / "edit.mkv")]
    assert main(_job(franck_path, tmp_path, "openjd", template, *movie)) == 2
    assert "--chunk 20" in capsys.readouterr().err
    assert main(_job(franck_path, tmp_path, "openjd", template, "--emotion", "bored")) == 2
    assert not template.exists()
    (tmp_path / "render").mkdir()
    (tmp_path / "render" / "edit.0705.png").write_bytes(b"x")
    assert main(_job(franck_path, tmp_path, "openjd", template)) == 2
    assert "--keep-existing" in capsys.readouterr().err
    assert main(_job(franck_path, tmp_path, "openjd", template, "--keep-existing")) == 0
    assert main(_job(franck_path, tmp_path, "openjd", template, "--keep-existing")) == 2  # the job file exists
    assert "--overwrite" in capsys.readouterr().err
    (tmp_path / "shot.analysis.npz").write_bytes(b"an analysis")
    assert main(_job(franck_path, tmp_path, "opencue", tmp_path / "job.xml", "--keep-existing")) == 2
    assert "shot.analysis.npz" in capsys.readouterr().err
