"""Movie files through OpenCV (FFmpeg): read frames as RGB uint8, write them.

Frame numbers of a movie are 0-based frame indices. Reading is sequential after
one seek to the first frame asked for; a movie whose header promises more frames
than it holds fails with :class:`InputError` at the first missing frame.
Writing goes to a hidden temporary file that is decoded back (every frame counted)
and only then renamed to its name when the writer closes. Frames are encoded on a
worker thread behind the caller (:class:`~emotionedit.prefetch.WriteBehind`), so that
encoding one frame overlaps with rendering the next.

Memory: FFmpeg's FFV1 encoder (``.mkv``, ``.avi``) allocates, and OpenCV's build keeps resident,
a worst-case packet buffer of 37 x 4 bytes a pixel for as long as it is open (FFmpeg's
``ffv1enc.c``), and OpenCV passes the encoder no option that would change it. Measured from the
first frame written: 334 MiB at 1080p, 1.3 GiB at 4K; mp4v takes about 10 MiB at 1080p.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, UserError
from ..prefetch import WriteBehind
from .base import FrameReader, FrameWriter
from .images import convert_samples
from .output import WriteCheckFailed, make_directory, publish, remove_quietly, temporary_name, write_failed
from .ranges import FrameRange
from .sequence import select_frames
from .spec import DEFAULT_FPS, MOVIE_FORMAT, FrameSpec

#: Frames the movie encoder may have waiting behind :meth:`MovieWriter.write` (one more is being encoded).
ENCODER_DEPTH = 1
#: Extensions read as movies.
MOVIE_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"})
#: Extensions written as movies, with their codec: mp4v (MPEG-4 part 2, lossy) or FFV1 (lossless).
MOVIE_CODECS = {".mp4": "mp4v", ".mov": "mp4v", ".m4v": "mp4v", ".mkv": "FFV1", ".avi": "FFV1"}


def is_movie_path(path: str | Path) -> bool:
    """Whether ``path`` names a movie file (by extension, any case)."""
    return Path(path).suffix.lower() in MOVIE_EXTENSIONS


def _capture(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise InputError(f"{path} cannot be opened as a movie (not a movie, or a codec FFmpeg lacks)")
    return capture


class MovieReader(FrameReader):
    """Frames of a movie file as RGB uint8 ``(H, W, 3)``, by 0-based frame index."""

    def __init__(self, path: str | Path, frame_range: FrameRange | tuple[int, int] | None = None) -> None:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path} does not exist or is not a file; check the path")
        self._capture = _capture(path)
        try:
            self._count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
            if self._count <= 0:
                self._count = self._count_by_decoding(path)
            ok, first = self._capture.read()
            if not ok or self._count <= 0:
                raise InputError(f"{path} holds no frame that can be decoded; check the file")
            fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        except BaseException:
            self._capture.release()
            raise
        self._next = 1
        self._first_frame: np.ndarray | None = first
        height, width = first.shape[:2]
        spec = FrameSpec(
            width=width,
            height=height,
            channels=3,
            channel_names=("R", "G", "B"),
            dtype=np.dtype(np.uint8),
            fps=fps if 0 < fps < 10000 else DEFAULT_FPS,
            metadata=(),
            format_name=MOVIE_FORMAT,
        )
        try:
            numbers = select_frames(list(range(self._count)), frame_range, f"movie {path}")
        except BaseException:
            self.close()
            raise
        super().__init__(path, spec, numbers)

    def _count_by_decoding(self, path: Path) -> int:
        count = 0
        while self._capture.grab():
            count += 1
        self._capture.release()
        self._capture = _capture(path)
        return count

    def _seek(self, frame_number: int) -> None:
        """Position the capture so that the next read returns ``frame_number``."""
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, frame_number)
        if int(round(self._capture.get(cv2.CAP_PROP_POS_FRAMES))) != frame_number:
            # The container cannot seek exactly: decode from the start.
            self._capture.release()
            self._capture = _capture(self.path)
            for index in range(frame_number):
                if not self._capture.grab():
                    self._ended(index)
        self._next = frame_number

    def _ended(self, frame_number: int) -> None:
        raise InputError(
            f"{self.path}: frame {frame_number} cannot be decoded: the movie ends early, though its header "
            f"says {self._count} frames (0-{self._count - 1}); re-encode the movie, or give a frame range "
            f"that ends before {frame_number}"
        )

    def read(self, frame_number: int) -> np.ndarray:
        """Frame ``frame_number`` as RGB uint8 ``(H, W, 3)``; sequential reads do not seek."""
        self._check_number(frame_number)
        if self._capture is None:
            raise ValueError(f"{self.path}: read() after close()")
        if frame_number == 0 and self._first_frame is not None:
            bgr = self._first_frame
        else:
            if frame_number != self._next:
                self._seek(frame_number)
            ok, bgr = self._capture.read()
            if not ok:
                self._ended(frame_number)
            self._next = frame_number + 1
        self._first_frame = None
        if bgr.shape[:2] != (self.spec.height, self.spec.width):
            raise InputError(
                f"{self.path}: frame {frame_number} is {bgr.shape[1]}x{bgr.shape[0]}, but the movie starts "
                f"at {self.spec.width}x{self.spec.height}; re-encode it at one size"
            )
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._first_frame = None


#: A movie's read-back is split over threads only when each reads at least this many frames.
VERIFY_PART_FRAMES = 8
#: At most this many threads read a movie back (each has its own decoder).
VERIFY_PARTS = 4


def verify_movie(path: Path, width: int, height: int, frames: int, fps: float | None = None) -> None:
    """Check that the movie file ``path`` decodes to exactly ``frames`` frames of ``width`` x ``height``.

    Every frame is decoded (a movie cut short by a full disk holds fewer, or
    cannot be opened at all). Raises :class:`WriteCheckFailed` saying what was found.
    fps: the frame rate it was written at. Given, on a machine with several cores, the movie is decoded
    in consecutive ranges on as many threads (FFmpeg decodes an FFV1 frame on one core: 0.1 s at 1080p),
    each range checking that its frames are the ones expected there by their timestamps, and the
    last that no frame follows; a movie that any range doubts is decoded again in one pass, which
    decides and says what was found.
    """
    parts = min(VERIFY_PARTS, os.cpu_count() or 1, frames // VERIFY_PART_FRAMES)
    if fps and parts > 1:
        bounds = [round(i * frames / parts) for i in range(parts + 1)]
        doubt = threading.Event()  # a range that doubts stops the others; so does an interrupt (Ctrl-C, SIGTERM)
        with ThreadPoolExecutor(parts, thread_name_prefix="emotionedit-movie-check") as pool:
            try:
                checks = [pool.submit(_frames_in_order, path, width, height, fps, first, end - first, end == frames,
                                      doubt) for first, end in itertools.pairwise(bounds)]
                whole = [check.result() for check in checks]
            except BaseException:
                doubt.set()
                raise
        if all(whole):
            return
    _count_frames(path, width, height, frames)


def _open_checked(path: Path, width: int, height: int) -> cv2.VideoCapture:
    """The movie opened for the read-back, its size checked (:class:`WriteCheckFailed` otherwise)."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise WriteCheckFailed("it cannot be opened as a movie (the container is incomplete)")
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    if size != (width, height):
        capture.release()
        raise WriteCheckFailed(f"it reads back as {size[0]}x{size[1]}, {width}x{height} was written")
    return capture


