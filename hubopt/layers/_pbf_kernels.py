"""Compiled parsing of one OSM PBF ``PrimitiveBlock`` (``numba``), for :mod:`_pbf_decode`.

The message layout follows the OSM wiki's "PBF Format" page (``osmformat.proto``):
a block holds a string table (field 1), primitive groups (2), the coordinate granularity
(17, nanodegrees, default 100) and the latitude/longitude offsets (19/20, nanodegrees).
A group holds plain nodes (1), dense nodes (2), ways (3), relations (4) or changesets
(5); relations and changesets are skipped. Every read is bounds-checked: a corrupt block
gives a status code, never a read outside the buffer.

Coordinates come out as libosmium stores them, fixed-point with 1e-7 degree
(``(offset + granularity * v) / 100``, truncated toward zero); ``x / 1e7`` is then the
float pyosmium gives. Tags come out as string-table indices of the values of a few
wanted keys (columns), the first occurrence of a key winning, as a tag lookup does.
"""

from __future__ import annotations

import numba as nb
import numpy as np

OK = 0
CORRUPT = 1
UNSUPPORTED = 2  # legal but not handled here (repeated or unpacked arrays): use pyosmium

WAY_BIT = 1  # a column whose key selects a way
NODE_BIT = 2  # a column whose key selects a node

_INT64_MAX = 0x7FFFFFFFFFFFFFFF


@nb.njit(cache=True, nogil=True)
def _varint(buf, pos, end):  # type: ignore[no-untyped-def]
    """``(value, next position)``; the position is -1 past ``end`` or after 10 bytes."""
    result = np.int64(0)
    shift = np.int64(0)
    while pos < end:
        b = np.int64(buf[pos])
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            return result, -1
    return result, -1


@nb.njit(cache=True, nogil=True)
def _zigzag(n):  # type: ignore[no-untyped-def]
    return ((n >> 1) & _INT64_MAX) ^ -(n & 1)


@nb.njit(cache=True, nogil=True)
def _skip(buf, pos, end, wire):  # type: ignore[no-untyped-def]
    """Position after a field's value of wire type ``wire`` (-1 if corrupt)."""
    if wire == 0:
        _, pos = _varint(buf, pos, end)
        return pos
    if wire == 1:
        return pos + 8 if pos + 8 <= end else -1
    if wire == 2:
        n, pos = _varint(buf, pos, end)
        if pos < 0 or n < 0 or pos + n > end:
            return -1
        return pos + n
    if wire == 5:
        return pos + 4 if pos + 4 <= end else -1
    return -1  # groups (3/4) are not used by the format


@nb.njit(cache=True, nogil=True)
def _field(buf, pos, end):  # type: ignore[no-untyped-def]
    """``(field number, wire type, start, stop, value, next)`` of the field at ``pos``.

    For a length-delimited field ``start:stop`` is its content, else ``value`` is the
    varint's value; ``next`` is -1 if the field is corrupt.
    """
    key, pos = _varint(buf, pos, end)
    if pos < 0:
        return 0, 0, 0, 0, 0, -1
    number = key >> 3
    wire = key & 7
    if wire == 0:
        value, nxt = _varint(buf, pos, end)
        return number, wire, 0, 0, value, nxt
    if wire == 2:
        n, pos = _varint(buf, pos, end)
        if pos < 0 or n < 0 or pos + n > end:
            return number, wire, 0, 0, 0, -1
        return number, wire, pos, pos + n, 0, pos + n
    return number, wire, 0, 0, 0, _skip(buf, pos, end, wire)


@nb.njit(cache=True, nogil=True)
def _count_varints(buf, start, stop):  # type: ignore[no-untyped-def]
    n = 0
    for i in range(start, stop):
        if buf[i] < 0x80:
            n += 1
    return n


@nb.njit(cache=True, nogil=True)
def _fixed(v, granularity, offset):  # type: ignore[no-untyped-def]
    """Nanodegree grid value -> 1e-7 degree fixed point, truncated toward zero."""
    if granularity == 100 and offset == 0:  # the usual grid: no division
        return np.int32(v)
    nano = offset + granularity * v
    q = nano // 100
    if nano < 0 and q * 100 != nano:
        q += 1
    return np.int32(q)


