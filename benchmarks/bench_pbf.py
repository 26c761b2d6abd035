"""Reading ``.osm.pbf`` extracts: hubopt's four layers against pyrosm's driving network.

Rows of the ``pbf`` suite (``python benchmarks/run.py pbf``): for the Malta extract and a
tiled extract of about 100 MB (``benchmarks/tiled_extract.py``), one after the other in
the same run, each tool in a fresh process, three times each, interleaved (hubopt,
pyrosm, hubopt, ...), the run of median time reported with all three times in its note
(on a virtual machine the same run varies by 10-20 %, mostly in the kernel's page
faults):

* ``hubopt four layers``: ``extract_layer`` of road, rail, sea and air from the file on
  an installation that has run before (the catalogs hubopt keeps in its cache folder and
  numba's compiled kernels made by reading another file, the tiled extract's single
  tile), the file's own scan not cached; then ``road layer (cached scan)`` in the same
  process, a second road build that reads the cached arrays;
* ``hubopt four layers, first run after install``: the same with an empty cache folder
  and an empty numba cache (the catalogs are built and the kernels compiled in the call);
* ``pyrosm driving``: ``pyrosm.OSM(path).get_network(network_type="driving",
  nodes=True)``.

``seconds`` is the call (the tools' modules imported before the clock starts),
``cpu_seconds`` the processor time of the call (on a shared machine, the steadier figure),
``seconds_incl_imports`` the whole worker from its first line, ``peak_rss_mb`` the worker's
peak resident memory.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from _process import cpu_seconds, peak_mb

HERE = Path(__file__).resolve().parent
TIMEOUT_S = 1800




def _hubopt(path: str, cache: str, numba_cache: str | None = None) -> dict[str, Any]:
    t_start = time.perf_counter()
    if numba_cache is not None:  # a first run: numba compiles the kernels into it
        import os

        os.environ["NUMBA_CACHE_DIR"] = numba_cache
    import importlib

    from hubopt import settings
    from hubopt.layers import ALL_MODES, Source, extract_layer

    for module in ("road", "rail", "sea", "air"):  # imports before the clock, as for pyrosm
        importlib.import_module(f"hubopt.layers.{module}")
    settings.cache_folder = Path(cache)
    src = Source.infer(path)
    out: dict[str, Any] = {"layers": {}}
    t0, c0 = time.perf_counter(), cpu_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode in ALL_MODES:
            t = time.perf_counter()
            layer = extract_layer(mode, src)
            out["layers"][mode.value] = {"seconds": time.perf_counter() - t, **layer.summary()}
        out["seconds"] = time.perf_counter() - t0
        out["cpu_seconds"] = cpu_seconds() - c0
        out["seconds_incl_imports"] = time.perf_counter() - t_start
        out["peak_rss_mb"] = peak_mb()
        t = time.perf_counter()
        road = extract_layer("road", src)
        out["warm_road"] = {"seconds": time.perf_counter() - t, **road.summary()}
    return out


def _pyrosm(path: str) -> dict[str, Any]:
    t_start = time.perf_counter()
    import pyrosm

    t0, c0 = time.perf_counter(), cpu_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = pyrosm.OSM(path).get_network(network_type="driving", nodes=True)
    sec = time.perf_counter() - t0
    return {"seconds": sec, "cpu_seconds": cpu_seconds() - c0,
            "seconds_incl_imports": time.perf_counter() - t_start,
            "nodes": len(nodes), "edges": len(edges),
            "length_km": float(edges["length"].sum()) / 1000.0, "peak_rss_mb": peak_mb()}


def _fresh(fn: Any, *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a fresh spawned process; an ``error`` entry if it fails."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        job = pool.apply_async(fn, args)
        try:
            result: dict[str, Any] = job.get(timeout=TIMEOUT_S)
        except Exception as exc:  # a crash, out of memory or the timeout
            return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return result


def measure(mb: float = 100.0) -> list[dict[str, Any]]:
    """The rows of the ``pbf`` table (Malta, then the tiled extract)."""
    sys.path.insert(0, str(HERE))
    import tiled_extract

    from hubopt.settings import resolve_data_folder

    files = [resolve_data_folder() / "osm" / "malta_2018-08-27.osm.pbf",
             tiled_extract.ensure(mb)]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as installed:
        # an installation that has run before: the catalogs hubopt keeps in its cache
        # folder (GeoNames, GSHHG, airports, sea lanes) and numba's compiled kernels exist,
        # made by reading another file; each measured file's scan is not cached
        _fresh(_hubopt, str(tiled_extract.ensure(0.0)), installed)
        for path in files:
            rows += _file_rows(path, installed)
    return rows


REPEATS = 3  # each tool's measured run, interleaved hubopt/pyrosm; the median is reported


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median ``seconds`` (an error if any run failed), its note listing all."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[len(ordered) // 2],
            "runs": ", ".join(f"{r['seconds']:.2f}" for r in runs)}


def _file_rows(path: Path, installed: str) -> list[dict[str, Any]]:
    name = path.name
    size = round(path.stat().st_size / 1e6, 1)
    base = {"file": name, "file_mb": size}
    rows: list[dict[str, Any]] = []
    hub_runs: list[dict[str, Any]] = []
    ros_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(REPEATS):  # interleaved: both tools see the same machine state
            cache = Path(tmp) / f"cache{i}"
            shutil.copytree(installed, cache, ignore=shutil.ignore_patterns("osm"))
            hub_runs.append(_fresh(_hubopt, str(path), str(cache)))
            ros_runs.append(_fresh(_pyrosm, str(path)))
        first = _fresh(_hubopt, str(path), str(Path(tmp) / "empty"), str(Path(tmp) / "nb"))
    runs = {"four layers": _median_run(hub_runs), "four layers, first run after install": first}
    for item, h in runs.items():
        if "error" in h:
            rows.append({**base, "tool": "hubopt", "item": item, "note": h["error"]})
        else:
            road = h["layers"]["road"]
            note = "; ".join(f"{m} {s['seconds']:.2f} s" for m, s in h["layers"].items())
            if "runs" in h:
                note = f"median of {REPEATS} runs ({h['runs']} s); {note}"
            rows.append({**base, "tool": "hubopt", "item": item,
                         "seconds": round(h["seconds"], 2),
                         "cpu_seconds": round(h["cpu_seconds"], 2),
                         "seconds_incl_imports": round(h["seconds_incl_imports"], 2),
                         "nodes": road["nodes"], "edges": road["edges"],
                         "length_km": round(road["length_km"], 1),
                         "peak_rss_mb": round(h["peak_rss_mb"], 1), "note": note})
    h = runs["four layers"]
    if "warm_road" in h:
        w = h["warm_road"]
        rows.append({**base, "tool": "hubopt", "item": "road layer (cached scan)",
                     "seconds": round(w["seconds"], 2), "nodes": w["nodes"],
                     "edges": w["edges"], "length_km": round(w["length_km"], 1)})
    print(name, "hubopt done", flush=True)
    p = _median_run(ros_runs)
    if "error" in p:
        rows.append({**base, "tool": "pyrosm", "item": "driving network", "note": p["error"]})
    else:
        rows.append({**base, "tool": "pyrosm", "item": "driving network",
                     "seconds": round(p["seconds"], 2),
                     "cpu_seconds": round(p["cpu_seconds"], 2),
                     "seconds_incl_imports": round(p["seconds_incl_imports"], 2),
                     "nodes": p["nodes"], "edges": p["edges"],
                     "length_km": round(p["length_km"], 1),
                     "peak_rss_mb": round(p["peak_rss_mb"], 1),
                     "note": f"median of {REPEATS} runs ({p['runs']} s)"})
    print(name, "pyrosm done", flush=True)
    return rows
