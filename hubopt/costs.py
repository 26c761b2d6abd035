"""Travel-cost matrices: many-to-many least generalized cost on a multimodal network.

The generalized cost of an edge is ``weights.time * time_h + weights.money * cost +
weights.co2 * co2_kg`` (:class:`Weights`; the default is travel time in hours). Paths are
computed with :func:`scipy.sparse.csgraph.dijkstra` on a CSR matrix built once per weights
(parallel edges keep the cheapest), sources in chunks so that memory stays bounded, with an
optional cutoff beyond which costs are ``inf``. Values are float32.

* :func:`travel_costs` ``(network, origins, destinations=None, *, weights=Weights(),
  cutoff=None, chains=False, chunk_size=None, max_memory_mb=256) -> CostMatrix``.
  ``origins``/``destinations`` are :class:`~hubopt.network.SnappedPoints` (connector costs
  are added) or sequences of network node positions.
* :func:`shortest_path` ``(network, origin, destination, *, weights=Weights())
  -> NetworkPath``: one least-cost path with its edges, totals and mode chain.
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


@dataclass(frozen=True)
class _Graph:
    csr: sp.csr_matrix
    entry_edge: np.ndarray  # edge row (position in network.edges) of each csr entry


def network_csr(network: MultimodalNetwork, weights: Weights = Weights()) -> sp.csr_matrix:
    """The network's generalized-cost CSR matrix (cheapest of parallel edges), cached."""
    return _graph(network, weights).csr


def _graph(network: MultimodalNetwork, weights: Weights) -> _Graph:
    key = ("csr", weights)
    cached = network._cache.get(key)
    if cached is not None:
        assert isinstance(cached, _Graph)
        return cached
    e = network.edges
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
    u, v, w, edge = u[first], v[first], w[first], order[first]
    # (u, v) pairs are unique and sorted, so the CSR keeps this order and explicit zeros
    csr = sp.csr_matrix((w, (u, v)), shape=(n, n))
    graph = _Graph(csr=csr, entry_edge=edge)
    network._cache[key] = graph
    return graph


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
) -> CostMatrix:
    """Least generalized cost from every origin to every destination (float32, inf if none).

    ``destinations=None`` means the origins. With snapped points, each connector's
    generalized cost is added at both ends (an unsnapped point gives ``inf``). Sources run
    in chunks of ``chunk_size`` (default: as many as fit ``max_memory_mb`` of float64 rows);
    ``cutoff`` stops the search beyond that generalized cost (including connectors is not
    guaranteed: the cutoff applies to the network part). ``chains=True`` also returns the
    mode chain of each least-cost path.
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
    values = np.full((len(o_nodes), len(d_nodes)), np.inf, dtype="float32")
    chain_rows: list[tuple[tuple[str, ...] | None, ...]] = []
    if n == 0 or len(o_nodes) == 0 or len(d_nodes) == 0:
        return CostMatrix(o_ids, d_ids, values, weights,
                          tuple(tuple(None for _ in d_ids) for _ in o_ids) if chains else None)
    graph = _graph(network, weights)
    node_modes = network.nodes["mode"].to_numpy()
    valid_o = np.flatnonzero(o_nodes >= 0)
    d_ok = d_nodes >= 0
    d_cols = np.where(d_ok, d_nodes, 0)
    unique_src, inverse = np.unique(o_nodes[valid_o], return_inverse=True)
    if chunk_size is None:
        bytes_per_row = n * (8 + (4 if chains else 0))
        chunk_size = max(1, int(max_memory_mb * 1e6 // bytes_per_row))
    limit = np.inf if cutoff is None else float(cutoff)
    src_values = np.empty((len(unique_src), len(d_nodes)), dtype="float32")
    src_chains: list[tuple[tuple[str, ...] | None, ...]] = []
    for start in range(0, len(unique_src), chunk_size):
        block = unique_src[start:start + chunk_size]
        if chains:
            dist, pred = dijkstra(graph.csr, directed=True, indices=block, limit=limit,
                                  return_predecessors=True)
        else:
            dist = dijkstra(graph.csr, directed=True, indices=block, limit=limit)
        sub = dist[:, d_cols]
        sub[:, ~d_ok] = np.inf
        src_values[start:start + len(block)] = sub
        if chains:
            for r, s in enumerate(block):
                src_chains.append(tuple(
                    _chain(node_modes, pred[r], int(s), int(d)) if ok and np.isfinite(sub[r, j])
                    else None
                    for j, (d, ok) in enumerate(zip(d_cols, d_ok, strict=True))))
    values[valid_o] = src_values[inverse]
    values += o_extra[:, None].astype("float32")
    values += d_extra[None, :].astype("float32")
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
    graph = _graph(network, weights)
    for role, node in (("origin", origin), ("destination", destination)):
        if not 0 <= int(node) < network.n_nodes:
            msg = f"{role} {node} is not a node position in 0..{network.n_nodes - 1}"
            raise ModelSpecificationError(msg)
    dist, pred = dijkstra(graph.csr, directed=True, indices=int(origin),
                          return_predecessors=True)
    if not np.isfinite(dist[destination]):
        return None
    path = [int(destination)]
    while path[-1] != int(origin):
        path.append(int(pred[path[-1]]))
    path.reverse()
    csr = graph.csr
    rows = []
    for a, b in itertools.pairwise(path):
        start, stop = csr.indptr[a], csr.indptr[a + 1]
        rows.append(int(graph.entry_edge[start + int(np.searchsorted(csr.indices[start:stop],
                                                                       b))]))
    e = network.edges.iloc[rows]
    edge_modes = tuple(str(m) for m in e["mode"])
    chain = _merge([str(m) for m in network.nodes["mode"].to_numpy()[path]])
    return NetworkPath(
        nodes=tuple(path), edges=tuple(rows), edge_modes=edge_modes, modes=chain,
        cost=float(dist[destination]),
        time_h=float(e["time_h"].sum()), money=float(e["cost"].sum()),
        co2_kg=float(e["co2_kg"].sum()), length_m=float(e["length_m"].sum()),
    )


__all__ = ["CostMatrix", "NetworkPath", "Weights", "network_csr", "shortest_path",
           "travel_costs"]
