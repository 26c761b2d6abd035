"""Compiled loops of :mod:`hubopt.layers._ways`: segments, endpoints, chains, tag sets.

Each kernel does in one linear pass what the numpy version did with several sorts of the
whole segment list; the rules are those of :mod:`hubopt.layers._ways` (osmnx's).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def segments(offsets: np.ndarray, node: np.ndarray, oneway: np.ndarray,
             backwards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed segments (tail, head, way) in osmnx's order of insertion.

    Per way: its segments in node order (reversed for ``backwards`` ways), then, for a
    two-way way, the same segments each reversed.
    """
    n_way = len(offsets) - 1
    total = 0
    for w in range(n_way):
        k = offsets[w + 1] - offsets[w] - 1
        if k > 0:
            total += k if oneway[w] else 2 * k
    tail = np.empty(total, np.int64)
    head = np.empty(total, np.int64)
    way = np.empty(total, np.int64)
    j = 0
    for w in range(n_way):
        start, stop = offsets[w], offsets[w + 1] - 1
        for d in range(1 if oneway[w] else 2):  # the way's direction, then the reverse
            rev = backwards[w] != (d == 1)
            for i in range(start, stop):
                a, b = node[i], node[i + 1]
                tail[j] = b if rev else a
                head[j] = a if rev else b
                way[j] = w
                j += 1
    return tail, head, way


