"""Preview quality without an analysis file: track the frame being rendered on its own.

The analysis file is what makes a render final: the whole shot tracked once, the
actor's neutral face found over many frames, the encoding smoothed in time. Without
one, the node still shows an edit: each frame is tracked alone (scaled down), its own
expression taken as neutral, with no smoothing. Results are cached per frame and
picture, since hosts re-render the same frame while a user drags a slider.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict

import numpy as np

from ..analysis import PlateInfo
from ..engine import ShotEditor, analyze
from ..errors import NoFaceError
from ..track import FaceSelection, TrackerOptions

#: Frames are tracked at most this tall in preview (the landmark model works on ~256 px crops anyway).
PREVIEW_TRACK_HEIGHT = 360

NOTE = (
    "preview quality: Analysis File is empty, so each frame is tracked on its own (no temporal smoothing; the "
    "frame's own expression is taken as neutral, so Mode Replace has little to remove). For final renders, analyse "
    "the shot once with `emotionedit analyze <plate> -o shot.analysis.npz` and set Analysis File"
)

_CAPACITY = 16
_editors: OrderedDict[tuple, ShotEditor | None] = OrderedDict()


def warm_up() -> None:
    """Import the tracker while preparing, before the frame's pixels are needed (imports may be slow)."""
    from ..track.mediapipe_mesh import MediaPipeFaceMesh

    MediaPipeFaceMesh(max_faces=1).close()


def _fingerprint(image: np.ndarray) -> int:
    step = max(1, min(image.shape[:2]) // 64)
    return zlib.crc32(np.ascontiguousarray(image[::step, ::step]).tobytes())


def preview_editor(src: np.ndarray, frame_number: int, face: FaceSelection) -> ShotEditor | None:
    """An editor for this one frame, or None when no usable face is in it.

    src: (H, W, C) plate, any supported dtype, top row first.
    """
    key = (frame_number, src.shape, src.dtype.str, face, _fingerprint(src))
    if key in _editors:
        _editors.move_to_end(key)
        return _editors[key]
    height, width = src.shape[:2]
    plate = PlateInfo(path="<host>", width=width, height=height, frame_numbers=[frame_number], fps=24.0)
    options = TrackerOptions(selection=face, max_track_height=PREVIEW_TRACK_HEIGHT)
    try:
        analysis = analyze([(frame_number, src)], plate, options)
        editor = ShotEditor(analysis, smoothing=0.0) if analysis.fit.flags[0] == 0 else None
    except NoFaceError:
        editor = None
    _editors[key] = editor
    while len(_editors) > _CAPACITY:
        _editors.popitem(last=False)
    return editor


def clear() -> None:
    _editors.clear()
