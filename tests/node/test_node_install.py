"""Installing the bundle where hosts look: linked or copied, with the engine's Python in its settings."""

from __future__ import annotations

import os
import sys

import pytest
from ofxhost import bundle_path

from emotionedit.node import install

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host


def test_link_then_copy_then_uninstall(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMOTIONEDIT_BUNDLE", str(bundle_path()))
    plugins = tmp_path / "OFX" / "Plugins"
    assert install.main(["--dest", str(plugins)]) == 0
    linked = plugins / install.NAME
    assert linked.is_symlink() and linked.resolve() == bundle_path().resolve()
    assert f"export OFX_PLUGIN_PATH={plugins}" in capsys.readouterr().out

    assert install.main(["--dest", str(plugins), "--copy", "--python", "/opt/engine/bin/python"]) == 0
    assert not linked.is_symlink() and (linked / "Contents/Linux-x86-64/EmotionEdit.ofx").is_file()
    assert install.engine_python(linked) == "/opt/engine/bin/python"
    assert install.engine_python(bundle_path()) != "/opt/engine/bin/python"  # the build's own copy is untouched
    assert os.access(linked / "Contents/Linux-x86-64/EmotionEdit.ofx", os.X_OK)

    assert install.main(["--dest", str(plugins), "--uninstall"]) == 0
    assert not linked.exists()


def test_copy_defaults_to_this_interpreter(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTIONEDIT_BUNDLE", str(bundle_path()))
    monkeypatch.setenv("OFX_PLUGIN_PATH", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert install.main(["--copy"]) == 0
    assert install.engine_python(tmp_path / "a" / install.NAME) == sys.executable


def test_refuses_to_replace_a_foreign_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMOTIONEDIT_BUNDLE", str(bundle_path()))
    (tmp_path / install.NAME).mkdir()
    assert install.main(["--dest", str(tmp_path)]) == 2
    assert "not an EmotionEdit bundle" in capsys.readouterr().err
