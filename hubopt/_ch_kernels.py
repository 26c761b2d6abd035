"""Compiled (numba) kernels of the contraction hierarchy in :mod:`hubopt.hierarchy`.

Edges live in one table (``from``, ``to``, ``w``, and for a shortcut the two edges it
replaces, ``h1`` then ``h2``); adjacency lists hold edge numbers in per-node blocks of a
pool that move to the pool's end when they fill up. A contracted node stays in the lists
of its neighbours and is skipped there. Mode chains are packed four bits per mode, first
mode in the lowest bits (at most 15 modes; a longer chain is ``-1``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_INF = np.inf


@nb.njit(cache=True)
def chain_length(c: int) -> int:
    """Number of modes in a packed chain."""
    k = 0
    while c > 0:
        c >>= 4
        k += 1
    return k


@nb.njit(cache=True)
def chain_join(a: int, b: int) -> int:
    """Chain ``a`` then chain ``b``, the mode where they meet counted once."""
    if a < 0 or b < 0:
        return -1
    if a == 0:
        return b
    if b == 0:
        return a
    la = chain_length(a)
    last = (a >> (4 * (la - 1))) & 15
    if (b & 15) == last:
        b >>= 4
    lb = chain_length(b)
    if la + lb > 15:
        return -1
    return a | (b << (4 * la))


@nb.njit(cache=True)
def _sift_up(hk: np.ndarray, hv: np.ndarray, i: int) -> None:
    """Move entry ``i`` of the binary heap (keys ``hk``, values ``hv``; ties by value) up
    to its place."""
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] < hk[i] or (hk[p] == hk[i] and hv[p] <= hv[i]):
            break
        hk[p], hk[i] = hk[i], hk[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p


@nb.njit(cache=True)
def _push(hk: np.ndarray, hv: np.ndarray, size: int, key: float,
          val: int) -> tuple[np.ndarray, np.ndarray, int]:
    if size == hk.shape[0]:
        nk = np.empty(2 * size, dtype=np.float64)
        nv = np.empty(2 * size, dtype=np.int64)
        nk[:size] = hk
        nv[:size] = hv
        hk, hv = nk, nv
    i = size
    hk[i] = key
    hv[i] = val
    _sift_up(hk, hv, i)
    return hk, hv, size + 1


@nb.njit(cache=True)
def _wpush(hk: np.ndarray, hv: np.ndarray, size: int, key: float, val: int) -> int:
    """Push onto a heap of fixed size; when it is full the entry is dropped (a witness
    search may miss a witness: it adds a shortcut that was not needed, never a wrong one)."""
    if size == hk.shape[0]:
        return size
    i = size
    hk[i] = key
    hv[i] = val
    _sift_up(hk, hv, i)
    return size + 1


@nb.njit(cache=True)
def _pop(hk: np.ndarray, hv: np.ndarray, size: int) -> tuple[float, int, int]:
    key = hk[0]
    val = hv[0]
    size -= 1
    if size > 0:
        hk[0] = hk[size]
        hv[0] = hv[size]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= size:
                break
            c = left
            r = left + 1
            if r < size and (hk[r] < hk[left] or (hk[r] == hk[left] and hv[r] < hv[left])):
                c = r
            if hk[i] < hk[c] or (hk[i] == hk[c] and hv[i] <= hv[c]):
                break
            hk[c], hk[i] = hk[i], hk[c]
            hv[c], hv[i] = hv[i], hv[c]
            i = c
    return key, val, size


@nb.njit(cache=True)
def _append(start: np.ndarray, length: np.ndarray, cap: np.ndarray, pool: np.ndarray,
            cursor: int, x: int, e: int) -> int:
    """Append edge ``e`` to node ``x``'s list; the new pool cursor (-1: the pool is full)."""
    if length[x] == cap[x]:
        newcap = 2 * cap[x] + 2
        if cursor + newcap > pool.shape[0]:
            return -1
        pool[cursor:cursor + length[x]] = pool[start[x]:start[x] + length[x]]
        start[x] = cursor
        cap[x] = newcap
        cursor += newcap
    pool[start[x] + length[x]] = e
    length[x] += 1
    return cursor


