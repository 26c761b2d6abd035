"""Travel-cost matrices: many-to-many least generalized cost on a multimodal network.

The generalized cost of an edge is ``weights.time * time_h + weights.money * cost +
weights.co2 * co2_kg`` (:class:`Weights`; the default is travel time in hours). Paths are
computed with :func:`scipy.sparse.csgraph.dijkstra` on a CSR matrix built once per weights
(parallel edges keep the cheapest), sources in chunks so that memory stays bounded, with an
optional cutoff beyond which costs are ``inf``. Values are float32 unless asked otherwise
(``dtype="float64"`` for costs that feed a model's objective); ``modes`` restricts a search
to some modes' edges (road-only times, for example).

* :func:`travel_costs` ``(network, origins, destinations=None, *, weights=Weights(),
  cutoff=None, chains=False, chunk_size=None, max_memory_mb=256) -> CostMatrix``.
  ``origins``/``destinations`` are :class:`~hubopt.network.SnappedPoints` (connector costs
  are added) or sequences of network node positions.
* :func:`shortest_path` ``(network, origin, destination, *, weights=Weights())
  -> NetworkPath``: one least-cost path with its edges, totals and mode chain;
  :func:`shortest_paths` the paths from one origin to many destinations in one search.
* :class:`CostMatrix`: ``origins``, ``destinations`` (ids), ``values`` (float32, shape
  ``(n_origins, n_destinations)``), ``weights``, ``chains`` (on request: for each pair the
  tuple of the modes of the nodes visited in order, consecutive repeats merged, so a
  road-rail-road trip is ``("road", "rail", "road")``; ``None`` when unreachable), ``to_frame()``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from hubopt._errors import ModelSpecificationError

if TYPE_CHECKING:
    from hubopt.network import MultimodalNetwork, SnappedPoints


@dataclass(frozen=True)
class Weights:
    """Weights of the generalized cost: per hour, per EUR and per kg CO2e."""

    time: float = 1.0
    money: float = 0.0
    co2: float = 0.0

    def __post_init__(self) -> None:
        """Weights must be finite, non-negative and not all zero."""
        values = (self.time, self.money, self.co2)
        if any(not np.isfinite(v) or v < 0 for v in values) or not any(values):
            msg = (f"weights (time={self.time}, money={self.money}, co2={self.co2}) must be "
                   "finite, >= 0 and not all zero")
            raise ModelSpecificationError(msg)

    def combine(self, time_h: Any, cost: Any, co2_kg: Any) -> np.ndarray:
        """Generalized cost of arrays of time, money and CO2."""
        return np.asarray(self.time * np.asarray(time_h, dtype="float64")
                          + self.money * np.asarray(cost, dtype="float64")
                          + self.co2 * np.asarray(co2_kg, dtype="float64"))


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Least generalized costs between origins (rows) and destinations (columns)."""

    origins: tuple[Any, ...]
    destinations: tuple[Any, ...]
    values: np.ndarray
    weights: Weights
    chains: tuple[tuple[tuple[str, ...] | None, ...], ...] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_origins, n_destinations)``."""
        return (len(self.origins), len(self.destinations))

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: from_id, to_id, cost (and chain, modes joined by '>')."""
        frame = pd.DataFrame({
            "from_id": np.repeat(np.array(self.origins, dtype=object), len(self.destinations)),
            "to_id": np.tile(np.array(self.destinations, dtype=object), len(self.origins)),
            "cost": self.values.ravel(),
        })
        if self.chains is not None:
            frame["chain"] = [None if c is None else ">".join(c)
                              for row in self.chains for c in row]
        return frame


@dataclass
class _Graph:
    csr: sp.csr_matrix
    entry_edge: np.ndarray  # edge row (position in network.edges) of each csr entry
    reduced: _Reduced | None = None

    def reduce(self) -> _Reduced:
        """The reduced (core) graph, computed on first use."""
        if self.reduced is None:
            self.reduced = _reduce(self.csr)
        return self.reduced


def network_csr(network: MultimodalNetwork, weights: Weights = Weights(), *,
                modes: Sequence[str] | None = None) -> sp.csr_matrix:
    """The network's generalized-cost CSR matrix (cheapest of parallel edges), cached.

    ``modes`` keeps only the edges of those modes (``None``: every edge).
    """
    return _graph(network, weights, modes).csr


