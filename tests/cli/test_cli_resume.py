"""Farm reliability of `render` (issue 11): --resume, SIGTERM, kill -9, chunks over processes, two renders
into one output, a damaged plate frame found mid-render. Every render is of the real plate (franck talking)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emotionedit.cli import main
from emotionedit.io import open_frames
from emotionedit.io.images import read_image

RANGE = "700-739"
NUMBERS = list(range(700, 740))


def _frames(folder: Path, stem: str = "out") -> list[int]:
    return sorted(int(p.name.split(".")[1]) for p in folder.glob(f"{stem}.*.png"))


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _pixels(path: Path) -> np.ndarray:
    return read_image(path)[0]


def _same_as(reference: Path, folder: Path, numbers, stem: str = "out") -> None:
    for n in numbers:
        assert np.array_equal(_pixels(folder / f"{stem}.{n:04d}.png"), _pixels(reference / f"ref.{n:04d}.png")), n


def _render_args(shot, out, *extra, frames=RANGE, emotion="happy"):
    return ["render", str(shot.plate), "--analysis", str(shot.analysis), "--frames", frames, "--emotion", emotion,
            "-o", str(out), *extra]


def _start(argv) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "emotionedit", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_until(done, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"the render ended (exit {process.returncode}) before the test could stop it: {err[-2000:]}")
        assert time.monotonic() < deadline, "the render did not get going in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def reference(small_shot, tmp_path_factory) -> Path:
    """The whole plate rendered to happy in one run, as ref.####.png."""
    folder = tmp_path_factory.mktemp("reference")
    assert main(_render_args(small_shot, folder / "ref.####.png")) == 0
    return folder


def test_resume_keeps_whole_frames_rerenders_damaged_ones_and_a_complete_output_is_left_as_it_is(
        small_shot, reference, tmp_path, capsys):
    out = tmp_path / "out.####.png"
    assert main(_render_args(small_shot, out, frames="700-719")) == 0
    (tmp_path / "out.0705.png").write_bytes((tmp_path / "out.0705.png").read_bytes()[:5000])  # cut short
    (tmp_path / "out.0712.png").write_bytes((reference / "ref.0712.png").read_bytes()[:-12])  # no closing chunk
    kept = {n: (tmp_path / f"out.{n:04d}.png").stat().st_mtime_ns for n in range(700, 720) if n not in (705, 712)}
    capsys.readouterr()
    assert main(_render_args(small_shot, out, "--resume")) == 0
    err = capsys.readouterr().err
    assert "18 of 40 frames" in err and "frame 705" in err and "frame 712" in err
    assert _frames(tmp_path) == NUMBERS and not _hidden(tmp_path)
    _same_as(reference, tmp_path, NUMBERS)
    for n, mtime in kept.items():  # frames already whole were not rewritten
        assert (tmp_path / f"out.{n:04d}.png").stat().st_mtime_ns == mtime
    # Over a complete output, --resume (or its alias) changes nothing: same bytes, same time stamps.
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert main(_render_args(small_shot, out, "--skip-existing")) == 0
    assert "nothing to render" in capsys.readouterr().out
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before


def test_resume_refuses_overwrite_and_a_render_without_an_analysis(small_shot, tmp_path, capsys):
    out = tmp_path / "out.####.png"
    assert main(_render_args(small_shot, out, "--resume", "--overwrite")) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["render", str(small_shot.plate), "--frames", "700-701", "--resume", "-o", str(out)]) == 2
    assert "--resume needs --analysis" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_resume_of_a_movie_renders_it_again_unless_it_holds_every_frame(small_shot, tmp_path, capsys):
    movie = tmp_path / "edit.mkv"
    movie.write_bytes(b"not a movie")  # what a lost machine could leave under the name
    args = _render_args(small_shot, movie, "--resume", frames="700-703")
    assert main(args) == 0
    assert "was not whole" in capsys.readouterr().err
    before = (movie.read_bytes(), movie.stat().st_mtime_ns)
    assert main(args) == 0
    assert "nothing to render" in capsys.readouterr().out
    assert (movie.read_bytes(), movie.stat().st_mtime_ns) == before


