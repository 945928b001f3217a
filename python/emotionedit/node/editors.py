"""Shot editors built from analysis files, kept between frames.

Hosts render a shot frame by frame, often from several threads and (MLT) from a fresh
node instance per frame, so the expensive part - reading the analysis and building a
:class:`~emotionedit.engine.ShotEditor` - is cached per process, keyed by the file's
path, size and modification time (a re-analysed shot is picked up) and the smoothing.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from ..analysis import Analysis
from ..analysis import load as load_analysis
from ..engine import ShotEditor
from ..errors import UserError

_CAPACITY = 4  # shots open at once (a comp with a few EmotionEdit nodes)
_editors: OrderedDict[tuple, ShotEditor] = OrderedDict()


def editor_for(path: str, smoothing: float) -> ShotEditor:
    """The editor of the analysis file at ``path`` with ``smoothing`` (frames)."""
    file = Path(os.path.expanduser(path))
    try:
        stat = file.stat()
    except OSError:
        raise UserError(f"Analysis File {path} does not exist; create it with `emotionedit analyze <plate> -o "
                        f"{file.name}` or clear Analysis File to track each frame at preview quality") from None
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns, smoothing)
    editor = _editors.get(key)
    if editor is None:
        analysis: Analysis = load_analysis(file)
        editor = ShotEditor(analysis, smoothing=smoothing)
        _editors[key] = editor
        while len(_editors) > _CAPACITY:
            _editors.popitem(last=False)
    _editors.move_to_end(key)
    return editor


def clear() -> None:
    _editors.clear()
