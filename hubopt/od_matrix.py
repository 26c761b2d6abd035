"""Origin-destination travel-cost tables between named points, as ``hubopt matrix`` writes.

:func:`od_table` ``(network, names, lon, lat, *, weights=Weights(money=1), batch_size=None)
-> OdTable``: the points are located on the nearest road edge
(:func:`hubopt.snapping.locate_on_edges`, the projection that ``hubopt run`` splits the edge
at) and every ordered pair gets the least generalized-cost path, searched many-to-many on
the network's contraction hierarchy (:mod:`hubopt.hierarchy`, built once per weights and
cached on the network). A point on an edge starts (ends) at both ends of its edge with the
share of the edge that leads there, exactly as if the edge were split; two points on the
same edge may also go straight along it. Each row gives the path's distance, time and
money cost with both connectors included, its mode chain (``road>sea>road``) and the
connector lengths at each end. Unreachable pairs have empty values and are listed in
``OdTable.unreachable``. Origins are searched ``batch_size`` at a time (default: all), the
results do not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hubopt._errors import InputFormatError
from hubopt._io import atomic_path
from hubopt.costs import Weights, _graph
from hubopt.hierarchy import Hierarchy, Seeds, join_chains, unpack_chain
from hubopt.network import MultimodalNetwork
from hubopt.snapping import EdgeLocation, connector_values, locate_on_edges

COLUMNS = ("origin", "destination", "distance_km", "time_h", "cost", "modes", "access_km",
           "egress_km")
_SUMS = ("length_m", "time_h", "cost")


@dataclass(frozen=True, eq=False)
class OdTable:
    """One row per ordered pair of distinct points (see :data:`COLUMNS`)."""

    frame: pd.DataFrame
    unreachable: tuple[tuple[str, str], ...]


@dataclass(frozen=True, eq=False)
class _Routing:
    hierarchy: Hierarchy
    mode_names: tuple[str, ...]  # mode code c is mode_names[c - 1]
    node_code: np.ndarray


def routing_hierarchy(network: MultimodalNetwork, weights: Weights) -> _Routing:
    """The network's contraction hierarchy for ``weights`` (built once, cached)."""
    key = ("hierarchy", weights)
    cached = network._cache.get(key)
    if isinstance(cached, _Routing):
        return cached
    graph = _graph(network, weights)
    coo = graph.csr.tocoo()
    e = network.edges
    sums = np.column_stack([e[c].to_numpy(dtype="float64")[graph.entry_edge] for c in _SUMS])
    node_mode = network.nodes["mode"].astype(str).to_numpy()
    names = tuple(sorted(set(node_mode.tolist())))
    code = np.searchsorted(np.asarray(names), node_mode).astype("int64") + 1
    u, v = coo.row.astype("int64"), coo.col.astype("int64")
    chains = join_chains(code[u], code[v]) if len(names) > 1 else code[u]
    routing = _Routing(Hierarchy.from_edges(network.n_nodes, u, v, coo.data, sums, chains),
                       names, code)
    network._cache[key] = routing
    return routing


def _seeds(network: MultimodalNetwork, loc: EdgeLocation, weights: Weights,
           code: np.ndarray, *, outbound: bool) -> Seeds:
    """Start (``outbound``) or end nodes of each point, with the edge's share to reach it."""
    e = network.edges
    u = e["u"].to_numpy(dtype="int64")
    v = e["v"].to_numpy(dtype="int64")
    w_all = weights.combine(e["time_h"], e["cost"], e["co2_kg"])
    sums = np.column_stack([e[c].to_numpy(dtype="float64") for c in _SUMS])
    ptr = [0]
    node: list[int] = []
    share: list[tuple[int, float]] = []  # (edge, fraction of it)
    for i in range(len(loc.edge)):
        k, f, t = int(loc.edge[i]), float(loc.frac[i]), int(loc.twin[i])
        if loc.node[i] >= 0:
            node.append(int(loc.node[i]))
            share.append((-1, 0.0))
        elif outbound:  # along the edge to its end, along the twin back to the start
            node.append(int(v[k]))
            share.append((k, 1.0 - f))
            if t >= 0:
                node.append(int(u[k]))
                share.append((t, f))
        else:
            node.append(int(u[k]))
            share.append((k, f))
            if t >= 0:
                node.append(int(v[k]))
                share.append((t, 1.0 - f))
        ptr.append(len(node))
    edge = np.asarray([s[0] for s in share], dtype="int64")
    frac = np.asarray([s[1] for s in share], dtype="float64")
    ok = edge >= 0
    w = np.where(ok, w_all[np.maximum(edge, 0)] * frac, 0.0)
    attrs = np.where(ok[:, None], sums[np.maximum(edge, 0)] * frac[:, None], 0.0)
    nodes = np.asarray(node, dtype="int64")
    return Seeds(np.asarray(ptr, dtype="int64"), nodes, w, attrs, code[nodes])