def _count_frames(path: Path, width: int, height: int, frames: int) -> None:
    """The read-back in one pass: every frame decoded and counted."""
    capture = _open_checked(path, width, height)
    try:
        count = 0
        while capture.grab():
            count += 1
    finally:
        capture.release()
    if count != frames:
        raise WriteCheckFailed(f"it holds {count} decodable frames, {frames} were written")


def _frames_in_order(path: Path, width: int, height: int, fps: float, first: int, count: int, last: bool,
                     doubt: threading.Event) -> bool:
    """Whether frames ``first``..``first + count - 1`` of the movie decode, in order, each with the timestamp of
    its place at ``fps`` (a frame lost in between shows as a gap), and, when ``last``, no frame follows them.
    Sets ``doubt`` when they do not; stops (False) as soon as ``doubt`` is set."""
    whole = False
    try:
        capture = _open_checked(path, width, height)
    except WriteCheckFailed:
        doubt.set()
        return False
    try:
        if first:
            capture.set(cv2.CAP_PROP_POS_FRAMES, first)
            if int(round(capture.get(cv2.CAP_PROP_POS_FRAMES))) != first:
                return False
        for index in range(first, first + count):
            if doubt.is_set() or not capture.grab():
                return False
            if round(capture.get(cv2.CAP_PROP_POS_MSEC) * fps / 1000.0) != index:
                return False
        whole = not (last and capture.grab())
        return whole
    finally:
        capture.release()
        if not whole:
            doubt.set()


def _open_encoder(path: Path, codec: str, fps: float, width: int, height: int) -> cv2.VideoWriter:
    """An OpenCV (FFmpeg) encoder writing ``codec`` into the file ``path``."""
    return cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (width, height))


