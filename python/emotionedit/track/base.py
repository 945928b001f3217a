"""The tracker interface and the shot-level logic that follows one face.

A :class:`Tracker` turns one 8-bit RGB frame into zero or more candidate faces
(478 x 3 landmarks each, in pixels). :func:`track_frames` picks the face the user
chose on the first frame where faces appear and follows it by position, flagging
frames where it is lost instead of failing.

What a shot's tracking keeps grows with the shot, so it is kept in compact arrays
(:class:`FrameRows`): 5.7 KB of landmarks a frame, as in the analysis file, and
no Python object per frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import UserError


class Tracker(Protocol):
    """Anything that finds faces in a frame.

    ``detect(rgb)`` takes (H, W, 3) uint8 RGB and returns a list of (478, 3) float32
    arrays: x, y in pixels of that frame, z in pixels (same scale as x, larger = farther).
    ``reset()`` forgets temporal state (call between shots).
    """

    name: str

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class FaceSelection:
    """Which face to follow when several are in the shot.

    ``mode`` is ``"largest"`` (default), ``"index"`` (``index``-th face from the
    image's left on the first frame with faces) or ``"point"`` (the face whose
    outline is nearest to pixel ``point`` on that frame).
    """

    mode: str = "largest"
    index: int = 0
    point: tuple[float, float] = (0.0, 0.0)

    @staticmethod
    def parse(text: str) -> FaceSelection:
        """Parse ``largest``, an index like ``1``, or a pixel position like ``640,360``."""
        text = text.strip()
        if text == "largest":
            return FaceSelection()
        if "," in text:
            try:
                x, y = (float(v) for v in text.split(","))
            except ValueError:
                raise UserError(f"--face expects 'largest', an index or 'x,y' in pixels; got {text!r}") from None
            return FaceSelection(mode="point", point=(x, y))
        if text.isdigit():
            return FaceSelection(mode="index", index=int(text))
        raise UserError(f"--face expects 'largest', an index such as 1, or 'x,y' in pixels; got {text!r}")


@dataclass(frozen=True)
class TrackerOptions:
    """How tracking runs: the face to follow and the longest side frames are tracked at."""

    selection: FaceSelection = FaceSelection()
    max_faces: int = 4
    # Frames are tracked at most this tall; landmarks are scaled back to the plate.
    # The landmark model works on a 192-256 px crop, so 4K tracking only costs time.
    max_track_height: int = 540


@dataclass
class FaceTrack:
    """Landmarks of one face through a shot.

    landmarks: (T, 478, 3) float32, plate pixels (x right, y down, z away from camera).
    found: (T,) bool, False where the face was lost (landmarks are NaN there).
    faces_seen: (T,) int16, how many faces the tracker saw in each frame.
    """

    landmarks: np.ndarray
    found: np.ndarray
    faces_seen: np.ndarray


class FrameRows:
    """Per-frame rows of one shape and dtype, kept in one array that is filled as frames arrive.

    row_shape: the shape of one frame's row, e.g. (478, 3); dtype: its dtype.
    expected: frames expected (the array is made that long at once; 0 when unknown). When more
    frames arrive than expected, the array grows by half its length (a copy); :meth:`result`
    returns the array itself when its length was right, a trimmed copy otherwise.

    >>> rows = FrameRows((2,), np.float32, expected=3)
    >>> for i in range(3):
    ...     rows.append(np.array([i, -i]))
    >>> rows.result().shape
    (3, 2)
    """

    def __init__(self, row_shape: tuple[int, ...], dtype: np.dtype | type, expected: int = 0):
        if expected < 0:
            raise ValueError(f"expected must be a count of frames >= 0, got {expected}")
        self._data = np.empty((expected, *row_shape), dtype)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, row: np.ndarray | float) -> None:
        """Store the next frame's row (cast to the dtype as numpy assignment does; a scalar fills the row)."""
        if self._count == len(self._data):
            grown = np.empty((max(64, len(self._data) + len(self._data) // 2), *self._data.shape[1:]),
                             self._data.dtype)
            grown[: self._count] = self._data
            self._data = grown
        self._data[self._count] = row
        self._count += 1

    def result(self) -> np.ndarray:
        """(frames, *row_shape): the rows stored so far (no copy when as many arrived as were expected)."""
        if self._count != len(self._data):
            self._data = self._data[: self._count].copy()
        return self._data


def _face_size(points: np.ndarray) -> float:
    span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    return float(span[0] * span[1])


def _choose_first(faces: list[np.ndarray], selection: FaceSelection) -> np.ndarray:
    if selection.mode == "largest":
        return max(faces, key=_face_size)
    if selection.mode == "index":
        ordered = sorted(faces, key=lambda f: float(f[:, 0].mean()))
        if selection.index >= len(ordered):
            raise UserError(
                f"--face {selection.index} asks for face number {selection.index} from the left, "
                f"but the first frame with faces has {len(ordered)} (numbered from 0)"
            )
        return ordered[selection.index]
    point = np.asarray(selection.point, dtype=np.float32)
    return min(faces, key=lambda f: float(np.linalg.norm(f[:, :2] - point, axis=1).min()))


def _follow(faces: list[np.ndarray], previous: np.ndarray) -> np.ndarray | None:
    """The candidate nearest the previous face, or None if none is plausibly the same person."""
    centre = previous[:, :2].mean(axis=0)
    size = float(np.sqrt(_face_size(previous)))
    best = min(faces, key=lambda f: float(np.linalg.norm(f[:, :2].mean(axis=0) - centre)))
    jump = float(np.linalg.norm(best[:, :2].mean(axis=0) - centre))
    # A face that moved more than its own size since the last sighting is another person.
    return best if jump < size else None


def track_frames(
    frames: Iterable[np.ndarray],
    tracker: Tracker,
    options: TrackerOptions = TrackerOptions(),
    progress: Callable[[int], None] | None = None,
    expected: int = 0,
    observe: Callable[[np.ndarray, np.ndarray | None], None] | None = None,
) -> FaceTrack:
    """Track one face through ``frames`` ((H, W, 3) uint8 RGB each).

    The chosen face is selected on the first frame that has faces and then followed
    by position. Frames where it is missing get ``found=False`` and NaN landmarks.
    expected: how many frames ``frames`` yields, when known (the landmarks' array is then
    made once, at its final size; see :class:`FrameRows`).
    observe: called after each frame with the frame and the chosen face's (478, 3) points (None: no face),
    e.g. :meth:`~emotionedit.track.stabilise.FlowStabiliser.observe`.
    """
    tracker.reset()
    landmarks = FrameRows((478, 3), np.float32, expected)
    found = FrameRows((), np.bool_, expected)
    seen = FrameRows((), np.int16, expected)
    previous: np.ndarray | None = None
    for frame in frames:
        faces = tracker.detect(frame)
        seen.append(len(faces))
        chosen: np.ndarray | None = None
        if faces:
            chosen = _choose_first(faces, options.selection) if previous is None else _follow(faces, previous)
        if chosen is None:
            landmarks.append(np.nan)
            found.append(False)
        else:
            landmarks.append(chosen)
            found.append(True)
            previous = chosen
        if observe is not None:
            observe(frame, chosen)
        if progress is not None:
            progress(1)
    if not len(landmarks):
        raise UserError("the shot has no frames to track")
    return FaceTrack(landmarks=landmarks.result(), found=found.result(), faces_seen=seen.result())