def _along_same_edge(network: MultimodalNetwork, loc: EdgeLocation, weights: Weights,
                     cost: np.ndarray, sums: np.ndarray, chains: np.ndarray,
                     code: np.ndarray, rows: np.ndarray) -> None:
    """Pairs on one edge (or its twin) may go straight along it: keep it if cheaper."""
    split = loc.node < 0
    if not split.any():
        return
    e = network.edges
    w_all = weights.combine(e["time_h"], e["cost"], e["co2_kg"])
    edge_sums = np.column_stack([e[c].to_numpy(dtype="float64") for c in _SUMS])
    base = np.where(loc.twin >= 0, np.minimum(loc.edge, loc.twin), loc.edge)
    pos = np.where(base == loc.edge, loc.frac, 1.0 - loc.frac)  # fraction along ``base``
    other = np.where(base == loc.edge, loc.twin, loc.edge)  # the edge back, or -1
    other = np.where(base == other, -1, other)
    groups: dict[int, list[int]] = {}
    for j in np.flatnonzero(split).tolist():
        groups.setdefault(int(base[j]), []).append(j)
    row_of = {int(r): i for i, r in enumerate(rows.tolist())}
    for b, members in groups.items():
        for p in members:
            if p not in row_of:
                continue
            for q in members:
                if p == q:
                    continue
                step = pos[q] - pos[p]
                k = b if step >= 0 else int(other[p])
                if k < 0:
                    continue
                c = abs(step) * w_all[k]
                if c < cost[row_of[p], q]:
                    cost[row_of[p], q] = c
                    sums[row_of[p], q] = abs(step) * edge_sums[k]
                    chains[row_of[p], q] = code[int(e["u"].iat[k])]


def od_table(network: MultimodalNetwork, names: Sequence[str],
             lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, *,
             weights: Weights | None = None, batch_size: int | None = None) -> OdTable:
    """Least-cost distance, time, cost and mode chain between every ordered pair."""
    w = weights if weights is not None else Weights(time=0.0, money=1.0)
    loc = locate_on_edges(network, np.asarray(lon, float), np.asarray(lat, float))
    routing = routing_hierarchy(network, w)
    conn = connector_values(network, loc.distance_m)
    targets = _seeds(network, loc, w, routing.node_code, outbound=False)
    sources = _seeds(network, loc, w, routing.node_code, outbound=True)
    buckets = routing.hierarchy.buckets(targets)
    n = len(names)
    step = max(1, n if batch_size is None else int(batch_size))
    frames = []
    names_arr = np.asarray(list(names), dtype=object)
    label_cache: dict[int, str] = {}
    for start in range(0, n, step):
        stop = min(n, start + step)
        rows = np.arange(start, stop)
        cost, sums, chains = routing.hierarchy.scan(sources.take(start, stop), buckets)
        _along_same_edge(network, loc, w, cost, sums, chains, routing.node_code, rows)
        i, j = np.nonzero(rows[:, None] != np.arange(n)[None, :])
        ok = np.isfinite(cost[i, j])
        labels = np.empty(len(i), dtype=object)
        for c in np.unique(chains[i, j]).tolist():
            if c not in label_cache:
                label_cache[c] = ">".join(routing.mode_names[m - 1] for m in unpack_chain(c))
            labels[chains[i, j] == c] = label_cache[c] or "road"
        oi = rows[i]
        frame = pd.DataFrame({
            "origin": names_arr[oi], "destination": names_arr[j],
            "distance_km": np.where(ok, sums[i, j, 0] / 1000.0 + conn["km"][oi]
                                    + conn["km"][j], np.nan),
            "time_h": np.where(ok, sums[i, j, 1] + conn["time_h"][oi] + conn["time_h"][j],
                               np.nan),
            "cost": np.where(ok, sums[i, j, 2] + conn["cost"][oi] + conn["cost"][j], np.nan),
            "modes": np.where(ok, labels, np.asarray(None, dtype=object)),
            "access_km": conn["km"][oi], "egress_km": conn["km"][j],
        })
        frames.append(frame)
    frame = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame({c: [] for c in COLUMNS}))
    for col in ("distance_km", "time_h", "cost", "access_km", "egress_km"):
        frame[col] = frame[col].astype("float64")
    bad = frame["cost"].isna().to_numpy()
    unreachable = tuple(zip(frame["origin"].to_numpy()[bad].tolist(),
                            frame["destination"].to_numpy()[bad].tolist(), strict=True))
    return OdTable(frame, unreachable)


def write_od_table(table: OdTable, out: Path, *, overwrite: bool = False) -> Path:
    """Write the table as CSV or Parquet (by the suffix), atomically."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        msg = f"{out}: expected a .csv or .parquet output file"
        raise InputFormatError(msg)
    with atomic_path(out, overwrite=overwrite) as tmp:
        if suffix == ".csv":
            table.frame.to_csv(tmp, index=False, float_format="%.6g")
        else:
            table.frame.to_parquet(tmp, index=False)
    return out


__all__ = ["COLUMNS", "OdTable", "od_table", "write_od_table"]
