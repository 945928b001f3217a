"""Image-sequence names: patterns, frame numbers and frame ranges.

A pattern names every frame of a sequence with a placeholder for the frame
number: a run of N ``#`` (``shot.####.exr``: padded to N digits) or a printf
field (``shot.%04d.exr``; ``%d``: not padded). Numbers longer than the padding
are written in full (frame 12345 of ``####`` is ``12345``); negative numbers
are written as printf does (``-001`` for ``%04d``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, UserError
from .ranges import FrameRange, Span

_HASHES = re.compile(r"#+")
_PRINTF = re.compile(r"%(0?\d*)d")
_RANGE = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")
# A frame number just before the extension of a single file: "shot.1001.exr".
_TRAILING_NUMBER = re.compile(r"(?:^|[._-])(\d+)$")


@dataclass(frozen=True)
class SequencePattern:
    """A parsed pattern: ``directory / (prefix + number padded to padding + suffix)``."""

    directory: Path
    prefix: str
    padding: int
    suffix: str

    def name(self, number: int) -> str:
        """File name of frame ``number``."""
        return f"{self.prefix}{number:0{self.padding}d}{self.suffix}"

    def path(self, number: int) -> Path:
        """Path of frame ``number``."""
        return self.directory / self.name(number)

    def __str__(self) -> str:
        return str(self.directory / f"{self.prefix}{'#' * self.padding}{self.suffix}")


def parse_pattern(path: str | Path) -> SequencePattern | None:
    """The sequence pattern in ``path``, or ``None`` when it names a single file.

    Raises :class:`UserError` when the file name holds more than one placeholder or
    a directory name holds one.
    """
    path = Path(path)
    name = path.name
    fields = [(m.start(), m.end(), len(m.group())) for m in _HASHES.finditer(name)]
    for m in _PRINTF.finditer(name):
        digits = m.group(1)
        fields.append((m.start(), m.end(), int(digits) if digits else 1))
    for part in path.parent.parts:
        if _HASHES.search(part) or _PRINTF.search(part):
            raise UserError(
                f"{path}: the frame-number placeholder must be in the file name, not in the "
                f"directory {part!r}; use e.g. plates/shot.####.exr"
            )
    if not fields:
        return None
    if len(fields) > 1:
        raise UserError(
            f"{path}: the file name has {len(fields)} frame-number placeholders; use exactly one, "
            f"e.g. shot.####.exr or shot.%04d.exr"
        )
    start, end, padding = fields[0]
    return SequencePattern(path.parent, name[:start], max(padding, 1), name[end:])


def frame_path(pattern: str | Path, number: int) -> Path:
    """Path of frame ``number`` of ``pattern``; a path without placeholder is returned as is."""
    parsed = parse_pattern(pattern)
    return Path(pattern) if parsed is None else parsed.path(number)


def list_frames(pattern: SequencePattern) -> list[int]:
    """Frame numbers (sorted) of the files of ``pattern`` that exist.

    Only names written exactly as :meth:`SequencePattern.name` writes them count
    (``shot.01001.exr`` is not frame 1001 of ``shot.####.exr``); temporary files
    of an unfinished write (hidden names) never match.
    """
    directory = pattern.directory if str(pattern.directory) else Path(".")
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        raise InputError(
            f"{pattern}: the directory {directory} does not exist; check the path"
        ) from None
    except NotADirectoryError:
        raise InputError(f"{pattern}: {directory} is not a directory; check the path") from None
    matcher = re.compile(re.escape(pattern.prefix) + r"(-?\d+)" + re.escape(pattern.suffix) + r"$")
    numbers = []
    for name in names:
        found = matcher.match(name)
        if found is None:
            continue
        number = int(found.group(1))
        if pattern.name(number) == name and (directory / name).is_file():
            numbers.append(number)
    return sorted(numbers)


def number_in_name(path: str | Path) -> int | None:
    """The frame number a single file's name carries before its extension, or ``None``.

    ``shot.1001.exr`` -> 1001, ``frame_0042.png`` -> 42, ``plate_v2.png`` -> None
    (a number glued to a letter is not a frame number).
    """
    stem = Path(path).stem
    found = _TRAILING_NUMBER.search(stem)
    return int(found.group(1)) if found else None


def parse_frame_range(text: str) -> tuple[int, int]:
    """``"1001-1100"`` -> ``(1001, 1100)``; ``"1001"`` -> ``(1001, 1001)``: one contiguous range only.

    Commands take the full syntax (steps and lists) through :func:`.ranges.parse_frames`.

    Negative frames are written with a sign (``"-5--1"``). Raises
    :class:`UserError` for anything else, or when the first frame is after the last.
    """
    found = _RANGE.match(text) if isinstance(text, str) else None
    if found is None:
        raise UserError(
            f"frame range {text!r} is not FIRST-LAST or FRAME; write it like 1001-1100 or 1001"
        )
    first = int(found.group(1))
    last = int(found.group(2)) if found.group(2) is not None else first
    if first > last:
        raise UserError(
            f"frame range {text!r} starts after it ends; write the first frame first, e.g. {last}-{first}"
        )
    return first, last


def describe_frames(numbers: list[int]) -> str:
    """Human summary of sorted frame numbers: ``"1001-1010 (9 frames; missing 1005)"``."""
    if not numbers:
        return "no frames"
    first, last = numbers[0], numbers[-1]
    count = len(numbers)
    text = f"{first}-{last} ({count} frame{'s' if count != 1 else ''}"
    gaps = []
    for before, after in zip(numbers, numbers[1:], strict=False):
        if after - before > 1:
            gaps.append(f"{before + 1}" if after - before == 2 else f"{before + 1}-{after - 1}")
    if gaps:
        shown = ", ".join(gaps[:5]) + (f" and {len(gaps) - 5} more gaps" if len(gaps) > 5 else "")
        text += f"; missing {shown}"
    return text + ")"


def select_frames(
    available: list[int], frame_range: FrameRange | tuple[int, int] | None, source: str
) -> list[int]:
    """The frames of ``available`` (sorted) that ``frame_range`` names (see :mod:`.ranges`).

    ``frame_range``: a :class:`~.ranges.FrameRange`, or an inclusive
    ``(first, last)``; ``None`` keeps every frame. Gaps inside a ``FIRST-LAST``
    part are skipped. Raises :class:`UserError` when a part reaches before the
    first or after the last available frame, or holds none of them; the message
    lists what ``source`` has.
    """
    if frame_range is None:
        return list(available)
    if not isinstance(frame_range, FrameRange):
        first, last = frame_range
        if first > last:
            raise UserError(f"frame range {first}-{last} starts after it ends; give FIRST-LAST, FIRST <= LAST")
        frame_range = FrameRange((Span(first, last),))
    return frame_range.select(available, source)