@nb.njit(cache=True)
def _append_out(start: np.ndarray, length: np.ndarray, cap: np.ndarray, pool: np.ndarray,
                pnode: np.ndarray, pw: np.ndarray, cursor: int, x: int, e: int, y: int,
                w: float) -> int:
    """:func:`_append` for the out-lists, which keep each edge's head and weight beside it."""
    if length[x] == cap[x]:
        newcap = 2 * cap[x] + 2
        if cursor + newcap > pool.shape[0]:
            return -1
        a, b = start[x], start[x] + length[x]
        pool[cursor:cursor + length[x]] = pool[a:b]
        pnode[cursor:cursor + length[x]] = pnode[a:b]
        pw[cursor:cursor + length[x]] = pw[a:b]
        start[x] = cursor
        cap[x] = newcap
        cursor += newcap
    pool[start[x] + length[x]] = e
    pnode[start[x] + length[x]] = y
    pw[start[x] + length[x]] = w
    length[x] += 1
    return cursor


@nb.njit(cache=True)
def _alive_edges(pool: np.ndarray, start: int, length: int, other: np.ndarray,
                 alive: np.ndarray, v: int, buf: np.ndarray) -> tuple[np.ndarray, int]:
    """The edges ``pool[start:start + length]`` whose other end (``other[e]``) is alive
    and not ``v``, in order, into ``buf`` (grown when full); returns it and their count."""
    n = 0
    for k in range(start, start + length):
        e = pool[k]
        if alive[other[e]] and other[e] != v:
            if n == buf.shape[0]:
                tmp = np.empty(2 * max(n, 1), dtype=np.int64)
                tmp[:n] = buf
                buf = tmp
            buf[n] = e
            n += 1
    return buf, n