def _graph(network: MultimodalNetwork, weights: Weights,
           modes: Sequence[str] | None = None) -> _Graph:
    mode_key = None if modes is None else tuple(sorted({str(m) for m in modes}))
    key = ("csr", weights, mode_key)
    cached = network._cache.get(key)
    if cached is not None:
        assert isinstance(cached, _Graph)
        return cached
    e = network.edges
    rows = np.arange(len(e))
    if mode_key is not None:
        rows = np.flatnonzero(e["mode"].astype(str).isin(mode_key).to_numpy())
        e = e.iloc[rows]
    n = network.n_nodes
    u = e["u"].to_numpy(dtype="int64")
    v = e["v"].to_numpy(dtype="int64")
    w = weights.combine(e["time_h"], e["cost"], e["co2_kg"])
    if len(w) and (not np.isfinite(w).all() or (w < 0).any()):
        msg = "network edges have negative or non-finite time, cost or CO2"
        raise ModelSpecificationError(msg)
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w, edge = u[first], v[first], w[first], rows[order[first]]
    # (u, v) pairs are unique and sorted, so the CSR keeps this order and explicit zeros
    csr = sp.csr_matrix((w, (u, v)), shape=(n, n))
    graph = _Graph(csr=csr, entry_edge=edge)
    network._cache[key] = graph
    return graph


# ------------------------------------------------------------------------------------------
# Exact graph reduction (a contraction hierarchy with a core): the searches see a smaller
# graph.
#
# Nodes that are never needed *inside* a least-cost path between two other nodes are
# contracted one by one: sinks (no out-edge), sources (no in-edge) and nodes with at most
# two distinct neighbours, whose through paths a->v->b become shortcut edges a->b (kept when
# cheaper than an existing a->b). Distances between the remaining nodes do not change.
# Every least-cost path is then an "up" part (edges from a node to nodes contracted after
# it, or core nodes), a core part, and a "down" part (edges into a node from nodes
# contracted after it). Dijkstra runs on the core plus the up-edges (contracted nodes have
# no in-edges there, so a search from a core node never leaves the core); the down part is
# a level-by-level pass  d(t, x) = min(d(t, x), min over x's in-edges p->x of d(t, p) +
# w(p, x)),  where every p of a level is final before the next level. Both are exact for
# non-negative weights; tests compare with plain Dijkstra and networkx.


_MAX_NEIGHBOURS = 8


@dataclass(frozen=True)
class _Level:
    nodes: np.ndarray  # contracted nodes of this level that have in-edges
    starts: np.ndarray  # start of each node's in-edges in pred/weight
    pred: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class _Reduced:
    n: int
    n_core: int
    search_csr: sp.csr_matrix  # core edges plus the up-edges of contracted nodes
    levels: tuple[_Level, ...]


