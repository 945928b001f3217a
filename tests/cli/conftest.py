"""Fixtures of the command-line tests: a small real plate with its analysis, and small or
read-only file systems (tmpfs mounts, skipped with the reason where mounting is not permitted)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from emotionedit.cli import main
from emotionedit.io import open_frames, open_writer

FIRST, LAST = 700, 739  # 40 frames of franck talking


@dataclass(frozen=True)
class Shot:
    """A real plate as a PNG sequence, the same frames as a movie, and its analysis."""

    root: Path
    plate: Path  # plate.####.png, frames FIRST..LAST
    movie: Path  # clip.mkv, the first 4 frames of the plate (frames 0-3)
    analysis: Path
    first: int = FIRST
    last: int = LAST

    @property
    def frames(self) -> int:
        return self.last - self.first + 1


@pytest.fixture(scope="session")
def small_shot(tmp_path_factory, franck_path) -> Shot:
    root = tmp_path_factory.mktemp("small_shot")
    analysis = root / "plate.analysis.npz"
    plate = root / "plate.####.png"
    frames = f"{FIRST}-{LAST}"
    assert main(["analyze", str(franck_path), "--frames", frames, "-o", str(analysis)]) == 0
    assert main(["render", str(franck_path), "--frames", frames, "--analysis", str(analysis), "--intensity", "0",
                 "-o", str(plate)]) == 0
    movie = root / "clip.mkv"
    with open_frames(plate, (FIRST, FIRST + 3)) as reader:
        with open_writer(movie, reader.spec, list(range(4))) as writer:
            for index, (_, image) in enumerate(reader):
                writer.write(index, image)
    return Shot(root, plate, movie, analysis)


def _mount(directory: Path, options: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command here, so no small file system can be made for this test")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) at {directory}: mounting needs root or CAP_SYS_ADMIN, "
                    f"which CI does not grant ({done.stderr.strip() or 'mount failed'}); the same checks run "
                    f"without a mount in tests/io/test_io_verified_write.py")
    return directory


def _unmount(directory: Path) -> None:
    if subprocess.run(["umount", str(directory)], capture_output=True, check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size)``: a fresh, empty tmpfs of ``size`` (e.g. "2m"), unmounted after the test."""
    mounted = []

    def make(size: str) -> Path:
        directory = _mount(tmp_path / f"disk{len(mounted)}", f"size={size},mode=0777")
        mounted.append(directory)
        return directory

    yield make
    for directory in mounted:
        _unmount(directory)


@pytest.fixture
def readonly_dir(tmp_path):
    """A directory nothing can be written in: a read-only tmpfs as root, else a folder without write permission."""
    directory = tmp_path / "readonly"
    if os.geteuid() == 0:  # root writes through permissions: only a read-only mount refuses it
        _mount(directory, "size=1m,ro")
        yield directory
        _unmount(directory)
    else:
        directory.mkdir()
        directory.chmod(0o555)
        yield directory
        directory.chmod(0o755)