def test_resume_removes_temporaries_of_killed_runs_only(small_shot, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    names = {
        "killed here": f".out.0701.png.{dead.pid}-0a1b2c3d@{host}.tmp.png",
        "running here": f".out.0702.png.{os.getpid()}-0a1b2c3d@{host}.tmp.png",
        "another machine, recent": f".out.0703.png.{dead.pid}-0a1b2c3d@render-node-7.tmp.png",
        "another machine, old": f".out.0704.png.{dead.pid}-0a1b2c3d@render-node-7.tmp.png",
        "older EmotionEdit, old": f".out.0706.png.{dead.pid}-0a1b2c3d.tmp.png",
        "another output's": f".other.0701.png.{dead.pid}-0a1b2c3d@{host}.tmp.png",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    for key in ("another machine, old", "older EmotionEdit, old"):
        os.utime(tmp_path / names[key], (two_hours_ago, two_hours_ago))
    assert main(_render_args(small_shot, tmp_path / "out.####.png", "--resume", frames="700-701")) == 0
    assert _hidden(tmp_path) == sorted(names[k] for k in ("running here", "another machine, recent",
                                                          "another output's"))


def test_sigterm_stops_like_ctrl_c_with_exit_143_and_resume_completes_bit_identical(small_shot, reference, tmp_path):
    out = tmp_path / "out.####.png"
    render = _start(_render_args(small_shot, out))
    _wait_until(lambda: len(_frames(tmp_path)) >= 3, render)
    render.send_signal(signal.SIGTERM)
    _, err = render.communicate(timeout=120)
    assert render.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    assert not _hidden(tmp_path), "a temporary was left"
    written = _frames(tmp_path)
    assert 3 <= len(written) < len(NUMBERS)
    _same_as(reference, tmp_path, written)  # every frame under its name is whole and right
    assert main(_render_args(small_shot, out, "--resume")) == 0
    _same_as(reference, tmp_path, NUMBERS)


def test_sigterm_while_writing_a_movie_leaves_no_movie_and_no_temporary(small_shot, tmp_path):
    render = _start(_render_args(small_shot, tmp_path / "edit.mkv"))
    _wait_until(lambda: any(p.name.startswith(".edit.mkv.") for p in tmp_path.iterdir()), render)
    time.sleep(0.5)
    render.send_signal(signal.SIGTERM)
    _, err = render.communicate(timeout=120)
    assert render.returncode == 143, err
    assert list(tmp_path.iterdir()) == []


def test_killed_render_resumed_and_chunks_over_two_processes_match_one_run(small_shot, reference, tmp_path):
    killed = tmp_path / "killed"
    render = _start(_render_args(small_shot, killed / "out.####.png"))
    _wait_until(lambda: killed.is_dir() and len(_frames(killed)) >= 5, render)
    render.kill()
    render.communicate()
    # What a kill -9 in the middle of a write leaves: a temporary of a process that is gone.
    litter = killed / f".out.0739.png.{render.pid}-0a1b2c3d@{socket.gethostname()}.tmp.png"
    litter.write_bytes(b"\x89PNG partial")
    assert main(_render_args(small_shot, killed / "out.####.png", "--resume")) == 0
    assert _frames(killed) == NUMBERS and not _hidden(killed)
    _same_as(reference, killed, NUMBERS)

    # Chunks of 7 frames in shuffled order, shared by two processes writing into one output.
    chunks = [f"{first}-{min(first + 6, 739)}" for first in range(700, 740, 7)]
    random.Random(11).shuffle(chunks)
    chunked = tmp_path / "chunked"
    template = _render_args(small_shot, chunked / "out.####.png", frames="@")
    script = ("import json, sys\nfrom emotionedit.cli import main\n"
              "template = json.loads(sys.argv[1])\n"
              "for chunk in sys.argv[2].split(';'):\n"
              "    assert main([chunk if a == '@' else a for a in template]) == 0\n")
    workers = [subprocess.Popen([sys.executable, "-c", script, json.dumps(template), ";".join(chunks[i::2])],
                                stderr=subprocess.PIPE, text=True) for i in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]
    assert _frames(chunked) == NUMBERS
    _same_as(reference, chunked, NUMBERS)


def test_two_renders_into_one_output_one_fails_and_the_others_frames_stay(small_shot, reference, tmp_path):
    sad = tmp_path / "sad"
    assert main(_render_args(small_shot, sad / "ref.####.png", frames="700-719", emotion="sad")) == 0
    out = tmp_path / "out" / "out.####.png"
    renders = {emotion: _start(_render_args(small_shot, out, frames="700-719", emotion=emotion))
               for emotion in ("happy", "sad")}
    results = {emotion: (r.communicate(timeout=300)[1], r.returncode) for emotion, r in renders.items()}
    results = {emotion: (code, err) for emotion, (err, code) in results.items()}
    codes = sorted(code for code, _ in results.values())
    assert codes == [0, 2], results
    winner = next(emotion for emotion, (code, _) in results.items() if code == 0)
    loser_err = next(err for code, err in results.values() if code == 2)
    assert "appeared while this command was writing it" in loser_err or "already exist" in loser_err, loser_err
    assert "Traceback" not in loser_err
    assert _frames(out.parent) == list(range(700, 720)) and not _hidden(out.parent)
    _same_as(reference if winner == "happy" else sad, out.parent, range(700, 720))


def test_a_plate_frame_with_damaged_pixels_says_which_frames_are_whole_and_how_to_resume(
        small_shot, reference, tmp_path, capsys):
    plate = tmp_path / "plate"
    plate.mkdir()
    for n in range(700, 720):
        (plate / f"c.{n:04d}.png").write_bytes((small_shot.root / f"plate.{n:04d}.png").read_bytes())
    damaged = plate / "c.0710.png"
    good = damaged.read_bytes()
    data = bytearray(good)
    for i in range(len(data) // 2, len(data) // 2 + 64):  # the header stays intact: only decoding finds it
        data[i] ^= 0x5A
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out" / "out.####.png"
    args = ["render", str(plate / "c.####.png"), "--analysis", str(small_shot.analysis), "-o", str(out)]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "c.0710.png" in err and "700-709 (10 frames) of" in err and "written whole and verified" in err, err
    assert "--resume" in err
    assert _frames(out.parent) == list(range(700, 710)) and not _hidden(out.parent)
    damaged.write_bytes(good)  # the frame is copied again
    assert main([*args, "--resume"]) == 0
    _same_as(reference, out.parent, range(700, 720))


@pytest.mark.parametrize("name", ["out.####.png", "edit.mkv"])
def test_a_render_that_loses_the_race_for_its_output_exits_2_and_replaces_nothing(
        small_shot, tmp_path, monkeypatch, capsys, name):
    """Both renders pass the output guard before either writes (the race of defect 3, made certain): the other
    render runs start to end while this one renders its first frame."""
    import emotionedit.cli as cli

    out = tmp_path / name
    first = _render_args(small_shot, out, frames="700-705", emotion="happy")
    second = _render_args(small_shot, out, frames="700-705", emotion="sad")
    real_open_writer, codes = cli.open_writer, []

    def racing_open_writer(*args, **kwargs):
        writer = real_open_writer(*args, **kwargs)
        real_write = writer.write

        def write(number, pixels):
            if not codes:
                codes.append(None)
                codes[0] = main(first)  # the other render, start to end, meanwhile
            real_write(number, pixels)

        writer.write = write
        return writer

    monkeypatch.setattr(cli, "open_writer", racing_open_writer)
    capsys.readouterr()
    code = main(second)
    err = capsys.readouterr().err
    assert codes == [0] and code == 2, err
    assert "appeared while this command was writing it" in err and "Traceback" not in err
    monkeypatch.setattr(cli, "open_writer", real_open_writer)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert not [f for f in files if f.startswith(".")]
    kept = {f: (tmp_path / f).read_bytes() for f in files}
    again = tmp_path / "again"
    assert main(_render_args(small_shot, again / name, frames="700-705", emotion="happy")) == 0
    if name.endswith(".mkv"):  # the container differs run to run (its UID), the frames do not
        assert sorted(kept) == [name]
        with open_frames(tmp_path / name) as kept_movie, open_frames(again / name) as happy:
            assert len(kept_movie) == len(happy) == 6
            for (_, got), (_, want) in zip(kept_movie, happy, strict=True):
                assert np.array_equal(got, want)
    else:
        assert sorted(kept) == [f"out.{n:04d}.png" for n in range(700, 706)]
        for f in kept:
            assert np.array_equal(read_image(tmp_path / f)[0], read_image(again / f)[0])
