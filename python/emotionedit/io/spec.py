"""What a stream of frames is: size, channels, sample type, rate and file attributes.

:class:`FrameSpec` is shared by every reader and writer in :mod:`emotionedit.io`;
it is a frozen, hashable value so the engine can compare or cache by it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

#: Sample types a frame array can have. Other stored types are read as float32.
SAMPLE_DTYPES: tuple[np.dtype, ...] = (
    np.dtype(np.uint8),
    np.dtype(np.uint16),
    np.dtype(np.float16),
    np.dtype(np.float32),
)

#: ``FrameSpec.format_name`` values.
IMAGE_FORMATS: tuple[str, ...] = ("openexr", "png", "dpx", "tiff", "jpeg")
MOVIE_FORMAT = "movie"

#: Frame rate assumed for image sequences that do not carry one.
DEFAULT_FPS = 24.0


@dataclass(frozen=True)
class AttributeValue:
    """A file attribute whose value is not a plain ``str``, ``int`` or ``float``.

    ``type_code`` is OpenImageIO's ``(basetype, aggregate, vecsemantics, arraylen)``
    so the attribute is written back with exactly the type it was read with
    (``rational2i``, ``timecode``, ``matrix``, ...); ``type_name`` is that type as
    text, for people; ``value`` is the value as OpenImageIO returns it (a scalar or
    a flat tuple).
    """

    type_name: str
    type_code: tuple[int, int, int, int]
    value: object


@dataclass(frozen=True)
class FrameSpec:
    """Description of every frame of a plate or an output.

    Attributes:
        width, height: frame size in pixels; arrays are ``(height, width, channels)``.
        channels: 3 (RGB) or 4 (RGBA); 1 and 2 can be read, the engine refuses them.
        channel_names: one name per channel, e.g. ``("R", "G", "B", "A")``.
        dtype: the stored sample type, one of uint8, uint16, float16, float32;
            arrays from a reader have it, arrays given to a writer must have it.
            Integer samples are full-range codes (0..255, 0..65535); float
            samples are scene values as stored (may exceed [0, 1], be negative,
            NaN or inf).
        fps: frames per second (movies: the container's rate; sequences: the
            ``FramesPerSecond`` attribute, else 24.0).
        metadata: ``(name, value)`` pairs of the file's attributes, to carry to
            outputs; values are ``str``, ``int``, ``float`` or
            :class:`AttributeValue`.
        format_name: ``"openexr"``, ``"png"``, ``"dpx"``, ``"tiff"``, ``"jpeg"`` or
            ``"movie"``.
    """

    width: int
    height: int
    channels: int
    channel_names: tuple[str, ...]
    dtype: np.dtype
    fps: float
    metadata: tuple[tuple[str, object], ...] = ()
    format_name: str = "openexr"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        object.__setattr__(self, "channel_names", tuple(self.channel_names))
        object.__setattr__(self, "metadata", tuple((str(k), v) for k, v in self.metadata))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"FrameSpec needs a positive size, got {self.width}x{self.height}")
        if not 1 <= self.channels <= 4:
            raise ValueError(f"FrameSpec needs 1 to 4 channels, got {self.channels}")
        if len(self.channel_names) != self.channels:
            raise ValueError(
                f"FrameSpec has {self.channels} channels but {len(self.channel_names)} names "
                f"{self.channel_names}"
            )
        if self.dtype not in SAMPLE_DTYPES:
            raise ValueError(
                f"FrameSpec dtype must be one of {[d.name for d in SAMPLE_DTYPES]}, got {self.dtype}"
            )
        if not self.fps > 0:
            raise ValueError(f"FrameSpec needs a positive fps, got {self.fps}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of every frame array."""
        return (self.height, self.width, self.channels)

    def attribute(self, name: str, default: object = None) -> object:
        """The value of metadata attribute ``name``, or ``default``."""
        for key, value in self.metadata:
            if key == name:
                return value
        return default

    def replace(self, **changes: object) -> FrameSpec:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


def default_channel_names(channels: int) -> tuple[str, ...]:
    """Conventional names for 1 to 4 channels: Y, YA, RGB, RGBA."""
    return {1: ("Y",), 2: ("Y", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}[channels]
