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

MAX_X = 1_800_000_000  # libosmium's valid range of fixed-point coordinates
MAX_Y = 900_000_000

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
def _grow1(a, need):  # type: ignore[no-untyped-def]
    if need <= a.shape[0]:
        return a
    out = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    out[:a.shape[0]] = a
    return out


@nb.njit(cache=True, nogil=True)
def _grow_rows(a, need):  # type: ignore[no-untyped-def]
    if need <= a.shape[0]:
        return a
    out = np.full((max(need, 2 * a.shape[0]), a.shape[1]), -1, dtype=a.dtype)
    out[:a.shape[0]] = a
    return out


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
    end = buf.shape[0]
    st_start = np.zeros(0, dtype=np.int64)
    st_end = np.zeros(0, dtype=np.int64)
    node_id = np.zeros(0, dtype=np.int64)
    node_x = np.zeros(0, dtype=np.int32)
    node_y = np.zeros(0, dtype=np.int32)
    node_group = np.zeros(0, dtype=np.int32)
    tagged = np.zeros(16, dtype=np.int64)
    tagged_rows = np.full((16, ncols), -1, dtype=np.int32)
    way_id = np.zeros(16, dtype=np.int64)
    way_count = np.zeros(16, dtype=np.int64)
    way_refs = np.zeros(64, dtype=np.int64)
    way_rows = np.full((16, ncols), -1, dtype=np.int32)
    way_group = np.zeros(16, dtype=np.int32)
    n_nodes = 0
    n_tagged = 0
    n_ways = 0
    n_refs = 0

    # pass 1: the block's scalars and where its string table and groups are
    granularity = np.int64(100)
    lat_offset = np.int64(0)
    lon_offset = np.int64(0)
    st_lo = -1
    st_hi = -1
    group_lo = np.zeros(16, dtype=np.int64)
    group_hi = np.zeros(16, dtype=np.int64)
    groups = 0
    pos = 0
    status = OK
    while pos < end:
        number, wire, lo, hi, value, pos = _field(buf, pos, end)
        if pos < 0:
            status = CORRUPT
            break
        if number == 1 and wire == 2:
            if st_lo >= 0:
                status = UNSUPPORTED
                break
            st_lo, st_hi = lo, hi
        elif number == 2 and wire == 2:
            group_lo = _grow1(group_lo, groups + 1)
            group_hi = _grow1(group_hi, groups + 1)
            group_lo[groups] = lo
            group_hi[groups] = hi
            groups += 1
        elif number == 17 and wire == 0:
            granularity = value
        elif number == 19 and wire == 0:
            lat_offset = value
        elif number == 20 and wire == 0:
            lon_offset = value

    # the string table
    nstr = 0
    if status == OK and st_lo >= 0:
        count = 0
        pos = st_lo
        while pos < st_hi:
            number, wire, lo, hi, value, pos = _field(buf, pos, st_hi)
            if pos < 0:
                status = CORRUPT
                break
            if number == 1 and wire == 2:
                count += 1
        st_start = np.zeros(count, dtype=np.int64)
        st_end = np.zeros(count, dtype=np.int64)
        pos = st_lo
        while status == OK and pos < st_hi:
            number, wire, lo, hi, value, pos = _field(buf, pos, st_hi)
            if number == 1 and wire == 2:
                st_start[nstr] = lo
                st_end[nstr] = hi
                nstr += 1
    cols = _key_columns(buf, st_start, st_end, needles, needle_off)

    # pass 2: the groups
    for g in range(groups):
        if status != OK:
            break
        pos = group_lo[g]
        gend = group_hi[g]
        while status == OK and pos < gend:
            number, wire, lo, hi, value, pos = _field(buf, pos, gend)
            if pos < 0:
                status = CORRUPT
                break
            if wire != 2 or number > 3:
                continue  # relations, changesets
            if number == 2:  # dense nodes
                id_lo = id_hi = lat_lo = lat_hi = lon_lo = lon_hi = kv_lo = kv_hi = -1
                p = lo
                while p < hi:
                    fnum, fwire, flo, fhi, fval, p = _field(buf, p, hi)
                    if p < 0:
                        status = CORRUPT
                        break
                    if (fnum == 1 or fnum >= 8) and fnum <= 10 and fwire != 2:
                        status = UNSUPPORTED
                        break
                    if fnum == 1:
                        if id_lo >= 0:
                            status = UNSUPPORTED
                        id_lo, id_hi = flo, fhi
                    elif fnum == 8:
                        if lat_lo >= 0:
                            status = UNSUPPORTED
                        lat_lo, lat_hi = flo, fhi
                    elif fnum == 9:
                        if lon_lo >= 0:
                            status = UNSUPPORTED
                        lon_lo, lon_hi = flo, fhi
                    elif fnum == 10:
                        if kv_lo >= 0:
                            status = UNSUPPORTED
                        kv_lo, kv_hi = flo, fhi
                if status != OK or id_lo < 0:
                    continue
                count = _count_varints(buf, id_lo, id_hi)
                if lat_lo < 0 or lon_lo < 0:
                    status = CORRUPT
                    break
                node_id = _grow1(node_id, n_nodes + count)
                node_x = _grow1(node_x, n_nodes + count)
                node_y = _grow1(node_y, n_nodes + count)
                node_group = _grow1(node_group, n_nodes + count)
                pi, pa, po, pk = id_lo, lat_lo, lon_lo, kv_lo
                nid = np.int64(0)
                nlat = np.int64(0)
                nlon = np.int64(0)
                for _ in range(count):
                    v, pi = _varint(buf, pi, id_hi)
                    w, pa = _varint(buf, pa, lat_hi)
                    u, po = _varint(buf, po, lon_hi)
                    if pi < 0 or pa < 0 or po < 0:
                        status = CORRUPT
                        break
                    nid += _zigzag(v)
                    nlat += _zigzag(w)
                    nlon += _zigzag(u)
                    node_id[n_nodes] = nid
                    node_x[n_nodes] = _fixed(nlon, granularity, lon_offset)
                    node_y[n_nodes] = _fixed(nlat, granularity, lat_offset)
                    node_group[n_nodes] = g
                    if kv_lo >= 0 and pk < kv_hi and buf[pk] == 0:
                        pk += 1  # no tags: the usual case
                    elif kv_lo >= 0 and pk < kv_hi:
                        tagged_rows = _grow_rows(tagged_rows, n_tagged + 1)
                        row = tagged_rows[n_tagged]
                        selects = False
                        while True:
                            k, pk = _varint(buf, pk, kv_hi)
                            if pk < 0:
                                status = CORRUPT
                                break
                            if k == 0:
                                break
                            val, pk = _varint(buf, pk, kv_hi)
                            if pk < 0:
                                status = CORRUPT
                                break
                            sel, ok = _tag(row, cols, flags, nstr, k, val, NODE_BIT)
                            if not ok:
                                status = CORRUPT
                                break
                            selects = selects or sel
                        if selects:
                            tagged = _grow1(tagged, n_tagged + 1)
                            tagged[n_tagged] = n_nodes
                            n_tagged += 1
                        else:
                            row[:] = -1
                    n_nodes += 1
                    if status != OK:
                        break
                if status == OK and (pi != id_hi or pa != lat_hi or po != lon_hi):
                    status = CORRUPT
            elif number == 1:  # a plain node
                nid = np.int64(0)
                nlat = np.int64(0)
                nlon = np.int64(0)
                k_lo = k_hi = v_lo = v_hi = -1
                p = lo
                while p < hi:
                    fnum, fwire, flo, fhi, fval, p = _field(buf, p, hi)
                    if p < 0:
                        status = CORRUPT
                        break
                    if fnum == 1 and fwire == 0:
                        nid = _zigzag(fval)
                    elif fnum == 8 and fwire == 0:
                        nlat = _zigzag(fval)
                    elif fnum == 9 and fwire == 0:
                        nlon = _zigzag(fval)
                    elif 2 <= fnum <= 3 and fwire != 2:
                        status = UNSUPPORTED
                    elif fnum == 2:
                        k_lo, k_hi = flo, fhi
                    elif fnum == 3:
                        v_lo, v_hi = flo, fhi
                if status != OK:
                    break
                node_id = _grow1(node_id, n_nodes + 1)
                node_x = _grow1(node_x, n_nodes + 1)
                node_y = _grow1(node_y, n_nodes + 1)
                node_group = _grow1(node_group, n_nodes + 1)
                node_id[n_nodes] = nid
                node_x[n_nodes] = _fixed(nlon, granularity, lon_offset)
                node_y[n_nodes] = _fixed(nlat, granularity, lat_offset)
                node_group[n_nodes] = g
                if k_lo >= 0:
                    tagged_rows = _grow_rows(tagged_rows, n_tagged + 1)
                    row = tagged_rows[n_tagged]
                    selects = False
                    pk, pv = k_lo, v_lo
                    while pk < k_hi:
                        k, pk = _varint(buf, pk, k_hi)
                        val, pv = _varint(buf, pv, v_hi)
                        if pk < 0 or pv < 0:
                            status = CORRUPT
                            break
                        sel, ok = _tag(row, cols, flags, nstr, k, val, NODE_BIT)
                        if not ok:
                            status = CORRUPT
                            break
                        selects = selects or sel
                    if selects:
                        tagged = _grow1(tagged, n_tagged + 1)
                        tagged[n_tagged] = n_nodes
                        n_tagged += 1
                    else:
                        row[:] = -1
                n_nodes += 1
            else:  # a way
                wid = np.int64(0)
                k_lo = k_hi = v_lo = v_hi = r_lo = r_hi = -1
                p = lo
                while p < hi:
                    fnum, fwire, flo, fhi, fval, p = _field(buf, p, hi)
                    if p < 0:
                        status = CORRUPT
                        break
                    if fnum == 1 and fwire == 0:
                        wid = fval
                    elif (2 <= fnum <= 3 or fnum == 8) and fwire != 2:
                        status = UNSUPPORTED
                    elif fnum == 2:
                        k_lo, k_hi = flo, fhi
                    elif fnum == 3:
                        v_lo, v_hi = flo, fhi
                    elif fnum == 8:
                        r_lo, r_hi = flo, fhi
                if status != OK:
                    break
                if k_lo < 0:
                    continue
                way_rows = _grow_rows(way_rows, n_ways + 1)
                row = way_rows[n_ways]
                selects = False
                pk, pv = k_lo, v_lo
                while pk < k_hi:
                    k, pk = _varint(buf, pk, k_hi)
                    val, pv = _varint(buf, pv, v_hi)
                    if pk < 0 or pv < 0:
                        status = CORRUPT
                        break
                    sel, ok = _tag(row, cols, flags, nstr, k, val, WAY_BIT)
                    if not ok:
                        status = CORRUPT
                        break
                    selects = selects or sel
                if status != OK:
                    break
                if not selects:
                    row[:] = -1
                    continue
                count = _count_varints(buf, r_lo, r_hi) if r_lo >= 0 else 0
                way_refs = _grow1(way_refs, n_refs + count)
                ref = np.int64(0)
                pr = r_lo
                for i in range(count):
                    v, pr = _varint(buf, pr, r_hi)
                    if pr < 0:
                        status = CORRUPT
                        break
                    ref += _zigzag(v)
                    way_refs[n_refs + i] = ref
                if status != OK:
                    break
                way_id = _grow1(way_id, n_ways + 1)
                way_count = _grow1(way_count, n_ways + 1)
                way_group = _grow1(way_group, n_ways + 1)
                way_id[n_ways] = wid
                way_count[n_ways] = count
                way_group[n_ways] = g
                n_refs += count
                n_ways += 1
    if status != OK:
        n_nodes = n_tagged = n_ways = n_refs = 0
    # copies, so that the blocks' spare capacity is freed
    return (status, groups, st_start[:nstr], st_end[:nstr], node_id[:n_nodes].copy(),
            node_x[:n_nodes].copy(), node_y[:n_nodes].copy(), node_group[:n_nodes].copy(),
            tagged[:n_tagged].copy(), tagged_rows[:n_tagged].copy(), way_id[:n_ways].copy(),
            way_count[:n_ways].copy(), way_refs[:n_refs].copy(), way_rows[:n_ways].copy(),
            way_group[:n_ways].copy())


