"""File attributes (OpenImageIO ``extra_attribs``): read them, and choose which to write.

Attributes are read in full, so a :class:`~emotionedit.io.spec.FrameSpec` says
everything the file said. When writing, attributes that describe the old file
rather than the picture are dropped (its encoding, compression, creation time,
software, OpenImageIO's own bookkeeping, another format's header fields), and
``Software`` is set to ``EmotionEdit``.
"""

from __future__ import annotations

from fractions import Fraction

import OpenImageIO as oiio

from .spec import AttributeValue

SOFTWARE = "EmotionEdit"

# Attributes about the old file, never carried.
_DROPPED = frozenset(
    {
        "Software",
        "DateTime",
        "compression",
        "Compression",
        "planarconfig",
        "FramesPerSecond",  # written from FrameSpec.fps instead
        "openexr:chunkCount",
        "openexr:version",
        "openexr:lineOrder",
        "tiff:Compression",
        "tiff:PhotometricInterpretation",
        "tiff:PlanarConfiguration",
        "tiff:RowsPerStrip",
        "tiff:BitsPerSample",
        "tiff:SampleFormat",
        "jpeg:subsampling",
        "jpeg:ColorSpace",
        "png:compressionLevel",
        "dpx:Packing",
        "dpx:ImageDescriptor",
        "dpx:Version",
        "dpx:EndOfLinePadding",
        "dpx:EndOfImagePadding",
        "dpx:DittoKey",
    }
)
# Prefixes of header fields that only mean something in their own format.
_FORMAT_PREFIXES = {"openexr": "openexr:", "png": "png:", "dpx": "dpx:", "tiff": "tiff:", "jpeg": "jpeg:"}


def _plain(value: object) -> object:
    """A hashable form of an OpenImageIO attribute value (lists and arrays become tuples)."""
    if isinstance(value, str | int | float | bool):
        return value
    try:
        return tuple(_plain(v) for v in value)  # type: ignore[union-attr]
    except TypeError:
        return str(value)


def read_attributes(spec: oiio.ImageSpec) -> tuple[tuple[str, object], ...]:
    """All ``extra_attribs`` of ``spec`` as hashable ``(name, value)`` pairs, in file order.

    ``string``, ``int`` and ``float`` attributes give plain values; every other type
    gives an :class:`AttributeValue` that remembers the exact OpenImageIO type.
    """
    pairs: list[tuple[str, object]] = []
    for param in spec.extra_attribs:
        kind = param.type
        value = _plain(param.value)
        if str(kind) in ("string", "int", "float"):
            pairs.append((param.name, value))
        else:
            code = (int(kind.basetype), int(kind.aggregate), int(kind.vecsemantics), int(kind.arraylen))
            pairs.append((param.name, AttributeValue(str(kind), code, value)))
    return tuple(pairs)


def fps_from_attributes(spec: oiio.ImageSpec) -> float | None:
    """Frames per second from a ``FramesPerSecond`` (or DPX ``dpx:FrameRate``) attribute, if sane."""
    for name in ("FramesPerSecond", "dpx:FrameRate"):
        value = spec.getattribute(name)
        if value is None:
            continue
        try:
            if isinstance(value, tuple | list) and len(value) == 2:
                fps = value[0] / value[1] if value[1] else 0.0
            else:
                fps = float(value)
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if 0 < fps < 10000:
            return float(fps)
    return None


def fps_rational(fps: float) -> tuple[int, int]:
    """``fps`` as the nearest small fraction: 24.0 -> (24, 1), 23.976... -> (24000, 1001)."""
    fraction = Fraction(fps).limit_denominator(1001)
    return fraction.numerator, fraction.denominator


def carried(
    metadata: tuple[tuple[str, object], ...], source_format: str, target_format: str, same_dtype: bool
) -> list[tuple[str, object]]:
    """The attributes of ``metadata`` worth writing into a ``target_format`` file.

    OpenImageIO's own ``oiio:*`` attributes are dropped except those that describe
    the pixels: ``oiio:UnassociatedAlpha`` (alpha not premultiplied) always,
    ``oiio:ColorSpace`` into the same format, ``oiio:BitsPerSample`` (e.g. 10-bit
    DPX) into the same format and sample type.
    """
    same_format = source_format == target_format
    kept = []
    for name, value in metadata:
        if name in _DROPPED:
            continue
        if name.startswith("oiio:"):
            if name == "oiio:UnassociatedAlpha":
                pass
            elif name == "oiio:ColorSpace" and same_format:
                pass
            elif name == "oiio:BitsPerSample" and same_format and same_dtype:
                pass
            else:
                continue
        if any(name.startswith(prefix) for fmt, prefix in _FORMAT_PREFIXES.items() if fmt != target_format):
            continue
        kept.append((name, value))
    return kept


def apply_attributes(spec: oiio.ImageSpec, pairs: list[tuple[str, object]], fps: float) -> list[str]:
    """Set ``pairs`` on ``spec``, then ``Software`` and ``FramesPerSecond``.

    Returns the names OpenImageIO refused (wrong type for a known name, or a value
    it cannot hold); those are skipped.
    """
    refused = []
    for name, value in pairs:
        try:
            if isinstance(value, AttributeValue):
                base, aggregate, semantics, arraylen = value.type_code
                kind = oiio.TypeDesc(
                    oiio.BASETYPE(base), oiio.AGGREGATE(aggregate), oiio.VECSEMANTICS(semantics), arraylen
                )
                spec.attribute(name, kind, value.value)
            elif isinstance(value, bool):
                spec.attribute(name, int(value))
            elif isinstance(value, str | int | float):
                spec.attribute(name, value)
            else:
                refused.append(name)
        except (TypeError, ValueError, RuntimeError):
            refused.append(name)
    spec.attribute("Software", SOFTWARE)
    spec.attribute("FramesPerSecond", oiio.TypeDesc("rational"), fps_rational(fps))
    return refused
