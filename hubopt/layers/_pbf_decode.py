"""Decoding an ``.osm.pbf`` file with numpy and numba, without a Python object per element.

The file is a sequence of blobs (OSM wiki, "PBF Format"): a 4-byte big-endian length, a
``BlobHeader`` (type, data size) and a ``Blob`` holding an ``OSMHeader`` or an
``OSMData`` block, raw or zlib-compressed. Blobs are inflated (libdeflate, through the
``deflate`` package, when the blob gives its raw size; zlib otherwise) and parsed
(:func:`hubopt.layers._pbf_kernels.parse_block`) on a pool of threads (zlib and the
compiled kernel release the GIL); the blocks are gathered in file order.

:func:`decode_pbf` returns every node's id and fixed-point location, and the nodes and
ways that carry one of the selecting keys, with the values of a few wanted keys as
indices into one table of strings. Files this reader does not handle (other
compressions, history files, ``LocationsOnWays``, unusual encodings) raise
:class:`UnsupportedPbf`; the caller then reads them with pyosmium.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import deflate
import numpy as np

from hubopt.layers import _pbf_kernels as kern

_MAX_HEADER = 64 * 1024  # the format's limits on a BlobHeader and a Blob
_MAX_BLOB = 32 * 1024 * 1024
_KNOWN_FEATURES = frozenset({"OsmSchema-V0.6", "DenseNodes"})
_IN_FLIGHT = 8  # blocks decoded ahead of the one being gathered


class UnsupportedPbf(Exception):  # noqa: N818 (a signal to fall back, not an error)
    """A valid file that this reader leaves to pyosmium (the reason in the message)."""


@dataclass(frozen=True)
class Decoded:
    """The elements of a PBF file that :func:`decode_pbf` keeps.

    Nodes: ``node_id``, ``node_x``/``node_y`` (longitude/latitude in 1e-7 degree, as
    libosmium stores them) and ``node_group`` (the number of the primitive group that
    holds the node, counted over the file: file order). ``tagged`` indexes the nodes with
    a selecting key, ``tagged_rows[i, j]`` is the value of column ``j`` of that node as an
    index into ``strings`` (-1: untagged). Ways with a selecting key: ``way_id``,
    ``way_count`` (their number of references), ``way_refs`` (flat), ``way_rows``,
    ``way_group``; all in file order.
    """

    node_id: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    node_group: np.ndarray
    tagged: np.ndarray
    tagged_rows: np.ndarray
    way_id: np.ndarray
    way_count: np.ndarray
    way_refs: np.ndarray
    way_rows: np.ndarray
    way_group: np.ndarray
    strings: tuple[str, ...]


def _read_varint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            msg = "corrupt protobuf varint"
            raise ValueError(msg)
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes | bytearray | memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """``(field number, value)`` of a small message: ints, or views of byte fields."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        key, pos = _read_varint(view, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(view, pos)
            yield number, value
        elif wire == 2:
            n, pos = _read_varint(view, pos)
            if pos + n > len(view):
                msg = "corrupt protobuf field length"
                raise ValueError(msg)
            yield number, view[pos:pos + n]
            pos += n
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            msg = f"unexpected protobuf wire type {wire}"
            raise ValueError(msg)
    if pos != len(view):
        msg = "corrupt protobuf message"
        raise ValueError(msg)


def _whole(data: bytes, size: int, what: str) -> bytes:
    """``data`` when it has the ``size`` bytes asked for, else a "truncated" error."""
    if len(data) < size:
        msg = f"truncated {what}"
        raise ValueError(msg)
    return data


