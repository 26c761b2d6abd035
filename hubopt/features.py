"""GeoJSON features of a run: hubs, allocation lines and routes (RFC 7946 text).

Coordinates are WGS84 longitude/latitude (EPSG:4326) rounded to 7 decimals; properties
are flat (numbers, strings, booleans; NaN and infinities become null); the text is
deterministic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hubopt.case_model import site_capacities, site_fixed_costs

if TYPE_CHECKING:
    from hubopt.pipeline import RunResult


def json_value(v: Any) -> Any:
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

    feats = [{"type": "Feature", "properties": {k: json_value(v) for k, v in props.items()},
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


__all__ = ["allocation_features", "feature_collection", "hub_features", "json_value",
           "route_features"]
