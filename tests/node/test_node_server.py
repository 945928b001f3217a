"""The node through its engine server, in the project's test host: hosts that run their own Python,
a server killed or stuck mid-render, node and server of different versions.

Every test loads the built bundle into tests/node/host and renders real franck frames;
outputs are compared bit for bit with the in-process node and with ``emotionedit render``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from ofxhost import Frame, bundle_path, cli_render, engine_env, run

from emotionedit.io import open_frames

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host

FIRST, COUNT = 672, 48  # franck's talking frames, as analysed by the `talking` fixture
STARTED = re.compile(r"started the engine server \(pid (\d+), socket in (\S+)\)")


def libpython() -> Path:
    """The libpython EmotionEdit's bridge links (from the bundle's settings): a host embedding it runs
    the very Python the node would embed."""
    settings = bundle_path() / "Contents/Resources/EmotionEdit.settings"
    for line in settings.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "libpython" and Path(value.strip()).exists():
            return Path(value.strip())
    pytest.skip(f"{settings} names no libpython to embed in the test host")


def host_python_env(**extra: str) -> dict[str, str]:
    """A host with its own Python's settings, as Nuke and Natron set them: the server must ignore them."""
    return engine_env(PYTHONHOME=sys.base_prefix, PYTHONPATH="/nonexistent/host/site-packages", **extra)


@pytest.fixture(scope="module")
def plate(franck_path):
    with open_frames(str(franck_path), (FIRST, FIRST + COUNT - 1)) as reader:
        return dict(iter(reader))


def servers_started(result) -> list[tuple[int, str]]:
    return [(int(m[1]), m[2]) for m in STARTED.finditer(result.stderr)]


def gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # exited, waiting for its new parent to reap it
            return True
        time.sleep(0.05)
    return False


