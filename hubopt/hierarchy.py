"""Contraction hierarchy: exact many-to-many least costs with path sums and mode chains.

The nodes are contracted one at a time, least important first (edge difference, contracted
neighbours and level, updated lazily): a path ``u -> v -> w`` through the contracted node
``v`` becomes a shortcut ``u -> w`` unless a witness search (Dijkstra from ``u`` avoiding
``v``, bounded by the path's cost and ``settle_limit`` settled nodes) finds a path that is
no more expensive. Every least-cost path then climbs to its highest node and descends, so
a many-to-many table needs one small upward search per target (backwards; each settled
node gets a bucket entry) and one per source, which scans the buckets of the nodes it
settles (Knopp et al., 2007). The searches carry, beside the routed cost, the sums of any
edge attributes (length, time, money) and the packed mode chain, so each pair's values
are those of its least-cost path without unpacking it.

:meth:`Hierarchy.from_edges` ``(n, u, v, w, attrs, chains)`` builds the hierarchy;
:meth:`Hierarchy.many_to_many` ``(sources, targets) -> (cost, sums, chains)`` takes
:class:`Seeds`: each source (target) is one or more nodes with a starting cost, sums and
chain (a point on an edge starts at both ends of the edge).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from hubopt import _ch_kernels as k

SETTLE_LIMIT = 30
FIRST_LIMIT = 5  # settled-node limit of the first priorities (cheap, corrected lazily)


def pack_chain(codes: np.ndarray) -> np.ndarray:
    """Packed chains of single modes (codes 1..15)."""
    return np.asarray(codes, dtype="int64")


def join_chains(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise :func:`hubopt._ch_kernels.chain_join` of two arrays of packed chains."""
    return np.fromiter((k.chain_join(int(x), int(y)) for x, y in zip(a, b, strict=True)),
                       dtype="int64", count=len(a))


