"""Compiled array helpers of the PBF scan (``numba``): node locations of way references
as pyosmium's location store gives them, cleaning of way node lists, distinct
combinations of tag values, spans of positions (:mod:`hubopt.layers._pbf`,
:mod:`hubopt.layers._pbf_decode`)."""

from __future__ import annotations

from collections.abc import Sequence

import numba as nb
import numpy as np

MAX_X = 1_800_000_000  # libosmium's valid range of fixed-point coordinates (1e-7 degree)
MAX_Y = 900_000_000


@nb.njit(cache=True, nogil=True)
def locate(node_id, node_x, node_y, node_group, refs, ref_group):  # type: ignore[no-untyped-def]
    """Longitude, latitude (degrees), validity and node of each reference, as pyosmium's
    location store gives them: NaN (node -1) where it has no location.

    ``node_id`` is sorted (of equal ids, the first in the file first). A reference has a
    location when a node of that id (positive: libosmium's store keeps no negative ids)
    came earlier in the file (``node_group < ref_group``, group numbers over the file);
    of several nodes with one id the first counts. Valid: within libosmium's range. The
    node is that first node's position in ``node_id``: distinct ids get distinct
    positions, in id order.
    """
    n = node_id.shape[0]
    m = refs.shape[0]
    lon = np.full(m, np.nan)
    lat = np.full(m, np.nan)
    valid = np.zeros(m, dtype=np.bool_)
    node = np.full(m, -1, dtype=np.int64)
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
            node[i] = lo
    return lon, lat, valid, node


@nb.njit(cache=True, nogil=True)
def _kept_refs(i0, i1, refs, lon):  # type: ignore[no-untyped-def]
    """How many of the references ``i0:i1`` of a way are kept: not missing (NaN), not
    equal to the way's previous reference; 0 if fewer than two."""
    n = 0
    has_prev = False
    prev = np.int64(0)
    for i in range(i0, i1):
        if np.isnan(lon[i]):
            continue
        if not (has_prev and refs[i] == prev):
            n += 1
        prev = refs[i]
        has_prev = True
    return n if n >= 2 else 0


@nb.njit(cache=True, nogil=True)
def gather_ways(starts, counts, sel, refs, lon, lat, node):  # type: ignore[no-untyped-def]
    """The ways ``sel``, whose references are ``starts[w]:starts[w] + counts[w]`` of the
    flat arrays, without missing nodes and consecutive repeats (:func:`_kept_refs`): the
    number each way keeps and its kept references, coordinates and nodes (``node`` may
    be empty: no nodes then)."""
    kept = np.zeros(sel.shape[0], dtype=np.int64)
    for k in range(sel.shape[0]):
        w = sel[k]
        kept[k] = _kept_refs(starts[w], starts[w] + counts[w], refs, lon)
    total = kept.sum()
    out_refs = np.empty(total, dtype=np.int64)
    out_lon = np.empty(total)
    out_lat = np.empty(total)
    with_nodes = node.shape[0] > 0
    out_node = np.empty(total if with_nodes else 0, dtype=np.int64)
    j = 0
    for k in range(sel.shape[0]):
        if kept[k] == 0:
            continue
        w = sel[k]
        has_prev = False
        prev = np.int64(0)
        for i in range(starts[w], starts[w] + counts[w]):
            if np.isnan(lon[i]):
                continue
            if not (has_prev and refs[i] == prev):
                out_refs[j] = refs[i]
                out_lon[j] = lon[i]
                out_lat[j] = lat[i]
                if with_nodes:
                    out_node[j] = node[i]
                j += 1
            prev = refs[i]
            has_prev = True
    return kept, out_refs, out_lon, out_lat, out_node


@nb.njit(cache=True, nogil=True)
def dense_unique(node, refs):  # type: ignore[no-untyped-def]
    """``np.unique(refs, return_inverse=True)`` when ``node`` numbers the distinct
    references in their order (non-negative ints, equal for equal references): a count
    over the numbers instead of a sort."""
    top = 0
    for i in range(node.shape[0]):
        top = max(top, node[i] + 1)
    rank = np.full(top, -1, dtype=np.int64)
    for i in range(node.shape[0]):
        rank[node[i]] = 1
    k = 0
    for v in range(top):
        if rank[v] >= 0:
            rank[v] = k
            k += 1
    ids = np.empty(k, dtype=refs.dtype)
    inverse = np.empty(node.shape[0], dtype=np.int64)
    for i in range(node.shape[0]):
        r = rank[node[i]]
        inverse[i] = r
        ids[r] = refs[i]
    return ids, inverse


@nb.njit(cache=True, nogil=True)
def spans(starts, lengths):  # type: ignore[no-untyped-def]
    """The positions ``starts[i]:starts[i] + lengths[i]``, one span after the other."""
    out = np.empty(lengths.sum(), dtype=np.int64)
    k = 0
    for i in range(starts.shape[0]):
        for j in range(lengths[i]):
            out[k] = starts[i] + j
            k += 1
    return out


@nb.njit(cache=True, nogil=True)
def _row_groups(rows, cols):  # type: ignore[no-untyped-def]
    """:func:`distinct_rows` by hashing (open addressing, linear probing), groups
    numbered in the order of their first row."""
    m = rows.shape[0]
    size = 1
    while size < 2 * m:
        size <<= 1
    mask = np.uint64(size - 1)
    slot_row = np.full(size, -1, dtype=np.int64)
    slot_group = np.empty(size, dtype=np.int64)
    first = np.empty(m, dtype=np.int64)
    inverse = np.empty(m, dtype=np.int64)
    g = 0
    for i in range(m):
        h = np.uint64(1469598103934665603)
        for c in cols:
            h = (h ^ np.uint64(rows[i, c] + 1)) * np.uint64(1099511628211)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        s = h & mask
        while True:
            r = slot_row[s]
            if r < 0:
                slot_row[s] = i
                slot_group[s] = g
                first[g] = i
                inverse[i] = g
                g += 1
                break
            same = True
            for c in cols:
                if rows[r, c] != rows[i, c]:
                    same = False
                    break
            if same:
                inverse[i] = slot_group[s]
                break
            s = (s + np.uint64(1)) & mask
    return first[:g].copy(), inverse


def distinct_rows(rows: np.ndarray, columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` over the ``columns`` of ``rows`` (ints): the first row of each
    distinct combination of their values, and the combination of each row,
    ``rows[first][inverse] == rows`` on those columns."""
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return _row_groups(rows, np.asarray(columns, dtype=np.int64))


def vocabulary(values: np.ndarray, strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, vocab)`` of string numbers ``values`` (-1: none) as ``pd.factorize(...,
    sort=True)`` gives them for the strings: ``vocab`` sorted, ``codes`` int32 or -1."""
    present = np.zeros(len(strings) + 1, dtype=bool)
    present[values.astype(np.int64) + 1] = True
    present[0] = False
    numbers = np.flatnonzero(present) - 1
    words = [strings[i] for i in numbers.tolist()]
    order = sorted(range(len(words)), key=words.__getitem__)
    lut = np.full(len(strings) + 1, -1, dtype=np.int32)
    lut[numbers[order] + 1] = np.arange(len(order), dtype=np.int32)
    vocab = np.empty(len(order), dtype=object)
    vocab[:] = [words[i] for i in order]
    return lut[values.astype(np.int64) + 1], vocab
