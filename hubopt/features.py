"""GeoJSON features of a run: hubs, allocation lines and routes (RFC 7946 text).

Coordinates are WGS84 longitude/latitude (EPSG:4326) rounded to 7 decimals; properties
are flat (numbers, strings, booleans; NaN and infinities become null); the text is
deterministic. A line whose rounded points all coincide gets a null geometry (RFC 7946
allows it) and keeps its attributes, so that the costs still add up to the objective.

Every numeric attribute names its unit (:func:`field_units`): flows in the case's
``flows.unit`` (``flow_t_per_year`` for ``t/year``), money in the mode profiles' currency
(``EUR`` in the built-in profiles), e.g. ``unit_cost_out_eur_per_t`` and ``cost_eur_per_year``.
``site_id`` is the candidate site's position in the case's candidate list, the same in
hubs, allocations, routes and the GeoPackage's ``candidates`` layer; ``demand_id`` is the
demand point's position in the demand list.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hubopt.case_model import site_capacities, site_fixed_costs

if TYPE_CHECKING:
    from hubopt.pipeline import RunResult

CURRENCY = "EUR"
"""The default money unit; a run's is its mode profiles' ``currency``
(:attr:`hubopt.profiles.Profiles.currency`)."""


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class Units:
    """Units of a run's attributes, from the case's ``flows.unit`` (e.g. ``t/year``).

    ``flow`` is the flow unit, ``amount`` what one unit of flow is (``t``), ``cost`` the
    unit of a cost over the flows' period (``EUR/year``), ``unit_cost`` that of moving
    one unit of flow (``EUR/t``). The ``*_suffix`` forms go into field names.
    """

    flow: str
    amount: str
    cost: str
    unit_cost: str

    @classmethod
    def of(cls, flow_unit: str, currency: str = CURRENCY) -> Units:
        """The units of a flow unit such as ``t/year``, ``TEU/week`` or ``t``."""
        amount, sep, period = flow_unit.partition("/")
        amount = amount.strip() or "unit"
        period = period.strip() if sep else ""
        return cls(flow=flow_unit.strip() or "unit", amount=amount,
                   cost=f"{currency}/{period}" if period else currency,
                   unit_cost=f"{currency}/{amount}")

    @staticmethod
    def suffix(unit: str) -> str:
        """A unit as a field-name suffix: ``t/year`` -> ``t_per_year``."""
        return "_per_".join(_slug(p) for p in unit.split("/") if _slug(p)) or "unit"

    @property
    def flow_suffix(self) -> str:
        """``t_per_year`` for ``t/year``."""
        return self.suffix(self.flow)

    @property
    def cost_suffix(self) -> str:
        """``eur_per_year`` for ``t/year``."""
        return self.suffix(self.cost)

    @property
    def unit_cost_suffix(self) -> str:
        """``eur_per_t`` for ``t/year``."""
        return self.suffix(self.unit_cost)


def units_of(r: RunResult) -> Units:
    """The units of a run's attributes."""
    return Units.of(r.case.flows.unit, r.network.profiles.currency)


def field_units(u: Units) -> dict[str, dict[str, str]]:
    """Every attribute of hubs, allocations and routes with its unit ('' if none).

    Keys are the layer names, values map field name -> unit (text fields, ids, counts
    and flags have the unit ``''``).
    """
    f, c, uc = u.flow_suffix, u.cost_suffix, u.unit_cost_suffix
    return {
        "hubs": {"site_id": "", "name": "", "modes": "", "n_modes": "count",
                 "modes_reached": "", "full_four_mode": "", f"throughput_{f}": u.flow,
                 f"fixed_cost_{c}": u.cost, "existing": "", "status": "",
                 f"capacity_{f}": u.flow},
        "allocations": {"kind": "", "site_id": "", "from_site_id": "", "demand_id": "",
                        "from_name": "", "to_name": "",
                        "demand_weight": "demand weight (population or the file's weight)",
                        f"flow_{f}": u.flow, f"flow_out_{f}": u.flow, f"flow_in_{f}": u.flow,
                        f"unit_cost_out_{uc}": u.unit_cost, f"unit_cost_in_{uc}": u.unit_cost,
                        f"cost_{c}": u.cost, "time_min": "min", "covered": ""},
        "routes": {"leg": "", "leg_kind": "", "site_id": "", "from_site_id": "",
                   "demand_id": "", "from_name": "", "to_name": "", "seq": "", "mode": "",
                   "connector": "", f"flow_{f}": u.flow, "length_km": "km", "time_h": "h",
                   f"unit_cost_{uc}": u.unit_cost},
    }