@nb.njit(cache=True, nogil=True)
def locate(node_id, node_x, node_y, node_group, refs, ref_group):  # type: ignore[no-untyped-def]
    """Longitude, latitude (degrees) and validity of each reference, as pyosmium's
    location store gives them: NaN where it has no location.

    ``node_id`` is sorted (of equal ids, the first in the file first). A reference has a
    location when a node of that id (positive: libosmium's store keeps no negative ids)
    came earlier in the file (``node_group < ref_group``, group numbers over the file);
    of several nodes with one id the first counts. Valid: within libosmium's range.
    """
    n = node_id.shape[0]
    m = refs.shape[0]
    lon = np.full(m, np.nan)
    lat = np.full(m, np.nan)
    valid = np.zeros(m, dtype=np.bool_)
    for i in range(m):
        r = refs[i]
        if r <= 0:
            continue
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if node_id[mid] < r:
                lo = mid + 1
            else:
                hi = mid
        if lo < n and node_id[lo] == r and node_group[lo] < ref_group[i]:
            x = np.int64(node_x[lo])
            y = np.int64(node_y[lo])
            lon[i] = x / 1e7
            lat[i] = y / 1e7
            valid[i] = -MAX_X <= x <= MAX_X and -MAX_Y <= y <= MAX_Y
    return lon, lat, valid


