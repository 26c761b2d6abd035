"""The numba PBF decoder reads what pyosmium reads, bit for bit.

The truth is the pyosmium pass (``_read_osmium``: libosmium's reader, its node location
store and OPL writer), run on the same file: the real extracts, a file written by
pyosmium's own writer and files written here by a small protobuf encoder, independent of
both readers, with what real files rarely hold (plain nodes, another coordinate grid,
uncompressed blocks, nodes after the ways that use them, negative ids, duplicate keys).
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import numpy as np
import osmium
import pytest
from test_network_helpers import osm_file

from hubopt import settings
from hubopt._errors import InputFormatError
from hubopt.layers import Mode
from hubopt.layers._pbf import WAY_TAGS, _read_osmium, _read_pbf, scan_osm_file
from hubopt.layers._pbf_decode import UnsupportedPbf, _payload, decode_pbf


def assert_same_scan(mine, ref) -> None:
    """Every array bit-identical (dtype, shape, bytes), features and bbox equal."""
    ways, features, bbox = mine
    ref_ways, ref_features, ref_bbox = ref
    assert bbox == ref_bbox
    assert features == ref_features
    assert set(ways) == set(ref_ways)
    for mode, w in ways.items():
        r = ref_ways[mode]
        for name in ("way_id", "offsets", "refs", "lon", "lat"):
            a, b = getattr(w, name), getattr(r, name)
            assert a.dtype == b.dtype, (mode, name)
            assert a.shape == b.shape, (mode, name)
            assert a.tobytes() == b.tobytes(), (mode, name)
        for key in WAY_TAGS:
            assert w.tags[key].codes.dtype == r.tags[key].codes.dtype
            assert w.tags[key].codes.tobytes() == r.tags[key].codes.tobytes(), (mode, key)
            assert w.tags[key].vocab.dtype == r.tags[key].vocab.dtype
            assert w.tags[key].vocab.tolist() == r.tags[key].vocab.tolist(), (mode, key)


def both(path: Path, tmp_path: Path):
    return _read_pbf(path), _read_osmium(path, tmp_path)


@pytest.mark.parametrize("name", ["malta", "kiel", "baltimore"])
def test_the_decoder_reads_the_real_extracts_as_pyosmium_does(name, tmp_path) -> None:
    mine, ref = both(osm_file(name), tmp_path)
    assert_same_scan(mine, ref)
    assert len(mine[0][Mode.ROAD]) > 1000  # real content, not two empty scans
    assert mine[1]


# --- an independent encoder of the format (osmformat.proto / fileformat.proto) ---------

def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sint(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def packed(values: list[int]) -> bytes:
    return b"".join(varint(v) for v in values)


def deltas(values: list[int]) -> list[int]:
    return [sint(v - p) for v, p in zip(values, [0, *values[:-1]], strict=True)]


class Block:
    """A PrimitiveBlock under construction (its own string table)."""

    def __init__(self, granularity: int = 100, lat_offset: int = 0, lon_offset: int = 0):
        self.strings: list[bytes] = [b""]
        self.groups: list[bytes] = []
        self.scalars = (field(17, granularity) if granularity != 100 else b"") + (
            field(19, lat_offset & ((1 << 64) - 1)) if lat_offset else b"") + (
            field(20, lon_offset & ((1 << 64) - 1)) if lon_offset else b"")
        self.grid = (granularity, lat_offset, lon_offset)

    def s(self, text: str) -> int:
        raw = text.encode()
        if raw not in self.strings:
            self.strings.append(raw)
        return self.strings.index(raw)

    def raw(self, degrees: float, offset: int) -> int:
        return round((degrees * 1e9 - offset) / self.grid[0])

    def dense(self, nodes: list[tuple[int, float, float, list[tuple[str, str]]]]) -> None:
        ids = [n[0] for n in nodes]
        lats = [self.raw(n[2], self.grid[1]) for n in nodes]
        lons = [self.raw(n[1], self.grid[2]) for n in nodes]
        kv: list[int] = []
        for *_, tags in nodes:
            for k, v in tags:
                kv += [self.s(k), self.s(v)]
            kv.append(0)
        msg = (field(1, packed(deltas(ids))) + field(8, packed(deltas(lats)))
               + field(9, packed(deltas(lons))) + field(10, packed(kv)))
        self.groups.append(field(2, msg))

    def plain(self, nodes: list[tuple[int, float, float, list[tuple[str, str]]]]) -> None:
        group = b""
        for nid, lon, lat, tags in nodes:
            msg = field(1, sint(nid))
            if tags:
                msg += field(2, packed([self.s(k) for k, _ in tags]))
                msg += field(3, packed([self.s(v) for _, v in tags]))
            msg += field(8, sint(self.raw(lat, self.grid[1])))
            msg += field(9, sint(self.raw(lon, self.grid[2])))
            group += field(1, msg)
        self.groups.append(group)

    def ways(self, ways: list[tuple[int, list[int], list[tuple[str, str]]]]) -> None:
        group = b""
        for wid, refs, tags in ways:
            msg = field(1, wid)
            if tags:
                msg += field(2, packed([self.s(k) for k, _ in tags]))
                msg += field(3, packed([self.s(v) for _, v in tags]))
            msg += field(8, packed(deltas(refs)))
            group += field(3, msg)
        self.groups.append(group)

    def encode(self) -> bytes:
        table = b"".join(field(1, s) for s in self.strings)
        return field(1, table) + b"".join(field(2, g) for g in self.groups) + self.scalars


def blob(kind: str, data: bytes, compression: str = "zlib") -> bytes:
    if compression == "zlib":
        body = field(2, len(data)) + field(3, zlib.compress(data))
    elif compression == "raw":
        body = field(1, data)
    else:  # lzma: field 4 (contents irrelevant: refused before decompression)
        body = field(2, len(data)) + field(4, data)
    header = field(1, kind.encode()) + field(3, len(body))
    return struct.pack(">I", len(header)) + header + body


def header_block(features: tuple[str, ...] = ("OsmSchema-V0.6", "DenseNodes"),
                 bbox: tuple[float, float, float, float] | None = None) -> bytes:
    msg = b""
    if bbox is not None:
        w, s, e, n = (round(v * 1e9) for v in bbox)
        msg += field(1, field(1, sint(w)) + field(2, sint(e)) + field(3, sint(n))
                     + field(4, sint(s)))
    return msg + b"".join(field(4, f.encode()) for f in features)


def awkward_file(path: Path, compression: str = "zlib", bbox=None) -> Path:
    """Plain and dense nodes, two coordinate grids (one west and south of 0), a raw
    block, a missing and a negative node, nodes after the ways that use them, duplicate
    keys, empty and non-ASCII values, terminal nodes and ways."""
    b1 = Block()
    b1.dense([
        (1, 14.5001, 35.9001, []),
        (2, 14.5002, 35.9002, []),
        (3, 14.5003, 35.9003, [("amenity", "ferry_terminal"), ("name", "Pier")]),
        (4, 14.5004, 35.9004, [("railway", "station"), ("station", "subway")]),
        (5, 14.5005, 35.9005, [("railway", "halt"), ("name", "Ħal Far"), ("ref", "")]),
        (-7, 14.5007, 35.9007, []),
    ])
    b2 = Block(granularity=1000, lat_offset=-123_456_789, lon_offset=987_654_321)
    b2.plain([
        (10, -76.61234567, -39.28765431, []),
        (11, -76.61, -39.28, [("building", "yes")]),
        (12, -76.60111111, -39.27999999, [("aeroway", "aerodrome"), ("iata", "XYZ"),
                                          ("icao", "KXYZ"), ("name", "Field")]),
    ])
    b3 = Block()
    b3.ways([
        (100, [1, 2, 2, 3, 99, 10, 11], [("highway", "primary"), ("name", "Triq")]),
        (101, [1, 2], [("highway", "residential"), ("access", "private")]),
        (102, [2, 3, 4], [("railway", "rail"), ("railway", "disused"), ("usage", "main")]),
        (103, [3, 5, 12], [("route", "ferry"), ("duration", "01:45"),
                           ("name", "Għawdex"), ("operator", "Gozo Channel")]),
        (104, [1, 2, 3, 1], [("landuse", "port"), ("name", "Port")]),
        (105, [4, 5], [("highway", "")]),
        (106, [13, 14, 1], [("highway", "service"), ("service", "alley")]),
        (108, [1, 3], [("building", "yes")]),
        (109, [-7, 2, 3], [("highway", "tertiary"), ("maxspeed", "50"),
                           ("oneway", "yes")]),
    ])
    b4 = Block()
    b4.dense([(13, 14.5013, 35.9013, []), (14, 14.5014, 35.9014, [])])
    b5 = Block()
    b5.ways([(107, [13, 14, 3], [("highway", "primary"), ("junction", "roundabout")])])
    data = blob("OSMHeader", header_block(bbox=bbox))
    data += blob("OSMData", b1.encode(), compression)
    data += blob("OSMData", b2.encode(), "raw")
    data += blob("OSMData", b3.encode(), compression)
    data += blob("OSMData", b4.encode(), compression)
    data += blob("OSMData", b5.encode(), compression)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("bbox", [None, (14.0, 35.0, 15.0, 36.0)])
def test_the_decoder_reads_an_awkward_hand_made_file_as_pyosmium_does(tmp_path,
                                                                       bbox) -> None:
    path = awkward_file(tmp_path / "awkward.osm.pbf", bbox=bbox)
    mine, ref = both(path, tmp_path)
    assert_same_scan(mine, ref)
    road = mine[0][Mode.ROAD]
    # the cases are really there: 99 missing, 13 and 14 come after way 106, -7 negative
    assert 99 not in road.refs.tolist()
    assert -7 not in road.refs.tolist()
    assert 106 not in road.way_id.tolist()
    assert 107 in road.way_id.tolist()
    assert [f["kind"] for f in mine[1]] == ["ferry_terminal", "station", "aerodrome",
                                            "port"]
    assert (road.lon < 0).any()  # the second grid, west of Greenwich


def test_a_file_from_pyosmiums_writer_with_nodes_after_ways_reads_the_same(tmp_path) -> None:
    path = tmp_path / "written.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        writer.add_node(osmium.osm.mutable.Node(id=1, location=(14.0, 35.0)))
        writer.add_node(osmium.osm.mutable.Node(id=3, location=(14.002, 35.0),
                                                tags={"harbour": "yes", "name": "H"}))
        writer.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 3, 4, 5],
                                              tags={"highway": "primary"}))
        writer.add_node(osmium.osm.mutable.Node(id=4, location=(14.003, 35.0)))
        writer.add_node(osmium.osm.mutable.Node(id=5, location=(14.004, 35.001)))
        writer.add_way(osmium.osm.mutable.Way(id=11, nodes=[1, 3, 4, 5, 1],
                                              tags={"highway": "primary",
                                                    "amenity": "ferry_terminal"}))
    mine, ref = both(path, tmp_path)
    assert_same_scan(mine, ref)
    assert mine[0][Mode.ROAD].refs.tolist() == [1, 3, 1, 3, 4, 5, 1]


def test_scan_osm_file_uses_the_decoder_and_caches_its_result(tmp_path,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    path = awkward_file(tmp_path / "awkward.osm.pbf")
    first = scan_osm_file(path)
    again = scan_osm_file(path)  # from the cache
    ref = _read_osmium(path, tmp_path)
    for scan in (first, again):
        assert_same_scan((dict(scan.ways), list(scan.features), scan.bbox), ref)


def test_other_compressions_are_left_to_pyosmium(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    path = awkward_file(tmp_path / "lzma.osm.pbf", compression="lzma")
    with pytest.raises(UnsupportedPbf, match="lzma"):
        decode_pbf(path, ["highway"], ["highway"], [])
    # pyosmium cannot read these fake lzma blocks either: a clear error naming the file
    with pytest.raises(InputFormatError, match=r"lzma\.osm\.pbf"):
        scan_osm_file(path)


def test_an_unknown_required_feature_is_left_to_pyosmium(tmp_path) -> None:
    path = tmp_path / "history.osm.pbf"
    path.write_bytes(blob("OSMHeader", header_block(
        ("OsmSchema-V0.6", "DenseNodes", "HistoricalInformation"))))
    with pytest.raises(UnsupportedPbf, match="HistoricalInformation"):
        decode_pbf(path, ["highway"], ["highway"], [])


def test_corrupt_blocks_raise_value_errors_never_crash(tmp_path) -> None:
    """Random bytes changed inside uncompressed blocks: the bounds-checked parser reports
    a corrupt file (or reads other valid-looking values), it never reads out of bounds."""
    good = awkward_file(tmp_path / "good.osm.pbf", compression="raw").read_bytes()
    start = len(blob("OSMHeader", header_block()))
    rng = random.Random(7)
    outcomes = {"error": 0, "read": 0}
    for trial in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(start + 20, len(data))] = rng.randrange(256)
        path = tmp_path / f"bad{trial % 3}.osm.pbf"
        path.write_bytes(bytes(data))
        try:
            decode_pbf(path, ["highway", "name"], ["highway"], ["name"])
            outcomes["read"] += 1
        except (ValueError, UnsupportedPbf):
            outcomes["error"] += 1
    assert outcomes["error"] > 50


def test_node_locations_are_libosmiums_fixed_point_values(tmp_path) -> None:
    """x / 1e7 of the decoded fixed-point values is the float pyosmium gives."""
    path = awkward_file(tmp_path / "awkward.osm.pbf")
    dec = decode_pbf(path, ["highway"], ["highway"], [])
    ref = {n.id: (n.location.lon, n.location.lat)
           for n in osmium.FileProcessor(str(path), osmium.osm.NODE)}
    mine = {int(i): (int(x) / 1e7, int(y) / 1e7)
            for i, x, y in zip(dec.node_id, dec.node_x, dec.node_y, strict=True)}
    assert mine == ref
    assert np.array_equal(dec.node_id, [1, 2, 3, 4, 5, -7, 10, 11, 12, 13, 14])


@pytest.mark.parametrize(("ncols", "nvalues"), [(3, 5), (12, 40_000)])
def test_distinct_rows_groups_rows_exactly_as_numpy_unique(ncols, nvalues) -> None:
    """Brute force: np.unique(axis=0), with many repeated rows and many distinct ones."""
    from hubopt.layers._pbf_arrays import distinct_rows

    rng = np.random.default_rng(3)
    rows = rng.integers(-1, nvalues, size=(5000, ncols + 1)).astype(np.int32)
    rows[::2, 1:] = rows[1::2, 1:]  # many repeats
    cols = list(range(1, ncols + 1))
    first, inverse = distinct_rows(rows, cols)
    sub = rows[:, cols]
    assert (sub[first][inverse] == sub).all()
    assert len(first) == len(np.unique(sub, axis=0))
    assert (first == np.array([np.flatnonzero(inverse == u)[0]
                               for u in range(len(first))])).all()


def test_vocabulary_codes_values_as_tagcolumn_of_does() -> None:
    from hubopt.layers._pbf import TagColumn
    from hubopt.layers._pbf_arrays import vocabulary

    strings = ("b", "", "a", "Ħ", "c", "unused")
    values = np.array([0, -1, 2, 3, 1, 0, -1, 4], dtype=np.int32)
    codes, vocab = vocabulary(values, strings)
    ref = TagColumn.of([strings[v] if v >= 0 else None for v in values])
    assert codes.dtype == ref.codes.dtype
    assert codes.tolist() == ref.codes.tolist()
    assert vocab.dtype == ref.vocab.dtype
    assert vocab.tolist() == ref.vocab.tolist()


def test_a_filter_reading_a_tag_the_decoder_drops_fails_loudly(tmp_path,
                                                               monkeypatch) -> None:
    """The decoder keeps only the tags the filters read today; a filter that reads
    another must not silently see it as untagged."""
    from hubopt.layers import _pbf

    path = awkward_file(tmp_path / "awkward.osm.pbf")
    filters = dict(_pbf.WAY_FILTERS)
    filters[Mode.ROAD] = lambda tags: tags.get("surface", None) == "paved"
    monkeypatch.setattr(_pbf, "WAY_FILTERS", filters)
    with pytest.raises(_pbf.UnreadTagError, match="surface"):
        _read_pbf(path)


def test_locations_on_ways_and_empty_files_read_as_pyosmium_reads_them(tmp_path) -> None:
    """osmium's ``locations_on_ways`` output (way fields 9/10, an optional feature) and a
    file with a header only."""
    path = tmp_path / "low.osm.pbf"
    writer = osmium.SimpleWriter(osmium.io.File(str(path), "pbf,locations_on_ways=true"))
    try:
        writer.add_node(osmium.osm.mutable.Node(id=1, location=(14.0, 35.0)))
        writer.add_node(osmium.osm.mutable.Node(id=2, location=(14.002, 35.001)))
        writer.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2, 3],
                                              tags={"railway": "rail"}))
    finally:
        writer.close()
    mine, ref = both(path, tmp_path)
    assert_same_scan(mine, ref)
    assert mine[0][Mode.RAIL].refs.tolist() == [1, 2]
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(blob("OSMHeader", header_block()))
    mine, ref = both(empty, tmp_path)
    assert_same_scan(mine, ref)
    assert mine[2] is None


def test_a_tiled_extract_with_ids_past_2_to_the_32_reads_the_same(tmp_path) -> None:
    """Kiel written twice by pyosmium's writer, the second copy shifted by 10**10 in ids
    and by the extract's width in longitude (as benchmarks/tiled_extract.py does)."""
    source = osm_file("kiel")
    nodes = [(n.id, n.location.lon, n.location.lat, dict(n.tags))
             for n in osmium.FileProcessor(str(source), osmium.osm.NODE)]
    ways = [(w.id, [r.ref for r in w.nodes], dict(w.tags))
            for w in osmium.FileProcessor(str(source), osmium.osm.WAY)]
    width = max(n[1] for n in nodes) - min(n[1] for n in nodes)
    path = tmp_path / "tiled.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for k in range(2):
            for nid, lon, lat, tags in nodes:
                writer.add_node(osmium.osm.mutable.Node(
                    id=nid + k * 10**10, location=(lon + k * width, lat), tags=tags))
        for k in range(2):
            for wid, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(
                    id=wid + k * 10**10, nodes=[r + k * 10**10 for r in refs], tags=tags))
    mine, ref = both(path, tmp_path)
    assert_same_scan(mine, ref)
    road = mine[0][Mode.ROAD]
    assert (road.way_id > 10**10).sum() == (road.way_id < 10**10).sum() > 500