def _reduce(csr: sp.csr_matrix, *, max_neighbours: int = _MAX_NEIGHBOURS) -> _Reduced:
    n = csr.shape[0]
    coo = csr.tocoo()
    out_adj: list[dict[int, float]] = [{} for _ in range(n)]
    in_adj: list[dict[int, float]] = [{} for _ in range(n)]
    for a, b, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        if a != b:
            out_adj[a][b] = w
            in_adj[b][a] = w
    alive = np.ones(n, dtype=bool)
    queued = np.ones(n, dtype=bool)
    stack = list(range(n - 1, -1, -1))
    order: list[int] = []
    rec_in: dict[int, dict[int, float]] = {}
    rec_out: dict[int, dict[int, float]] = {}
    inf = float("inf")
    while stack:
        v = stack.pop()
        queued[v] = False
        if not alive[v]:
            continue
        outs, ins = out_adj[v], in_adj[v]
        nbrs = outs.keys() | ins.keys()
        shortcuts = [(a, b, wa + wb) for a, wa in ins.items() for b, wb in outs.items()
                     if a != b and wa + wb < out_adj[a].get(b, inf)]
        if outs and ins and len(nbrs) > 2 and (
                len(nbrs) > max_neighbours
                or sum(b not in out_adj[a] for a, b, _ in shortcuts) > len(ins) + len(outs)):
            continue  # contracting would not shrink the graph
        for a, b, w in shortcuts:
            out_adj[a][b] = w
            in_adj[b][a] = w
        for a in ins:
            del out_adj[a][v]
        for b in outs:
            del in_adj[b][v]
        rec_in[v], rec_out[v] = ins, outs
        out_adj[v], in_adj[v] = {}, {}
        alive[v] = False
        order.append(v)
        for x in nbrs:
            if alive[x] and not queued[x]:
                queued[x] = True
                stack.append(x)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for a in np.flatnonzero(alive).tolist():
        rows.extend([a] * len(out_adj[a]))
        cols.extend(out_adj[a])
        vals.extend(out_adj[a].values())
    for v in order:
        rows.extend([v] * len(rec_out[v]))
        cols.extend(rec_out[v])
        vals.extend(rec_out[v].values())
    search = sp.csr_matrix((np.asarray(vals, dtype="float64"),
                            (np.asarray(rows, dtype="int64"), np.asarray(cols, dtype="int64"))),
                           shape=(n, n))
    level = np.zeros(n, dtype="int64")
    for v in reversed(order):  # its neighbours at contraction time were contracted later
        level[v] = 1 + max((level[p] for p in rec_in[v]), default=0)
    by_level: dict[int, list[int]] = {}
    for v in order:
        if rec_in[v]:
            by_level.setdefault(int(level[v]), []).append(v)
    levels = []
    for lev in sorted(by_level):
        nodes = sorted(by_level[lev])
        counts = np.asarray([len(rec_in[v]) for v in nodes], dtype="int64")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype("int64")
        pred = np.asarray([p for v in nodes for p in rec_in[v]], dtype="int64")
        weight = np.asarray([w for v in nodes for w in rec_in[v].values()], dtype="float64")
        levels.append(_Level(np.asarray(nodes, dtype="int64"), starts, pred, weight))
    return _Reduced(n=n, n_core=int(alive.sum()), search_csr=search, levels=tuple(levels))


def _reduced_columns(red: _Reduced, sources: np.ndarray, limit: float) -> np.ndarray:
    """Exact least costs from ``sources`` to all nodes, as an (n, len(sources)) array.

    Up+core search with Dijkstra, then the down pass on the transposed array (so that the
    per-node updates read and write contiguous rows).
    """
    rows = np.asarray(dijkstra(red.search_csr, directed=True, indices=sources, limit=limit))
    cols = np.ascontiguousarray(rows.reshape(len(sources), red.n).T)
    del rows
    for lev in red.levels:
        best = np.minimum.reduceat(cols[lev.pred] + lev.weight[:, None], lev.starts, axis=0)
        cols[lev.nodes] = np.minimum(cols[lev.nodes], best)
    if np.isfinite(limit):
        cols[cols > limit] = np.inf
    return cols


def _endpoints(network: MultimodalNetwork, points: SnappedPoints | Sequence[int] | np.ndarray,
               weights: Weights, role: str) -> tuple[tuple[Any, ...], np.ndarray, np.ndarray]:
    from hubopt.network import SnappedPoints

    if isinstance(points, SnappedPoints):
        extra = weights.combine(points.time_h, points.cost, points.co2_kg)
        return points.ids, points.node.astype("int64"), extra
    nodes = np.asarray(points, dtype="int64").ravel()
    bad = nodes[(nodes < 0) | (nodes >= network.n_nodes)]
    if len(bad):
        msg = f"{role}: node positions {bad[:5].tolist()} are not in 0..{network.n_nodes - 1}"
        raise ModelSpecificationError(msg)
    return tuple(nodes.tolist()), nodes, np.zeros(len(nodes))


