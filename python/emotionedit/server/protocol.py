"""The engine server's wire protocol: message framing and named fields.

The C++ node (``cpp/node/wire.h``) and this module speak it over a Unix stream
socket. Every message is a fixed header followed by a body of named fields::

    header (16 bytes, little-endian; this layout is frozen for every protocol version,
    so two versions can always read each other's refusal)
        magic     4 bytes  b"EEsv"
        protocol  uint16   PROTOCOL of the sender
        kind      uint16   a :class:`Kind`
        request   uint32   chosen by the node, echoed in the reply
        length    uint32   body bytes, at most MAX_BODY
    body: fields, one after another
        name      uint8 length (1..MAX_NAME), then ASCII
        type      one byte: b"i" int64, b"f" float64, b"s" UTF-8 text, b"b" bytes,
                  b"I" int64 array, b"F" float64 array
        value     i/f: 8 bytes; s/b: uint32 length then the bytes (at most MAX_STRING /
                  MAX_BYTES); I/F: uint32 count (at most MAX_ARRAY) then 8 bytes each

Pixels never travel on the socket: they are in a shared-memory segment whose file
descriptor the node passes once per connection (``SEGMENT``, with ``SCM_RIGHTS``).
Nothing read here is trusted: :func:`decode_fields` and :func:`parse_header` check
every length against what actually arrived and raise :class:`ProtocolError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

MAGIC = b"EEsv"
#: Bumped whenever a message or field changes meaning; node and server must agree.
PROTOCOL = 1

HEADER = struct.Struct("<4sHHII")
MAX_BODY = 64 * 1024
MAX_NAME = 64
MAX_STRING = 16 * 1024
MAX_BYTES = 256
MAX_ARRAY = 16

_INT = struct.Struct("<q")
_FLOAT = struct.Struct("<d")
_LENGTH = struct.Struct("<I")


class Kind(IntEnum):
    """Message kinds. A reply has the request's kind, or ERROR."""

    HELLO = 1  # versions both ways; must come first on a connection
    SEGMENT = 2  # the node's shared-memory segment (one file descriptor attached)
    RENDER = 3  # one frame; the reply carries status, level and message
    PURGE = 4  # drop the engine's caches
    ERROR = 255  # the server refuses the request and closes the connection (field "message")


class ProtocolError(Exception):
    """A message that does not follow the protocol: the connection is refused and closed."""


@dataclass(frozen=True)
class Header:
    protocol: int
    kind: int
    request: int
    length: int


def parse_header(data: bytes) -> Header:
    """Decode a 16-byte header; raises :class:`ProtocolError` for bad magic or an oversized body.

    The protocol number is returned, not checked: the caller answers a mismatch with a refusal.
    """
    if len(data) != HEADER.size:
        raise ProtocolError(f"a header is {HEADER.size} bytes, got {len(data)}")
    magic, protocol, kind, request, length = HEADER.unpack(data)
    if magic != MAGIC:
        raise ProtocolError(f"not an EmotionEdit engine message (magic {magic!r}, expected {MAGIC!r})")
    if length > MAX_BODY:
        raise ProtocolError(f"message body of {length} bytes is over the limit of {MAX_BODY}")
    return Header(protocol, kind, request, length)


def encode_header(kind: int, request: int, length: int, protocol: int = PROTOCOL) -> bytes:
    return HEADER.pack(MAGIC, protocol, kind, request, length)


def _encode_value(value: object) -> bytes:
    if isinstance(value, bool | int):
        return b"i" + _INT.pack(int(value))
    if isinstance(value, float):
        return b"f" + _FLOAT.pack(value)
    if isinstance(value, str):
        data = value.encode("utf-8")[:MAX_STRING]
        return b"s" + _LENGTH.pack(len(data)) + data
    if isinstance(value, bytes):
        if len(value) > MAX_BYTES:
            raise ValueError(f"byte fields hold at most {MAX_BYTES} bytes, got {len(value)}")
        return b"b" + _LENGTH.pack(len(value)) + value
    if isinstance(value, tuple | list) and len(value) <= MAX_ARRAY:
        if all(isinstance(v, int) for v in value):
            return b"I" + _LENGTH.pack(len(value)) + b"".join(_INT.pack(v) for v in value)
        if all(isinstance(v, int | float) for v in value):
            return b"F" + _LENGTH.pack(len(value)) + b"".join(_FLOAT.pack(float(v)) for v in value)
    raise ValueError(f"cannot encode {value!r} as a protocol field")


