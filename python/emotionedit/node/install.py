"""Install the OpenFX bundle where hosts look for plugins: ``python -m emotionedit.node.install``.

Hosts scan ``OFX_PLUGIN_PATH`` (``:``-separated) and ``/usr/OFX/Plugins`` on Linux. By
default the built bundle (``plugin/EmotionEdit.ofx.bundle`` in a checkout, or
``<prefix>/share/emotionedit/`` from a wheel) is linked into the first folder of
``OFX_PLUGIN_PATH``, else ``/usr/OFX/Plugins`` when writable, else ``~/OFX/Plugins``
(then add that folder to ``OFX_PLUGIN_PATH``). ``--copy`` copies instead and writes the
engine's Python into the copy's settings (the node then starts that interpreter).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from ..errors import UserError

NAME = "EmotionEdit.ofx.bundle"
SETTINGS = Path("Contents/Resources/EmotionEdit.settings")


def find_bundle() -> Path:
    """The built bundle: $EMOTIONEDIT_BUNDLE, the checkout's plugin/, or the installed data folder."""
    candidates = [Path(p) for p in [os.environ.get("EMOTIONEDIT_BUNDLE")] if p]
    candidates += [Path(__file__).resolve().parents[3] / "plugin" / NAME,
                   Path(sys.prefix) / "share" / "emotionedit" / NAME]
    for path in candidates:
        if (path / "Contents/Linux-x86-64/EmotionEdit.ofx").is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise UserError(f"no built EmotionEdit.ofx.bundle found (looked in {looked}); build it with `make setup`")


def default_destination() -> Path:
    for folder in os.environ.get("OFX_PLUGIN_PATH", "").split(":"):
        if folder:
            return Path(folder)
    system = Path("/usr/OFX/Plugins")
    try:
        system.mkdir(parents=True, exist_ok=True)
        if os.access(system, os.W_OK):
            return system
    except OSError:
        pass
    return Path.home() / "OFX" / "Plugins"


def write_python(bundle: Path, python: str) -> None:
    """Point a bundle's settings at the engine environment's interpreter."""
    path = bundle / SETTINGS
    lines = path.read_text().splitlines() if path.exists() else []
    lines = [line for line in lines if not line.split("=")[0].strip() == "python"]
    path.write_text("\n".join(lines + [f"python = {python}"]) + "\n")


def engine_python(bundle: Path) -> str:
    for line in (bundle / SETTINGS).read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "python":
            return value.strip()
    return ""


def install(bundle: Path, destination: Path, copy: bool, python: str | None) -> Path:
    target = destination / NAME
    destination.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        if not (target / SETTINGS).exists():
            raise UserError(f"{target} exists and is not an EmotionEdit bundle; move it away first")
        shutil.rmtree(target)
    if copy:
        shutil.copytree(bundle, target, symlinks=False)
        write_python(target, python or sys.executable)
    else:
        if python:
            write_python(bundle, python)
        target.symlink_to(bundle.resolve(), target_is_directory=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotionedit.node.install", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", help="plugin folder (default: first of OFX_PLUGIN_PATH, /usr/OFX/Plugins, "
                                       "~/OFX/Plugins)")
    parser.add_argument("--copy", action="store_true", help="copy the bundle instead of linking it")
    parser.add_argument("--python", help="the engine environment's python (default: the one in the bundle's "
                                         "settings; with --copy, this interpreter)")
    parser.add_argument("--uninstall", action="store_true", help="remove the bundle from the plugin folder")
    args = parser.parse_args(argv)
    try:
        destination = Path(args.dest).expanduser() if args.dest else default_destination()
        if args.uninstall:
            target = destination / NAME
            if target.is_symlink():
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
            print(f"removed {target}")
            return 0
        bundle = find_bundle()
        target = install(bundle, destination, args.copy, args.python)
    except (UserError, OSError) as exc:
        print(f"emotionedit install: error: {exc}", file=sys.stderr)
        return 2
    how = "copied" if args.copy else f"linked to {bundle.resolve()}"
    print(f"{target} {how}; the node runs the engine with {engine_python(target)}")
    searched = os.environ.get("OFX_PLUGIN_PATH", "").split(":")
    if str(destination) not in searched and destination != Path("/usr/OFX/Plugins"):
        print(f"hosts do not search {destination} by default: export OFX_PLUGIN_PATH={destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
