"""``render --resume``: keep the frames already written whole, render only the rest.

A farm retries a task whose machine died, and an outage leaves a job half done;
resuming must neither redo finished work nor trust a file by its name. For each
output file of the frames asked for:

* it exists and reads back whole (every pixel decoded, the size and channel
  count a render of this plate writes, a PNG or JPEG's closing bytes; a movie:
  every frame counted), so it is kept as it is, not even its time stamp changes;
* it exists but does not read back whole (cut short, damaged, another size), so
  it is removed and rendered again;
* it is missing, so it is rendered.

Temporaries that killed runs left beside the output (``.NAME.PID-XXXXXXXX@HOST.tmp.EXT``,
see :func:`emotionedit.io.output.stale_temporaries`) are removed first; the
temporaries of a render still running are left alone.

Resuming assumes the same command: a frame of another edit of the same plate
reads back whole too and is kept (``emotionedit verify`` checks the output
against the shot; ``--overwrite`` replaces everything).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, UserError
from ..io import FrameReader, FrameSpec, FrameWriter, check_outputs, frames_text, open_frames, output_files
from ..io.images import image_format, storage_for, verify_image
from ..io.movie import is_movie_path, verify_movie
from ..io.output import WriteCheckFailed, remove_quietly, stale_temporaries
from ..io.sequence import describe_frames, parse_pattern


def frame_problem(path: Path, width: int, height: int, channels: int | None = None) -> str | None:
    """What is wrong with the image file ``path`` as a frame of ``width`` x ``height`` (x ``channels``), or None.

    Decodes every pixel (:func:`~emotionedit.io.images.verify_image`): a file cut
    short, with damaged pixels, of another size or channel count gives a
    sentence saying what was found; a whole frame gives ``None``.
    """
    try:
        verify_image(path, width, height, channels)
    except (WriteCheckFailed, UserError) as exc:
        return str(exc)
    return None


def movie_problem(path: Path, width: int, height: int, frames: int, fps: float | None = None) -> str | None:
    """What is wrong with the movie ``path`` as ``frames`` frames of ``width`` x ``height``, or None.

    fps: the rate it was written at, when known: the movie is then decoded in ranges on several threads
    (:func:`~emotionedit.io.movie.verify_movie`; a wrong rate only costs the one-pass read-back)."""
    try:
        verify_movie(path, width, height, frames, fps)
    except WriteCheckFailed as exc:
        return str(exc)
    return None


def written_channels(output: str | Path, spec: FrameSpec) -> int | None:
    """How many channels a render of frames of ``spec`` writes to ``output`` (None for a movie)."""
    if is_movie_path(output):
        return None
    return storage_for(image_format(output), spec.dtype, spec.channels)[1]


def temporaries_of(output: Path) -> Callable[[str], bool]:
    """A test of file names: is a temporary of this name one of ``output``'s (any frame of a sequence)?"""
    pattern = None if is_movie_path(output) else parse_pattern(output)
    if pattern is None:
        return lambda name: name == output.name
    return lambda name: (name.startswith(pattern.prefix) and name.endswith(pattern.suffix)
                         and name[len(pattern.prefix): len(name) - len(pattern.suffix)].lstrip("-").isdigit())


def clean_temporaries(output: str | Path) -> list[Path]:
    """Remove the temporaries of ``output`` (any of its frames) that killed runs left; returns them."""
    output = Path(output)
    stale = stale_temporaries(output.parent, temporaries_of(output))
    for path in stale:
        remove_quietly(path)
    return stale


@dataclass
class ResumePlan:
    """What ``render --resume`` found in an output before rendering."""

    #: Frames whose files read back whole: kept untouched.
    done: list[int] = field(default_factory=list)
    #: Frames whose files exist but do not read back whole, with what was found: rendered again.
    damaged: list[tuple[int, str]] = field(default_factory=list)
    #: Frames to render (missing or damaged), ascending.
    remaining: list[int] = field(default_factory=list)
    #: Temporaries of killed runs that were removed.
    cleaned: list[Path] = field(default_factory=list)