def _blobs(fh: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """``(type, Blob message)`` of each blob of the file, in order."""
    while True:
        head = fh.read(4)
        if not head:
            return
        _whole(head, 4, "blob length")
        (size,) = struct.unpack(">I", head)
        if size > _MAX_HEADER:
            msg = f"blob header of {size} bytes (at most {_MAX_HEADER})"
            raise ValueError(msg)
        header = _whole(fh.read(size), size, "blob header")
        kind, datasize = "", -1
        for number, value in _fields(header):
            if number == 1 and isinstance(value, memoryview):
                kind = bytes(value).decode("utf-8")
            elif number == 3 and isinstance(value, int):
                datasize = value
        if not 0 <= datasize <= _MAX_BLOB:
            msg = f"blob of {datasize} bytes (at most {_MAX_BLOB})"
            raise ValueError(msg)
        blob = _whole(fh.read(datasize), datasize, "blob")
        yield kind, blob


def _payload(blob: bytes) -> bytes | bytearray:
    """The decompressed content of a ``Blob`` message."""
    raw_size = -1
    raw: memoryview | None = None
    packed: memoryview | None = None
    for number, value in _fields(blob):
        if number == 2 and isinstance(value, int):
            raw_size = value
        elif number == 1 and isinstance(value, memoryview):
            raw = value
        elif number == 3 and isinstance(value, memoryview):
            packed = value
        elif number in (4, 5, 6, 7):
            names = {4: "lzma", 5: "bzip2", 6: "lz4", 7: "zstd"}
            msg = f"{names[number]}-compressed blocks"
            raise UnsupportedPbf(msg)
    if raw is not None:
        return bytes(raw)
    if packed is None:
        msg = "blob without data"
        raise ValueError(msg)
    if raw_size > _MAX_BLOB:
        msg = f"a block of {raw_size} bytes when inflated (at most {_MAX_BLOB})"
        raise ValueError(msg)
    data: bytes | bytearray
    try:
        if raw_size > 0:  # libdeflate: 2.5 times zlib's speed, for a known size
            data = deflate.zlib_decompress(packed, raw_size)
        else:
            data = zlib.decompress(packed, bufsize=1024)
    except (zlib.error, deflate.DeflateError) as exc:
        msg = f"corrupt zlib data ({exc})"
        raise ValueError(msg) from exc
    if raw_size >= 0 and len(data) != raw_size:
        msg = f"zlib data of {len(data)} bytes, {raw_size} announced"
        raise ValueError(msg)
    return data


def _check_header(block: bytes | bytearray) -> None:
    for number, value in _fields(block):
        if number == 4 and isinstance(value, memoryview):
            feature = bytes(value).decode("utf-8", "replace")
            if feature not in _KNOWN_FEATURES:
                msg = f"required feature {feature}"
                raise UnsupportedPbf(msg)


@dataclass(frozen=True)
class _Block:
    groups: int
    arrays: tuple[np.ndarray, ...]  # node_id .. way_group as parse_block returns them
    strings: list[str]  # the string-table entries the rows use (rows index this list)


def _decode_block(blob: bytes, needles: np.ndarray, needle_off: np.ndarray,
                  flags: np.ndarray) -> _Block:
    data = _payload(blob)
    buf = np.frombuffer(data, dtype=np.uint8)
    status, groups, st_start, st_end, *arrays = kern.parse_block(buf, needles, needle_off,
                                                                 flags)
    if status == kern.UNSUPPORTED:
        msg = "an encoding of primitive blocks this reader does not handle"
        raise UnsupportedPbf(msg)
    if status != kern.OK:
        msg = "corrupt primitive block"
        raise ValueError(msg)
    used = np.zeros(len(st_start), dtype=np.bool_)
    for k in (5, 9):  # tagged_rows, way_rows: string-table index -> position in strings
        kern.mark_used(arrays[k], used)
    index = np.flatnonzero(used)
    local = np.full(len(st_start), -1, dtype=np.int32)
    local[index] = np.arange(len(index), dtype=np.int32)
    for k in (5, 9):
        kern.remap(arrays[k], local)
    strings = [data[st_start[i]:st_end[i]].decode("utf-8") for i in index.tolist()]
    return _Block(int(groups), tuple(arrays), strings)


def _needles(columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [c.encode("utf-8") for c in columns]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets


def decode_pbf(path: Path, columns: Sequence[str], way_keys: Sequence[str],
               node_keys: Sequence[str]) -> Decoded:
    """Every node, and the nodes/ways with one of ``node_keys``/``way_keys`` (see
    :class:`Decoded`); ``columns`` are the keys whose values are kept (they must include
    the selecting keys).

    Raises
    ------
    ValueError
        The file is truncated or corrupt.
    UnsupportedPbf
        A valid file that this reader leaves to pyosmium.
    """
    needles, needle_off = _needles(columns)
    flags = np.array([(kern.WAY_BIT if c in way_keys else 0)
                      | (kern.NODE_BIT if c in node_keys else 0) for c in columns],
                     dtype=np.int8)
    size = path.stat().st_size
    cols = [_Column(dtype, int(size * per_byte), len(columns) if k in (5, 9) else 0)
            for k, (dtype, per_byte) in enumerate(zip(_DTYPES, _PER_BYTE, strict=True))]
    strings: dict[str, int] = {}
    groups = 0
    seen_header = False

    def gather(block: _Block) -> None:
        nonlocal groups
        gid = np.array([strings.setdefault(s, len(strings)) for s in block.strings],
                       dtype=np.int32)
        arrays = list(block.arrays)
        for k in (5, 9):  # rows: block's string -> global string number
            kern.remap(arrays[k], gid)
        for k in (3, 10):  # group numbers over the file
            arrays[k] = arrays[k] + np.int32(groups)
        arrays[4] = arrays[4] + cols[0].n  # tagged: block's node index -> file's
        for column, values in zip(cols, arrays, strict=True):
            column.append(values)
        groups += block.groups

    workers = min(4, os.cpu_count() or 1)
    pending: deque[Future[_Block]] = deque()
    with path.open("rb") as fh, ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for kind, blob in _blobs(fh):
                if kind == "OSMHeader":
                    _check_header(_payload(blob))
                    seen_header = True
                    continue
                if kind != "OSMData":
                    continue  # unknown blob types are skipped, as the format says
                pending.append(pool.submit(_decode_block, blob, needles, needle_off, flags))
                while len(pending) > _IN_FLIGHT:
                    gather(pending.popleft().result())
            while pending:
                gather(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    if not seen_header:
        msg = "no OSMHeader block"
        raise ValueError(msg)
    a = [c.array() for c in cols]
    return Decoded(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
                   tuple(strings))


_DTYPES = (np.int64, np.int32, np.int32, np.int32, np.int64, np.int32, np.int64, np.int64,
           np.int64, np.int32, np.int32)  # node_id .. way_group
# first capacity of each field per byte of the file, above what extracts hold (the tiled
# Malta extract: a node per 10 bytes, a kept way per 105, a way reference per 14)
_PER_BYTE = (1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 2000, 1 / 2000, 1 / 60, 1 / 60, 1 / 8, 1 / 60,
             1 / 60)


class _Column:
    """One field of :class:`Decoded`, filled block by block as the blocks come in.

    It is allocated once at an estimate above the file's need: pages that are never
    written cost no memory, and each block's arrays are copied in and freed at once, so
    that the next blocks reuse their memory (joining all blocks at the end would hold
    every field twice). A full column grows by half.
    """

    def __init__(self, dtype: Any, capacity: int, width: int) -> None:
        self.width = width
        self.data = self._empty(dtype, max(capacity, 1024))
        self.n = 0

    def _empty(self, dtype: Any, capacity: int) -> np.ndarray:
        shape = (capacity, self.width) if self.width else (capacity,)
        try:
            return np.empty(shape, dtype=dtype)
        except MemoryError:  # a system that commits memory when it is allocated
            if capacity <= 1024:
                raise
            return self._empty(dtype, max(1024, capacity // 8))

    def append(self, values: np.ndarray) -> None:
        """Copy ``values`` (one block's) after the rows so far."""
        m = len(values)
        if self.n + m > len(self.data):
            bigger = self._empty(self.data.dtype, max(self.n + m, len(self.data) * 3 // 2))
            bigger[:self.n] = self.data[:self.n]
            self.data = bigger
        self.data[self.n:self.n + m] = values
        self.n += m

    def array(self) -> np.ndarray:
        """The rows so far (a view: the unwritten rest holds no memory)."""
        return self.data[:self.n]
