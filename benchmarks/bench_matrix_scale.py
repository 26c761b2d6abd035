"""A 1,000 x 1,000 road matrix on a tiled road graph of about a million nodes.

The ``matrix-scale`` suite of ``benchmarks/run.py`` calls :func:`measure`; its rows go to
``benchmarks/results/matrix-scale.csv``. The graph is the real Malta road network, as
hubopt builds it, tiled 7 x 7 (:mod:`tiled_road`, generated in memory in every process,
not timed); the points are 1,000 seeded points near random road nodes. Every engine runs
in a fresh process, so that its peak memory (``ru_maxrss``) is its own; ``base_rss_mb``
is the process's peak before the timed part (the tiled network held as GeoDataFrames).

* ``hubopt matrix``: :func:`hubopt.od_matrix.od_table` + ``write_od_table`` to Parquet,
  end to end: snapping onto the edges, the contraction hierarchy, the many-to-many search
  with distance, time, cost and mode chain, the table and the file.
* ``hubopt routing``: the same hierarchy and search between the points' nearest nodes
  (costs only), the part comparable with the others.
* ``scipy``: ``scipy.sparse.csgraph.dijkstra`` on the same CSR matrix from the same nodes,
  only the 1,000 target columns kept; run on ``scipy_sources`` sources and extrapolated
  per source (stated in the row).
* ``pandana``: contraction hierarchies (``pandana.Network``, preprocessing timed apart)
  and ``shortest_path_lengths`` on the 1,000,000 ordered pairs.
* ``networkx``: ``single_source_dijkstra_path_length`` from ``nx_sources`` sources,
  extrapolated per source.

Every engine's costs are checked against the hubopt routing costs on the pairs it
computed (``max_rel_diff``).

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _process import cpu_seconds, peak_mb

HERE = Path(__file__).resolve().parent
COLS, ROWS = 7, 7
N_POINTS = 1000
SEED = 0
PANDANA_SCALE = 1e4




def _setup() -> tuple[Any, Any, Any]:
    sys.path.insert(0, str(HERE))
    import tiled_road

    from hubopt.costs import Weights

    net = tiled_road.tile_network(tiled_road.malta_road(), COLS, ROWS)
    pts = tiled_road.sample_points(net, N_POINTS, seed=SEED)
    return net, pts, Weights(time=0.0, money=1.0)


def _nodes(net: Any, pts: Any) -> np.ndarray:
    """The points' nearest network nodes (for the node-to-node engines)."""
    from hubopt.snapping import locate_on_edges

    loc = locate_on_edges(net, pts["lon"].to_numpy(), pts["lat"].to_numpy())
    u = net.edges["u"].to_numpy()[loc.edge]
    v = net.edges["v"].to_numpy()[loc.edge]
    return np.where(loc.node >= 0, loc.node, np.where(loc.frac < 0.5, u, v)).astype("int64")


def _reference(net: Any, nodes: np.ndarray, weights: Any) -> np.ndarray:
    from hubopt.hierarchy import Seeds
    from hubopt.od_matrix import routing_hierarchy

    h = routing_hierarchy(net, weights).hierarchy
    seeds = Seeds.at_nodes(nodes, np.ones(len(nodes), dtype="int64"), 3)
    return np.asarray(h.many_to_many(seeds, seeds)[0])


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    fin = np.isfinite(b)
    if (np.isfinite(a) != fin).any():
        return float("inf")
    return float(np.max(np.abs(a[fin] - b[fin]) / np.maximum(b[fin], 1e-9), initial=0.0))


def _hubopt_matrix() -> dict[str, Any]:
    from hubopt.od_matrix import od_table, write_od_table

    net, pts, weights = _setup()
    base = peak_mb()
    c0 = cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "matrix.parquet"
        t0 = time.perf_counter()
        table = od_table(net, list(pts["name"]), pts["lon"].to_numpy(), pts["lat"].to_numpy(),
                         weights=weights)
        write_od_table(table, out)
        sec = time.perf_counter() - t0
        size = out.stat().st_size
    return {"item": "hubopt matrix (snap + hierarchy + search + chains + parquet)",
            "seconds": sec, "nodes": net.n_nodes, "edges": len(net.edges),
            "sources": N_POINTS, "targets": N_POINTS, "base_rss_mb": base,
            "peak_rss_mb": peak_mb(),
            "cpu_seconds": cpu_seconds() - c0, "value": len(table.frame),
            "note": f"rows written; {len(table.unreachable)} unreachable; parquet "
                    f"{size / 1e6:.0f} MB"}


def _hubopt_routing() -> dict[str, Any]:
    from hubopt.hierarchy import Seeds
    from hubopt.od_matrix import routing_hierarchy

    net, pts, weights = _setup()
    nodes = _nodes(net, pts)
    base = peak_mb()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    h = routing_hierarchy(net, weights).hierarchy
    t_pre = time.perf_counter() - t0
    seeds = Seeds.at_nodes(nodes, np.ones(len(nodes), dtype="int64"), 3)
    t1 = time.perf_counter()
    cost = h.many_to_many(seeds, seeds)[0]
    t_query = time.perf_counter() - t1
    return {"item": "hubopt routing (hierarchy + many-to-many)", "nodes": net.n_nodes,
            "edges": len(net.edges), "sources": N_POINTS, "targets": N_POINTS,
            "seconds": t_pre + t_query, "preprocess_seconds": t_pre,
            "query_seconds": t_query, "base_rss_mb": base, "peak_rss_mb": peak_mb(),
            "cpu_seconds": cpu_seconds() - c0,
            "value": h.n_shortcuts,
            "note": f"value = shortcuts; hierarchy {h.nbytes / 1e6:.0f} MB; "
                    f"{int(np.isfinite(cost).sum())} finite pairs"}