def _merge(modes: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for m in modes:
        if not out or out[-1] != m:
            out.append(m)
    return tuple(out)


def _chain(node_modes: np.ndarray, pred: np.ndarray, src: int,
           dst: int) -> tuple[str, ...] | None:
    if src != dst and pred[dst] < 0:
        return None
    seq = [node_modes[dst]]
    node = dst
    while node != src:
        node = int(pred[node])
        seq.append(node_modes[node])
    seq.reverse()
    return _merge(seq)


def travel_costs(
    network: MultimodalNetwork,
    origins: SnappedPoints | Sequence[int] | np.ndarray,
    destinations: SnappedPoints | Sequence[int] | np.ndarray | None = None,
    *,
    weights: Weights = Weights(),
    cutoff: float | None = None,
    chains: bool = False,
    chunk_size: int | None = None,
    max_memory_mb: float = 256.0,
    reduce: bool = True,
    modes: Sequence[str] | None = None,
    dtype: str = "float32",
) -> CostMatrix:
    """Least generalized cost from every origin to every destination (float32, inf if none).

    ``destinations=None`` means the origins. With snapped points, each connector's
    generalized cost is added at both ends (an unsnapped point gives ``inf``). Sources run
    in chunks of ``chunk_size`` (default: as many as fit ``max_memory_mb`` of float64 rows);
    ``cutoff`` stops the search beyond that generalized cost (including connectors is not
    guaranteed: the cutoff applies to the network part). ``chains=True`` also returns the
    mode chain of each least-cost path. ``reduce`` (default) searches a contracted core
    graph and extends the results exactly to the other nodes (see ``_reduce``); the chains
    always come from a search on the full graph. ``modes`` restricts the search to the
    edges of those modes (for example ``("road",)`` for road-only times); ``dtype`` is the
    values' type (``"float64"`` for costs that feed a model's objective).
    """
    if cutoff is not None and not cutoff > 0:
        msg = f"cutoff must be > 0, got {cutoff}"
        raise ModelSpecificationError(msg)
    o_ids, o_nodes, o_extra = _endpoints(network, origins, weights, "origins")
    if destinations is None:
        d_ids, d_nodes, d_extra = o_ids, o_nodes, o_extra
    else:
        d_ids, d_nodes, d_extra = _endpoints(network, destinations, weights, "destinations")
    n = network.n_nodes
    values = np.full((len(o_nodes), len(d_nodes)), np.inf, dtype=dtype)
    chain_rows: list[tuple[tuple[str, ...] | None, ...]] = []
    if n == 0 or len(o_nodes) == 0 or len(d_nodes) == 0:
        return CostMatrix(o_ids, d_ids, values, weights,
                          tuple(tuple(None for _ in d_ids) for _ in o_ids) if chains else None)
    graph = _graph(network, weights, modes)
    node_modes = network.nodes["mode"].to_numpy()
    valid_o = np.flatnonzero(o_nodes >= 0)
    d_ok = d_nodes >= 0
    d_cols = np.where(d_ok, d_nodes, 0)
    unique_src, inverse = np.unique(o_nodes[valid_o], return_inverse=True)
    if chunk_size is None:
        # float64 distances (twice with the reduction: rows and their transpose)
        bytes_per_row = n * (12 if chains else 16 if reduce else 8)
        chunk_size = max(1, int(max_memory_mb * 1e6 // bytes_per_row))
    limit = np.inf if cutoff is None else float(cutoff)
    all_dest = bool(d_ok.all()) and len(d_cols) == n and bool((d_cols == np.arange(n)).all())
    src_values = np.empty((len(unique_src), len(d_nodes)), dtype=dtype)
    src_chains: list[tuple[tuple[str, ...] | None, ...]] = []
    for start in range(0, len(unique_src), chunk_size):
        block = unique_src[start:start + chunk_size]
        pred = None
        if chains:
            dist, pred = dijkstra(graph.csr, directed=True, indices=block, limit=limit,
                                  return_predecessors=True)
            sub = dist if all_dest else dist[:, d_cols]
        elif reduce:
            cols = _reduced_columns(graph.reduce(), block, limit)
            sub = cols.T if all_dest else cols[d_cols].T
        else:
            dist = dijkstra(graph.csr, directed=True, indices=block, limit=limit)
            sub = dist if all_dest else dist[:, d_cols]
        src_values[start:start + len(block)] = sub
        if not d_ok.all():
            src_values[start:start + len(block), ~d_ok] = np.inf
        if pred is not None:
            for r, s in enumerate(block):
                row = src_values[start + r]
                src_chains.append(tuple(
                    _chain(node_modes, pred[r], int(s), int(d)) if ok and np.isfinite(row[j])
                    else None
                    for j, (d, ok) in enumerate(zip(d_cols, d_ok, strict=True))))
    if len(valid_o) == len(o_nodes) and bool((inverse == np.arange(len(inverse))).all()):
        values = src_values  # origins unique and sorted: no copy
    else:
        values[valid_o] = src_values[inverse]
    if o_extra.any():
        values += o_extra[:, None].astype(dtype)
    if d_extra.any():
        values += d_extra[None, :].astype(dtype)
    if chains:
        none_row: tuple[tuple[str, ...] | None, ...] = tuple(None for _ in d_ids)
        lookup = dict(zip(valid_o.tolist(), inverse.tolist(), strict=True))
        for i in range(len(o_ids)):
            chain_rows.append(src_chains[lookup[i]] if i in lookup else none_row)
    return CostMatrix(o_ids, d_ids, values, weights, tuple(chain_rows) if chains else None)


@dataclass(frozen=True)
class NetworkPath:
    """One least-cost path: node positions, edge rows and their modes, totals, mode chain.

    ``edge_modes`` has the mode of every edge (transfers included); ``modes`` is the chain.
    """

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    edge_modes: tuple[str, ...]
    modes: tuple[str, ...]
    cost: float
    time_h: float
    money: float
    co2_kg: float
    length_m: float


def shortest_path(
    network: MultimodalNetwork,
    origin: int,
    destination: int,
    *,
    weights: Weights = Weights(),
) -> NetworkPath | None:
    """The least generalized-cost path between two node positions (``None`` if unreachable)."""
    return shortest_paths(network, origin, [destination], weights=weights)[0]


def shortest_paths(
    network: MultimodalNetwork,
    origin: int,
    destinations: Sequence[int] | np.ndarray,
    *,
    weights: Weights = Weights(),
) -> list[NetworkPath | None]:
    """Least generalized-cost paths from one node position to each of ``destinations``.

    One search serves every destination (``None`` where unreachable). Each path's ``cost``
    is the sum of its edges' generalized costs; among parallel edges the cheapest is used.
    """
    graph = _graph(network, weights)
    dests = [int(d) for d in np.asarray(destinations, dtype="int64").ravel()]
    for role, node in (("origin", int(origin)), *(("destination", d) for d in dests)):
        if not 0 <= node < network.n_nodes:
            msg = f"{role} {node} is not a node position in 0..{network.n_nodes - 1}"
            raise ModelSpecificationError(msg)
    dist, pred = dijkstra(graph.csr, directed=True, indices=int(origin),
                          return_predecessors=True)
    csr = graph.csr
    node_modes = network.nodes["mode"].to_numpy()
    e = network.edges
    cols = {c: e[c].to_numpy(dtype="float64") for c in ("time_h", "cost", "co2_kg", "length_m")}
    edge_mode = e["mode"].astype(str).to_numpy()
    out: list[NetworkPath | None] = []
    for destination in dests:
        if not np.isfinite(dist[destination]):
            out.append(None)
            continue
        path = [destination]
        while path[-1] != int(origin):
            path.append(int(pred[path[-1]]))
        path.reverse()
        rows = []
        for a, b in itertools.pairwise(path):
            start, stop = csr.indptr[a], csr.indptr[a + 1]
            pos = start + int(np.searchsorted(csr.indices[start:stop], b))
            rows.append(int(graph.entry_edge[pos]))
        idx = np.asarray(rows, dtype="int64")
        out.append(NetworkPath(
            nodes=tuple(path), edges=tuple(rows),
            edge_modes=tuple(str(m) for m in edge_mode[idx]),
            modes=_merge([str(m) for m in node_modes[path]]),
            cost=float(dist[destination]),
            time_h=float(cols["time_h"][idx].sum()), money=float(cols["cost"][idx].sum()),
            co2_kg=float(cols["co2_kg"][idx].sum()), length_m=float(cols["length_m"][idx].sum()),
        ))
    return out


__all__ = ["CostMatrix", "NetworkPath", "Weights", "network_csr", "shortest_path",
           "shortest_paths", "travel_costs"]