@nb.njit(cache=True)
def contract(n: int, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray, settle_limit: int,
             edge_cap: int, pool_cap: int, first_limit: int) -> tuple:  # type: ignore[type-arg,unused-ignore]
    """Contract every node; return the edge table, the order and the upward edges.

    Returns ``(status, n_edges, e_from, e_to, e_w, e_h1, e_h2, rank, up_start, up_count,
    up_edges, down_start, down_count, down_edges)``; ``status`` is 0, or 1 when
    ``edge_cap`` or ``pool_cap`` was too small (call again with more).
    """
    m = eu.shape[0]
    e_from = np.empty(edge_cap, dtype=np.int64)
    e_to = np.empty(edge_cap, dtype=np.int64)
    e_w = np.empty(edge_cap, dtype=np.float64)
    e_h1 = np.full(edge_cap, -1, dtype=np.int64)
    e_h2 = np.full(edge_cap, -1, dtype=np.int64)
    e_from[:m] = eu
    e_to[:m] = ev
    e_w[:m] = ew
    n_e = m
    o_start = np.zeros(n, dtype=np.int64)
    o_len = np.zeros(n, dtype=np.int64)
    o_cap = np.zeros(n, dtype=np.int64)
    i_start = np.zeros(n, dtype=np.int64)
    i_len = np.zeros(n, dtype=np.int64)
    i_cap = np.zeros(n, dtype=np.int64)
    for k in range(m):
        o_cap[eu[k]] += 1
        i_cap[ev[k]] += 1
    opool = np.empty(pool_cap, dtype=np.int64)
    onode = np.empty(pool_cap, dtype=np.int64)
    ow = np.empty(pool_cap, dtype=np.float64)
    ipool = np.empty(pool_cap, dtype=np.int64)
    oc = 0
    ic = 0
    for x in range(n):
        o_cap[x] += 2
        i_cap[x] += 2
        o_start[x] = oc
        i_start[x] = ic
        oc += o_cap[x]
        ic += i_cap[x]
    up_start = np.zeros(n, dtype=np.int64)
    up_count = np.zeros(n, dtype=np.int64)
    dn_start = np.zeros(n, dtype=np.int64)
    dn_count = np.zeros(n, dtype=np.int64)
    up_edges = np.empty(edge_cap, dtype=np.int64)
    dn_edges = np.empty(edge_cap, dtype=np.int64)
    rank = np.full(n, -1, dtype=np.int64)
    if oc > pool_cap or ic > pool_cap:
        return (1, n_e, e_from, e_to, e_w, e_h1, e_h2, rank, up_start, up_count, up_edges,
                dn_start, dn_count, dn_edges)
    for k in range(m):
        opool[o_start[eu[k]] + o_len[eu[k]]] = k
        onode[o_start[eu[k]] + o_len[eu[k]]] = ev[k]
        ow[o_start[eu[k]] + o_len[eu[k]]] = ew[k]
        o_len[eu[k]] += 1
        ipool[i_start[ev[k]] + i_len[ev[k]]] = k
        i_len[ev[k]] += 1
    alive = np.ones(n, dtype=np.bool_)
    deleted = np.zeros(n, dtype=np.int64)
    level = np.zeros(n, dtype=np.int64)
    dist = np.full(n, _INF)
    touched = np.empty(n, dtype=np.int64)
    hk = np.empty(4096, dtype=np.float64)
    hv = np.empty(4096, dtype=np.int64)
    ins = np.empty(16, dtype=np.int64)
    outs = np.empty(16, dtype=np.int64)
    sc1 = np.empty(64, dtype=np.int64)
    sc2 = np.empty(64, dtype=np.int64)
    pk = np.empty(n + 16, dtype=np.float64)
    pv = np.empty(n + 16, dtype=np.int64)
    psize = 0
    n_up = 0
    n_dn = 0
    # first pass: priorities; then contract the least important node, lazily updated
    for phase in range(2):
        x_iter = n if phase == 0 else -1
        count_order = 0
        while True:
            if phase == 0:
                x_iter -= 1
                if x_iter < 0:
                    break
                v = n - 1 - x_iter
            else:
                if psize == 0:
                    break
                _, v, psize = _pop(pk, pv, psize)
                if not alive[v]:
                    continue
            # alive in- and out-edges of v
            ins, n_in = _alive_edges(ipool, i_start[v], i_len[v], e_from, alive, v, ins)
            outs, n_out = _alive_edges(opool, o_start[v], o_len[v], e_to, alive, v, outs)
            max_out = 0.0
            for b in range(n_out):
                max_out = max(max_out, e_w[outs[b]])
            # witness searches; the shortcuts needed go to a buffer
            n_sc = 0
            for a in range(n_in):
                e1 = ins[a]
                u = e_from[e1]
                maxc = e_w[e1] + max_out
                ntouch = 1
                dist[u] = 0.0
                touched[0] = u
                hsize = 0
                hsize = _wpush(hk, hv, 0, 0.0, u)
                settled = 0
                while hsize > 0:
                    d, x, hsize = _pop(hk, hv, hsize)
                    if d > dist[x]:
                        continue
                    if d > maxc:
                        break
                    settled += 1
                    if settled > (settle_limit if phase == 1 else first_limit):
                        break
                    for k in range(o_start[x], o_start[x] + o_len[x]):
                        y = onode[k]
                        if y == v or not alive[y]:
                            continue
                        nd = d + ow[k]
                        if nd < dist[y] and nd <= maxc:
                            if dist[y] == _INF:
                                touched[ntouch] = y
                                ntouch += 1
                            dist[y] = nd
                            hsize = _wpush(hk, hv, hsize, nd, y)
                for b in range(n_out):
                    e2 = outs[b]
                    w = e_to[e2]
                    if w == u or dist[w] <= e_w[e1] + e_w[e2]:
                        continue
                    if n_sc == sc1.shape[0]:
                        sc1 = _grow_i(sc1, 2 * n_sc)
                        sc2 = _grow_i(sc2, 2 * n_sc)
                    sc1[n_sc] = e1
                    sc2[n_sc] = e2
                    n_sc += 1
                for t in range(ntouch):
                    dist[touched[t]] = _INF
            prio = float(2 * (n_sc - n_in - n_out) + deleted[v] + level[v])
            if phase == 0 or (psize > 0 and prio > pk[0]):
                psize = _wpush(pk, pv, psize, prio, v)
                continue
            for q in range(n_sc):
                e1 = sc1[q]
                e2 = sc2[q]
                u = e_from[e1]
                w = e_to[e2]
                c = e_w[e1] + e_w[e2]
                found = -1
                for k in range(o_start[u], o_start[u] + o_len[u]):
                    if onode[k] == w:
                        found = k
                        break
                if found >= 0 and ow[found] <= c:
                    continue
                if n_e == edge_cap:
                    return (1, n_e, e_from, e_to, e_w, e_h1, e_h2, rank, up_start,
                            up_count, up_edges, dn_start, dn_count, dn_edges)
                ne = n_e
                n_e += 1
                e_from[ne] = u
                e_to[ne] = w
                e_w[ne] = c
                e_h1[ne] = e1
                e_h2[ne] = e2
                if found >= 0:
                    old = opool[found]
                    opool[found] = ne
                    ow[found] = c
                    for k in range(i_start[w], i_start[w] + i_len[w]):
                        if ipool[k] == old:
                            ipool[k] = ne
                            break
                else:
                    oc = _append_out(o_start, o_len, o_cap, opool, onode, ow, oc, u, ne, w, c)
                    ic = _append(i_start, i_len, i_cap, ipool, ic, w, ne)
                    if oc < 0 or ic < 0:
                        return (1, n_e, e_from, e_to, e_w, e_h1, e_h2, rank, up_start,
                                up_count, up_edges, dn_start, dn_count, dn_edges)
            # v is contracted: its alive edges become upward edges
            alive[v] = False
            rank[v] = count_order
            count_order += 1
            up_start[v] = n_up
            for b in range(n_out):
                e = outs[b]
                up_edges[n_up] = e
                n_up += 1
            up_count[v] = n_out
            dn_start[v] = n_dn
            for a in range(n_in):
                e = ins[a]
                dn_edges[n_dn] = e
                n_dn += 1
            dn_count[v] = n_in
            # drop v from its neighbours' lists
            for b in range(n_out):
                x = e_to[outs[b]]
                deleted[x] += 1
                level[x] = max(level[x], level[v] + 1)
                for k in range(i_start[x], i_start[x] + i_len[x]):
                    if e_from[ipool[k]] == v:
                        i_len[x] -= 1
                        ipool[k] = ipool[i_start[x] + i_len[x]]
                        break
            for a in range(n_in):
                x = e_from[ins[a]]
                deleted[x] += 1
                level[x] = max(level[x], level[v] + 1)
                for k in range(o_start[x], o_start[x] + o_len[x]):
                    if onode[k] == v:
                        o_len[x] -= 1
                        last = o_start[x] + o_len[x]
                        opool[k] = opool[last]
                        onode[k] = onode[last]
                        ow[k] = ow[last]
                        break
    return (0, n_e, e_from, e_to, e_w, e_h1, e_h2, rank, up_start, up_count, up_edges,
            dn_start, dn_count, dn_edges)