@nb.njit(cache=True, nogil=True)
def _key_columns(buf, st_start, st_end, needles, needle_off):  # type: ignore[no-untyped-def]
    """Per string-table entry, the column whose key it spells, else -1."""
    n = st_start.shape[0]
    cols = np.full(n, -1, dtype=np.int32)
    for i in range(n):
        length = st_end[i] - st_start[i]
        for j in range(needle_off.shape[0] - 1):
            if needle_off[j + 1] - needle_off[j] != length:
                continue
            same = True
            for k in range(length):
                if buf[st_start[i] + k] != needles[needle_off[j] + k]:
                    same = False
                    break
            if same:
                cols[i] = j
                break
    return cols


@nb.njit(cache=True, nogil=True)
def _tag(row, cols, flags, nstr, key, val, bit):  # type: ignore[no-untyped-def]
    """Record one tag in ``row``; ``(selects, ok)``: whether its key selects the object."""
    if key < 0 or key >= nstr or val < 0 or val >= nstr:
        return False, False
    c = cols[key]
    if c < 0:
        return False, True
    if row[c] < 0:
        row[c] = np.int32(val)
    return (flags[c] & bit) != 0, True


@nb.njit(cache=True, nogil=True)
def _element(buf, lo, hi):  # type: ignore[no-untyped-def]
    """The fields of a ``Node`` or ``Way`` message: ``(status, id, keys_lo, keys_hi,
    vals_lo, vals_hi, f8_lo, f8_hi, f8, f9)``. Field 8 is a way's packed references
    (``f8_lo:f8_hi``) or a node's latitude (``f8``); field 9 a node's longitude."""
    oid = f8 = f9 = np.int64(0)
    k_lo = k_hi = v_lo = v_hi = r_lo = r_hi = np.int64(-1)
    status = OK
    p = lo
    while p < hi:
        number, wire, flo, fhi, value, p = _field(buf, p, hi)
        if p < 0:
            status = CORRUPT
            break
        if number == 1 and wire == 0:
            oid = value
        elif (2 <= number <= 3 or number == 8) and wire == 2:
            if number == 2:
                k_lo, k_hi = flo, fhi
            elif number == 3:
                v_lo, v_hi = flo, fhi
            else:
                r_lo, r_hi = flo, fhi
        elif number == 8 and wire == 0:
            f8 = value
        elif number == 9 and wire == 0:
            f9 = value
        elif 2 <= number <= 3:
            status = UNSUPPORTED  # keys or values not packed
    if status == OK and (k_lo < 0) != (v_lo < 0):
        status = CORRUPT
    return status, oid, k_lo, k_hi, v_lo, v_hi, r_lo, r_hi, f8, f9


@nb.njit(cache=True, nogil=True)
def _dense_fields(buf, lo, hi):  # type: ignore[no-untyped-def]
    """``(status, ids, lats, lons, keys_vals)`` ranges of a ``DenseNodes`` message
    (each ``(lo, hi)``, -1 when absent)."""
    ranges = np.full(8, -1, dtype=np.int64)
    status = OK
    p = lo
    while p < hi:
        number, wire, flo, fhi, _, p = _field(buf, p, hi)
        if p < 0:
            status = CORRUPT
            break
        slot = -1
        if number == 1:
            slot = 0
        elif 8 <= number <= 10:
            slot = number - 7
        if slot >= 0:
            if wire != 2 or ranges[2 * slot] >= 0:
                status = UNSUPPORTED  # not packed, or split in several fields
                break
            ranges[2 * slot] = flo
            ranges[2 * slot + 1] = fhi
    if status == OK and ranges[0] >= 0 and (ranges[2] < 0 or ranges[4] < 0):
        status = CORRUPT
    return status, ranges