def test_host_holding_the_gil_renders_through_the_server(tmp_path, franck_path, plate, analysis_file):
    """The deadlock case: the host embeds and initialises Python and keeps its GIL on the main thread
    while two render threads render 48 frames (keyframed intensity, MLT's pattern). The node sees a
    running Python, renders through its server, and every frame equals the in-process render and the
    command line's, bit for bit. The server ends with the host and leaves nothing behind."""
    frames = [Frame(n, plate[n]) for n in plate]
    params = {"analysisFile": analysis_file, "emotion": "Happy", "intensity": f"{FIRST}=0;{FIRST + COUNT - 1}=1"}
    shm_before = set(os.listdir("/dev/shm"))
    started = time.monotonic()
    served = run(tmp_path, frames, params, threads=2, embed_python=str(libpython()), env=host_python_env(),
                 timeout=240)
    elapsed = time.monotonic() - started
    assert served.returncode == 0, served.stderr[-3000:]
    assert f"PYTHON library={libpython()} ran=1 gil_held=1" in served.lines
    in_process = run(tmp_path, frames, params, threads=2, env=engine_env(EMOTIONEDIT_TRANSPORT="in-process"))
    expected = cli_render(tmp_path, str(franck_path), f"{FIRST}-{FIRST + COUNT - 1}", analysis_file, "--emotion",
                          "happy", "--intensity", f"{FIRST}:0,{FIRST + COUNT - 1}:1")
    for n in plate:
        assert served.status(n) == 0, served.text(n)
        assert "already runs Python" in served.engine_note(n), served.text(n)
        assert served.engine_note(n).startswith("Engine: server process"), served.text(n)
        assert in_process.engine_note(n).startswith("Engine: in-process"), in_process.text(n)
        assert served.checks[n]["outside_window_bytes"] == "0" and served.checks[n]["source_intact"] == "1"
        np.testing.assert_array_equal(served.outputs[n], in_process.outputs[n], err_msg=f"frame {n}")
        np.testing.assert_array_equal(served.outputs[n], expected[n], err_msg=f"frame {n}")
    changed = [int((served.outputs[n] != plate[n]).any(axis=2).sum()) for n in plate]
    assert changed[0] == 0 and changed[-1] > changed[COUNT // 2] > 0, changed
    assert served.summary()["live_images"] == "0"
    print(f"48 frames through the server with the host holding the GIL: {elapsed:.1f} s (host run)")
    # One server for the whole host; it ends with the host and removes its private folder.
    (pid, folder), = servers_started(served)
    assert gone(pid), f"the engine server {pid} outlived the host"
    assert not Path(folder).exists(), f"{folder} was left behind"
    assert set(os.listdir("/dev/shm")) <= shm_before, "shared memory was left in /dev/shm"


def test_forced_in_process_in_a_host_running_python_fails_instead_of_hanging(tmp_path, plate, analysis_file):
    env = host_python_env(EMOTIONEDIT_TRANSPORT="in-process")
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, threads=2,
                 embed_python=str(libpython()), env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.status(FIRST) == 1
    text = result.text(FIRST)
    assert "already runs Python" in text and "in-process mode is unavailable in this host" in text, text
    assert "EMOTIONEDIT_TRANSPORT" in text, text


def test_another_python_in_the_host_renders_through_the_server(tmp_path, plate, analysis_file):
    """A host that carries another libpython (Nuke, Natron): the node never loads its own Python in
    there; it says so, and renders through the server. Forced in-process, it refuses with a clear message."""
    other = tmp_path / "other" / "libpython-host.so"
    other.parent.mkdir()
    shutil.copy(libpython(), other)
    frames = [Frame(FIRST, plate[FIRST]), Frame(FIRST + 1, plate[FIRST + 1])]
    params = {"analysisFile": analysis_file, "emotion": "Sad"}
    served = run(tmp_path, frames, params, env=host_python_env(LD_PRELOAD=str(other)), threads=2)
    plain = run(tmp_path, frames, params)
    for frame in frames:
        assert served.status(frame.time) == 0, served.text(frame.time)
        assert "another Python" in served.engine_note(frame.time) and str(other) in served.engine_note(frame.time)
        np.testing.assert_array_equal(served.outputs[frame.time], plain.outputs[frame.time])
    assert f"the engine runs in its server process (this host has already loaded another Python ({other}" \
        in served.stderr
    refused = run(tmp_path, frames[:1], params, env=engine_env(LD_PRELOAD=str(other),
                                                                  EMOTIONEDIT_TRANSPORT="in-process"))
    assert refused.status(FIRST) == 1
    assert "another Python" in refused.text(FIRST) and "in-process mode is unavailable" in refused.text(FIRST)


def _stalling_env(tmp_path: Path, stall_at: float, **extra: str) -> tuple[dict[str, str], Path]:
    marker = tmp_path / "stalled"
    env = engine_env(EMOTIONEDIT_TRANSPORT="server", EMOTIONEDIT_NODE_MODULE="stalling_engine",
                     EMOTIONEDIT_TEST_STALL_AT=str(stall_at), EMOTIONEDIT_TEST_STALL_MARKER=str(marker), **extra)
    return env, marker


def test_server_killed_mid_render(tmp_path, plate, analysis_file):
    """The server is killed (SIGKILL, from outside) while it renders a frame: that frame fails with a
    message saying so, promptly; the next frame starts a fresh server and renders correctly. While it
    runs, the server is private (folder 0700, socket 0600, ours) and free of the host's Python settings."""
    env, marker = _stalling_env(tmp_path, FIRST + 1, PYTHONHOME=sys.base_prefix, PYTHONPATH="/nonexistent/host",
                                LD_LIBRARY_PATH="/nonexistent/host/lib")
    killed, seen = [], {}

    def kill_when_stalled():
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        if marker.exists():
            pid = int(marker.read_text())
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            socket_path = Path(arguments[arguments.index(b"--socket") + 1].decode())
            seen["socket"] = os.stat(socket_path)
            seen["folder"] = os.stat(socket_path.parent)
            seen["environment"] = dict(entry.decode().partition("=")[::2] for entry in
                                       Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if entry)
            os.kill(pid, signal.SIGKILL)
            killed.append((pid, time.monotonic()))

    killer = threading.Thread(target=kill_when_stalled)
    killer.start()
    numbers = [FIRST, FIRST + 1, FIRST + 2]
    params = {"analysisFile": analysis_file, "emotion": "Angry"}
    result = run(tmp_path, [Frame(n, plate[n]) for n in numbers], params, env=env, timeout=120)
    killer.join()
    plain = run(tmp_path, [Frame(n, plate[n]) for n in numbers], params)
    assert result.returncode == 0, result.stderr
    assert killed, "the stalled frame never started"
    pid = killed[0][0]
    assert result.status(FIRST) == 0 and result.status(FIRST + 2) == 0, result.stdout
    assert result.status(FIRST + 1) == 1
    text = result.text(FIRST + 1)
    assert f"the engine server (pid {pid}) was killed by signal 9 (Killed) while rendering the frame at time " \
        f"{FIRST + 1}" in text, text
    assert "the next frame starts a fresh engine server" in text, text
    assert float(result.renders[FIRST + 1][-1]["ms"]) < 20000  # failed when killed, not at a time limit
    for n in (FIRST, FIRST + 2):
        np.testing.assert_array_equal(result.outputs[n], plain.outputs[n], err_msg=f"frame {n}")
    assert result.checks[FIRST + 1]["outside_window_bytes"] == "0"
    pids = [p for p, _ in servers_started(result)]
    assert len(pids) == 2 and pids[0] == pid and pids[1] != pid, pids
    assert f"Engine: server process {pids[1]}" in result.engine_note(FIRST + 2)
    for name, mode in (("folder", 0o700), ("socket", 0o600)):
        assert seen[name].st_uid == os.getuid() and seen[name].st_mode & 0o777 == mode, (name, oct(seen[name].st_mode))
    environment = seen["environment"]
    assert not any(name.startswith("PYTHON") for name in environment), environment
    assert environment["LD_LIBRARY_PATH"] == str(libpython().parent)


def test_stuck_server_is_stopped_at_the_time_limit(tmp_path, plate, analysis_file):
    """A server that stops answering mid-frame: the frame fails at the render time limit (not a hang),
    the server is killed, and the next frame renders through a fresh one."""
    env, marker = _stalling_env(tmp_path, FIRST + 1, EMOTIONEDIT_RENDER_TIMEOUT="2",
                                EMOTIONEDIT_STARTUP_TIMEOUT="60")
    numbers = [FIRST, FIRST + 1, FIRST + 2]
    params = {"analysisFile": analysis_file}
    started = time.monotonic()
    result = run(tmp_path, [Frame(n, plate[n]) for n in numbers], params, env=env, timeout=120)
    elapsed = time.monotonic() - started
    plain = run(tmp_path, [Frame(n, plate[n]) for n in numbers], params)
    assert result.returncode == 0, result.stderr
    assert elapsed < 40, elapsed
    assert result.status(FIRST + 1) == 1
    pid = int(marker.read_text())
    text = result.text(FIRST + 1)
    assert f"the engine server (pid {pid}) did not finish rendering the frame at time {FIRST + 1}" in text, text
    assert "within 2 s, so it was stopped" in text and "EMOTIONEDIT_RENDER_TIMEOUT" in text, text
    assert 1900 < float(result.renders[FIRST + 1][-1]["ms"]) < 10000
    assert gone(pid), "the stuck server was not stopped"
    for n in (FIRST, FIRST + 2):
        assert result.status(n) == 0, result.text(n)
        np.testing.assert_array_equal(result.outputs[n], plain.outputs[n], err_msg=f"frame {n}")


def test_frames_waiting_behind_a_stuck_frame_fail_without_waiting_for_their_own_limit(tmp_path, plate,
                                                                                        analysis_file):
    """Two render threads: while one frame is stuck at the engine, frames queued behind it fail when it is
    stopped, and the host goes on; later frames render through a fresh server."""
    env, _ = _stalling_env(tmp_path, FIRST, EMOTIONEDIT_RENDER_TIMEOUT="3", EMOTIONEDIT_STARTUP_TIMEOUT="3")
    numbers = list(range(FIRST, FIRST + 4))
    started = time.monotonic()
    result = run(tmp_path, [Frame(n, plate[n]) for n in numbers], {"analysisFile": analysis_file}, env=env,
                 threads=2, timeout=120)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 40
    assert result.status(FIRST) == 1 and "did not finish rendering the frame" in result.text(FIRST)
    assert all(result.status(n) in (0, 1) for n in numbers)
    assert any(result.status(n) == 0 for n in numbers[1:]), result.stdout


def test_engine_not_importable_through_the_server(tmp_path, plate, analysis_file):
    env = engine_env(EMOTIONEDIT_TRANSPORT="server", EMOTIONEDIT_NODE_MODULE="emotionedit.no_such_module")
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, env=env)
    assert result.returncode == 0
    assert result.status(FIRST) == 1
    text = result.text(FIRST)
    assert "could not be imported" in text and "No module named 'emotionedit.no_such_module'" in text, text