def unpack_chain(c: int) -> tuple[int, ...]:
    """The mode codes of a packed chain, in order (empty if ``c <= 0``)."""
    out = []
    while c > 0:
        out.append(c & 15)
        c >>= 4
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Seeds:
    """Start nodes of each source (or target) ``i``: rows ``ptr[i]..ptr[i+1]``."""

    ptr: np.ndarray
    node: np.ndarray
    w: np.ndarray
    attrs: np.ndarray
    chain: np.ndarray

    @classmethod
    def at_nodes(cls, nodes: np.ndarray, chains: np.ndarray, n_attrs: int) -> Seeds:
        """One seed per source at a node, at zero cost."""
        nodes = np.asarray(nodes, dtype="int64")
        return cls(np.arange(len(nodes) + 1, dtype="int64"), nodes, np.zeros(len(nodes)),
                   np.zeros((len(nodes), n_attrs)), np.asarray(chains, dtype="int64"))

    def __len__(self) -> int:
        """Number of sources."""
        return len(self.ptr) - 1

    def take(self, start: int, stop: int) -> Seeds:
        """Sources ``start..stop`` only."""
        a, b = int(self.ptr[start]), int(self.ptr[stop])
        return Seeds(self.ptr[start:stop + 1] - a, self.node[a:b], self.w[a:b],
                     self.attrs[a:b], self.chain[a:b])


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """A contracted graph (see the module doc); edges ``0..m-1`` are the input edges."""

    n: int
    m: int
    e_from: np.ndarray
    e_to: np.ndarray
    e_w: np.ndarray
    attrs: np.ndarray
    chains: np.ndarray
    rank: np.ndarray
    up: tuple[np.ndarray, np.ndarray, np.ndarray]
    down: tuple[np.ndarray, np.ndarray, np.ndarray]

    @property
    def n_shortcuts(self) -> int:
        """Number of shortcut edges added."""
        return len(self.e_w) - self.m

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = (self.e_from, self.e_to, self.e_w, self.attrs, self.chains, self.rank,
                  *self.up, *self.down)
        return int(sum(a.nbytes for a in arrays))

    @classmethod
    def from_edges(cls, n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray,
                   attrs: np.ndarray, chains: np.ndarray, *,
                   settle_limit: int = SETTLE_LIMIT) -> Hierarchy:
        """Contract the graph of edges ``u -> v`` (non-negative ``w``, no parallel edges).

        ``attrs`` (one row per edge) are summed along paths; ``chains`` are the edges'
        packed mode chains.
        """
        u = np.asarray(u, dtype="int64")
        v = np.asarray(v, dtype="int64")
        w = np.asarray(w, dtype="float64")
        keep = u != v
        u, v, w = u[keep], v[keep], w[keep]
        attrs = np.asarray(attrs, dtype="float64")[keep]
        chains = np.asarray(chains, dtype="int64")[keep]
        m = len(u)
        edge_cap = 3 * m + 64
        pool_cap = 4 * (m + n) + 64
        while True:
            out = k.contract(n, u, v, w, settle_limit, edge_cap, pool_cap, FIRST_LIMIT)
            if out[0] == 0:
                break
            edge_cap *= 2
            pool_cap *= 2
        (_, n_e, e_from, e_to, e_w, e_h1, e_h2, rank, up_start, up_count, up_edges,
         dn_start, dn_count, dn_edges) = out
        all_attrs = np.zeros((n_e, attrs.shape[1]))
        all_attrs[:m] = attrs
        all_chains = np.zeros(n_e, dtype="int64")
        all_chains[:m] = chains
        k.shortcut_values(m, n_e, e_h1[:n_e], e_h2[:n_e], all_attrs, all_chains)
        n_up = int(up_count.sum())
        n_dn = int(dn_count.sum())
        return cls(n=n, m=m, e_from=e_from[:n_e].copy(), e_to=e_to[:n_e].copy(),
                   e_w=e_w[:n_e].copy(), attrs=all_attrs, chains=all_chains, rank=rank,
                   up=(up_start, up_count, up_edges[:n_up].copy()),
                   down=(dn_start, dn_count, dn_edges[:n_dn].copy()))

    def buckets(self, targets: Seeds) -> Buckets:
        """Upward searches backwards from every target, as buckets per node."""
        nb_, b_node, b_tgt, b_w, b_attr, b_chain = k.backward_buckets(
            self.n, targets.ptr, targets.node, targets.w, targets.attrs, targets.chain,
            *self.down, self.e_from, self.e_to, self.e_w, self.attrs, self.chains)
        order = np.argsort(b_node[:nb_], kind="stable")
        ptr = np.zeros(self.n + 1, dtype="int64")
        np.cumsum(np.bincount(b_node[:nb_], minlength=self.n), out=ptr[1:])
        return Buckets(len(targets), ptr, b_tgt[order], b_w[order], b_attr[order],
                       b_chain[order])

    def scan(self, sources: Seeds, buckets: Buckets, *,
             threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Least cost, attribute sums and packed chain from every source to the targets.

        Unreachable pairs: cost ``inf``, sums ``nan``, chain 0.
        """
        n_chunks = max(1, min(len(sources), 4 * (threads or (os.cpu_count() or 1))))
        out: tuple[np.ndarray, np.ndarray, np.ndarray] = k.forward_scan(
            self.n, buckets.n_targets, sources.ptr, sources.node, sources.w, sources.attrs,
            sources.chain, *self.up, self.e_from, self.e_to, self.e_w, self.attrs,
            self.chains, buckets.ptr, buckets.target, buckets.w, buckets.attrs,
            buckets.chain, n_chunks)
        return out

    def many_to_many(self, sources: Seeds, targets: Seeds, *,
                     threads: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`scan` of the sources over the targets' :meth:`buckets`."""
        return self.scan(sources, self.buckets(targets), threads=threads)


@dataclass(frozen=True, eq=False)
class Buckets:
    """Per node, the targets that its upward search reached backwards, at what cost."""

    n_targets: int
    ptr: np.ndarray
    target: np.ndarray
    w: np.ndarray
    attrs: np.ndarray
    chain: np.ndarray

__all__ = ["Buckets", "Hierarchy", "Seeds", "join_chains", "pack_chain", "unpack_chain"]