@njit(cache=True, nogil=True)
def _out_buckets(n: int, tail: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments by tail node (CSR), each bucket sorted by head then segment index."""
    start = np.zeros(n + 1, np.int64)
    for s in range(len(tail)):
        start[tail[s] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:-1].copy()
    seg = np.empty(len(tail), np.int64)
    for s in range(len(tail)):  # in segment order: stable
        t = tail[s]
        seg[fill[t]] = s
        fill[t] += 1
    for x in range(n):  # insertion sort by head (buckets are small), stable
        for i in range(start[x] + 1, start[x + 1]):
            s = seg[i]
            h = head[s]
            k = i - 1
            while k >= start[x] and head[seg[k]] > h:
                seg[k + 1] = seg[k]
                k -= 1
            seg[k + 1] = s
    return start, seg


@njit(cache=True, nogil=True)
def _first_pair(start: np.ndarray, seg: np.ndarray, head: np.ndarray, a: int, b: int) -> int:
    """The first segment a -> b (in segment order), or -1."""
    for i in range(start[a], start[a + 1]):
        h = head[seg[i]]
        if h == b:
            return seg[i]
        if h > b:
            return -1
    return -1


@njit(cache=True, nogil=True)
def _two_or_four(d: int) -> bool:
    return d in (2, 4)


@njit(cache=True, nogil=True)
def _endpoints(n: int, tail: np.ndarray, head: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """osmnx's endpoint rule per node, and the two neighbours of every interior node."""
    indeg = np.zeros(n, np.int64)
    outdeg = np.zeros(n, np.int64)
    for s in range(len(tail)):
        outdeg[tail[s]] += 1
        indeg[head[s]] += 1
    # up to four neighbours of the nodes of degree 2 or 4 (the only possible interior ones)
    nbs = np.empty((n, 4), np.int64)  # row x: its first cnt[x] entries
    cnt = np.zeros(n, np.int64)
    for s in range(len(tail)):
        for x, y in ((tail[s], head[s]), (head[s], tail[s])):
            if _two_or_four(indeg[x] + outdeg[x]):
                nbs[x, cnt[x]] = y
                cnt[x] += 1
    endpoint = np.ones(n, np.bool_)
    low = np.full(n, -1, np.int64)
    high = np.full(n, -1, np.int64)
    for x in range(n):
        d = indeg[x] + outdeg[x]
        if indeg[x] == 0 or outdeg[x] == 0 or not _two_or_four(d):
            continue
        lo, hi = nbs[x, 0], nbs[x, 0]
        for k in range(1, d):
            lo = min(lo, nbs[x, k])
            hi = max(hi, nbs[x, k])
        distinct = True  # exactly two distinct neighbours: every entry is lo or hi
        for k in range(d):
            if nbs[x, k] != lo and nbs[x, k] != hi:
                distinct = False
        if lo != hi and distinct:
            endpoint[x] = False
            low[x] = lo
            high[x] = hi
    return endpoint, low, high


@njit(cache=True, nogil=True)
def chains(n: int, tail: np.ndarray, head: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge segments through interior nodes into chains.

    Returns ``chain_u``, ``chain_v`` (node indices), ``chain_off`` (CSR into
    ``chain_seg``: the first segment of each directed pair along each chain, in order) and
    ``single`` (segments between two endpoints, in segment order, parallel ones included).
    Chains are in the order of their first pair (tail, head).
    """
    endpoint, low, high = _endpoints(n, tail, head)
    start, seg = _out_buckets(n, tail, head)
    # an interior node entered by a pair whose continuation is missing becomes an endpoint
    into = np.zeros((n, 2), np.bool_)  # a segment low -> x, high -> x
    out = np.zeros((n, 2), np.bool_)  # a segment x -> low, x -> high
    for s in range(len(tail)):
        t, h = tail[s], head[s]
        if not endpoint[h]:
            into[h, 0 if t == low[h] else 1] = True
        if not endpoint[t]:
            out[t, 0 if h == low[t] else 1] = True
    for x in range(n):
        if not endpoint[x] and ((into[x, 0] and not out[x, 1])
                                or (into[x, 1] and not out[x, 0])):
            endpoint[x] = True
    chain_u = np.empty(len(tail), np.int64)
    chain_v = np.empty(len(tail), np.int64)
    chain_off = np.empty(len(tail) + 1, np.int64)  # untouched pages cost nothing
    chain_off[0] = 0
    chain_seg = np.empty(len(tail), np.int64)
    n_chain = 0
    k = 0
    for a in range(n):
        if not endpoint[a]:
            continue
        last = -1
        for i in range(start[a], start[a + 1]):
            s = seg[i]
            b = head[s]
            if b == last:
                continue  # a parallel segment of the same pair
            last = b
            if endpoint[b]:
                continue
            chain_u[n_chain] = a
            chain_seg[k] = s
            k += 1
            prev, cur = a, b
            steps = 0
            while not endpoint[cur]:
                nxt = high[cur] if low[cur] == prev else low[cur]
                s2 = _first_pair(start, seg, head, cur, nxt)
                if s2 < 0:
                    raise ValueError("a chain of segments breaks off at an interior node")
                chain_seg[k] = s2
                k += 1
                prev, cur = cur, nxt
                steps += 1
                if steps > len(tail):
                    raise ValueError("cannot follow a chain of segments (a cycle)")
            chain_v[n_chain] = cur
            n_chain += 1
            chain_off[n_chain] = k
    n_single = 0
    for s in range(len(tail)):
        if endpoint[tail[s]] and endpoint[head[s]]:
            n_single += 1
    single = np.empty(n_single, np.int64)
    j = 0
    for s in range(len(tail)):
        if endpoint[tail[s]] and endpoint[head[s]]:
            single[j] = s
            j += 1
    return (chain_u[:n_chain], chain_v[:n_chain], chain_off[:n_chain + 1], chain_seg[:k],
            single)


@njit(cache=True, nogil=True)
def edge_sets(n_edges: int, seg_edge: np.ndarray, seg_code: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's distinct codes (>= 0), sorted, as CSR; empty offsets when
    ``seg_edge`` decreases somewhere (sort it first)."""
    if not nondecreasing(seg_edge):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    off = np.zeros(n_edges + 1, np.int64)
    out = np.empty(len(seg_code), np.int64)
    k = _fill_edge_sets(n_edges, seg_edge, seg_code, off, out)
    return off, out[:k]


@njit(cache=True, nogil=True)
def _fill_edge_sets(n_edges: int, seg_edge: np.ndarray, seg_code: np.ndarray,
                    off: np.ndarray, out: np.ndarray) -> int:
    """:func:`edge_sets` into ``off`` (``n_edges + 1``) and ``out``; the number of codes."""
    k = 0
    i = 0
    m = len(seg_edge)
    for e in range(n_edges):
        first = k
        while i < m and seg_edge[i] == e:
            c = seg_code[i]
            i += 1
            if c < 0:
                continue
            # insert c into out[first:k], sorted, if not already there
            j = k - 1
            while j >= first and out[j] > c:
                j -= 1
            if j >= first and out[j] == c:
                continue
            for t in range(k, j + 1, -1):
                out[t] = out[t - 1]
            out[j + 1] = c
            k += 1
        off[e + 1] = k
    return k


@njit(cache=True, nogil=True)
def simple_degree(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Degree of each node in the simple undirected graph of edges ``a[i]``-``b[i]``
    (distinct neighbours; a self-loop counts two)."""
    start = np.zeros(n + 1, np.int64)
    for i in range(len(a)):
        start[a[i] + 1] += 1
        start[b[i] + 1] += 1
    for x in range(n):
        start[x + 1] += start[x]
    fill = start[:-1].copy()
    nb = np.empty(2 * len(a), np.int64)
    for i in range(len(a)):
        nb[fill[a[i]]] = b[i]
        fill[a[i]] += 1
        nb[fill[b[i]]] = a[i]
        fill[b[i]] += 1
    degree = np.zeros(n, np.int64)
    for x in range(n):
        lo, hi = start[x], start[x + 1]
        for i in range(lo + 1, hi):  # insertion sort of the row (rows are short)
            y = nb[i]
            k = i - 1
            while k >= lo and nb[k] > y:
                nb[k + 1] = nb[k]
                k -= 1
            nb[k + 1] = y
        for i in range(lo, hi):
            if i > lo and nb[i] == nb[i - 1]:
                continue
            degree[x] += 2 if nb[i] == x else 1
    return degree


@njit(cache=True, nogil=True)
def nondecreasing(values: np.ndarray) -> bool:
    """True when ``values`` never decreases."""
    for i in range(1, len(values)):  # noqa: SIM110 (compiled: no generators)
        if values[i] < values[i - 1]:
            return False
    return True


@njit(cache=True, nogil=True)
def _haversine(rlon: np.ndarray, rlat: np.ndarray, clat: np.ndarray, i: int, j: int,
               radius: float) -> float:
    """Great-circle distance between nodes ``i`` and ``j`` (radians and cosines given)."""
    a = np.sin((rlat[j] - rlat[i]) / 2) ** 2 + clat[i] * clat[j] * np.sin(
        (rlon[j] - rlon[i]) / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(min(max(a, 0.0), 1.0)))


@njit(cache=True, nogil=True)
def segment_lengths(tail: np.ndarray, head: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                    radius: float) -> np.ndarray:
    """Great-circle length of every segment (it needs no chains: it runs beside them)."""
    rlon, rlat = np.radians(lon), np.radians(lat)
    clat = np.cos(rlat)
    out = np.empty(len(tail))
    for s in range(len(tail)):
        out[s] = _haversine(rlon, rlat, clat, tail[s], head[s], radius)
    return out


@njit(cache=True, nogil=True)
def assemble(tail: np.ndarray, head: np.ndarray, lon: np.ndarray, lat: np.ndarray,
             seg_len: np.ndarray, chain_u: np.ndarray, chain_off: np.ndarray,
             chain_seg: np.ndarray, single: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges' lengths (the sums of their segments' ``seg_len`` in chain order), line
    coordinates (flat, with offsets) and segment owners (``seg_edge`` and the segment of
    each: chains, then singles)."""
    n_chain = len(chain_u)
    n_edges = n_chain + len(single)
    length = np.empty(n_edges)
    n_pts = len(chain_seg) + n_chain + 2 * len(single)
    coords = np.empty((n_pts, 2))
    geom_off = np.empty(n_edges + 1, np.int64)
    seg_edge = np.empty(len(chain_seg) + len(single), np.int64)
    seg_of = np.empty(len(chain_seg) + len(single), np.int64)
    p = 0
    for c in range(n_chain):
        geom_off[c] = p
        a = chain_u[c]
        coords[p, 0], coords[p, 1] = lon[a], lat[a]
        p += 1
        total = 0.0
        for k in range(chain_off[c], chain_off[c + 1]):
            s = chain_seg[k]
            h = head[s]
            total += seg_len[s]
            coords[p, 0], coords[p, 1] = lon[h], lat[h]
            p += 1
            seg_edge[k] = c
            seg_of[k] = s
        length[c] = total
    k = len(chain_seg)
    for i in range(len(single)):
        e = n_chain + i
        geom_off[e] = p
        s = single[i]
        t, h = tail[s], head[s]
        length[e] = seg_len[s]
        coords[p, 0], coords[p, 1] = lon[t], lat[t]
        coords[p + 1, 0], coords[p + 1, 1] = lon[h], lat[h]
        p += 2
        seg_edge[k] = e
        seg_of[k] = s
        k += 1
    geom_off[n_edges] = p
    return length, coords, geom_off, seg_edge, seg_of


@njit(cache=True, nogil=True)
def edge_sets_many(n_edges: int, seg_edge: np.ndarray, seg_way: np.ndarray,
                   way_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`edge_sets` of each row ``r`` of ``way_codes`` (one tag's code per way), read
    through the segments' ways, in one call that holds no interpreter lock (it runs
    while shapely builds the lines): ``offs[r]`` and ``codes[starts[r]:starts[r + 1]]``.
    ``seg_edge`` must not decrease (else all offsets are empty)."""
    n_keys = way_codes.shape[0]
    offs = np.zeros((n_keys, n_edges + 1), np.int64)
    starts = np.zeros(n_keys + 1, np.int64)
    # room for every segment of every key: pages never written cost no memory
    codes = np.empty(n_keys * len(seg_way), np.int64)
    if not nondecreasing(seg_edge):
        return offs[:, :0], codes[:0], starts
    seg_code = np.empty(len(seg_way), np.int64)
    for key in range(n_keys):
        for i in range(len(seg_way)):
            seg_code[i] = way_codes[key, seg_way[i]]
        k = _fill_edge_sets(n_edges, seg_edge, seg_code, offs[key], codes[starts[key]:])
        starts[key + 1] = starts[key] + k
    return offs, codes[:starts[n_keys]], starts