class MovieWriter(FrameWriter):
    """Writes frames, in ``frame_numbers`` order, into a movie at ``spec.fps``.

    Frames are converted to 8-bit RGB: alpha is dropped, one channel is repeated,
    uint16 is scaled, floats are clipped to [0, 1] (no colour transform). The
    movie appears under its name only when :meth:`close` has decoded it back and
    counted every frame (:func:`verify_movie`); with ``exclusive``, only if no file
    has its name by then (:class:`.output.OutputAppeared` otherwise).
    :meth:`write` converts the frame (so the caller may reuse its array at once) and
    queues it for the encoder, which runs on a worker thread at most two frames behind
    (one waiting, one being encoded); an encoder error is raised by a later :meth:`write`
    or by :meth:`close`. The converted frames go into a ring of three 8-bit buffers made once
    (6 MB each at 1080p).
    """

    def __init__(self, path: str | Path, spec: FrameSpec, frame_numbers: list[int], exclusive: bool = False) -> None:
        path = Path(path)
        self._exclusive = exclusive
        codec = MOVIE_CODECS.get(path.suffix.lower())
        if codec is None:
            raise UserError(
                f"{path}: movies can be written as {', '.join(sorted(MOVIE_CODECS))}; "
                f"choose one of those or write an image sequence such as out.####.exr"
            )
        if spec.width % 2 or spec.height % 2:
            raise UserError(
                f"{path}: movies need an even width and height, the frames are {spec.width}x{spec.height}; "
                f"write an image sequence such as out.####.exr instead"
            )
        super().__init__(path, spec, frame_numbers, [path])
        make_directory(path)
        self._temporary = temporary_name(path)
        self._writer = _open_encoder(self._temporary, codec, float(spec.fps), spec.width, spec.height)
        if not self._writer.isOpened():
            self._writer.release()
            remove_quietly(self._temporary)
            raise UserError(
                f"{path}: cannot start a {codec} {path.suffix} movie in {path.parent}: the folder is not writable "
                f"or full, or this OpenCV lacks the codec; check the folder, or write .mp4 or an image "
                f"sequence such as out.####.exr instead"
            )
        self._written = 0
        self._encoder = WriteBehind(self._writer.write, depth=ENCODER_DEPTH, name="emotionedit-movie-encoder")
        # Frame n is converted into buffer n % len: when write() returns, at most ENCODER_DEPTH frames wait and
        # one is being encoded, so the buffer frame n - len used is free again. Made on the first write.
        self._buffers: list[np.ndarray | None] = [None] * (ENCODER_DEPTH + 2)

    def write(self, frame_number: int, pixels: np.ndarray) -> None:
        """Append frame ``frame_number``, which must be the next one of ``frame_numbers``."""
        self._check_frame(frame_number, pixels)
        if self._written >= len(self.frame_numbers) or frame_number != self.frame_numbers[self._written]:
            expected = self.frame_numbers[self._written] if self._written < len(self.frame_numbers) else None
            raise ValueError(
                f"{self.path}: movie frames must be written in order; expected frame {expected}, "
                f"got {frame_number}"
            )
        rgb = convert_samples(pixels, np.dtype(np.uint8))
        channels = rgb.shape[2]
        if channels < 3:  # grey (and alpha): repeated
            source, code = rgb[:, :, 0], cv2.COLOR_GRAY2BGR
        elif channels == 4:  # alpha dropped by the conversion itself
            source, code = rgb, cv2.COLOR_RGBA2BGR
        else:
            source, code = rgb[:, :, :3], cv2.COLOR_RGB2BGR
        # The encoder's own copy, in the ring: the caller's array is free again when write() returns.
        slot = self._written % len(self._buffers)
        if self._buffers[slot] is None:
            self._buffers[slot] = np.empty((self.spec.height, self.spec.width, 3), np.uint8)
        self._encoder.submit(cv2.cvtColor(np.ascontiguousarray(source), code, dst=self._buffers[slot]))
        self._written += 1

    def close(self) -> None:
        """Finish the movie, decode it back and move it to its name (nothing appears if no frame was written).

        Raises :class:`UserError` when the movie does not hold every frame written
        (a full disk): the partial movie is removed, nothing is left under the name.
        """
        if self._closed:
            return
        self._closed = True
        try:
            try:
                self._encoder.finish()
            except BaseException:
                self._encoder.abort()  # interrupted: the frame being encoded is finished before the release
                raise
            finally:
                self._writer.release()
        except cv2.error as exc:
            remove_quietly(self._temporary)
            raise write_failed(self.path, f"the encoder failed: {exc}") from exc
        except BaseException:
            remove_quietly(self._temporary)
            raise
        if self._written == 0:
            remove_quietly(self._temporary)
            return

        def verify(temporary: Path) -> None:
            verify_movie(temporary, self.spec.width, self.spec.height, self._written, float(self.spec.fps))

        publish(self._temporary, self.path, verify, exclusive=self._exclusive)

    def abort(self) -> None:
        """Drop the partial movie."""
        if self._closed:
            return
        self._closed = True
        try:
            self._encoder.abort()
            self._writer.release()
        finally:
            remove_quietly(self._temporary)
