"""Reading and writing frames: image sequences (EXR, DPX, TIFF, PNG, JPEG) and movies.

Entry points: :func:`open_frames` (read a plate), :func:`open_writer` (write an
output), :func:`parse_frames` (the frame-range syntax, see :mod:`.ranges`),
:func:`is_movie_path`, :func:`frame_path`.
Every file any command writes goes through :func:`check_outputs` (the output
guard, before any work) and :func:`staged` (written under a temporary name,
read back, then renamed); see :mod:`.output`.
"""

from __future__ import annotations

from .base import FrameReader, FrameWriter
from .frames import SequenceReader, SequenceWriter, open_frames, open_writer, output_files
from .images import verify_image
from .movie import MOVIE_EXTENSIONS, MovieReader, MovieWriter, is_movie_path
from .output import WriteCheckFailed, check_outputs, staged
from .ranges import FrameRange, frames_text, parse_frames
from .sequence import describe_frames, frame_path, parse_frame_range, parse_pattern
from .spec import DEFAULT_FPS, AttributeValue, FrameSpec

__all__ = [
    "DEFAULT_FPS",
    "MOVIE_EXTENSIONS",
    "AttributeValue",
    "FrameRange",
    "FrameReader",
    "FrameSpec",
    "FrameWriter",
    "MovieReader",
    "MovieWriter",
    "SequenceReader",
    "SequenceWriter",
    "WriteCheckFailed",
    "check_outputs",
    "describe_frames",
    "frame_path",
    "frames_text",
    "is_movie_path",
    "open_frames",
    "open_writer",
    "output_files",
    "parse_frame_range",
    "parse_frames",
    "parse_pattern",
    "staged",
    "verify_image",
]
