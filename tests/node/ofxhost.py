"""Drive the project's own OFX test host (tests/node/host) from pytest.

The host is a small C++ program, compiled here on first use (g++, a few seconds),
that loads the built bundle the way real hosts do and replays a scene: frames of
raw pixels through the real action sequence. :func:`run` writes the scene and its
frames, runs the host and parses what it reports.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
HOST_DIR = REPO / "tests/node/host"
HOST_SOURCES = sorted(HOST_DIR.glob("*.cpp")) + sorted(HOST_DIR.glob("*.h")) + sorted((REPO / "cpp/ofx").glob("*.h"))
DEPTHS = {"byte": np.uint8, "short": np.uint16, "half": np.float16, "float": np.float32}


def bundle_path() -> Path:
    """The bundle under test: $EMOTIONEDIT_BUNDLE, or plugin/ where the build publishes it."""
    return Path(os.environ.get("EMOTIONEDIT_BUNDLE", REPO / "plugin/EmotionEdit.ofx.bundle"))


def build_host() -> Path:
    """Compile the test host (once per source version) and return its path."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in HOST_SOURCES)).hexdigest()[:12]
    out = REPO / "build/node-test-host" / f"ofx_test_host-{digest}"
    if out.exists():
        return out
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError("no C++ compiler (g++) to build the OFX test host")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    units = [str(p) for p in HOST_SOURCES if p.suffix == ".cpp"]
    subprocess.run([compiler, "-std=c++17", "-O1", "-pthread", f"-I{REPO / 'cpp/ofx'}", *units,
                    "-o", str(partial), "-ldl"], check=True)
    partial.replace(out)
    return out