def json_value(v: Any) -> Any:
    """A JSON-safe, rounded property value (NaN and infinities become null)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bool) or v is None or isinstance(v, str | int):
        return v
    if isinstance(v, float):
        return round(v, 9) if math.isfinite(v) else None
    return str(v)


def _coords(c: Any) -> Any:
    if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
        return [round(float(c[0]), 7), round(float(c[1]), 7)]
    return [_coords(x) for x in c]


def _geometry(geom: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rounded geometry; a line whose rounded points all coincide becomes null."""
    if geom is None:
        return None
    coords = _coords(geom["coordinates"])
    if geom["type"] == "LineString":
        uniq: list[list[float]] = []
        for xy in coords:
            if not uniq or uniq[-1] != xy:
                uniq.append(xy)
        if len(uniq) < 2:
            return None
        coords = uniq
    return {"type": geom["type"], "coordinates": coords}


def feature_collection(features: Iterable[tuple[dict[str, Any] | None, dict[str, Any]]],
                       name: str) -> str:
    """RFC 7946 GeoJSON text from (geometry, properties) pairs."""
    feats = [{"type": "Feature", "properties": {k: json_value(v) for k, v in props.items()},
              "geometry": _geometry(geom)}
             for geom, props in features]
    doc = {"type": "FeatureCollection", "name": name, "features": feats}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def _line(coords: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def hub_features(r: RunResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Open hubs: site id, name, modes joined and reached, throughput, fixed cost, status."""
    c = r.candidates
    u = units_of(r)
    fixed = site_fixed_costs(r.case, c)
    cap = site_capacities(r.case, c)
    by_site = {h.site: h for h in r.measures.hubs}
    out = []
    for k in r.solved.hubs:
        h = by_site[k]
        props: dict[str, Any] = {
            "site_id": int(k), "name": c.names[k], "modes": ",".join(c.modes[k]),
            "n_modes": len(c.modes[k]), "modes_reached": ",".join(h.modes_reached),
            "full_four_mode": bool(h.full), f"throughput_{u.flow_suffix}": float(r.throughput[k]),
            f"fixed_cost_{u.cost_suffix}": float(fixed[k]), "existing": k in c.existing,
            "status": "existing" if k in c.existing else "new",
        }
        if cap is not None:
            props[f"capacity_{u.flow_suffix}"] = float(cap[k])
        res = r.solved.resilience
        if res is not None:  # the resilient design, beside the cheapest one
            props["design"] = f"resilient ({res['objective']})"
            props["in_cheapest_design"] = c.names[k] in res["designs"]["cheapest"]["hubs"]
            props["failure_cost_increase_share"] = float(h.cost_increase_share)
            props["failure_population_lost_share"] = float(h.population_lost_share)
        out.append((_point(float(c.lon[k]), float(c.lat[k])), props))
    return out


def allocation_features(r: RunResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Lines demand point -> hub (kind access) and hub -> hub (kind inter_hub).

    ``site_id`` is the hub the line ends at; ``from_site_id`` the hub an inter-hub line
    starts at (null for access lines); ``demand_id`` the demand point of an access line.
    """
    d, c = r.demand, r.candidates
    u = units_of(r)
    f, uc = u.flow_suffix, u.unit_cost_suffix
    out = []
    for ln in r.lines:
        k = ln["to_site"]
        if ln["kind"] == "access":
            i = ln["from_index"]
            a_xy = (float(d.lon[i]), float(d.lat[i]))
            props: dict[str, Any] = {"kind": "access", "site_id": int(k), "from_site_id": None,
                                     "demand_id": int(i), "from_name": d.names[i],
                                     "to_name": c.names[k], "demand_weight": float(d.weight[i])}
        else:
            m = ln["from_site"]
            a_xy = (float(c.lon[m]), float(c.lat[m]))
            props = {"kind": "inter_hub", "site_id": int(k), "from_site_id": int(m),
                     "demand_id": None, "from_name": c.names[m], "to_name": c.names[k],
                     "demand_weight": 0.0}
        props.update({f"flow_{f}": ln["flow"], f"flow_out_{f}": ln["flow_out"],
                      f"flow_in_{f}": ln["flow_in"], f"unit_cost_out_{uc}": ln["unit_cost_out"],
                      f"unit_cost_in_{uc}": ln["unit_cost_in"],
                      f"cost_{u.cost_suffix}": ln["cost"]})
        if "minutes" in ln:
            props["time_min"] = ln["minutes"]
        if "covered" in ln:
            props["covered"] = bool(ln["covered"])
        out.append((_line([a_xy, (float(c.lon[k]), float(c.lat[k]))]), props))
    return out


def _leg_ends(r: RunResult) -> list[tuple[int, int | None, int | None]]:
    """(site_id, from_site_id, demand_id) of every routed leg, in the legs' order.

    Mirrors :func:`hubopt.assignment.route_legs`, which routes the access lines with a
    cost (collection then distribution) and every inter-hub line, in the lines' order.
    """
    out: list[tuple[int, int | None, int | None]] = []
    for ln in r.lines:
        if ln["kind"] == "access":
            if ln["unit_cost_out"] == 0 and ln["unit_cost_in"] == 0:
                continue
            k, i = int(ln["to_site"]), int(ln["from_index"])
            out += [(k, None, i)] * ((ln["flow_out"] > 0) + (ln["flow_in"] > 0))
        else:
            out.append((int(ln["to_site"]), int(ln["from_site"]), None))
    return out


def route_features(r: RunResult) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Route segments along network edges, one mode each.

    ``site_id`` is the hub of the leg (the hub a demand point is collected to or
    distributed from; the destination hub of an inter-hub leg), ``from_site_id`` the
    origin hub of an inter-hub leg, ``demand_id`` the demand point of an access leg.
    """
    u = units_of(r)
    ends = _leg_ends(r)
    c = r.candidates
    by_name = {c.names[k]: int(k) for k in r.solved.hubs}
    out = []
    for seg in r.routes:
        leg = int(seg["leg"])
        if leg - 1 < len(ends):
            site, from_site, demand = ends[leg - 1]
        else:  # not expected: fall back on the hubs' names
            hub = seg["to_name"] if seg["leg_kind"] != "distribute" else seg["from_name"]
            site, from_site, demand = by_name.get(hub, -1), None, None
        props: dict[str, Any] = {
            "leg": leg, "leg_kind": seg["leg_kind"], "site_id": site,
            "from_site_id": from_site, "demand_id": demand, "from_name": seg["from_name"],
            "to_name": seg["to_name"], "seq": seg["seq"], "mode": seg["mode"],
            "connector": bool(seg["connector"]), f"flow_{u.flow_suffix}": seg["flow"],
            "length_km": seg["length_km"], "time_h": seg["time_h"],
            f"unit_cost_{u.unit_cost_suffix}": seg["unit_cost"]}
        out.append((_line(seg["coords"]), props))
    return out


__all__ = ["CURRENCY", "Units", "allocation_features", "feature_collection", "field_units",
           "hub_features", "json_value", "route_features", "units_of"]
