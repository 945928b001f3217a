"""The reader and writer interfaces every frame source and target implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np

from .spec import FrameSpec


class FrameReader(ABC):
    """Frames of a plate, by frame number.

    Attributes:
        path: what was opened (a pattern, a still image or a movie).
        spec: size, channels, sample type, rate and attributes of every frame.
        frame_numbers: the frames this reader gives, ascending.

    ``read(n)`` returns one frame; iterating yields ``(frame_number, array)`` for
    every frame in order (the fast way for movies). Arrays are
    ``(spec.height, spec.width, spec.channels)`` of ``spec.dtype``: the data
    window's pixels, its colour channels. :meth:`read_passthrough` gives the
    other channels (``spec.extra_channels``). Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, path: Path, spec: FrameSpec, frame_numbers: list[int]) -> None:
        self.path = path
        self.spec = spec
        self.frame_numbers = list(frame_numbers)
        self._number_set = frozenset(self.frame_numbers)

    def __len__(self) -> int:
        return len(self.frame_numbers)

    def _check_number(self, frame_number: int) -> None:
        if frame_number not in self._number_set:
            raise ValueError(
                f"{self.path}: frame {frame_number} is not one of this reader's frames "
                f"({self.frame_numbers[0]}-{self.frame_numbers[-1]}, {len(self)} frames)"
            )

    @abstractmethod
    def read(self, frame_number: int) -> np.ndarray:
        """Frame ``frame_number`` as ``(H, W, C)`` of ``spec.dtype``."""

    def read_passthrough(self, frame_number: int) -> tuple[np.ndarray, ...]:
        """The samples of ``spec.extra_channels`` of frame ``frame_number``, as stored.

        One ``(spec.height, spec.width)`` array per extra channel, of its stored
        type (float16, float32 or uint32 for EXR); ``()`` when there are none.
        """
        self._check_number(frame_number)
        return ()

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for number in self.frame_numbers:
            yield number, self.read(number)

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release open files; the reader cannot be used afterwards."""

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        size = f"{self.spec.width}x{self.spec.height}"
        return f"{type(self).__name__}({str(self.path)!r}, {len(self)} frames, {size})"


class FrameWriter(ABC):
    """Writes the frames of an output, by frame number.

    Attributes:
        path: the output as given (a pattern, a single image or a movie).
        spec: what every frame given to :meth:`write` must match.
        frame_numbers: the frames that will be written.
        targets: the files that will exist when all frames are written.
        notes: what the output cannot keep of the plate (an EXR's windows or
            extra channels in another format), one sentence each, for the user.

    :meth:`write` takes ``(spec.height, spec.width, spec.channels)`` arrays of
    exactly ``spec.dtype`` (anything else is a programming error: ``ValueError``).
    Use as a context manager: leaving it by an exception removes a partial movie.
    """

    def __init__(self, path: Path, spec: FrameSpec, frame_numbers: list[int], targets: list[Path]) -> None:
        self.path = path
        self.spec = spec
        self.frame_numbers = list(frame_numbers)
        self.targets = list(targets)
        self.notes: list[str] = []
        self._closed = False

    def __len__(self) -> int:
        return len(self.frame_numbers)

    def _check_frame(self, frame_number: int, pixels: np.ndarray) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write() after close()")
        is_array = isinstance(pixels, np.ndarray)
        if not is_array or pixels.shape != self.spec.shape or pixels.dtype != self.spec.dtype:
            got = (
                f"{pixels.shape} {pixels.dtype}" if is_array else type(pixels).__name__
            )
            raise ValueError(
                f"{self.path}: frame {frame_number} must be an array {self.spec.shape} {self.spec.dtype}, "
                f"got {got}"
            )

    @abstractmethod
    def write(self, frame_number: int, pixels: np.ndarray) -> None:
        """Write frame ``frame_number``."""

    @abstractmethod
    def close(self) -> None:
        """Finish the output (a movie appears under its name only now)."""

    def abort(self) -> None:
        """Stop after a failure: keep whole files, remove anything partial."""
        self.close()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is None:
            self.close()
        else:
            self.abort()
