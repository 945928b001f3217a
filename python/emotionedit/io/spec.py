"""What a stream of frames is: size, windows, channels, sample type, rate and file attributes.

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

#: Stored sample types of a file's channels, by OpenImageIO's name.
CHANNEL_TYPES: tuple[str, ...] = ("uint8", "uint16", "half", "float", "uint")


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
        origin: ``(x, y)`` in pixels of the data window's top-left pixel in the
            image's coordinates (OpenEXR's ``dataWindow.min``; ``y`` grows
            downwards, either may be negative). A frame array holds the data
            window: its pixel ``[row, col]`` is the image's pixel
            ``(origin[0] + col, origin[1] + row)``. Analysis and render work on
            these arrays, so landmarks and ``--face x,y`` are data-window pixels.
        display_window: ``(x, y, width, height)`` in pixels of the display window
            (what the picture is framed as; OpenEXR's ``displayWindow``), or
            ``None`` when it is the data window itself. A data window larger than
            it is overscan; smaller, a cropped data window.
        extra_channels: names of the file's channels that are not in the frame
            array (depth ``Z``, AOVs, other layers), in the file's order; EXR
            outputs pass them through unchanged (see :mod:`.channels`).
        channel_types: the stored sample type of every channel of the file, the
            frame array's ``channels`` first, then ``extra_channels``, as
            OpenImageIO names them (one of :data:`CHANNEL_TYPES`); ``()`` when
            every channel is stored as ``dtype``.
    """

    width: int
    height: int
    channels: int
    channel_names: tuple[str, ...]
    dtype: np.dtype
    fps: float
    metadata: tuple[tuple[str, object], ...] = ()
    format_name: str = "openexr"
    origin: tuple[int, int] = (0, 0)
    display_window: tuple[int, int, int, int] | None = None
    extra_channels: tuple[str, ...] = ()
    channel_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        object.__setattr__(self, "channel_names", tuple(self.channel_names))
        object.__setattr__(self, "metadata", tuple((str(k), v) for k, v in self.metadata))
        object.__setattr__(self, "origin", tuple(int(v) for v in self.origin))
        if self.display_window is not None:
            object.__setattr__(self, "display_window", tuple(int(v) for v in self.display_window))
        object.__setattr__(self, "extra_channels", tuple(self.extra_channels))
        object.__setattr__(self, "channel_types", tuple(self.channel_types))
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
        if len(self.origin) != 2:
            raise ValueError(f"FrameSpec origin must be (x, y), got {self.origin}")
        if self.display_window is not None and (
            len(self.display_window) != 4 or self.display_window[2] <= 0 or self.display_window[3] <= 0
        ):
            raise ValueError(
                f"FrameSpec display_window must be (x, y, width, height) with a positive size, "
                f"got {self.display_window}"
            )
        if self.channel_types:
            count = self.channels + len(self.extra_channels)
            if len(self.channel_types) != count:
                raise ValueError(
                    f"FrameSpec has {count} channels ({self.channels} + {len(self.extra_channels)} extra) but "
                    f"{len(self.channel_types)} channel types {self.channel_types}"
                )
            unknown = [t for t in self.channel_types if t not in CHANNEL_TYPES]
            if unknown:
                raise ValueError(f"FrameSpec channel types must be among {CHANNEL_TYPES}, got {unknown}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of every frame array."""
        return (self.height, self.width, self.channels)

    @property
    def data_window(self) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` of the data window: the pixels a frame array holds."""
        return (self.origin[0], self.origin[1], self.width, self.height)

    @property
    def display(self) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` of the display window (the data window when none is set)."""
        return self.data_window if self.display_window is None else self.display_window

    @property
    def plain_window(self) -> bool:
        """True when the data window is the display window at (0, 0): a format without windows loses nothing."""
        return self.origin == (0, 0) and self.display == self.data_window

    @property
    def stored_types(self) -> tuple[str, ...]:
        """:attr:`channel_types`, or ``dtype``'s name for every channel when it is empty."""
        if self.channel_types:
            return self.channel_types
        name = {"uint8": "uint8", "uint16": "uint16", "float16": "half", "float32": "float"}[self.dtype.name]
        return (name,) * (self.channels + len(self.extra_channels))

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