def plan_resume(output: str | Path, spec: FrameSpec, frame_numbers: Sequence[int]) -> ResumePlan:
    """Check every output file of ``frame_numbers`` (frames of ``spec``); remove stale temporaries and damaged files.

    Returns the :class:`ResumePlan`. A movie is one file: whole with every frame, or rendered again.
    """
    output = Path(output)
    plan = ResumePlan(cleaned=clean_temporaries(output))
    numbers = list(frame_numbers)
    if is_movie_path(output):
        problem = movie_problem(output, spec.width, spec.height, len(numbers), spec.fps) if output.exists() else None
        if output.exists() and problem is None:
            plan.done = numbers
            return plan
        if problem is not None:
            plan.damaged = [(numbers[0], problem)]
            remove_quietly(output)
        plan.remaining = numbers
        return plan
    channels = written_channels(output, spec)
    for number, path in output_files(output, numbers).items():
        if not path.exists():
            plan.remaining.append(number)
            continue
        problem = frame_problem(path, spec.width, spec.height, channels)
        if problem is None:
            plan.done.append(number)
        else:
            plan.damaged.append((number, problem))
            path.unlink()
            plan.remaining.append(number)
    return plan


def _report(plan: ResumePlan, output: str | Path, total: int) -> None:
    say = lambda text: print(f"  resume: {text}", file=sys.stderr)  # noqa: E731
    if plan.cleaned:
        say(f"removed {len(plan.cleaned)} temporary file(s) of killed runs: "
            + ", ".join(p.name for p in plan.cleaned[:3]) + (" ..." if len(plan.cleaned) > 3 else ""))
    if plan.done:
        say(f"{len(plan.done)} of {total} frames of {output} are already written whole (decoded and checked): "
            f"kept, {describe_frames(plan.done)}")
    for number, problem in plan.damaged[:5]:
        say(f"frame {number} of {output} was not whole ({problem}): rendering it again")
    if len(plan.damaged) > 5:
        say(f"... and {len(plan.damaged) - 5} more damaged frames, rendered again")


def resume_render(
    plate: str | Path,
    output: str | Path,
    reader: FrameReader,
    stack: contextlib.ExitStack,
    *,
    overwrite: bool,
    analysis: str | Path | None,
    protect: Iterable[str | Path],
) -> FrameReader | None:
    """For ``render --resume``: the reader of the frames still to render, or None when none are.

    ``reader``: the plate's frames asked for. Refuses ``--overwrite`` with
    ``--resume``, a render without an ``analysis`` file (analysing only the
    frames left would edit them differently from the frames kept), and outputs
    that are inputs (before anything is removed).
    The new reader is entered in ``stack``; a summary goes to stderr.
    """
    if overwrite:
        raise UserError("give --resume (keep the frames already written whole) or --overwrite (replace every "
                        "frame), not both")
    if analysis is None:
        raise UserError("--resume needs --analysis: the frames kept were rendered with the whole shot's analysis, "
                        "and analysing only the frames left would edit them differently; run `emotionedit analyze` "
                        "once and give its file to every render of the shot")
    targets = sorted(set(output_files(output, reader.frame_numbers).values()))
    check_outputs(targets, overwrite=True, protect=protect, frame_numbers=reader.frame_numbers)
    plan = plan_resume(output, reader.spec, reader.frame_numbers)
    _report(plan, output, len(reader))
    if not plan.remaining:
        print(f"all {len(reader)} frames of {output} are already written whole; nothing to render")
        return None
    if len(plan.remaining) == len(reader):
        return reader
    return stack.enter_context(open_frames(plate, frames_text(plan.remaining)))


def reading(frames: Iterator[tuple[int, object]], writer: FrameWriter, plate: str | Path) -> Iterator:
    """Pass ``frames`` (the plate being read) through; a frame that cannot be read stops with what to do next.

    The error (a frame whose header is intact but whose pixels are damaged is
    found only when it is decoded) then says which frames of the output were
    written whole before it and that ``--resume`` renders only the rest once
    the plate's frame is replaced.
    """
    try:
        yield from frames
    except InputError as exc:
        done = sorted(getattr(writer, "written", ()))
        if is_movie_path(writer.path):
            kept = f"nothing was written to {writer.path} (a movie appears only with every frame)"
        elif done:
            kept = (f"{describe_frames(done) if len(done) > 1 else f'frame {done[0]}'} of {writer.path} "
                    f"{'were' if len(done) > 1 else 'was'} written whole and verified before it")
        else:
            kept = f"no frame of {writer.path} was written"
        raise InputError(
            f"{exc}. {kept[0].upper()}{kept[1:]}; replace the damaged frame of {plate} (copy or render it again), "
            f"then run the same command with --resume: the frames already written are checked and kept, only the "
            f"rest is rendered"
        ) from exc