def test_engine_whose_dependency_is_missing_through_the_server(tmp_path, plate, analysis_file):
    """The engine's environment lacks a package the engine imports (OpenImageIO here): the frame fails at once with
    the import error, as in-process; the server's connection must not need the engine to answer."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "OpenImageIO.py").write_text("raise ImportError('OpenImageIO is not installed here')\n")
    env = engine_env(EMOTIONEDIT_TRANSPORT="server")
    env["EMOTIONEDIT_PYTHONPATH"] = os.pathsep.join([str(blocked), env["EMOTIONEDIT_PYTHONPATH"]])
    started = time.monotonic()
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, env=env, timeout=120)
    assert result.status(FIRST) == 1
    text = result.text(FIRST)
    assert "could not be imported" in text and "OpenImageIO is not installed here" in text, text
    assert time.monotonic() - started < 60


def test_engine_missing_through_the_server(tmp_path, plate, analysis_file):
    env = engine_env(EMOTIONEDIT_TRANSPORT="server", EMOTIONEDIT_PYTHON="/nonexistent/venv/bin/python")
    result = run(tmp_path, [Frame(FIRST, plate[FIRST]), Frame(FIRST + 1, plate[FIRST + 1])],
                 {"analysisFile": analysis_file}, env=env)
    for n in (FIRST, FIRST + 1):
        assert result.status(n) == 1
        assert "engine is missing" in result.text(n) and "EMOTIONEDIT_PYTHON" in result.text(n)


def test_engine_errors_come_back_as_messages(tmp_path, plate, analysis_file):
    """An engine bug and a user error in the server are messages and failed statuses; the server stays up."""
    env = engine_env(EMOTIONEDIT_TRANSPORT="server", EMOTIONEDIT_NODE_MODULE="faulty_engine",
                     EMOTIONEDIT_TEST_FAULT="raise")
    frames = [Frame(n, plate[n]) for n in (FIRST, FIRST + 1)]
    result = run(tmp_path, frames, {"analysisFile": analysis_file}, env=env, threads=2)
    for frame in frames:
        assert result.status(frame.time) == 1
        assert "internal error in the engine: ValueError: simulated engine bug" in result.text(frame.time)
    assert "Traceback" in result.stderr
    assert len(servers_started(result)) == 1
    missing = tmp_path / "nowhere.analysis.npz"
    result = run(tmp_path, frames[:1], {"analysisFile": missing}, env=engine_env(EMOTIONEDIT_TRANSPORT="server"))
    assert result.status(FIRST) == 1 and "does not exist" in result.text(FIRST)


@pytest.mark.parametrize(("mode", "expected"), [
    ("version", "this EmotionEdit node is version {ours} but the engine server in {python} runs EmotionEdit "
                "0.0.0-old"),
    ("lenient", "this EmotionEdit node is version {ours} but the engine server in {python} runs EmotionEdit "
                "0.0.0-old"),
    ("protocol", "the EmotionEdit node speaks engine protocol 1 but the engine server in {python} (EmotionEdit "
                 "{ours}) speaks protocol 99"),
])
def test_node_and_server_of_different_versions_refuse_each_other(tmp_path, plate, analysis_file, mode, expected):
    """``version`` and ``protocol``: the server refuses the node; ``lenient``: a server that does not
    check, so the node refuses it. Either way a clear message, and nothing renders."""
    from emotionedit import __version__

    env = engine_env(EMOTIONEDIT_TRANSPORT="server", EMOTIONEDIT_SERVER_MODULE="old_server",
                     EMOTIONEDIT_TEST_OLD=mode)
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, env=env)
    assert result.status(FIRST) == 1
    text = result.text(FIRST)
    assert expected.format(ours=__version__, python=sys.executable) in text, text
    assert "make ofx" in text
    assert (result.outputs[FIRST] == 0xA5).all()  # nothing was written


def test_cuda_render_through_the_server_without_a_driver_asks_host_for_cpu(tmp_path, plate, analysis_file):
    """A CUDA render through the server needs the host's CUDA driver to share its images; without one the
    node says so with kOfxStatGPURenderFailed, and the host renders on the CPU instead."""
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, cuda=1, cuda_stream=1,
                 env=engine_env(EMOTIONEDIT_TRANSPORT="server"))
    assert result.status(FIRST) == 1002, result.text(FIRST)
    assert "no CUDA driver is loaded in this process" in result.text(FIRST)
    assert (result.outputs[FIRST] == 0xA5).all()


@pytest.mark.parametrize(("line", "note"), [
    ("transport = server", "Engine: server process"),
    ("transport = sideways", "is not one of auto, in-process, server, so it was ignored"),
])
def test_transport_from_the_settings_file(tmp_path, monkeypatch, plate, analysis_file, line, note):
    """The bundle's EmotionEdit.settings can force the transport; a value the node does not know is
    ignored, and the message says so."""
    bundle = tmp_path / "EmotionEdit.ofx.bundle"
    shutil.copytree(bundle_path(), bundle)
    settings = bundle / "Contents/Resources/EmotionEdit.settings"
    settings.write_text(settings.read_text().replace("transport = auto", line))
    monkeypatch.setenv("EMOTIONEDIT_BUNDLE", str(bundle))
    env = engine_env()
    env.pop("EMOTIONEDIT_TRANSPORT", None)
    result = run(tmp_path, [Frame(FIRST, plate[FIRST])], {"analysisFile": analysis_file}, env=env)
    assert result.status(FIRST) == 0, result.text(FIRST)
    assert note in result.engine_note(FIRST), result.text(FIRST)
