"""Frame ranges: the one syntax every command and every farm job format uses.

A frame range is a comma-separated list of parts; each part is

* ``FRAME`` (``1001``),
* ``FIRST-LAST`` (``1001-1100``, both included), or
* ``FIRST-LASTxSTEP`` (``1001-1100x2``: 1001, 1003, ... 1099); ``FIRST-LAST:STEP``
  means the same (it is how Open Job Description writes a step, so a chunk an
  Open Job Description scheduler hands to a task reads back unchanged).

``1001,1005,1010-1020`` is frames 1001, 1005 and 1010 to 1020. Negative frames
take a sign (``-5--1``). Parts may come in any order and overlap; the frames
are their union, ascending. The same text means the same frames to OpenCue's
``FrameSet`` and Deadline's frame lists (both write a step with ``x``).

Against the frames a plate has (:meth:`FrameRange.select`) every part keeps its
own meaning: a ``FIRST-LAST`` part takes the plate's frames inside it (a gap in
the sequence is skipped) and must not reach outside the plate; a single
``FRAME`` must exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..errors import UserError

_PART = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*(?:[x:]\s*(\d+)\s*)?)?$")
_EXAMPLES = "1001-1100, 1001-1100x2 or 1001,1005,1010-1020"


@dataclass(frozen=True)
class Span:
    """Frames ``first``, ``first + step``, ... ``last`` (:func:`parse_frames` moves ``last`` onto the step)."""

    first: int
    last: int
    step: int = 1

    def __contains__(self, number: int) -> bool:
        return self.first <= number <= self.last and (number - self.first) % self.step == 0

    def __len__(self) -> int:
        return (self.last - self.first) // self.step + 1

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.first, self.last + 1, self.step))

    def __str__(self) -> str:
        if self.first == self.last:
            return str(self.first)
        return f"{self.first}-{self.last}" + (f"x{self.step}" if self.step != 1 else "")


@dataclass(frozen=True)
class FrameRange:
    """A parsed frame range: its parts (:class:`Span`), in the order written.

    ``str()`` gives the canonical text (``x`` for a step), which parses back to
    the same frames. Build one with :func:`parse_frames` or :func:`frames_text`.
    """

    spans: tuple[Span, ...]

    def __contains__(self, number: int) -> bool:
        return any(number in span for span in self.spans)

    def __str__(self) -> str:
        return ",".join(str(span) for span in self.spans)

    @property
    def first(self) -> int:
        """The smallest frame named."""
        return min(span.first for span in self.spans)

    @property
    def last(self) -> int:
        """The largest frame named."""
        return max(span.last for span in self.spans)

    def numbers(self) -> list[int]:
        """Every frame named, ascending, each once (a range of a million frames gives a million numbers)."""
        return sorted({n for span in self.spans for n in span})

    def select(self, available: Sequence[int], source: str) -> list[int]:
        """The frames of ``available`` (a plate's frame numbers) this range names, ascending.

        Raises :class:`UserError` naming ``source`` and the frames it has when a
        part reaches before the first or after the last available frame, or
        names none of them (a single frame that is missing, a step that falls
        between the plate's frames).
        """
        from .sequence import describe_frames

        have = sorted(available)
        if not have:
            raise UserError(f"{source} has no frames")
        chosen: set[int] = set()
        for span in self.spans:
            inside = [n for n in have if n in span]
            if not inside or span.first < have[0] or span.last > have[-1]:
                what = f"frame {span.first}" if span.first == span.last else f"frames {span}"
                raise UserError(
                    f"{what} {'was' if span.first == span.last else 'were'} asked for, but {source} has frames "
                    f"{describe_frames(have)}; choose frames inside those"
                )
            chosen.update(inside)
        return sorted(chosen)

    def openjd(self) -> str:
        """The same frames as an Open Job Description range expression (``1001-1100:2,1105``)."""
        return ",".join(str(span).replace("x", ":") for span in self.spans)


def parse_frames(text: str) -> FrameRange:
    """Parse a frame range: ``1001-1100``, ``1001-1100x2`` (or ``:2``), ``1001,1005,1010-1020``.

    Raises :class:`UserError` with examples for anything else, for a part that
    starts after it ends, and for a step that is not a whole number of at
    least 1.
    """
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"frame range {text!r} is empty; write it like {_EXAMPLES}")
    spans = []
    for part in text.split(","):
        found = _PART.match(part)
        if found is None:
            raise UserError(
                f"frame range {text!r}: {part.strip()!r} is not FRAME, FIRST-LAST or FIRST-LASTxSTEP; "
                f"write it like {_EXAMPLES}"
            )
        first = int(found.group(1))
        last = int(found.group(2)) if found.group(2) is not None else first
        step = int(found.group(3)) if found.group(3) is not None else 1
        if first > last:
            raise UserError(
                f"frame range {text!r}: {part.strip()!r} starts after it ends; write the first frame first, "
                f"e.g. {last}-{first}"
            )
        if step < 1:
            raise UserError(
                f"frame range {text!r}: the step of {part.strip()!r} must be 1 or more; e.g. 1001-1100x2 "
                "(every other frame)"
            )
        spans.append(Span(first, first + (last - first) // step * step, step))
    return FrameRange(tuple(spans))


def frames_text(numbers: Iterable[int]) -> FrameRange:
    """The shortest :class:`FrameRange` of exactly ``numbers`` (any order, repeats ignored).

    Runs with one step become ``FIRST-LASTxSTEP`` (``[1, 3, 5, 9]`` -> ``1-5x2,9``), consecutive
    frames ``FIRST-LAST`` first (``[1, 5, 10, 11]`` -> ``1,5,10-11``);
    ``str()`` of the result is what job files and messages show.
    """
    values = sorted(set(int(n) for n in numbers))
    if not values:
        raise ValueError("frames_text needs at least one frame")
    spans: list[Span] = []
    start = 0
    while start < len(values):
        end = start
        if start + 1 < len(values):
            step = values[start + 1] - values[start]
            end = start + 1
            while end + 1 < len(values) and values[end + 1] - values[end] == step:
                if step != 1 and end + 2 < len(values) and values[end + 2] - values[end + 1] == 1:
                    break  # the next frame starts a run of consecutive frames: leave it to that run
                end += 1
            if end - start < 2 and step != 1:  # two frames a step apart: write them as a list
                end = start
        else:
            step = 1
        spans.append(Span(values[start], values[end], step if end > start else 1))
        start = end + 1
    return FrameRange(tuple(spans))


def chunks(numbers: Sequence[int], size: int) -> list[list[int]]:
    """``numbers`` in consecutive groups of ``size`` (the last may be shorter): a farm job's tasks."""
    if size < 1:
        raise UserError(f"a chunk must hold at least 1 frame, not {size}")
    values = list(numbers)
    return [values[i : i + size] for i in range(0, len(values), size)]