def engine_env(**extra: str) -> dict[str, str]:
    """Environment for a host run: the interpreter running the tests is the engine's
    (it has emotionedit importable), and the checkout's engine comes first."""
    env = dict(os.environ)
    env["EMOTIONEDIT_PYTHON"] = sys.executable
    env["EMOTIONEDIT_PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), str(REPO / "tests/node/engines")])
    env.setdefault("GLOG_minloglevel", "2")
    env.update(extra)
    return env


@dataclass
class Frame:
    time: float
    image: np.ndarray  # (H, W, C) top row first, the scene's dtype
    window: tuple[int, int, int, int] | None = None  # OFX x1, y1, x2, y2 (y up)


@dataclass
class Pause:
    """Between frames: the render thread that takes it sleeps ``seconds`` (give ``threads=1`` for an order)."""

    seconds: float


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    renders: dict[float, list[dict]] = field(default_factory=dict)
    messages: dict[float, list[dict]] = field(default_factory=dict)
    checks: dict[float, dict] = field(default_factory=dict)
    standing: dict[float, str] = field(default_factory=dict)  # the persistent message after the frame
    late: dict[float, dict] = field(default_factory=dict)  # late_check: bytes changed after the frame returned
    locale: dict[str, dict] = field(default_factory=dict)  # locale=...: "before" and "after" the run
    outputs: dict[float, np.ndarray] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def status(self, time: float) -> int:
        return int(self.renders[time][-1]["status"])

    def text(self, time: float) -> str:
        return "\n".join(m["text"] for m in self.messages.get(time, []))

    def engine_note(self, time: float) -> str:
        """The line that says where the engine ran ("Engine: ..."), from the frame's last message."""
        last = self.messages[time][-1]["text"]
        return next(line for line in last.splitlines() if line.startswith("Engine: "))

    def summary(self) -> dict:
        line = next(x for x in self.lines if x.startswith("SUMMARY"))
        return dict(kv.split("=", 1) for kv in line.split()[1:])


def _fields(line: str) -> dict:
    head, _, text = line.partition(" text=")
    out = dict(kv.split("=", 1) for kv in head.split()[1:] if "=" in kv)
    if text:
        out["text"] = text.replace("|", "\n")
    return out


def run(tmp_path: Path, frames: list[Frame | Pause], params: dict[str, object], *, depth: str = "byte",
        rows: str = "negative", padding: int = 0, threads: int = 1, instances: str = "per-frame",
        reload: int = 0, identity: bool = False, cuda: int = 0, cuda_stream: int = 0, repeat: int = 1,
        env: dict[str, str] | None = None, timeout: float = 300, write_outputs: bool = True,
        embed_python: str | None = None, premultiplication: str | None = None, render_window: bool = True,
        late_check: bool = False, locale: str | None = None) -> Result:
    """Render ``frames`` through the bundle with ``params`` ({script name: value}) and return what happened.

    embed_python: a libpython the host loads and initialises first, keeping its GIL on the main
    thread while frames render (the deadlock case: a host running Python).
    premultiplication: the images' ("premultiplied", "unpremultiplied" or "opaque"; default by components).
    render_window: False renders without the render window (a broken host).
    late_check: keep every frame's images to the end and report writes after the frame returned.
    locale: set before rendering (and LC_NUMERIC "C"); the locale before and after goes to ``Result.locale``."""
    height, width, channels = next(f for f in frames if isinstance(f, Frame)).image.shape
    dtype = np.dtype(DEPTHS[depth])
    work = tmp_path / f"scene-{len(list(tmp_path.glob('scene-*')))}"
    work.mkdir()
    lines = [f"size {width} {height}", f"depth {depth}", f"components {'RGBA' if channels == 4 else 'RGB'}",
             f"rows {rows}", f"padding {padding}", f"threads {threads}", f"instances {instances}",
             f"reload {reload}", f"identity {int(identity)}", f"cuda {cuda}", f"cuda_stream {cuda_stream}",
             f"repeat {repeat}"]
    if embed_python:
        lines.append(f"embed_python {embed_python}")
    if premultiplication:
        lines.append(f"premultiplication {premultiplication}")
    if not render_window:
        lines.append("render_window 0")
    if late_check:
        lines.append("late_check 1")
    if locale:
        lines.append(f"locale {locale}")
    lines += [f"param {name} {value}" for name, value in params.items()]
    outputs = {}
    for i, frame in enumerate(frames):
        if isinstance(frame, Pause):
            lines.append(f"pause {frame.seconds:g}")
            continue
        assert frame.image.dtype == dtype and frame.image.shape == (height, width, channels)
        src = work / f"src{i}.raw"
        np.ascontiguousarray(frame.image).tofile(src)
        out = work / f"out{i}.raw" if write_outputs else "-"
        outputs[frame.time] = out
        window = " ".join(str(v) for v in frame.window) if frame.window else ""
        lines.append(f"frame {frame.time:g} {src} {out} {window}".rstrip())
    scene = work / "scene.txt"
    scene.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([str(build_host()), str(bundle_path()), str(scene)], capture_output=True, text=True,
                          env=env or engine_env(), timeout=timeout)
    result = Result(proc.returncode, proc.stdout, proc.stderr, lines=proc.stdout.splitlines())
    for line in result.lines:
        kind = line.split(" ", 1)[0]
        if kind in ("RENDER", "MESSAGE", "CHECK", "STANDING", "LATE"):
            f = _fields(line)
            time = float(f["time"])
            if kind == "RENDER":
                result.renders.setdefault(time, []).append(f)
            elif kind == "MESSAGE":
                result.messages.setdefault(time, []).append(f)
            elif kind == "STANDING":
                result.standing[time] = f.get("text", "")
            elif kind == "LATE":
                result.late[time] = f
            else:
                result.checks[time] = f
        elif kind == "LOCALE":
            f = _fields(line)
            result.locale[f["when"]] = f
    for time, out in outputs.items():
        if out != "-" and Path(out).exists():
            result.outputs[time] = np.fromfile(out, dtype).reshape(height, width, channels)
    return result


def cli_render(tmp_path: Path, plate: str, frames: str, analysis, *options: str) -> dict[int, np.ndarray]:
    """``emotionedit render`` of ``frames`` of ``plate``: {frame number: picture}."""
    from emotionedit.cli import main as cli_main
    from emotionedit.io import open_frames

    # EXR keeps float and half plates exactly, PNG 8- and 16-bit ones.
    out = tmp_path / "cli" / ("out.####.exr" if plate.endswith(".exr") else "out.####.png")
    code = cli_main(["render", plate, "--frames", frames, "--analysis", str(analysis), "-o", str(out),
                     "--overwrite", *options])
    assert code == 0
    with open_frames(str(out)) as reader:
        return dict(iter(reader))


@dataclass
class Timed:
    """A timing run: milliseconds of each Render action (the first, which starts the engine, first) and the
    host's stderr (the node's EMOTIONEDIT_TIMING lines are there)."""

    ms: list[float]
    stderr: str


def time_scene(scene: Path, lines: list[str], env: dict[str, str]) -> Timed:
    """Run a timing scene (one render thread, one shared instance, ``repeat``) and return its Render times;
    every render must succeed."""
    scene.write_text("\n".join(lines) + "\n")
    proc = subprocess.run([str(build_host()), str(bundle_path()), str(scene)], capture_output=True, text=True,
                          env=env, timeout=600, check=True)
    renders = [line for line in proc.stdout.splitlines() if line.startswith("RENDER")]
    statuses = {int(line.split("status=")[1].split()[0]) for line in renders}
    if statuses != {0}:
        raise RuntimeError(f"renders failed ({statuses}): {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    first = next(i for i, line in enumerate(renders) if "repeat=0" in line)
    ms = [float(line.split("ms=")[1].split()[0]) for line in renders]
    return Timed([ms[first]] + [m for i, m in enumerate(ms) if i != first], proc.stderr)


def time_renders(work: Path, width: int, height: int, depth: str, frames: int, env: dict[str, str],
                 window: tuple[int, int, int, int] | None = None) -> list[float]:
    """Milliseconds of each Render action for ``frames + 1`` synthetic RGBA frames on one render thread and
    one shared instance (the first, which starts the engine, comes first); for benchmarks. ``window``: the
    render window (OFX x1, y1, x2, y2), else the whole frame."""
    name = f"timing-{width}x{height}-{depth}" + ("" if window is None else "-" + "-".join(map(str, window)))
    frame = "frame 0 - -" + ("" if window is None else " " + " ".join(map(str, window)))
    lines = [f"size {width} {height}", f"depth {depth}", "components RGBA", "rows negative", "padding 0",
             "threads 1", "instances shared", f"repeat {frames + 1}", "param analysisFile /unused",
             frame]  # synthetic source, output not written
    return time_scene(work / f"{name}.txt", lines, env).ms


def describe() -> dict:
    """The plugin's descriptor (Describe + DescribeInContext), as the test host saw it."""
    import json

    proc = subprocess.run([str(build_host()), str(bundle_path()), "--describe"], capture_output=True, text=True,
                          env=engine_env(), timeout=60, check=True)
    return json.loads(proc.stdout)


def window_slice(window: tuple[int, int, int, int], height: int) -> tuple[slice, slice]:
    """Rows and columns of a top-down picture covered by an OFX window (x1, y1, x2, y2; y up)."""
    x1, y1, x2, y2 = window
    return slice(height - y2, height - y1), slice(x1, x2)


RENDER_LINE = re.compile(r"ms=([0-9.]+)")
