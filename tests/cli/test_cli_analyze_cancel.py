"""A farm cancels `analyze` with SIGTERM (issue 11): the process stops with 143, the analysis it was
replacing is left exactly as it was, and nothing half-written or temporary remains."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# Long enough that the analysis is still tracking when the signal comes (about 40 frames a second here).
FRAMES = "100-3099"
# The signal is sent once the progress bar shows this many frames tracked (models loaded, tracking).
TRACKED = 20


class _Analyze:
    """`emotionedit analyze` in a process of its own, its stderr collected as it comes."""

    def __init__(self, franck_path, out: Path, *extra: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emotionedit", "analyze", str(franck_path), "--frames", FRAMES, "-o", str(out),
             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.process.stderr.read(256), ""):
            self.err.append(chunk)

    def tracked(self) -> int:
        """Frames the progress bar has shown as done (tqdm writes "analyze: ...| n/N")."""
        return max((int(done) for done in re.findall(r"\| *(\d+)/\d+", "".join(self.err))), default=0)

    def cancel(self, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while self.tracked() < TRACKED:
            if self.process.poll() is not None:
                pytest.fail(f"analyze ended (exit {self.process.returncode}) before the test could cancel it: "
                            f"{''.join(self.err)[-2000:]}")
            assert time.monotonic() < deadline, "analyze did not get going in time"
            time.sleep(0.1)
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        self._reader.join(timeout=10)
        self.process.stderr.close()
        err = "".join(self.err)
        assert self.process.returncode == 143, err[-2000:]
        assert "terminated (SIGTERM)" in err and "Traceback" not in err, err[-2000:]
        return err


def test_sigterm_during_analyze_keeps_the_analysis_it_was_replacing(small_shot, franck_path, tmp_path):
    out = tmp_path / "shot.analysis.npz"
    shutil.copyfile(small_shot.analysis, out)
    before = out.read_bytes()
    _Analyze(franck_path, out, "--overwrite").cancel()
    assert out.read_bytes() == before, "the cancelled analyze damaged the analysis it was to replace"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name], "a temporary was left"


def test_sigterm_during_a_first_analyze_leaves_no_file(franck_path, tmp_path):
    out = tmp_path / "new.analysis.npz"
    _Analyze(franck_path, out).cancel()
    assert list(tmp_path.iterdir()) == []