@nb.njit(cache=True, nogil=True)
def _tags(buf, k_lo, k_hi, v_lo, v_hi, row, cols, flags, nstr, bit):  # type: ignore[no-untyped-def]
    """Record the parallel packed keys/values in ``row``: ``(status, selects)``."""
    selects = False
    pk, pv = k_lo, v_lo
    while pk < k_hi:
        k, pk = _varint(buf, pk, k_hi)
        v, pv = _varint(buf, pv, v_hi)
        if pk < 0 or pv < 0:
            return CORRUPT, False
        sel, ok = _tag(row, cols, flags, nstr, k, v, bit)
        if not ok:
            return CORRUPT, False
        selects = selects or sel
    return OK, selects


@nb.njit(cache=True, nogil=True)
def _dense_tags(buf, pk, kv_hi, row, cols, flags, nstr):  # type: ignore[no-untyped-def]
    """One node's run of ``keys_vals`` (up to its 0): ``(status, next, selects)``."""
    selects = False
    while True:
        k, pk = _varint(buf, pk, kv_hi)
        if pk < 0:
            return CORRUPT, pk, False
        if k == 0:
            return OK, pk, selects
        v, pk = _varint(buf, pk, kv_hi)
        if pk < 0:
            return CORRUPT, pk, False
        sel, ok = _tag(row, cols, flags, nstr, k, v, NODE_BIT)
        if not ok:
            return CORRUPT, pk, False
        selects = selects or sel


@nb.njit(cache=True, nogil=True)
def _layout(buf):  # type: ignore[no-untyped-def]
    """``(status, grid, string table range, group ranges)`` of a block; ``grid`` is
    granularity, latitude offset, longitude offset."""
    end = buf.shape[0]
    grid = np.array([100, 0, 0], dtype=np.int64)
    table = np.array([-1, -1], dtype=np.int64)
    groups = np.zeros(2 * _count_fields(buf, 0, end, 2), dtype=np.int64)
    g = 0
    status = OK
    pos = 0
    while pos < end:
        number, wire, lo, hi, value, pos = _field(buf, pos, end)
        if pos < 0:
            status = CORRUPT
            break
        if number == 1 and wire == 2:
            if table[0] >= 0:
                status = UNSUPPORTED
                break
            table[0] = lo
            table[1] = hi
        elif number == 2 and wire == 2:
            groups[2 * g] = lo
            groups[2 * g + 1] = hi
            g += 1
        elif number == 17 and wire == 0:
            grid[0] = value
        elif number == 19 and wire == 0:
            grid[1] = value
        elif number == 20 and wire == 0:
            grid[2] = value
    return status, grid, table, groups[:2 * g]


@nb.njit(cache=True, nogil=True)
def _count_fields(buf, lo, hi, number):  # type: ignore[no-untyped-def]
    """How many length-delimited fields ``number`` the message ``lo:hi`` has (corrupt
    data stops the count; the parse that follows reports it)."""
    n = 0
    p = lo
    while p < hi:
        num, wire, _, _, _, p = _field(buf, p, hi)
        if p < 0:
            break
        if num == number and wire == 2:
            n += 1
    return n


@nb.njit(cache=True, nogil=True)
def _string_table(buf, lo, hi):  # type: ignore[no-untyped-def]
    """Start and stop of each entry of the string table ``lo:hi`` (none if ``lo < 0``)."""
    n = _count_fields(buf, lo, hi, 1) if lo >= 0 else 0
    start = np.zeros(n, dtype=np.int64)
    stop = np.zeros(n, dtype=np.int64)
    i = 0
    p = lo
    while i < n and p < hi:
        num, wire, flo, fhi, _, p = _field(buf, p, hi)
        if p < 0:
            break
        if num == 1 and wire == 2:
            start[i] = flo
            stop[i] = fhi
            i += 1
    return start, stop


