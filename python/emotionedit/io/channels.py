"""Which channels of an image file are edited, and the pass-through of the others.

A plate's frame array holds its colour channels: R, G, B (and A) when the file
names them so (OpenImageIO lists them first), else all of a file's 1 to 4
channels. Every other channel (depth ``Z``, AOVs such as ``diffuse.R``,
``crypto00.R``, other layers) is not edited: an EXR written from an EXR gets it
back under its name, with its sample type and every bit of every sample
(:func:`read_passthrough` reads it from the source frame, :func:`pack` lays it
beside the edited channels for the encoder, :func:`check_written` reads the
written file back and compares).

OpenImageIO writes a file whose channels differ in type from one buffer of a
single type, converting per channel. A ``float32`` buffer carries ``half`` and
``float`` samples exactly (NaN payloads, infinities, -0 and denormals
included) and ``uint`` samples up to 2**24 = 16777216; a ``uint`` channel with
larger values beside ``half`` or ``float`` channels cannot be carried exactly
and is refused (:class:`~emotionedit.errors.UserError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from ..errors import InputError, UserError
from .output import WriteCheckFailed
from .spec import FrameSpec

#: numpy type of each stored channel type (``FrameSpec.channel_types``).
DTYPE_OF = {
    "uint8": np.dtype(np.uint8),
    "uint16": np.dtype(np.uint16),
    "half": np.dtype(np.float16),
    "float": np.dtype(np.float32),
    "uint": np.dtype(np.uint32),
}
_NAME_OF = {
    oiio.BASETYPE.UINT8: "uint8",
    oiio.BASETYPE.UINT16: "uint16",
    oiio.BASETYPE.HALF: "half",
    oiio.BASETYPE.FLOAT: "float",
    oiio.BASETYPE.UINT32: "uint",
}
#: Channel types an EXR file stores.
EXR_TYPES = frozenset({"half", "float", "uint"})
#: The largest ``uint`` sample a float32 buffer carries exactly through OpenImageIO's conversion.
EXACT_UINT = 2**24
_UINT_MAX = float(np.iinfo(np.uint32).max)


def edited_count(path: Path, names: Sequence[str]) -> int:
    """How many leading channels of a file with channel ``names`` the frame array holds.

    4 when the names start R, G, B, A; 3 when they start R, G, B; otherwise all of
    them when there are at most 4 (a grey or unnamed image, as before); raises
    :class:`InputError` for more than 4 channels without an R, G, B set.
    """
    for count in (4, 3):
        if tuple(names[:count]) == ("R", "G", "B", "A")[:count]:
            return count
    if len(names) <= 4:
        return len(names)
    raise InputError(
        f"{path} has {len(names)} channels {tuple(names)} and none of them is an RGB(A) set; "
        f"give an image whose first channels are R, G, B (and A)"
    )


def channel_types(header: oiio.ImageSpec) -> tuple[str, ...]:
    """The stored type of every channel of ``header`` (types without a name here read as ``float``)."""
    formats = list(header.channelformats) or [header.format] * header.nchannels
    return tuple(_NAME_OF.get(kind.basetype, "float") for kind in formats)


def _runs(types: Sequence[str], start: int) -> list[tuple[int, int, str]]:
    """``(begin, end, type)`` of each run of equal ``types``, channel indices counted from ``start``."""
    runs: list[tuple[int, int, str]] = []
    for offset, kind in enumerate(types):
        index = start + offset
        if runs and runs[-1][2] == kind and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1, kind)
        else:
            runs.append((index, index + 1, kind))
    return runs


def read_passthrough(path: Path, image: oiio.ImageInput, spec: FrameSpec) -> tuple[np.ndarray, ...]:
    """The samples of ``spec.extra_channels`` of the open ``image``, as stored.

    Returns one ``(spec.height, spec.width)`` array per extra channel, of the
    channel's own type (``half``: float16, ``float``: float32, ``uint``: uint32,
    ``uint8``/``uint16``). Raises :class:`InputError` naming ``path`` when they
    cannot be decoded.
    """
    types = spec.stored_types[spec.channels:]
    arrays: list[np.ndarray] = []
    for begin, end, kind in _runs(types, spec.channels):
        pixels = image.read_image(0, 0, begin, end, oiio.TypeDesc(kind))
        error = image.geterror()
        if pixels is None or image.has_error or error:
            raise InputError(
                f"{path} is corrupt or truncated: {error.strip() or 'its extra channels could not be read'}; "
                f"re-render or re-copy this file"
            )
        pixels = np.asarray(pixels).reshape(spec.height, spec.width, end - begin)
        arrays.extend(np.ascontiguousarray(pixels[:, :, i]) for i in range(end - begin))
    return tuple(arrays)


def pack(
    edited: np.ndarray, edited_types: Sequence[str], extras: Sequence[np.ndarray], extra_types: Sequence[str],
    names: Sequence[str],
) -> np.ndarray:
    """One ``(H, W, C + E)`` buffer for the encoder: the edited channels, then ``extras``.

    ``edited``: ``(H, W, C)`` of the type of ``edited_types`` (float16 or float32
    when they differ); ``extras``: ``(H, W)`` arrays of ``extra_types``;
    ``names``: every channel's name, for messages. Types are EXR's (``half``,
    ``float``, ``uint``). The buffer has the channels' own type when they all
    share one, else float32 (``uint`` samples scaled to [0, 1] as OpenImageIO
    expects). Raises :class:`UserError` for a ``uint``
    sample over :data:`EXACT_UINT` that a float32 buffer would change.
    """
    types = list(edited_types) + list(extra_types)
    if len(set(types)) == 1:
        dtype = DTYPE_OF[types[0]]
        return np.ascontiguousarray(np.dstack([edited.astype(dtype, copy=False), *extras]))
    planes = [edited.astype(np.float32, copy=False)]
    for index, (plane, kind) in enumerate(zip(extras, extra_types, strict=True)):
        if kind == "uint":
            largest = int(plane.max(initial=0))
            if largest > EXACT_UINT:
                name = names[len(edited_types) + index]
                raise UserError(
                    f"channel {name!r} holds whole numbers up to {largest}, and OpenImageIO cannot write samples "
                    f"over {EXACT_UINT} exactly beside half or float channels, so it could not be passed through "
                    f"bit for bit: store that channel as float in the plate, or take it out of the plate "
                    f"(e.g. oiiotool plate.exr --ch R,G,B,A) and comp it back from the original"
                )
            plane = (plane.astype(np.float64) / _UINT_MAX).astype(np.float32)
        planes.append(plane.astype(np.float32, copy=False))
    return np.ascontiguousarray(np.dstack(planes))


def _bits(array: np.ndarray) -> np.ndarray:
    return array.view({1: np.uint8, 2: np.uint16, 4: np.uint32}[array.dtype.itemsize])


def check_written(path: Path, written: FrameSpec, extras: Sequence[np.ndarray]) -> None:
    """Check that the EXR ``path`` reads back as ``written`` says, and its extra channels as ``extras``, exactly.

    ``written``: the windows, channel names (``channel_names`` then
    ``extra_channels``) and stored types the file was written with; ``extras``:
    the samples of its extra channels, compared bit for bit. Raises
    :class:`WriteCheckFailed` saying what differs.
    """
    image = oiio.ImageInput.open(str(path))
    if image is None:
        raise WriteCheckFailed(f"it cannot be opened again: {oiio.geterror() or 'unknown error'}")
    try:
        header = image.spec()
        windows = ((header.x, header.y), (header.full_x, header.full_y, header.full_width, header.full_height))
        if windows != (written.origin, written.display):
            raise WriteCheckFailed(
                f"it reads back with data window origin {windows[0]} and display window {windows[1]}, "
                f"{written.origin} and {written.display} were written"
            )
        names = written.channel_names + written.extra_channels
        found = (tuple(header.channelnames), channel_types(header))
        if found != (names, written.stored_types):
            raise WriteCheckFailed(
                f"it reads back with channels {found[0]} of types {found[1]}, "
                f"{names} of types {written.stored_types} were written"
            )
        for name, back, sent in zip(written.extra_channels, read_passthrough(path, image, written), extras,
                                    strict=True):
            if back.shape != sent.shape or not np.array_equal(_bits(back), _bits(sent)):
                raise WriteCheckFailed(f"its channel {name!r} reads back different from the source's")
    except InputError as exc:
        raise WriteCheckFailed(str(exc)) from exc
    finally:
        image.close()
