"""Write zip archives byte by byte, so a test can make every lie a hostile archive can tell.

`zipfile` refuses to write most of what an attacker would (lying sizes, duplicate names without a warning,
overlapping entries, link modes on top-level names), so the hostile-pack tests build archives here.
"""

import stat
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

STORED, DEFLATED = 0, 8
_DOS_TIME, _DOS_DATE = 0, (2020 - 1980) << 9 | 1 << 5 | 1


@dataclass
class Entry:
    """One member. `declared_size` / `declared_crc` default to the truth; set them to lie."""

    name: str
    data: bytes  # the bytes stored in the archive (already compressed for DEFLATED)
    method: int = STORED
    uncompressed_size: int | None = None  # the true inflated size (for DEFLATED entries built from a stream)
    declared_size: int | None = None
    declared_compressed: int | None = None
    declared_crc: int | None = None
    mode: int = stat.S_IFREG | 0o644
    share_offset_with: int | None = None  # index of an earlier entry whose local data this one points at
    flags: int = 0
    extra: bytes = field(default=b"")


def stored(name: str, data: bytes, **kwargs) -> Entry:
    return Entry(name=name, data=data, uncompressed_size=len(data), declared_crc=zlib.crc32(data), **kwargs)


def deflated(name: str, data: bytes, **kwargs) -> Entry:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush()
    return Entry(
        name=name, data=body, method=DEFLATED, uncompressed_size=len(data), declared_crc=zlib.crc32(data), **kwargs
    )


def zero_bomb_stream(mebibytes: int) -> bytes:
    """A raw deflate stream that inflates to `mebibytes` MiB of zeros, built from one self-contained block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * mebibytes + b"\x03\x00"  # a final, empty fixed-Huffman block


def write_zip(path: Path, entries: list[Entry]) -> Path:
    offsets: list[int] = []
    central = bytearray()
    with path.open("wb") as out:
        for entry in entries:
            name = entry.name.encode("utf-8")
            size = entry.declared_size if entry.declared_size is not None else (entry.uncompressed_size or 0)
            csize = entry.declared_compressed if entry.declared_compressed is not None else len(entry.data)
            crc = entry.declared_crc if entry.declared_crc is not None else 0
            flags = entry.flags | 0x800  # names are UTF-8
            if entry.share_offset_with is not None:
                offset = offsets[entry.share_offset_with]
            else:
                offset = out.tell()
                header = struct.pack(
                    "<IHHHHHIIIHH", 0x04034B50, 20, flags, entry.method, _DOS_TIME, _DOS_DATE, crc, csize, size,
                    len(name), len(entry.extra),
                )  # fmt: skip
                out.write(header + name + entry.extra + entry.data)
            offsets.append(offset)
            central += struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, flags, entry.method, _DOS_TIME, _DOS_DATE, crc,
                csize, size, len(name), len(entry.extra), 0, 0, 0, (entry.mode & 0xFFFF) << 16, offset,
            )  # fmt: skip
            central += name + entry.extra
        start = out.tell()
        out.write(central)
        count = len(entries)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), start, 0))
    return path
