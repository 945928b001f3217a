"""The processes EmotionEdit owns (the command, the engine server) run numpy's OpenBLAS on one thread: its
spinning threads cost a render a core (docs/results.md, Scale). A user's own setting wins, and a host that
imports the engine keeps its own environment; the node in a host's process sets numpy's own OpenBLAS at run
time."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from emotionedit.process import BLAS_THREAD_VARIABLES, command

PROBE = """
import ctypes
{setup}
import numpy
# numpy's own copy (OpenCV loads another)
path = next(line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() and "numpy" in line)
lib = ctypes.CDLL(path)
names = ("openblas_get_num_threads64_", "openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
         "scipy_openblas_get_num_threads")
get = next(getattr(lib, name) for name in names if hasattr(lib, name))
print(get())
"""


def blas_threads(setup: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], env=environment,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


# OpenBLAS counts the cores this process may run on (a container or taskset may pin it to fewer than exist).
needs_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="OpenBLAS uses one thread on one core")


@needs_cores
def test_own_process_keeps_blas_to_one_thread():
    assert blas_threads("") > 1  # what numpy does by itself: the probe can tell
    assert blas_threads("from emotionedit.process import own_process; own_process()") == 1


@needs_cores
@pytest.mark.parametrize("variable", BLAS_THREAD_VARIABLES)
def test_users_thread_count_wins(variable):
    assert blas_threads("from emotionedit.process import own_process; own_process()", **{variable: "2"}) == 2


def test_the_command_sets_up_its_process_before_the_command_line_loads(monkeypatch):
    import emotionedit.cli

    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen = []
    monkeypatch.setattr(emotionedit.cli, "main", lambda: seen.append(os.environ.get("OPENBLAS_NUM_THREADS")) or 0)
    assert command() == 0
    assert seen == ["1"]


def test_entry_points_set_up_before_numpy_loads():
    # The console script is process.command, and neither it nor the server's entry loads numpy on import
    # (OpenBLAS reads its thread count once, when numpy loads).
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "emotionedit"]
    assert script.value == "emotionedit.process:command"
    code = "import sys, emotionedit.process, emotionedit.server.__main__; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False"


@needs_cores
def test_the_node_in_a_hosts_process_runs_numpys_blas_on_one_thread():
    """In-process, the host's environment is left alone and numpy is already loaded: the node sets numpy's own
    OpenBLAS to one thread at run time (a host's busy threads made two BLAS threads' plans 2-4x slower)."""
    assert blas_threads("import numpy") > 1
    assert blas_threads("import numpy, emotionedit.node") == 1
    assert blas_threads("import numpy, emotionedit.node", OPENBLAS_NUM_THREADS="2") == 2  # the user's count wins


def test_only_numpys_own_blas_is_touched():
    import cv2  # noqa: F401  (OpenCV's wheel loads an OpenBLAS of its own)
    import numpy  # noqa: F401

    from emotionedit.process import numpy_openblas

    with open("/proc/self/maps") as maps:
        loaded = {line.split(maxsplit=5)[-1].strip() for line in maps if "openblas" in line.lower()}
    assert any("opencv" in path for path in loaded), "the test needs OpenCV's copy loaded beside numpy's"
    paths = numpy_openblas()
    assert paths and all("numpy" in p and "opencv" not in p for p in paths)


def test_importing_the_engine_leaves_the_host_alone():
    code = "import os, emotionedit.engine, emotionedit.node; print(os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))"
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "unset"


def test_the_engine_server_sets_up_its_process_before_it_serves(monkeypatch, tmp_path):
    """python -m emotionedit.server (what the node starts) runs own_process before the server loads."""
    import socket

    import emotionedit.server.__main__ as server_main
    import emotionedit.server.server

    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen = []

    class Recorder:
        def __init__(self, listener, lifeline_fd, module, path):
            seen.append((os.environ.get("OPENBLAS_NUM_THREADS"), module))
            listener.close()  # the server owns it

        def serve_forever(self):
            pass

    monkeypatch.setattr(emotionedit.server.server, "Server", Recorder)
    monkeypatch.setattr(server_main, "close_inherited_files", lambda keep: None)  # pytest's own files stay open
    monkeypatch.setattr(server_main.signal, "signal", lambda *args: None)  # and its Ctrl-C
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "s.sock"))
    listener.listen()
    read_end, write_end = os.pipe()
    try:
        assert server_main.main(["--listen-fd", str(listener.detach()), "--lifeline-fd", str(read_end)]) == 0
    finally:
        os.close(read_end)
        os.close(write_end)
    assert seen == [("1", "emotionedit.node")]
