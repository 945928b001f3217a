"""Single image files through OpenImageIO: read one, write one atomically.

Pixels are read as the file stores them (alpha not premultiplied when the file
keeps it unassociated, e.g. PNG), in the file's own sample type. A frame array
holds the file's data window (its pixel [0, 0] is the data window's top-left
pixel, at ``FrameSpec.origin``), and its colour channels; the other channels
(depth, AOVs) are read on their own (:func:`read_extra_channels`). EXR outputs
get the data and display windows back, and the channels that were not edited
(see :mod:`.channels`); other formats hold the data window's pixels, as a plain
image. Writing goes to a hidden temporary file in the target directory which is
read back and then renamed over the target, so a target name only ever holds a
whole image.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from ..errors import InputError, UserError
from .attributes import apply_attributes, carried, fps_from_attributes, read_attributes
from .channels import DTYPE_OF, channel_types, check_written, edited_count, pack, read_passthrough
from .output import WriteCheckFailed, staged, write_failed
from .spec import DEFAULT_FPS, FrameSpec, default_channel_names

#: File extension (lower case) -> ``FrameSpec.format_name``.
FORMAT_BY_EXTENSION = {
    ".exr": "openexr",
    ".png": "png",
    ".dpx": "dpx",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
}

_TYPE_NAME = {
    np.dtype(np.uint8): "uint8",
    np.dtype(np.uint16): "uint16",
    np.dtype(np.float16): "half",
    np.dtype(np.float32): "float",
    np.dtype(np.uint32): "uint",
}
# Sample types each format stores, best first for conversions.
_STORABLE = {
    "openexr": (np.dtype(np.float16), np.dtype(np.float32)),
    "png": (np.dtype(np.uint8), np.dtype(np.uint16)),
    "dpx": (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32)),
    "tiff": (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32)),
    "jpeg": (np.dtype(np.uint8),),
}
# Compression that never loses data (JPEG: quality).
_COMPRESSION = {"openexr": "zip", "tiff": "zip", "jpeg": "jpeg:95"}


def image_format(path: str | Path) -> str:
    """``FrameSpec.format_name`` for an image file name; :class:`UserError` if unsupported."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMAT_BY_EXTENSION:
        known = " ".join(sorted(FORMAT_BY_EXTENSION))
        what = suffix or "no extension"
        raise UserError(f"{path}: {what} is not a supported image type; use one of {known}")
    return FORMAT_BY_EXTENSION[suffix]


def _open_input(path: Path) -> oiio.ImageInput:
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; check the path")
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    image = oiio.ImageInput.open(str(path), config)
    if image is None:
        raise InputError(f"{path} cannot be read as an image: {oiio.geterror() or 'unknown error'}")
    return image


def _spec_from(path: Path, header: oiio.ImageSpec, format_name: str) -> tuple[FrameSpec, int]:
    """The FrameSpec of an open image and how many leading channels to read."""
    if header.deep:
        raise InputError(f"{path} holds deep data, which EmotionEdit cannot edit; give a flat image")
    names = tuple(header.channelnames) or default_channel_names(min(header.nchannels, 4))
    channels = edited_count(path, names)
    types = channel_types(header)[: len(names)]
    edited = set(types[:channels])
    # The edited channels' own type; float32 when they differ or are stored otherwise (uint32, int16, double).
    kind = edited.pop() if len(edited) == 1 else "float"
    dtype = DTYPE_OF[kind] if kind != "uint" else np.dtype(np.float32)
    name_of_dtype = {v: k for k, v in DTYPE_OF.items()}[dtype]
    data = (header.x, header.y, header.width, header.height)
    display = (header.full_x, header.full_y, header.full_width, header.full_height)
    spec = FrameSpec(
        width=header.width,
        height=header.height,
        channels=channels,
        channel_names=names[:channels],
        dtype=dtype,
        fps=fps_from_attributes(header) or DEFAULT_FPS,
        metadata=read_attributes(header),
        format_name=format_name,
        origin=(header.x, header.y),
        display_window=None if display == data or display[2] <= 0 or display[3] <= 0 else display,
        extra_channels=names[channels:],
        channel_types=() if set(types) == {name_of_dtype} else types,
    )
    return spec, channels


