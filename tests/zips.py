"""Zip archives built byte by byte, for what ``zipfile`` will not write: a declared size that is not the
real one (a zip bomb's header), a name in code page 437 without the UTF-8 flag, a symbolic link entry."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_ZIP64_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Entry:
    name: bytes  # the raw name, as stored
    data: bytes = b""  # what is stored (deflated)
    declared: int | None = None  # the uncompressed size the headers claim (default: len(data))
    utf8: bool = True  # the UTF-8 flag (bit 11)
    mode: int = 0o100644  # Unix mode in the external attributes (0o120777: a symbolic link)


def build(entries: list[Entry]) -> bytes:
    """A zip file (Zip64 where a size needs it) with ``entries`` deflated, in order."""
    out, central = bytearray(), bytearray()
    for entry in entries:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = compressor.compress(entry.data) + compressor.flush()
        size = len(entry.data) if entry.declared is None else entry.declared
        crc = zlib.crc32(entry.data)
        zip64 = size >= _ZIP64_LIMIT
        flags = 0x800 if entry.utf8 else 0
        extra = struct.pack("<HHQQ", 1, 16, size, len(packed)) if zip64 else b""
        small = (_ZIP64_LIMIT, _ZIP64_LIMIT) if zip64 else (len(packed), size)
        offset = len(out)
        version = 45 if zip64 else 20
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, version, flags, 8, 0, 0x21, crc, *small, len(entry.name), len(extra)
        )
        out += entry.name + extra + packed
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            (3 << 8) | version,  # made by Unix: the mode is in the high bits of the external attributes
            version,
            flags,
            8,
            0,
            0x21,
            crc,
            *small,
            len(entry.name),
            len(extra),
            0,
            0,
            0,
            entry.mode << 16,
            offset,
        )
        central += entry.name + extra
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)