@pytest.mark.parametrize(("announced", "error"), [
    (2**40, "at most"),  # beyond the format's 32 MiB: refused before any allocation
    (10, "corrupt zlib data"),  # smaller than the data: libdeflate stops
    (10**6, "announced"),  # larger than the data: the size check names both
])
def test_a_block_whose_raw_size_is_wrong_is_refused_by_name(announced, error) -> None:
    data = Block().encode() + b"\x00" * 500
    body = field(2, announced) + field(3, zlib.compress(data))
    with pytest.raises(ValueError, match=error):
        _payload(body)
    assert _payload(field(2, len(data)) + field(3, zlib.compress(data))) == data


def test_the_retained_heap_is_set_once_for_nested_and_failing_blocks(monkeypatch) -> None:
    """The allocator settings go on at the first block in, off at the last block out,
    also when a block raises; glibc really takes them (mallopt answers 1)."""
    from hubopt.layers import _heap

    calls: list[str] = []
    real = _heap._set
    monkeypatch.setattr(_heap, "_set", lambda values: calls.append(
        "held" if values is _heap._HELD else "defaults"))
    with _heap.retained_heap(), _heap.retained_heap():
        assert calls == ["held"]
    assert calls == ["held", "defaults"]
    with pytest.raises(KeyError), _heap.retained_heap():
        raise KeyError
    assert calls == ["held", "defaults", "held", "defaults"]
    assert _heap._users == [0]
    fn = _heap._mallopt()
    if fn is not None:  # glibc: every parameter is accepted, and the defaults come back
        assert all(fn(p, v) == 1 for p, v in (*_heap._HELD, *_heap._DEFAULTS))
    real(_heap._DEFAULTS)


def test_a_column_filled_past_its_first_capacity_keeps_every_row() -> None:
    """The decoder's columns start at an estimate from the file size; a file denser than
    the estimate grows them, and the rows come back whole, in order."""
    from hubopt.layers._pbf_decode import _Column

    rng = np.random.default_rng(5)
    flat, rows = _Column(np.int64, 0, 0), _Column(np.int32, 0, 3)
    blocks = [rng.integers(-9, 9, size=int(k)) for k in rng.integers(0, 900, size=12)]
    for block in blocks:
        flat.append(block)
        rows.append(np.repeat(block[:, None], 3, axis=1).astype(np.int32))
    whole = np.concatenate(blocks)
    assert len(whole) > 1024 * 3  # grown more than once
    assert np.array_equal(flat.array(), whole)
    assert np.array_equal(rows.array(), np.repeat(whole[:, None], 3, axis=1))
