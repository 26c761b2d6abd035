"""Network benchmark: layer build times, matrix throughput against networkx and raw scipy.

Run from the repository root::

    python benchmarks/bench_network.py            # writes benchmarks/network_results.json
                                                  # and benchmarks/network.md

Every phase runs in a fresh process (so that its peak memory, ``ru_maxrss``, is its own)
with an empty cache folder, so build times include the first read of each source:

* ``build``: time of each layer of the Malta extract (``.osm.pbf``, the pyosmium scan
  counted in the first layer, then the cached scan), network assembly, and the same for
  the world-scale layers over a region (Baltic Sea, default) with the scgraph-data parse
  done cold (first read) and warm (compact cache).
* ``matrix``: sources-to-all-nodes throughput on the Malta network (generalized cost,
  time + money), for ``hubopt.costs.travel_costs``, raw ``scipy.sparse.csgraph.dijkstra``
  on the same CSR matrix, and networkx ``single_source_dijkstra_path_length`` on the same
  graph (a DiGraph holding the cheapest of parallel edges), side by side in one run, with
  a check that the three agree.

Targets (issue 3): hubopt >= 20x networkx, and within 1.5x of raw scipy.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
WORLD_BBOX = "9,53,31,66"  # Baltic Sea region


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _build_phase(kind: str, source: str, cache: str) -> dict[str, Any]:
    from hubopt import settings
    from hubopt.layers import ALL_MODES, EmptyLayerWarning, Source, extract_layer
    from hubopt.network import assemble_network

    settings.cache_folder = Path(cache)
    world = kind == "world"
    src = Source.from_bbox(source) if world else Source.infer(source)
    out: dict[str, Any] = {"source": source, "world": world, "layers": {}}
    layers = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        for mode in ALL_MODES:
            layer, sec = _timed(extract_layer, mode, src, world=world)
            layers[mode] = layer
            out["layers"][mode.value] = {"seconds": round(sec, 3), **layer.summary()}
        if world:  # second pass: the compact caches are warm now
            for mode in ALL_MODES:
                _, sec = _timed(extract_layer, mode, src, world=world)
                out["layers"][mode.value]["seconds_warm"] = round(sec, 3)
        net, sec = _timed(assemble_network, layers, world=world)
    out["assemble_seconds"] = round(sec, 3)
    out["network_nodes"] = net.n_nodes
    out["network_edges"] = len(net.edges)
    out["transfer_links"] = len(net.transfers)
    out["peak_rss_mb"] = round(_peak_mb(), 1)
    return out


def _matrix_phase(source: str, cache: str, n_sources: int, n_nx: int) -> dict[str, Any]:
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    from hubopt import settings
    from hubopt.costs import Weights, network_csr, travel_costs
    from hubopt.layers import EmptyLayerWarning
    from hubopt.network import build_network

    settings.cache_folder = Path(cache)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        net = build_network(source=source)
    weights = Weights(time=10.0, money=1.0)  # 10 EUR per tonne-hour
    csr = network_csr(net, weights)
    n = net.n_nodes
    rng = np.random.default_rng(42)
    sources = np.sort(rng.choice(n, size=n_sources, replace=False))
    all_nodes = np.arange(n)
    # warm-up (imports; the reduced graph is built once per weights and cached)
    _, t_reduce = _timed(travel_costs, net, sources[:2], all_nodes, weights=weights)
    dijkstra(csr, indices=sources[:2])

    best = {"hubopt": np.inf, "scipy": np.inf, "hubopt_full_graph": np.inf}
    for _ in range(3):  # interleaved, best of three, to even out the machine's load
        m, t_h = _timed(travel_costs, net, sources, all_nodes, weights=weights)
        raw, t_s = _timed(dijkstra, csr, directed=True, indices=sources)
        _, t_f = _timed(travel_costs, net, sources, all_nodes, weights=weights, reduce=False)
        best["hubopt"] = min(best["hubopt"], t_h)
        best["scipy"] = min(best["scipy"], t_s)
        best["hubopt_full_graph"] = min(best["hubopt_full_graph"], t_f)
    # networkx on the same graph: DiGraph of the cheapest parallel edges (the CSR entries)
    coo = csr.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                  strict=True))
    nx_sources = sources[:n_nx]
    t_nx = np.inf
    for _ in range(2):  # best of two, like the others (best of three)
        t0 = time.perf_counter()
        nx_rows = [nx.single_source_dijkstra_path_length(G, int(s)) for s in nx_sources]
        t_nx = min(t_nx, time.perf_counter() - t0)
    # agreement check on the networkx rows
    max_diff = 0.0
    for r, row in enumerate(nx_rows):
        ref = np.full(n, np.inf)
        ref[list(row.keys())] = list(row.values())
        fin = np.isfinite(ref)
        assert (np.isfinite(m.values[r]) == fin).all()
        assert (np.isfinite(raw[r]) == fin).all()
        max_diff = max(max_diff, float(np.max(np.abs(m.values[r][fin] - ref[fin])
                                              / np.maximum(1.0, ref[fin]))))
    rate = {
        "hubopt": n_sources / best["hubopt"],
        "hubopt_full_graph": n_sources / best["hubopt_full_graph"],
        "scipy": n_sources / best["scipy"],
        "networkx": n_nx / t_nx,
    }
    return {
        "source": source, "nodes": n, "csr_entries": int(csr.nnz),
        "weights": {"time": weights.time, "money": weights.money, "co2": weights.co2},
        "sources_hubopt_scipy": n_sources, "sources_networkx": n_nx,
        "first_call_seconds_incl_reduction": round(t_reduce, 3),
        "seconds": {"hubopt": round(best["hubopt"], 4), "scipy": round(best["scipy"], 4),
                    "hubopt_full_graph": round(best["hubopt_full_graph"], 4),
                    "networkx": round(t_nx, 4)},
        "sources_per_second": {k: round(v, 2) for k, v in rate.items()},
        "speedup_vs_networkx": round(rate["hubopt"] / rate["networkx"], 1),
        "slowdown_vs_scipy": round(rate["scipy"] / rate["hubopt"], 3),
        "max_relative_difference_vs_networkx": max_diff,
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def _in_process(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(fn, args)
    return result


def _markdown(res: dict[str, Any]) -> str:
    lines = ["# Network benchmark", "",
             f"Run {res['date']} on {res['machine']} (Python {res['python']}). "
             "Produced by `python benchmarks/bench_network.py`; raw figures in "
             "`benchmarks/network_results.json`. Every phase ran in a fresh process with an "
             "empty cache folder.", ""]
    for key, title in (("build_malta", "Build time per layer: Malta extract (.osm.pbf)"),
                       ("build_world", "Build time per layer: world-scale layers")):
        b = res[key]
        lines += [f"## {title}", "", f"Source: `{Path(b['source']).name}`.", ""]
        warm = b["world"]
        head = "| layer | seconds (first read) |" + (" seconds (warm cache) |" if warm else "")
        lines += [head + " nodes | edges | terminals | length km |",
                  "|---|---:|" + ("---:|" if warm else "") + "---:|---:|---:|---:|"]
        for mode, s in b["layers"].items():
            w = f" {s['seconds_warm']} |" if warm else ""
            lines.append(f"| {mode} | {s['seconds']} |{w} {s['nodes']} | {s['edges']} | "
                         f"{s['terminals']} | {s['length_km']:.0f} |")
        lines += ["", f"Assembly (transfer links): {b['assemble_seconds']} s; network "
                  f"{b['network_nodes']} nodes, {b['network_edges']} edges, "
                  f"{b['transfer_links']} transfer links. Peak RSS {b['peak_rss_mb']} MB.", ""]
    m = res["matrix"]
    lines += [
        "## Matrix throughput (sources to all nodes)", "",
        f"Malta network, {m['nodes']} nodes, {m['csr_entries']} directed edges after merging "
        f"parallel edges; generalized cost = {m['weights']['time']} x hours + "
        f"{m['weights']['money']} x EUR.", "",
        "| engine | sources | seconds | sources per second |", "|---|---:|---:|---:|",
        f"| hubopt `travel_costs` (reduced graph, float32 matrix) | "
        f"{m['sources_hubopt_scipy']} | {m['seconds']['hubopt']} | "
        f"{m['sources_per_second']['hubopt']} |",
        f"| hubopt `travel_costs(reduce=False)` (full graph) | {m['sources_hubopt_scipy']} | "
        f"{m['seconds']['hubopt_full_graph']} | {m['sources_per_second']['hubopt_full_graph']} |",
        f"| raw `scipy.sparse.csgraph.dijkstra` | {m['sources_hubopt_scipy']} | "
        f"{m['seconds']['scipy']} | {m['sources_per_second']['scipy']} |",
        f"| networkx `single_source_dijkstra_path_length` | {m['sources_networkx']} | "
        f"{m['seconds']['networkx']} | {m['sources_per_second']['networkx']} |", "",
        f"* hubopt vs networkx: **{m['speedup_vs_networkx']}x** faster (target >= 20x).",
        f"* raw scipy vs hubopt: hubopt takes **{m['slowdown_vs_scipy']}x** the time of raw "
        "scipy on the full graph (target <= 1.5x; below 1 means faster). hubopt contracts "
        "the graph exactly (a contraction hierarchy with a core, see `hubopt/costs.py`) and "
        "runs scipy's Dijkstra on the smaller core.",
        f"* hubopt's first call with these weights also builds the reduced graph: "
        f"{m['first_call_seconds_incl_reduction']} s (cached afterwards).",
        f"* the three agree (max relative difference to networkx "
        f"{m['max_relative_difference_vs_networkx']:.1e}, float32 rounding).",
        f"* peak RSS of the matrix process: {m['peak_rss_mb']} MB.", "",
        "Map data © OpenStreetMap contributors (ODbL).", "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run all phases and write the results and the Markdown summary."""
    sys.path.insert(0, str(REPO))
    from hubopt._io import write_json_atomic, write_text_atomic
    from hubopt.settings import resolve_data_folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world-bbox", default=WORLD_BBOX)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--nx-sources", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args(argv)
    malta = str(resolve_data_folder() / "osm" / "malta_2018-08-27.osm.pbf")
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {mp.cpu_count()} cores",
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as c1, tempfile.TemporaryDirectory() as c2:
        res["build_malta"] = _in_process(_build_phase, "file", malta, c1)
        print("malta built", res["build_malta"]["assemble_seconds"], flush=True)
        res["build_world"] = _in_process(_build_phase, "world", args.world_bbox, c2)
        print("world built", res["build_world"]["assemble_seconds"], flush=True)
        res["matrix"] = _in_process(_matrix_phase, malta, c1, args.sources, args.nx_sources)
    write_json_atomic(args.out / "network_results.json", res)
    write_text_atomic(args.out / "network.md", _markdown(res))
    print(_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