@nb.njit(cache=True)
def shortcut_values(m: int, n_e: int, e_h1: np.ndarray, e_h2: np.ndarray, attrs: np.ndarray,
                    chains: np.ndarray) -> None:
    """Fill the attributes and chains of the shortcuts (rows ``m..n_e``) in place."""
    for e in range(m, n_e):
        a = e_h1[e]
        b = e_h2[e]
        for c in range(attrs.shape[1]):
            attrs[e, c] = attrs[a, c] + attrs[b, c]
        chains[e] = chain_join(chains[a], chains[b])


@nb.njit(cache=True)
def _search(seed_node: np.ndarray, seed_w: np.ndarray, seed_attr: np.ndarray,
            seed_chain: np.ndarray, s0: int, s1: int, forward: bool, start: np.ndarray,
            count: np.ndarray, edges: np.ndarray, e_from: np.ndarray, e_to: np.ndarray,
            e_w: np.ndarray, attrs: np.ndarray, chains: np.ndarray, dist: np.ndarray,
            acc: np.ndarray, ch: np.ndarray, settled: np.ndarray, hk: np.ndarray,
            hv: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Upward Dijkstra from seeds ``s0..s1``; the settled nodes in ``settled[:k]``.

    ``dist``, ``acc`` and ``ch`` hold the settled values; the caller resets them.
    """
    hsize = 0
    na = attrs.shape[1]
    for s in range(s0, s1):
        x = seed_node[s]
        if seed_w[s] < dist[x]:
            dist[x] = seed_w[s]
            for c in range(na):
                acc[x, c] = seed_attr[s, c]
            ch[x] = seed_chain[s]
            hk, hv, hsize = _push(hk, hv, hsize, seed_w[s], x)
    k = 0
    while hsize > 0:
        d, x, hsize = _pop(hk, hv, hsize)
        if d > dist[x]:
            continue
        if d == dist[x] and k > 0 and settled[k - 1] == x:
            continue
        settled[k] = x
        k += 1
        for j in range(start[x], start[x] + count[x]):
            e = edges[j]
            y = e_to[e] if forward else e_from[e]
            nd = d + e_w[e]
            if nd < dist[y]:
                dist[y] = nd
                for c in range(na):
                    acc[y, c] = acc[x, c] + attrs[e, c]
                ch[y] = chain_join(ch[x], chains[e]) if forward else chain_join(chains[e],
                                                                                ch[x])
                hk, hv, hsize = _push(hk, hv, hsize, nd, y)
    return k, hk, hv


@nb.njit(cache=True)
def backward_buckets(n: int, t_ptr: np.ndarray, t_node: np.ndarray, t_w: np.ndarray,
                     t_attr: np.ndarray, t_chain: np.ndarray, dn_start: np.ndarray,
                     dn_count: np.ndarray, dn_edges: np.ndarray, e_from: np.ndarray,
                     e_to: np.ndarray, e_w: np.ndarray, attrs: np.ndarray,
                     chains: np.ndarray) -> tuple:  # type: ignore[type-arg,unused-ignore]
    """Upward searches backwards from every target: the bucket entries, unsorted."""
    na = attrs.shape[1]
    dist = np.full(n, _INF)
    acc = np.zeros((n, na))
    ch = np.zeros(n, dtype=np.int64)
    settled = np.empty(n, dtype=np.int64)
    hk = np.empty(256, dtype=np.float64)
    hv = np.empty(256, dtype=np.int64)
    cap = 1024
    b_node = np.empty(cap, dtype=np.int64)
    b_tgt = np.empty(cap, dtype=np.int64)
    b_w = np.empty(cap, dtype=np.float64)
    b_attr = np.empty((cap, na), dtype=np.float64)
    b_chain = np.empty(cap, dtype=np.int64)
    nb_ = 0
    for t in range(t_ptr.shape[0] - 1):
        k, hk, hv = _search(t_node, t_w, t_attr, t_chain, t_ptr[t], t_ptr[t + 1], False,
                            dn_start, dn_count, dn_edges, e_from, e_to, e_w, attrs, chains,
                            dist, acc, ch, settled, hk, hv)
        if nb_ + k > cap:
            cap = 2 * (nb_ + k)
            b_node = _grow_i(b_node, cap)
            b_tgt = _grow_i(b_tgt, cap)
            b_chain = _grow_i(b_chain, cap)
            nw = np.empty(cap, dtype=np.float64)
            nw[:nb_] = b_w[:nb_]
            b_w = nw
            na_ = np.empty((cap, na), dtype=np.float64)
            na_[:nb_] = b_attr[:nb_]
            b_attr = na_
        for i in range(k):
            x = settled[i]
            b_node[nb_] = x
            b_tgt[nb_] = t
            b_w[nb_] = dist[x]
            for c in range(na):
                b_attr[nb_, c] = acc[x, c]
            b_chain[nb_] = ch[x]
            nb_ += 1
            dist[x] = _INF
    return nb_, b_node, b_tgt, b_w, b_attr, b_chain


@nb.njit(cache=True)
def _grow_i(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=np.int64)
    out[:a.shape[0]] = a
    return out


@nb.njit(cache=True)
def _forward_one(s: int, s_ptr: np.ndarray, s_node: np.ndarray, s_w: np.ndarray,
                 s_attr: np.ndarray, s_chain: np.ndarray, up_start: np.ndarray,
                 up_count: np.ndarray, up_edges: np.ndarray, e_from: np.ndarray,
                 e_to: np.ndarray, e_w: np.ndarray, attrs: np.ndarray, chains: np.ndarray,
                 bucket_ptr: np.ndarray, b_tgt: np.ndarray, b_w: np.ndarray,
                 b_attr: np.ndarray, b_chain: np.ndarray, out_w: np.ndarray,
                 out_attr: np.ndarray, out_chain: np.ndarray, dist: np.ndarray,
                 acc: np.ndarray, ch: np.ndarray, settled: np.ndarray, hk: np.ndarray,
                 hv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    na = attrs.shape[1]
    k, hk, hv = _search(s_node, s_w, s_attr, s_chain, s_ptr[s], s_ptr[s + 1], True,
                        up_start, up_count, up_edges, e_from, e_to, e_w, attrs, chains,
                        dist, acc, ch, settled, hk, hv)
    for i in range(k):
        x = settled[i]
        d = dist[x]
        for j in range(bucket_ptr[x], bucket_ptr[x + 1]):
            t = b_tgt[j]
            c = d + b_w[j]
            if c < out_w[s, t]:
                out_w[s, t] = c
                for a in range(na):
                    out_attr[s, t, a] = acc[x, a] + b_attr[j, a]
                out_chain[s, t] = chain_join(ch[x], b_chain[j])
        dist[x] = _INF
    return hk, hv


@nb.njit(cache=True, parallel=True)
def forward_scan(n: int, n_targets: int, s_ptr: np.ndarray, s_node: np.ndarray,
                 s_w: np.ndarray, s_attr: np.ndarray, s_chain: np.ndarray,
                 up_start: np.ndarray, up_count: np.ndarray, up_edges: np.ndarray,
                 e_from: np.ndarray, e_to: np.ndarray, e_w: np.ndarray, attrs: np.ndarray,
                 chains: np.ndarray, bucket_ptr: np.ndarray, b_tgt: np.ndarray,
                 b_w: np.ndarray, b_attr: np.ndarray, b_chain: np.ndarray,
                 n_chunks: int) -> tuple:  # type: ignore[type-arg,unused-ignore]
    """Upward searches from every source, scanning the buckets: weights, sums, chains."""
    n_src = s_ptr.shape[0] - 1
    na = attrs.shape[1]
    out_w = np.full((n_src, n_targets), _INF)
    out_attr = np.full((n_src, n_targets, na), np.nan)
    out_chain = np.zeros((n_src, n_targets), dtype=np.int64)
    per = (n_src + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        dist = np.full(n, _INF)
        acc = np.zeros((n, na))
        ch = np.zeros(n, dtype=np.int64)
        settled = np.empty(n, dtype=np.int64)
        hk = np.empty(256, dtype=np.float64)
        hv = np.empty(256, dtype=np.int64)
        for s in range(c * per, min(n_src, (c + 1) * per)):
            hk, hv = _forward_one(s, s_ptr, s_node, s_w, s_attr, s_chain, up_start,
                                  up_count, up_edges, e_from, e_to, e_w, attrs, chains,
                                  bucket_ptr, b_tgt, b_w, b_attr, b_chain, out_w, out_attr,
                                  out_chain, dist, acc, ch, settled, hk, hv)
    return out_w, out_attr, out_chain
