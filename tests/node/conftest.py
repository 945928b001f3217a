"""Fixtures for the OFX node tests: the built bundle, the test host, a saved analysis file."""

from __future__ import annotations

import pytest
from ofxhost import build_host, bundle_path

from emotionedit.analysis import save


@pytest.fixture(scope="session")
def node_built():
    """The bundle must exist: `make setup` (or `pip install -e .`) builds it into plugin/."""
    binary = bundle_path() / "Contents/Linux-x86-64/EmotionEdit.ofx"
    if not binary.exists():
        pytest.fail(f"the OFX bundle is not built ({binary} is missing); run `make setup` (or `make ofx`)")
    build_host()


@pytest.fixture(scope="session")
def analysis_file(talking, tmp_path_factory):
    """The analysis of franck's talking frames 672-719 (the `talking` fixture), saved as a file."""
    path = tmp_path_factory.mktemp("node") / "franck.analysis.npz"
    save(talking[1], path)
    return path
