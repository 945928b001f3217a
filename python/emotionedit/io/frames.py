"""Open plates and outputs: image sequences, single images and movies.

:func:`open_frames` and :func:`open_writer` are the entry points the command line
and the engine use; they pick the reader or writer from the path:

* ``shot.####.exr`` / ``shot.%04d.png``: an image sequence (see :mod:`.sequence`);
* ``plate.exr``: a single image, one frame numbered as its name says (else 0);
* ``clip.mp4`` (``.mov .avi .mkv .webm .m4v``): a movie, frames 0, 1, 2, ...

Frames are the data window's pixels (see :class:`.spec.FrameSpec`). An EXR output
of an EXR plate keeps the plate's data and display windows and, given the plate's
reader as ``source``, every channel that is not edited (depth, AOVs), bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, UserError
from .base import FrameReader, FrameWriter
from .images import image_format, probe_image, read_extra_channels, read_image, write_image
from .movie import MovieReader, MovieWriter, is_movie_path
from .output import OutputAppeared, check_outputs, make_directory
from .ranges import FrameRange
from .sequence import describe_frames, list_frames, number_in_name, parse_pattern, select_frames
from .spec import FrameSpec


class SequenceReader(FrameReader):
    """Frames of an image sequence (or of one still image), one file per frame."""

    def __init__(self, path: Path, files: dict[int, Path]) -> None:
        numbers = sorted(files)
        self._files = files
        spec = probe_image(files[numbers[0]])
        super().__init__(path, spec, numbers)
        for number in numbers[1:]:
            self._check_size(number, probe_image(files[number]))

    def _check_size(self, number: int, other: FrameSpec) -> None:
        spec = self.spec
        first = self.frame_numbers[0]
        if (other.width, other.height, other.channels) != (spec.width, spec.height, spec.channels):
            raise InputError(
                f"frame {number} ({self._files[number]}) is {other.width}x{other.height} with "
                f"{other.channels} channels, but the sequence starts (frame {first}, {self._files[first]}) "
                f"at {spec.width}x{spec.height} with {spec.channels} channels; all frames must match: "
                f"re-render the odd frames or choose a frame range without them"
            )
        if (other.origin, other.display) != (spec.origin, spec.display):
            raise InputError(
                f"frame {number} ({self._files[number]}) has its data window at {other.origin} and display window "
                f"{_window(other.display)}, but the sequence starts (frame {first}, {self._files[first]}) with "
                f"{spec.origin} and {_window(spec.display)}; the face is tracked in the data window's pixels, so "
                f"all frames must share both windows: re-render the plate with one data window (in Nuke, turn "
                f"off the Write node's autocrop) or choose a frame range without the odd frames"
            )
        if (other.extra_channels, other.stored_types) != (spec.extra_channels, spec.stored_types):
            raise InputError(
                f"frame {number} ({self._files[number]}) has channels {other.channel_names + other.extra_channels} "
                f"of types {other.stored_types}, but the sequence starts (frame {first}, {self._files[first]}) with "
                f"{spec.channel_names + spec.extra_channels} of types {spec.stored_types}; every channel is passed "
                f"through, so all frames must have the same: re-render the odd frames or choose a frame range "
                f"without them"
            )

    def file(self, frame_number: int) -> Path:
        """The file of frame ``frame_number``."""
        self._check_number(frame_number)
        return self._files[frame_number]

    def read(self, frame_number: int) -> np.ndarray:
        """Frame ``frame_number`` as ``(H, W, C)`` of ``spec.dtype`` (other stored types converted)."""
        pixels, found = read_image(self.file(frame_number), self.spec.dtype)
        self._check_size(frame_number, found)
        return pixels

    def read_passthrough(self, frame_number: int) -> tuple[np.ndarray, ...]:
        """The channels of frame ``frame_number`` that are not edited, as stored (see :class:`FrameReader`)."""
        return read_extra_channels(self.file(frame_number), self.spec)


class SequenceWriter(FrameWriter):
    """Writes each frame to its own image file, atomically (see :func:`.images.write_image`).

    Frames may be written in any order. Each file is read back before it gets its
    name, so leaving by an exception keeps only whole, verified frames. With a
    ``source`` (the plate's reader), each frame's channels that are not edited
    are read from the plate's frame of the same number and written beside the
    edited ones.
    """

    def __init__(
        self, path: Path, spec: FrameSpec, files: dict[int, Path], source: FrameReader | None = None,
        exclusive: bool = False,
    ) -> None:
        numbers = list(files)
        super().__init__(path, spec, numbers, [files[n] for n in numbers])
        self._files = files
        self._source = source
        self._exclusive = exclusive
        self.written: list[int] = []

    def write(self, frame_number: int, pixels: np.ndarray) -> None:
        """Write frame ``frame_number``; :class:`UserError` (saying which frames are whole) if it fails."""
        self._check_frame(frame_number, pixels)
        target = self._files.get(frame_number)
        if target is None:
            raise ValueError(f"{self.path}: frame {frame_number} is not one this writer was opened for")
        try:
            passthrough = None if self._source is None else self._source.read_passthrough(frame_number)
            write_image(target, pixels, self.spec, passthrough, exclusive=self._exclusive)
        except UserError as exc:
            done = sorted(self.written)
            if not done:
                raise
            whole, verb = (f"frames {describe_frames(done)}", "were") if len(done) > 1 else (f"frame {done[0]}", "was")
            message = f"frame {frame_number}: {exc}. Before it, {whole} of {self.path} {verb} written whole and " \
                "verified"
            if isinstance(exc, OutputAppeared):
                raise OutputAppeared(message, exc.path) from exc
            raise UserError(
                f"{message}; once the cause is fixed, the same command with --resume renders only the frames "
                "still missing"
            ) from exc
        self.written.append(frame_number)

    def close(self) -> None:
        self._closed = True


def _sequence_files(path: Path) -> dict[int, Path]:
    """Existing files of a pattern or a single image, by frame number."""
    pattern = parse_pattern(path)
    if pattern is None:
        if not path.is_file():
            raise InputError(
                f"{path} does not exist; give an existing image, a movie, or a sequence pattern "
                f"such as shot.####.exr"
            )
        number = number_in_name(path)
        return {0 if number is None else number: path}
    image_format(path)
    numbers = list_frames(pattern)
    if not numbers:
        raise InputError(
            f"no files match {pattern} (looked for e.g. {pattern.name(1001)} in {pattern.directory}); "
            f"check the name and the number of # (one per digit)"
        )
    return {n: pattern.path(n) for n in numbers}


def open_frames(path: str | Path, frame_range: FrameRange | tuple[int, int] | None = None) -> FrameReader:
    """Open a plate for reading: a sequence pattern, a single image or a movie.

    ``frame_range`` (a :class:`~.ranges.FrameRange`, or an inclusive ``(first, last)``) keeps the frames it names;
    asking for frames outside what exists raises :class:`UserError` listing what
    exists. Missing or unreadable input raises :class:`InputError`, as does a
    sequence whose frames differ in size or channel count (naming the frame).
    """
    path = Path(path)
    if is_movie_path(path):
        return MovieReader(path, frame_range)
    files = _sequence_files(path)
    numbers = select_frames(sorted(files), frame_range, str(path))
    return SequenceReader(path, {n: files[n] for n in numbers})


def _window(window: tuple[int, int, int, int]) -> str:
    """``(x, y, width, height)`` as ``"1920x1080 at (0, 0)"``."""
    x, y, width, height = window
    return f"{width}x{height} at ({x}, {y})"


def _notes(path: Path, spec: FrameSpec, source: FrameReader | None, passes: bool) -> list[str]:
    """What an output ``path`` of frames of ``spec`` cannot keep of the plate, one sentence each."""
    target = "movie" if is_movie_path(path) else image_format(path)
    notes = []
    if target != "openexr" and not spec.plain_window:
        notes.append(
            f"{path} holds the data window's {spec.width}x{spec.height} pixels as its whole picture: "
            f"{target} has no data or display window (the plate's data window is {_window(spec.data_window)}, "
            f"its display window {_window(spec.display)}); write EXR to keep them"
        )
    if spec.extra_channels and not passes:
        if target != "openexr":
            why = f"{target} holds only the edited channels"
        elif spec.format_name != "openexr":
            why = f"they pass through only from an EXR plate, and this plate is {spec.format_name}"
        elif source is None:
            why = "no plate was given to copy them from"
        else:
            why = f"the plate given to copy them from ({source.path}) has other extra channels"
        shown = ", ".join(spec.extra_channels[:8]) + (
            f" and {len(spec.extra_channels) - 8} more" if len(spec.extra_channels) > 8 else "")
        notes.append(f"the plate's channels {shown} are not in {path}: {why}")
    return notes


def output_files(path: str | Path, frame_numbers: Sequence[int]) -> dict[int, Path]:
    """The file each of ``frame_numbers`` goes to in the output ``path`` (a movie: the movie for all).

    Raises :class:`UserError` for an unsupported extension, or a single image
    name given for several frames.
    """
    path = Path(path)
    numbers = [int(n) for n in frame_numbers]
    if is_movie_path(path):
        return {n: path for n in numbers}
    image_format(path)
    pattern = parse_pattern(path)
    if pattern is None:
        if len(numbers) != 1:
            raise UserError(
                f"{path} names one image but {len(numbers)} frames are to be written; "
                f"give a sequence pattern such as {path.with_name(path.stem + '.####' + path.suffix)}"
            )
        return {numbers[0]: path}
    return {n: pattern.path(n) for n in numbers}


def open_writer(
    path: str | Path,
    spec: FrameSpec,
    frame_numbers: Sequence[int],
    *,
    overwrite: bool = False,
    protect: Iterable[str | Path] = (),
    source: FrameReader | None = None,
) -> FrameWriter:
    """Open an output for ``frame_numbers``: a sequence pattern, a single image or a movie.

    Before anything is written every target goes through the output guard
    (:func:`.output.check_outputs`): one that is (or links to) a file in
    ``protect`` (the inputs; patterns allowed) raises :class:`UserError` even
    with ``overwrite``; existing targets raise :class:`OutputExistsError` unless
    ``overwrite``. The output directory is created when missing. Every file is
    verified before it appears under its name (see :mod:`.output`); without
    ``overwrite`` it takes its name only if nothing else has by then (another
    command writing the same output at once), else :class:`.output.OutputAppeared`.

    ``source``: the plate's reader. An EXR output of an EXR plate then gets each
    frame's channels that are not edited (``spec.extra_channels``: depth, AOVs)
    from the plate's frame of the same number, bit for bit. ``writer.notes``
    says what the output cannot keep (windows or extra channels in another
    format, extra channels without a ``source``).
    """
    path = Path(path)
    numbers = [int(n) for n in frame_numbers]
    if not numbers:
        raise ValueError(f"{path}: open_writer needs at least one frame number")
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{path}: frame numbers repeat: {numbers}")
    files = output_files(path, numbers)
    check_outputs(sorted(set(files.values())), overwrite=overwrite, protect=protect, frame_numbers=numbers)
    if source is not None and not set(numbers) <= set(source.frame_numbers):
        missing = sorted(set(numbers) - set(source.frame_numbers))
        raise ValueError(f"{path}: the source {source.path} lacks frames {describe_frames(missing)}")
    make_directory(path)
    passes = (
        source is not None and bool(spec.extra_channels) and not is_movie_path(path)
        and image_format(path) == "openexr" and spec.format_name == "openexr"
        and (source.spec.extra_channels, source.spec.stored_types[source.spec.channels:])
        == (spec.extra_channels, spec.stored_types[spec.channels:])
    )
    if is_movie_path(path):
        writer: FrameWriter = MovieWriter(path, spec, numbers, exclusive=not overwrite)
    else:
        writer = SequenceWriter(path, spec, files, source if passes else None, exclusive=not overwrite)
    writer.notes = _notes(path, spec, source, passes)
    return writer