@nb.njit(cache=True, nogil=True)
def _capacity(buf, groups):  # type: ignore[no-untyped-def]
    """Upper bounds of ``(nodes, ways, references)`` in the groups (a reference takes at
    least one byte of its way's message)."""
    nodes = ways = refs = 0
    for g in range(groups.shape[0] // 2):
        p, hi = groups[2 * g], groups[2 * g + 1]
        while p < hi:
            number, wire, lo, ehi, _, p = _field(buf, p, hi)
            if p < 0:
                break
            if number == 1 and wire == 2:
                nodes += 1
            elif number == 2 and wire == 2:
                _, ranges = _dense_fields(buf, lo, ehi)
                if ranges[0] >= 0:
                    nodes += _count_varints(buf, ranges[0], ranges[1])
            elif number == 3 and wire == 2:
                ways += 1
                refs += ehi - lo
    return nodes, ways, refs


@nb.njit(cache=True, nogil=True)
def _grow(tagged, rows):  # type: ignore[no-untyped-def]
    """``tagged`` and ``rows`` with twice the capacity (new rows untagged: -1)."""
    n = tagged.shape[0]
    bigger = np.zeros(2 * n + 1, dtype=np.int64)
    bigger[:n] = tagged
    more = np.full((2 * n + 1, rows.shape[1]), -1, dtype=np.int32)
    more[:n] = rows
    return bigger, more


@nb.njit(cache=True, nogil=True)
def parse_block(buf, needles, needle_off, flags):  # type: ignore[no-untyped-def]
    """Parse one decompressed ``PrimitiveBlock``.

    ``needles[needle_off[j]:needle_off[j + 1]]`` is the key of column ``j``; ``flags[j]``
    has :data:`WAY_BIT` if that key selects a way, :data:`NODE_BIT` a node.

    Returns ``(status, groups, st_start, st_end, node_id, node_x, node_y, node_group,
    tagged, tagged_rows, way_id, way_count, way_refs, way_rows, way_group)``: every node
    (id, fixed-point lon/lat, group number in the block); the nodes with a selecting key
    (their index and per column the string-table index of the value, -1 when untagged);
    the ways with a selecting key (id, number of references, the references, the value
    rows, the group number).
    """
    ncols = flags.shape[0]
    status, grid, table, groups = _layout(buf)
    st_start, st_end = _string_table(buf, table[0], table[1])
    nstr = st_start.shape[0]
    cols = _key_columns(buf, st_start, st_end, needles, needle_off)
    cap_nodes, cap_ways, cap_refs = _capacity(buf, groups)
    node_id = np.zeros(cap_nodes, dtype=np.int64)
    node_x = np.zeros(cap_nodes, dtype=np.int32)
    node_y = np.zeros(cap_nodes, dtype=np.int32)
    node_group = np.zeros(cap_nodes, dtype=np.int32)
    # few nodes carry tags: these two grow on demand rather than take a row per node
    tagged = np.zeros(min(cap_nodes, 64), dtype=np.int64)
    tagged_rows = np.full((tagged.shape[0], ncols), -1, dtype=np.int32)
    way_id = np.zeros(cap_ways, dtype=np.int64)
    way_count = np.zeros(cap_ways, dtype=np.int64)
    way_rows = np.full((cap_ways, ncols), -1, dtype=np.int32)
    way_group = np.zeros(cap_ways, dtype=np.int32)
    way_refs = np.zeros(cap_refs, dtype=np.int64)
    n_nodes = n_tagged = n_ways = n_refs = 0
    for g in range(groups.shape[0] // 2):
        pos, gend = groups[2 * g], groups[2 * g + 1]
        while status == OK and pos < gend:
            number, wire, lo, hi, _, pos = _field(buf, pos, gend)
            if pos < 0:
                status = CORRUPT
            elif wire != 2 or number > 3:
                continue  # relations, changesets
            elif number == 2:  # dense nodes
                status, ranges = _dense_fields(buf, lo, hi)
                if status != OK or ranges[0] < 0:
                    continue
                pi, pa, po, pk = ranges[0], ranges[2], ranges[4], ranges[6]
                nid = nlat = nlon = np.int64(0)
                while pi < ranges[1]:
                    if n_nodes >= cap_nodes:
                        status = CORRUPT
                        break
                    v, pi = _varint(buf, pi, ranges[1])
                    w, pa = _varint(buf, pa, ranges[3])
                    u, po = _varint(buf, po, ranges[5])
                    if pi < 0 or pa < 0 or po < 0:
                        status = CORRUPT
                        break
                    nid += _zigzag(v)
                    nlat += _zigzag(w)
                    nlon += _zigzag(u)
                    node_id[n_nodes] = nid
                    node_x[n_nodes] = _fixed(nlon, grid[0], grid[2])
                    node_y[n_nodes] = _fixed(nlat, grid[0], grid[1])
                    node_group[n_nodes] = g
                    if pk >= 0 and pk < ranges[7]:
                        if buf[pk] == 0:
                            pk += 1  # no tags: the usual case
                        else:
                            if n_tagged >= tagged.shape[0]:
                                tagged, tagged_rows = _grow(tagged, tagged_rows)
                            row = tagged_rows[n_tagged]
                            status, pk, selects = _dense_tags(buf, pk, ranges[7], row, cols,
                                                              flags, nstr)
                            if selects:
                                tagged[n_tagged] = n_nodes
                                n_tagged += 1
                            else:
                                row[:] = -1
                    n_nodes += 1
                    if status != OK:
                        break
                if status == OK and (pa != ranges[3] or po != ranges[5]):
                    status = CORRUPT
            else:  # a plain node (1) or a way (3)
                status, oid, k_lo, k_hi, v_lo, v_hi, r_lo, r_hi, f8, f9 = _element(buf, lo, hi)
                if status != OK:
                    continue
                if number == 1:
                    if n_nodes >= cap_nodes:
                        status = CORRUPT
                        continue
                    node_id[n_nodes] = _zigzag(oid)
                    node_x[n_nodes] = _fixed(_zigzag(f9), grid[0], grid[2])
                    node_y[n_nodes] = _fixed(_zigzag(f8), grid[0], grid[1])
                    node_group[n_nodes] = g
                    if n_tagged >= tagged.shape[0]:
                        tagged, tagged_rows = _grow(tagged, tagged_rows)
                    row = tagged_rows[n_tagged]
                    status, selects = _tags(buf, k_lo, k_hi, v_lo, v_hi, row, cols, flags,
                                            nstr, NODE_BIT)
                    if selects:
                        tagged[n_tagged] = n_nodes
                        n_tagged += 1
                    else:
                        row[:] = -1
                    n_nodes += 1
                    continue
                if n_ways >= cap_ways:
                    status = CORRUPT
                    continue
                row = way_rows[n_ways]
                status, selects = _tags(buf, k_lo, k_hi, v_lo, v_hi, row, cols, flags, nstr,
                                        WAY_BIT)
                if status != OK or not selects:
                    row[:] = -1
                    continue
                ref = np.int64(0)
                count = 0
                pr = r_lo
                while r_lo >= 0 and pr < r_hi:
                    if n_refs + count >= cap_refs:
                        status = CORRUPT
                        break
                    v, pr = _varint(buf, pr, r_hi)
                    if pr < 0:
                        status = CORRUPT
                        break
                    ref += _zigzag(v)
                    way_refs[n_refs + count] = ref
                    count += 1
                way_id[n_ways] = oid
                way_count[n_ways] = count
                way_group[n_ways] = g
                n_refs += count
                n_ways += 1
    if status != OK:
        n_nodes = n_tagged = n_ways = n_refs = 0
    # copies, so that the blocks' spare capacity is freed
    return (status, groups.shape[0] // 2, st_start, st_end, node_id[:n_nodes].copy(),
            node_x[:n_nodes].copy(), node_y[:n_nodes].copy(), node_group[:n_nodes].copy(),
            tagged[:n_tagged].copy(), tagged_rows[:n_tagged].copy(), way_id[:n_ways].copy(),
            way_count[:n_ways].copy(), way_refs[:n_refs].copy(), way_rows[:n_ways].copy(),
            way_group[:n_ways].copy())


@nb.njit(cache=True, nogil=True)
def mark_used(rows, used):  # type: ignore[no-untyped-def]
    """Set ``used[v]`` for every value ``v >= 0`` of ``rows``."""
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            v = rows[i, j]
            if v >= 0:
                used[v] = True


@nb.njit(cache=True, nogil=True)
def remap(rows, lut):  # type: ignore[no-untyped-def]
    """Replace every value ``v >= 0`` of ``rows`` by ``lut[v]``, in place."""
    for i in range(rows.shape[0]):
        for j in range(rows.shape[1]):
            v = rows[i, j]
            if v >= 0:
                rows[i, j] = lut[v]