def encode_fields(fields: dict[str, object]) -> bytes:
    """Encode ``{name: value}`` (int, float, str, bytes, or a short tuple of ints or floats)."""
    out = bytearray()
    for name, value in fields.items():
        raw = name.encode("ascii")
        if not 1 <= len(raw) <= MAX_NAME:
            raise ValueError(f"field names are 1..{MAX_NAME} ASCII characters, got {name!r}")
        out += bytes([len(raw)]) + raw + _encode_value(value)
    if len(out) > MAX_BODY:
        raise ValueError(f"message body of {len(out)} bytes is over the limit of {MAX_BODY}")
    return bytes(out)


def encode(kind: int, request: int, fields: dict[str, object], protocol: int = PROTOCOL) -> bytes:
    """A whole message: header and body."""
    body = encode_fields(fields)
    return encode_header(kind, request, len(body), protocol) + body


class _Reader:
    def __init__(self, body: bytes):
        self.body, self.at = body, 0

    def take(self, count: int, what: str) -> bytes:
        if count > len(self.body) - self.at:
            raise ProtocolError(f"{what} needs {count} bytes but only {len(self.body) - self.at} remain in the body")
        data = self.body[self.at : self.at + count]
        self.at += count
        return data

    def length(self, what: str, limit: int) -> int:
        (count,) = _LENGTH.unpack(self.take(_LENGTH.size, what))
        if count > limit:
            raise ProtocolError(f"{what} claims {count}, over the limit of {limit}")
        return count


def decode_fields(body: bytes) -> dict[str, object]:
    """Decode a body into ``{name: value}``; every length is checked against the body."""
    reader = _Reader(body)
    fields: dict[str, object] = {}
    while reader.at < len(body):
        (size,) = reader.take(1, f"the name length of field {len(fields)}")
        if not 1 <= size <= MAX_NAME:
            raise ProtocolError(f"field {len(fields)} has a name of {size} bytes (allowed 1..{MAX_NAME})")
        raw = reader.take(size, f"the name of field {len(fields)}")
        if not all(0x21 <= b < 0x7F for b in raw):
            raise ProtocolError(f"field {len(fields)} has a name that is not printable ASCII: {raw!r}")
        name = raw.decode("ascii")
        if name in fields:
            raise ProtocolError(f"field {name!r} appears twice")
        what = f"field {name!r}"
        kind = reader.take(1, f"the type of {what}")
        if kind == b"i":
            (value,) = _INT.unpack(reader.take(8, what))
        elif kind == b"f":
            (value,) = _FLOAT.unpack(reader.take(8, what))
        elif kind == b"s":
            data = reader.take(reader.length(f"the length of {what}", MAX_STRING), what)
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(f"{what} is not UTF-8 text") from None
        elif kind == b"b":
            value = reader.take(reader.length(f"the length of {what}", MAX_BYTES), what)
        elif kind in (b"I", b"F"):
            count = reader.length(f"the count of {what}", MAX_ARRAY)
            unit = _INT if kind == b"I" else _FLOAT
            data = reader.take(8 * count, what)
            value = tuple(unit.unpack_from(data, 8 * i)[0] for i in range(count))
        else:
            raise ProtocolError(f"{what} has an unknown type {kind!r}")
        fields[name] = value
    return fields


def field(fields: dict[str, object], name: str, kind: type | tuple[type, ...], count: int | None = None) -> object:
    """A required field of the given Python type (and array length): raises :class:`ProtocolError` otherwise."""
    if name not in fields:
        raise ProtocolError(f"the request has no field {name!r}")
    value = fields[name]
    if not isinstance(value, kind):
        raise ProtocolError(f"field {name!r} is {type(value).__name__}, expected {kind}")
    if count is not None and len(value) != count:
        raise ProtocolError(f"field {name!r} has {len(value)} values, expected {count}")
    return value