def probe_image(path: str | Path) -> FrameSpec:
    """The :class:`FrameSpec` of an image file, from its header only."""
    path = Path(path)
    format_name = image_format(path)
    image = _open_input(path)
    try:
        return _spec_from(path, image.spec(), format_name)[0]
    finally:
        image.close()


def read_image(path: str | Path, dtype: np.dtype | None = None) -> tuple[np.ndarray, FrameSpec]:
    """Pixels and :class:`FrameSpec` of an image file.

    Returns an array ``(height, width, channels)`` of ``dtype`` (default: the
    file's own type, see :class:`FrameSpec`); OpenImageIO converts other types
    (integers to floats are scaled to [0, 1]). Raises :class:`InputError`
    naming the file when it is missing, not an image, corrupt or truncated.
    """
    path = Path(path)
    format_name = image_format(path)
    image = _open_input(path)
    try:
        spec, channels = _spec_from(path, image.spec(), format_name)
        want = np.dtype(dtype) if dtype is not None else spec.dtype
        pixels = image.read_image(0, 0, 0, channels, oiio.TypeDesc(_TYPE_NAME[want]))
        error = image.geterror()
        if pixels is None or image.has_error or error:
            raise InputError(
                f"{path} is corrupt or truncated: {error.strip() or 'the pixels could not be read'}; "
                f"re-render or re-copy this file"
            )
    finally:
        image.close()
    pixels = np.asarray(pixels).reshape(spec.height, spec.width, channels)
    if pixels.dtype != want:  # pragma: no cover - OpenImageIO returns what was asked
        pixels = pixels.astype(want)
    return np.ascontiguousarray(pixels), spec.replace(dtype=want)


def read_extra_channels(path: str | Path, spec: FrameSpec) -> tuple[np.ndarray, ...]:
    """The channels of the image file ``path`` that a frame array does not hold, as stored.

    ``spec``: the plate's :class:`FrameSpec`; the file must have its
    ``extra_channels`` with their types. Returns one ``(height, width)`` array per
    extra channel, of its stored type (see :func:`.channels.read_passthrough`);
    ``()`` when there are none. Raises :class:`InputError` naming the file when it
    cannot be read or its channels are not the plate's.
    """
    if not spec.extra_channels:
        return ()
    path = Path(path)
    image = _open_input(path)
    try:
        found = _spec_from(path, image.spec(), image_format(path))[0]
        if (found.extra_channels, found.stored_types[found.channels:], found.shape) != (
            spec.extra_channels, spec.stored_types[spec.channels:], spec.shape
        ):
            raise InputError(
                f"{path} has channels {found.channel_names + found.extra_channels} of types {found.stored_types} "
                f"({found.width}x{found.height}), not the plate's {spec.channel_names + spec.extra_channels} of "
                f"types {spec.stored_types} ({spec.width}x{spec.height}); was it replaced during the render?"
            )
        return read_passthrough(path, image, found)
    finally:
        image.close()