@nb.njit(cache=True, nogil=True)
def clean_ways(counts, refs, lon):  # type: ignore[no-untyped-def]
    """Which references to keep, and how many each way keeps: without missing nodes
    (NaN), without a reference equal to the way's previous one, and none of a way left
    with fewer than two."""
    keep = np.zeros(refs.shape[0], dtype=np.bool_)
    kept = np.zeros(counts.shape[0], dtype=np.int64)
    start = 0
    for w in range(counts.shape[0]):
        stop = start + counts[w]
        n = 0
        has_prev = False
        prev = np.int64(0)
        for i in range(start, stop):
            if np.isnan(lon[i]):
                continue
            if not (has_prev and refs[i] == prev):
                keep[i] = True
                n += 1
            prev = refs[i]
            has_prev = True
        if n < 2:
            for i in range(start, stop):
                keep[i] = False
            n = 0
        kept[w] = n
        start = stop
    return keep, kept


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


@nb.njit(cache=True, nogil=True)
def mix_column(code, card, rows, j, nvalues):  # type: ignore[no-untyped-def]
    """``code * k + rank`` in place, where ``rank`` is each row's rank among the ``k``
    distinct values of column ``j`` of ``rows`` (ints in ``-1 .. nvalues - 1``); returns
    ``card * k``, the number of codes, or -1 (``code`` untouched) if that would reach
    2**62."""
    seen = np.zeros(nvalues + 1, dtype=np.int64)
    for i in range(rows.shape[0]):
        seen[rows[i, j] + 1] = 1
    k = 0
    for v in range(nvalues + 1):
        if seen[v]:
            seen[v] = k
            k += 1
    if k > 0 and card > ((1 << 62) - 1) // k:
        return -1
    for i in range(rows.shape[0]):
        code[i] = code[i] * k + seen[rows[i, j] + 1]
    return card * k