def _scipy(n_sources: int) -> dict[str, Any]:
    from scipy.sparse.csgraph import dijkstra

    from hubopt.costs import network_csr

    net, pts, weights = _setup()
    nodes = _nodes(net, pts)
    csr = network_csr(net, weights)
    base = peak_mb()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    rows = []
    for start in range(0, n_sources, 25):
        block = nodes[start:min(n_sources, start + 25)]
        rows.append(dijkstra(csr, directed=True, indices=block)[:, nodes])
    sec = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    got = np.vstack(rows)
    diff = _rel_diff(got, _reference(net, nodes, weights)[:n_sources])
    return {"item": "scipy dijkstra (same CSR, target columns kept)", "nodes": net.n_nodes,
            "edges": int(csr.nnz), "sources": n_sources, "targets": N_POINTS,
            "seconds": sec * N_POINTS / n_sources, "measured_seconds": sec,
            "base_rss_mb": base, "peak_rss_mb": peak_mb(),
            "cpu_seconds": cpu, "max_rel_diff": diff,
            "note": f"measured on {n_sources} sources, extrapolated per source to "
                    f"{N_POINTS}"}


def _pandana() -> dict[str, Any]:
    import pandana
    import pandas as pd

    from hubopt.costs import network_csr

    net, pts, weights = _setup()
    nodes = _nodes(net, pts)
    csr = network_csr(net, weights).tocoo()
    x = net.nodes["x"].to_numpy()
    y = net.nodes["y"].to_numpy()
    base = peak_mb()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    # pandana keeps its CH weights to a fixed precision: costs in units of 1/10,000 EUR
    # (edges of about 100 units) keep the rounding below 1e-4 of a path's cost
    pnet = pandana.Network(pd.Series(x), pd.Series(y), pd.Series(csr.row), pd.Series(csr.col),
                           pd.DataFrame({"cost": csr.data * PANDANA_SCALE}), twoway=False)
    t_pre = time.perf_counter() - t0
    a = np.repeat(nodes, len(nodes))
    b = np.tile(nodes, len(nodes))
    t1 = time.perf_counter()
    lengths = np.asarray(pnet.shortest_path_lengths(a, b, imp_name="cost"), dtype="float64")
    t_query = time.perf_counter() - t1
    cpu = cpu_seconds() - c0
    got = lengths.reshape(len(nodes), len(nodes)) / PANDANA_SCALE
    got[lengths.reshape(got.shape) >= 4e6] = np.inf  # pandana's value for unreachable pairs
    diff = _rel_diff(got, _reference(net, nodes, weights))
    return {"item": "pandana 0.8 contraction hierarchies", "nodes": net.n_nodes,
            "edges": int(csr.nnz), "sources": N_POINTS, "targets": N_POINTS,
            "seconds": t_pre + t_query, "preprocess_seconds": t_pre,
            "query_seconds": t_query, "base_rss_mb": base, "peak_rss_mb": peak_mb(),
            "cpu_seconds": cpu,
            "max_rel_diff": diff, "note": "shortest_path_lengths on 1,000,000 pairs"}


def _networkx(n_sources: int) -> dict[str, Any]:
    import networkx as nx

    from hubopt.costs import network_csr

    net, pts, weights = _setup()
    nodes = _nodes(net, pts)
    coo = network_csr(net, weights).tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                  strict=True))
    base = peak_mb()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    got = []
    for s in nodes[:n_sources].tolist():
        dist = nx.single_source_dijkstra_path_length(g, s)
        got.append([dist.get(int(t), np.inf) for t in nodes])
    sec = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    diff = _rel_diff(np.asarray(got), _reference(net, nodes, weights)[:n_sources])
    return {"item": "networkx single_source_dijkstra_path_length", "nodes": net.n_nodes,
            "edges": int(coo.nnz), "sources": n_sources, "targets": N_POINTS,
            "seconds": sec * N_POINTS / n_sources, "measured_seconds": sec,
            "base_rss_mb": base, "peak_rss_mb": peak_mb(),
            "cpu_seconds": cpu, "max_rel_diff": diff,
            "note": f"measured on {n_sources} sources, extrapolated per source to "
                    f"{N_POINTS}"}


def _in_process(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(fn, args)
    return result


def _load() -> float:
    import os

    return round(os.getloadavg()[0], 2)


def measure(scipy_sources: int = 100, nx_sources: int = 3) -> list[dict[str, Any]]:
    """Every engine in a fresh process; the rows of the ``matrix-scale`` table."""
    rows = []
    for fn, args in ((_hubopt_matrix, ()), (_hubopt_routing, ()), (_pandana, ()),
                     (_scipy, (scipy_sources,)), (_networkx, (nx_sources,))):
        load = _load()
        row = _in_process(fn, *args)
        row["load_at_start"] = load
        rows.append({k: (round(v, 4) if isinstance(v, float) and k != "max_rel_diff" else v)
                     for k, v in row.items()})
        print(row["item"], f"{row['seconds']:.1f} s", flush=True)
    by = {r["item"].split(" (")[0]: r for r in rows}
    matrix = by["hubopt matrix"]["seconds"]
    rows += [
        {"item": "target: hubopt matrix under 60 s", "value": matrix},
        {"item": "speedup vs networkx (target >= 20)",
         "value": round(by["networkx single_source_dijkstra_path_length"]["seconds"]
                        / matrix, 1)},
        {"item": "time vs raw scipy (target <= 1.5)",
         "value": round(matrix / by["scipy dijkstra"]["seconds"], 3)},
        {"item": "time vs pandana incl. preprocessing",
         "value": round(matrix / by["pandana 0.8 contraction hierarchies"]["seconds"], 3)},
    ]
    return rows


__all__ = ["measure"]