def convert_samples(pixels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``pixels`` as ``dtype``, integers meaning full-range codes and floats [0, 1].

    Floats going to integers are clipped to [0, 1] (NaN becomes 0) and rounded.
    """
    dtype = np.dtype(dtype)
    source = pixels.dtype
    if source == dtype:
        return pixels
    if source.kind == "f" and dtype.kind == "f":
        return pixels.astype(dtype)
    if source.kind == "u" and dtype.kind == "f":
        return (pixels.astype(np.float32) / np.iinfo(source).max).astype(dtype)
    if source.kind == "f":
        clean = np.nan_to_num(pixels.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        return np.rint(np.clip(clean, 0.0, 1.0) * np.iinfo(dtype).max).astype(dtype)
    scale = np.iinfo(dtype).max / np.iinfo(source).max
    return np.rint(pixels.astype(np.float64) * scale).astype(dtype)


def storage_for(format_name: str, dtype: np.dtype, channels: int) -> tuple[np.dtype, int]:
    """Sample type and channel count a ``format_name`` file gets for frames of ``dtype``/``channels``.

    The frame's own type when the format holds it; else floats go to the widest
    integer type (PNG: uint16, JPEG: uint8), integers to float (EXR: uint8 -> half,
    uint16 -> float). JPEG keeps 1 or 3 channels (alpha dropped).
    """
    dtype = np.dtype(dtype)
    storable = _STORABLE[format_name]
    if dtype not in storable:
        if dtype.kind == "f":
            floats = [d for d in storable if d.kind == "f"]
            dtype = floats[-1] if floats else storable[-1]
        elif format_name == "openexr":
            dtype = np.dtype(np.float16) if dtype == np.uint8 else np.dtype(np.float32)
        else:
            dtype = storable[-1]
    if format_name == "jpeg" and channels not in (1, 3):
        channels = 1 if channels == 2 else 3
    return dtype, channels


# The last bytes of a whole file of these formats: a PNG ends with its IEND chunk, a JPEG with
# its end-of-image marker. Their decoders accept a file cut just before these.
_TRAILERS = {"png": bytes.fromhex("0000000049454e44ae426082"), "jpeg": bytes.fromhex("ffd9")}


def verify_image(
    path: str | Path, width: int | None = None, height: int | None = None, channels: int | None = None
) -> None:
    """Check that the image file ``path`` reads back whole (as ``width`` x ``height`` x ``channels``, if given).

    Decodes every pixel (a truncated or damaged file fails to decode) and, for PNG
    and JPEG, checks the file's closing bytes. Raises :class:`WriteCheckFailed`
    (or :class:`InputError` from the decoder) saying what was found.
    """
    path = Path(path)
    trailer = _TRAILERS.get(image_format(path))
    if trailer is not None:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - len(trailer)))
            if handle.read() != trailer:
                raise WriteCheckFailed(f"the file ends before its closing marker ({size} bytes)")
    pixels, found = read_image(path)
    want = tuple(found_value if value is None else value
                 for value, found_value in ((height, found.height), (width, found.width), (channels, found.channels)))
    if pixels.shape != want:
        raise WriteCheckFailed(
            f"it reads back as {found.width}x{found.height} with {pixels.shape[2]} channels, "
            f"{want[1]}x{want[0]} with {want[2]} channels were written"
        )


def _encode(temporary: Path, header: oiio.ImageSpec, data: np.ndarray) -> None:
    """Encode ``data`` into the file ``temporary`` (format from its extension) with ``header``.

    Raises :class:`WriteCheckFailed` with OpenImageIO's message when the encoder reports a failure.
    """
    output = oiio.ImageOutput.create(str(temporary))
    if output is None:
        raise WriteCheckFailed(oiio.geterror() or "no writer for this type")
    ok = output.open(str(temporary), header) and output.write_image(np.ascontiguousarray(data))
    ok = output.close() and ok
    if not ok:
        raise WriteCheckFailed(f"the encoder failed: {output.geterror().strip() or 'unknown error'}")


def _layout(
    spec: FrameSpec, format_name: str, dtype: np.dtype, channels: int, passthrough: tuple[np.ndarray, ...] | None
) -> FrameSpec:
    """What a ``format_name`` file written from frames of ``spec`` holds: size, windows, channels and their types.

    EXR keeps ``spec``'s windows; its channels are the edited ones (stored as
    ``spec``'s EXR types when it came from an EXR, else as ``dtype``) and, when
    ``passthrough`` is given and ``spec`` is an EXR plate's,
    ``spec.extra_channels``. Other formats hold the data window's pixels at
    (0, 0) and the edited channels only.
    """
    names = spec.channel_names[:channels] if channels <= spec.channels else default_channel_names(channels)
    base = FrameSpec(spec.width, spec.height, channels, names, dtype, spec.fps, (), format_name)
    if format_name != "openexr":
        return base
    own = _TYPE_NAME[dtype]
    edited = (own,) * channels
    if spec.format_name == "openexr" and all(t in ("half", "float") for t in spec.stored_types[:channels]):
        edited = spec.stored_types[:channels]
    if passthrough is not None and len(passthrough) != len(spec.extra_channels):
        raise ValueError(
            f"{len(passthrough)} pass-through channels given for the extra channels {spec.extra_channels}"
        )
    # An EXR plate's channels are of EXR's types; another format's extra channels are not passed through.
    extras = spec.extra_channels if passthrough is not None and spec.format_name == "openexr" else ()
    types = edited + spec.stored_types[spec.channels:][: len(extras)]
    return base.replace(
        origin=spec.origin, display_window=spec.display, extra_channels=extras,
        channel_types=() if set(types) == {own} else types,
    )


def write_image(
    path: str | Path,
    pixels: np.ndarray,
    spec: FrameSpec,
    passthrough: tuple[np.ndarray, ...] | None = None,
    *,
    exclusive: bool = False,
) -> Path:
    """Write one frame ``pixels`` (``spec.shape``, ``spec.dtype``) to ``path``, verified and atomically.

    The format comes from the extension; samples and channels are converted with
    :func:`storage_for` / :func:`convert_samples` when the format cannot hold them.
    Channel names and the carried attributes of ``spec.metadata`` are written.
    An EXR gets ``spec``'s data and display windows (``origin``,
    ``display_window``), its edited channels keep an EXR plate's types (half
    stays half, float stays float), and ``passthrough`` (the frame's
    ``spec.extra_channels``, from :func:`read_extra_channels`) is written beside
    them bit for bit; other formats hold the data window's pixels and the
    edited channels only (``passthrough`` is ignored).
    The file is encoded under a temporary name, read back whole
    (:func:`verify_image`; an EXR's windows, channels and pass-through samples
    too) and only then renamed to ``path``. Raises :class:`UserError` naming
    the file when it cannot be written whole (a full disk, a read-only folder);
    nothing is left under ``path`` then. ``exclusive``: ``path`` is taken only if
    nothing has that name by then (:class:`.output.OutputAppeared` otherwise).
    Returns ``path``.
    """
    path = Path(path)
    format_name = image_format(path)
    dtype, channels = storage_for(format_name, spec.dtype, spec.channels)
    data = convert_samples(pixels[:, :, :channels], dtype)
    layout = _layout(spec, format_name, dtype, channels, passthrough)
    extras = tuple(passthrough or ())[: len(layout.extra_channels)]
    names = layout.channel_names + layout.extra_channels
    types = layout.stored_types
    try:
        mixed = bool(layout.channel_types) or bool(extras)
        buffer = pack(data, types[:channels], extras, types[channels:], names) if mixed else data
    except UserError as exc:
        raise UserError(f"{path} was not written: {exc}") from exc
    header = oiio.ImageSpec(spec.width, spec.height, len(names), oiio.TypeDesc(_TYPE_NAME[buffer.dtype]))
    if layout.channel_types:
        header.channelformats = tuple(oiio.TypeDesc(t) for t in types)
    header.channelnames = names
    header.alpha_channel = names.index("A") if "A" in names else -1
    header.x, header.y = layout.origin
    header.full_x, header.full_y, header.full_width, header.full_height = layout.display
    pairs = carried(spec.metadata, spec.format_name, format_name, same_dtype=dtype == spec.dtype)
    apply_attributes(header, pairs, spec.fps)
    if format_name in _COMPRESSION:
        header.attribute("compression", _COMPRESSION[format_name])

    def verify(temporary: Path) -> None:
        verify_image(temporary, spec.width, spec.height, channels)
        if format_name == "openexr":
            check_written(temporary, layout, extras)

    with staged((path, verify), exclusive=exclusive) as (temporary,):
        try:
            _encode(temporary, header, buffer)
        except WriteCheckFailed as exc:
            raise write_failed(path, str(exc)) from exc
    return path
