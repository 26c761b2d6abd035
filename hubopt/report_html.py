"""report.html: an interactive, self-contained page of a run or of a sweep.

The page is one HTML file that works offline from ``file://``: Leaflet (BSD-2, shipped in
``hubopt/data/web/leaflet/``, its images inlined as ``data:`` URIs), the page's own script
and style (``hubopt/data/web/report.js``, ``report.css``) and the data (one JSON block,
``<script type="application/json" id="hubopt-data">``) are all inlined, so no request
leaves the machine. Web basemap tiles are an optional layer, off by default; they are
requested only when the reader switches them on.

What the page shows:

* a map with a toggle per layer: the network by mode (road, rail, sea, air; air links
  faded and off by default), transfers, demand points, candidate sites, hubs (named on
  the map), allocations and routes (line width by flow), each feature with a popup of its
  attributes and units (costs in the case's money unit, :data:`MONEY_UNIT`, per unit of
  flow or per period of the flow unit; flows in the case's flow unit; times in h or min);
* the tables: hubs, scorecard (target, metric, threshold, value, best possible, result,
  source), resilience (each hub fails in turn), objective by mode, allocation of the
  demand points, candidate sites, the network summary, warnings;
* the attribution "© OpenStreetMap contributors (ODbL)" on the map and below it.

Large networks are thinned so that the file stays small: every edge is simplified
(Douglas-Peucker, the tolerance growing until at most :data:`MAX_NETWORK_VERTICES`
vertices remain) and, past :data:`MAX_NETWORK_FEATURES` edges, only the longest edges of
each layer are drawn; the page says how many edges it shows out of how many.

A sweep's page (:func:`write_sweep_html`) holds every scenario (read back from the data
block of each scenario's own ``report.html``; equal networks stored once) with a select
box that switches the map and the tables, and the comparison table of ``scenarios.csv``.

The text is deterministic (no timestamps or timings; the same run gives the same bytes)
and written atomically.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._io import write_text_atomic
from hubopt.case_model import site_capacities, site_fixed_costs
from hubopt.features import json_value
from hubopt.settings import OSM_ATTRIBUTION

if TYPE_CHECKING:
    from hubopt.network import MultimodalNetwork
    from hubopt.pipeline import RunResult
    from hubopt.sweep_records import SweepResult

MONEY_UNIT = "EUR"
"""The default money unit; a run's is its mode profiles' ``currency``."""
MAX_NETWORK_VERTICES = 250_000
"""Vertices of all network layers together, after simplification."""
MAX_NETWORK_FEATURES = 40_000
"""Edges of all network layers together; past it only the longest edges are drawn."""
DIGITS = 5
"""Decimals of the coordinates on the page (about 1 m)."""

_DATA_ID = "hubopt-data"
_DATA_RE = re.compile(r'<script type="application/json" id="hubopt-data">(.*?)</script>',
                      re.DOTALL)
_NETWORK_LAYERS = (  # key, label, colour, line weight, opacity, dashed, on by default
    ("road", "road network", "#8d8d8d", 1.0, 0.6, False, True),
    ("rail", "rail network", "#8b1a1a", 1.3, 0.75, False, True),
    ("sea", "sea lanes", "#1f6fb2", 1.3, 0.75, False, True),
    ("air", "air links", "#9c6ade", 1.0, 0.3, True, False),
    ("transfers", "transfers", "#ff9800", 1.5, 0.7, False, False),
)


# ------------------------------------------------------------------------------------------
# units and field specifications (key, label, unit, format) for the popups and tables


def units(flow_unit: str, money: str = MONEY_UNIT) -> dict[str, str]:
    """Units of the page: flows, cost per unit of flow, cost per period of the flows.

    ``"t/year"`` gives ``{"flow": "t/year", "unit_cost": "EUR/t", "cost": "EUR/year"}``.
    """
    amount, sep, period = flow_unit.partition("/")
    amount = amount.strip() or "unit"
    return {"money": money, "flow": flow_unit, "amount": amount,
            "unit_cost": f"{money}/{amount}",
            "cost": f"{money}/{period.strip()}" if sep and period.strip() else money}


def _edge_fields(u: dict[str, str], transfers: bool) -> list[list[str]]:
    fields = [["kind", "kind", "", "text"]]
    if transfers:
        fields += [["from_mode", "from mode", "", "text"], ["to_mode", "to mode", "", "text"],
                   ["terminal_id", "terminal", "", "text"]]
    else:
        fields += [["name", "name", "", "text"], ["speed_kmh", "speed", "km/h", "num"]]
    return [*fields, ["length_km", "length", "km", "num"], ["time_h", "time", "h", "num"],
            ["cost", "cost", u["unit_cost"], "num"],
            ["co2_kg", "CO2e", f"kg/{u['amount']}", "num"]]


def field_specs(u: dict[str, str]) -> dict[str, list[list[str]]]:
    """The popup fields of the run layers: [key, label, unit, format] each."""
    return {
        "hubs": [["name", "hub", "", "text"], ["status", "status", "", "text"],
                 ["modes", "modes joined", "", "text"],
                 ["modes_reached", "modes reached", "", "text"],
                 ["full_four_mode", "four-mode hub", "", "bool"],
                 ["throughput", "throughput", u["flow"], "num"],
                 ["fixed_cost", "fixed cost", u["cost"], "num"],
                 ["capacity", "capacity", u["flow"], "num"],
                 ["cost_increase", "cost increase if it fails", u["cost"], "num"],
                 ["cost_increase_share", "cost increase share if it fails", "", "pct"],
                 ["population_lost", "demand weight losing access if it fails", "", "num"],
                 ["population_lost_share", "share losing access if it fails", "", "pct"]],
        "candidates": [["name", "site", "", "text"], ["modes", "modes joined", "", "text"],
                       ["modes_reached", "modes reached", "", "text"],
                       ["open", "open", "", "bool"], ["existing", "existing", "", "bool"],
                       ["excluded", "excluded", "", "bool"]],
        "demand": [["name", "demand point", "", "text"],
                   ["weight", "demand weight", "", "num"], ["hub", "hub", "", "text"]],
        "allocations": [["kind", "kind", "", "text"], ["from_name", "from", "", "text"],
                        ["to_name", "to", "", "text"],
                        ["demand_weight", "demand weight", "", "num"],
                        ["flow", "flow", u["flow"], "num"],
                        ["flow_out", "flow out", u["flow"], "num"],
                        ["flow_in", "flow in", u["flow"], "num"],
                        ["unit_cost_out", "unit cost out", u["unit_cost"], "num"],
                        ["unit_cost_in", "unit cost in", u["unit_cost"], "num"],
                        ["cost", "cost", u["cost"], "num"],
                        ["minutes", "road time", "min", "num"],
                        ["covered", "covered", "", "bool"]],
        "routes": [["leg_kind", "leg", "", "text"], ["from_name", "from", "", "text"],
                   ["to_name", "to", "", "text"], ["mode", "mode", "", "text"],
                   ["connector", "connector", "", "bool"], ["flow", "flow", u["flow"], "num"],
                   ["length_km", "length", "km", "num"], ["time_h", "time", "h", "num"],
                   ["unit_cost", "unit cost", u["unit_cost"], "num"]],
    }


# ------------------------------------------------------------------------------------------
# the network, simplified and thinned


def network_layers(net: MultimodalNetwork, flow_unit: str, *,
                   max_vertices: int = MAX_NETWORK_VERTICES,
                   max_features: int = MAX_NETWORK_FEATURES) -> dict[str, Any]:
    """The network layers as compact columns: fields, one value row and one flat
    ``[lon, lat, lon, lat, ...]`` coordinate list per edge, simplified and thinned.
    """
    import shapely

    from hubopt.export import network_to_gdfs

    u = units(flow_unit, net.profiles.currency)
    gdfs = network_to_gdfs(net)
    frames = {key: gdfs[key] for key, *_ in _NETWORK_LAYERS}
    geoms = {k: np.asarray(f.geometry.values, dtype=object) for k, f in frames.items()}
    every = [g for arr in geoms.values() for g in arr if g is not None]
    diag = 0.0
    if every:
        x0, y0, x1, y1 = shapely.total_bounds(np.asarray(every, dtype=object))
        diag = math.hypot(x1 - x0, y1 - y0)
    tol = max(diag / 8000.0, 10.0 ** -DIGITS)
    total = sum(len(f) for f in frames.values())
    keep_share = min(1.0, max_features / total) if total else 1.0
    kept: dict[str, np.ndarray] = {}
    for key, frame in frames.items():
        n = len(frame)
        if keep_share < 1.0 and n:
            length = frame["length_m"].to_numpy(dtype=float)
            order = np.lexsort((np.arange(n), -np.nan_to_num(length)))
            kept[key] = np.sort(order[:max(1, int(n * keep_share))])
        else:
            kept[key] = np.arange(n)
    while True:
        simple = {k: shapely.simplify(geoms[k][kept[k]], tol, preserve_topology=False)
                  for k in frames}
        count = sum(int(shapely.get_num_coordinates(v).sum()) for v in simple.values()
                    if len(v))
        if count <= max_vertices or tol > diag:  # beyond diag: two points per edge
            break
        tol *= 2.0
    out: dict[str, Any] = {"tolerance_deg": round(tol, 7), "layers": {}}
    for key, label, color, weight, opacity, dashed, on in _NETWORK_LAYERS:
        frame = frames[key]
        fields = _edge_fields(u, key == "transfers")
        rows, coords = [], []
        sub = frame.iloc[kept[key]]
        cols = {f[0]: (sub["length_m"].to_numpy(dtype=float) / 1000.0 if f[0] == "length_km"
                       else sub[f[0]].to_numpy() if f[0] in sub.columns else [None] * len(sub))
                for f in fields}
        for j, geom in enumerate(simple[key]):
            if geom is None or shapely.is_empty(geom):
                continue
            xy = shapely.get_coordinates(geom)
            coords.append([round(float(v), DIGITS) for v in xy.ravel()])
            rows.append([_value(cols[f[0]][j]) for f in fields])
        out["layers"][key] = {
            "label": label, "color": color, "weight": weight, "opacity": opacity,
            "dashed": dashed, "on": on, "fields": fields, "rows": rows, "coords": coords,
            "total": len(frame)}
    return out


def land_layer(box: tuple[float, float, float, float]) -> dict[str, Any] | None:
    """Land and lakes inside ``box`` (west, south, east, north) from the shipped shoreline
    data (:func:`hubopt.land.land_polygons`), clipped and simplified; ``None`` when there is
    none or the box is finer than that data (:data:`hubopt.map_figure.LAND_MIN_SPAN`).
    """
    import shapely

    from hubopt.land import land_polygons
    from hubopt.map_figure import COAST_COLOR, LAND_COLOR, LAND_MIN_SPAN, WATER_COLOR

    west, south, east, north = box
    if max(east - west, north - south) < LAND_MIN_SPAN:
        return None
    land = land_polygons(*box)
    if not land.land:
        return None
    clip = shapely.box(*box)
    tol = math.hypot(east - west, north - south) / 3000.0

    def polygons(rings: list[np.ndarray]) -> list[list[list[float]]]:
        out = []
        for ring in rings:
            if len(ring) < 4:
                continue
            poly = shapely.make_valid(shapely.Polygon(ring))
            part = shapely.simplify(shapely.intersection(poly, clip), tol)
            for g in shapely.get_parts(part):
                if isinstance(g, shapely.Polygon) and not g.is_empty:
                    out.append([_flat(r.coords) for r in (g.exterior, *g.interiors)])
        return out

    return {"land": polygons(land.land), "lakes": polygons(land.lakes),
            "attribution": land.attribution, "land_color": LAND_COLOR,
            "water_color": WATER_COLOR, "coast_color": COAST_COLOR}


def _box(r: RunResult) -> tuple[float, float, float, float]:
    """The region to draw land in: the points and the network, with a margin."""
    xs = [*r.demand.lon, *r.candidates.lon]
    ys = [*r.demand.lat, *r.candidates.lat]
    nodes = r.network.nodes
    if len(nodes) and {"x", "y"} <= set(nodes.columns):  # EPSG:4326 degrees
        xs += [float(nodes["x"].min()), float(nodes["x"].max())]
        ys += [float(nodes["y"].min()), float(nodes["y"].max())]
    x0, x1, y0, y1 = float(min(xs)), float(max(xs)), float(min(ys)), float(max(ys))
    px, py = max(0.25 * (x1 - x0), 0.01), max(0.25 * (y1 - y0), 0.01)
    return (max(x0 - px, -180.0), max(y0 - py, -90.0), min(x1 + px, 180.0),
            min(y1 + py, 90.0))


def _value(v: Any) -> Any:
    v = json_value(v)
    if isinstance(v, float):
        return float(f"{v:.6g}")
    return v


# ------------------------------------------------------------------------------------------
# one run


def _verdict(t: Any) -> str:
    if t.passed:
        return "PASS"
    if t.unreachable:
        return "UNREACHABLE"
    return "FAIL" if t.measured else "NOT MEASURED"


def _props(p: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in p.items()}


def _flat(coords: Any) -> list[float]:
    return [round(float(v), DIGITS) for xy in coords for v in tuple(xy)[:2]]


def _allocation(r: RunResult, ln: dict[str, Any]) -> dict[str, Any]:
    """An allocation line: demand point -> hub (access) or hub -> hub (inter_hub)."""
    d, c = r.demand, r.candidates
    k = ln["to_site"]
    if ln["kind"] == "access":
        i = ln["from_index"]
        start = (d.lon[i], d.lat[i])
        props: dict[str, Any] = {"kind": "access", "from_name": d.names[i],
                                 "to_name": c.names[k], "demand_weight": float(d.weight[i]),
                                 "minutes": float(r.demand_minutes[i, k])}
    else:
        m = ln["from_site"]
        start = (c.lon[m], c.lat[m])
        props = {"kind": "inter_hub", "from_name": c.names[m], "to_name": c.names[k]}
    for key in ("flow", "flow_out", "flow_in", "unit_cost_out", "unit_cost_in", "cost",
                "minutes", "covered"):
        if key in ln:
            props[key] = ln[key]
    return {"coords": _flat([start, (c.lon[k], c.lat[k])]), "props": _props(props)}


MARKET_FIELDS = [["market", "market", "", "text"], ["gateway", "typical gateway", "", "text"],
                 ["gateway_mode", "world leg", "", "text"], ["modes", "mode chain", "", "text"],
                 ["time_h", "time", "h", "num"], ["cost", "cost", "unit_cost", "num"],
                 ["gateway_n1_gateway", "fallback gateway if it fails", "", "text"],
                 ["gateway_n1_cost_increase_share", "cost increase if it fails", "", "pct"],
                 ["gateway_n1_time_increase_share", "time increase if it fails", "", "pct"],
                 ["modes_linked", "modes linked", "", "text"],
                 ["gateways_linked", "gateways linked", "", "num"]]
CORRIDOR_FIELDS = [["market", "market", "", "text"], ["gateway", "gateway", "", "text"],
                   ["mode", "mode", "", "text"], ["far_end", "far end", "", "text"],
                   ["km", "length", "km", "num"], ["time_h", "time", "h", "num"],
                   ["cost", "cost", "unit_cost", "num"], ["flow", "flow", "flow", "num"],
                   ["typical", "typical", "", "bool"]]


def _market_layers(r: RunResult, u: dict[str, str]) -> dict[str, Any]:
    """[external]: the markets (points) and world corridors (lines) with their popup fields;
    empty without markets, so that the page of a case without ``[external]`` is unchanged."""
    if r.external is None:
        return {}
    from hubopt.market_outputs import corridor_features, market_features

    def unit(spec: list[list[str]]) -> list[list[str]]:
        return [[k, label, u.get(un, un), how] for k, label, un, how in spec]

    markets = [{"lon": round(float(g["coordinates"][0]), DIGITS),
                "lat": round(float(g["coordinates"][1]), DIGITS),
                "props": _props({k: p.get(k) for k, *_ in MARKET_FIELDS})}
               for g, p in market_features(r) if g is not None]
    corridors = [{"coords": _flat(g["coordinates"]),
                  "props": _props({k: p.get(k) for k, *_ in CORRIDOR_FIELDS})}
                 for g, p in corridor_features(r) if g is not None]
    return {"markets": markets, "corridors": corridors,
            "market_fields": {"markets": unit(MARKET_FIELDS),
                              "corridors": unit(CORRIDOR_FIELDS)}}


def scenario_data(r: RunResult) -> dict[str, Any]:
    """What the page shows of one run, apart from the network (JSON-ready, deterministic)."""
    from hubopt import __version__
    from hubopt.scorecard import mode_completeness

    case, s, m, c, d = r.case, r.solved, r.measures, r.candidates, r.demand
    u = units(case.flows.unit, r.network.profiles.currency)
    fixed = site_fixed_costs(case, c)
    cap = site_capacities(case, c)
    resil = {h.site: h for h in m.hubs}
    hubs = []
    for k in s.hubs:
        h = resil.get(k)
        props: dict[str, Any] = {
            "name": c.names[k], "modes": ",".join(c.modes[k]),
            "modes_reached": "" if h is None else ",".join(h.modes_reached),
            "full_four_mode": None if h is None else h.full,
            "throughput": float(r.throughput[k]), "fixed_cost": float(fixed[k]),
            "status": "existing" if k in c.existing else "new"}
        if cap is not None:
            props["capacity"] = float(cap[k])
        if h is not None:
            props.update({"cost_increase": h.cost_increase,
                          "cost_increase_share": h.cost_increase_share,
                          "population_lost": h.population_lost,
                          "population_lost_share": h.population_lost_share})
        hubs.append({"lon": round(float(c.lon[k]), DIGITS), "lat": round(float(c.lat[k]), DIGITS),
                     "props": _props(props)})
    reached = mode_completeness(r.site_mode_minutes, m.mode_reach_minutes)
    open_sites = set(s.hubs)
    candidates = [{"lon": round(float(c.lon[k]), DIGITS), "lat": round(float(c.lat[k]), DIGITS),
                   "props": {"name": c.names[k], "modes": ",".join(c.modes[k]),
                             "modes_reached": ",".join(reached[k]), "open": k in open_sites,
                             "existing": k in c.existing, "excluded": k in c.excluded}}
                  for k in range(len(c))]
    hub_of = {ln["from_index"]: c.names[ln["to_site"]] for ln in r.lines
              if ln["kind"] == "access"}
    demand = [{"lon": round(float(d.lon[i]), DIGITS), "lat": round(float(d.lat[i]), DIGITS),
               "props": {"name": d.names[i], "weight": json_value(d.weight[i]),
                         "hub": hub_of.get(i, "")}}
              for i in range(len(d))]
    allocations = [_allocation(r, ln) for ln in r.lines]
    route_keys = ("leg_kind", "from_name", "to_name", "mode", "connector", "flow",
                  "length_km", "time_h", "unit_cost")
    routes = [{"coords": _flat(seg["coords"]), "props": _props({k: seg.get(k) for k in route_keys})}
              for seg in r.routes]
    scorecard = [{"id": t.id, "metric": t.description or t.metric, "operator": t.operator,
                  "threshold": json_value(t.threshold), "value": json_value(t.value),
                  "best_possible": json_value(t.best_possible), "result": _verdict(t),
                  "source": t.source} for t in r.results]
    summary = r.network.summary()
    return {
        "name": case.name,
        "title": case.title or case.name,
        "description": case.description.strip(),
        "case_file": case.path.name,
        "problem": case.model.problem.value,
        "hubopt": __version__,
        "status": s.status, "method": s.method,
        "objective_label": "objective" if s.covered is None else "covered demand weight",
        "objective_unit": u["cost"] if s.covered is None else "",
        "objective": json_value(s.objective), "bound": json_value(s.bound),
        "gap": json_value(s.gap),
        "transport_cost": json_value(r.transport_cost),
        "fixed_cost_total": json_value(r.fixed_cost_total),
        "n_demand": len(d), "n_candidates": len(c),
        "total_flow": json_value(float(r.flows.sum())),
        "access_minutes": json_value(m.access_minutes),
        "mode_reach_minutes": json_value(m.mode_reach_minutes),
        "units": u,
        "targets_met": sum(1 for t in r.results if t.passed),
        "hubs": hubs, "candidates": candidates, "demand": demand,
        "allocations": allocations, "routes": routes, "scorecard": scorecard,
        "objective_by_mode": [[k, json_value(v)] for k, v in m.objective_by_mode.items()],
        "trunk_pairs": [[a, b, list(ms)] for a, b, ms in m.trunk_pairs],
        "network_summary": {"columns": [str(col) for col in summary.columns],
                            "rows": [[json_value(v) for v in row]
                                     for row in summary.to_numpy().tolist()]},
        "warnings": list(r.warnings),
        "attribution": r.network.attribution,
        "fields": field_specs(u),
        **_market_layers(r, u),
    }


def run_page_data(r: RunResult) -> dict[str, Any]:
    """The data block of a run's page: one scenario and its network."""
    network = network_layers(r.network, r.case.flows.unit)
    network["land"] = land_layer(_box(r))
    # a sweep's page keeps each distinct network once: it compares these digests
    network["digest"] = hashlib.sha256(data_json(network).encode("utf-8")).hexdigest()
    scenario = {**scenario_data(r), "network": 0, "label": r.case.name, "error": ""}
    return {"kind": "run", "title": scenario["title"], "networks": [network],
            "scenarios": [scenario], "comparison": None,
            "osm_attribution": OSM_ATTRIBUTION}


def write_report_html(r: RunResult, folder: str | Path) -> Path:
    """Write ``folder/report.html`` for a run (atomically); return its path."""
    return write_text_atomic(Path(folder) / "report.html", page_html(run_page_data(r)))


# ------------------------------------------------------------------------------------------
# a sweep


def read_page_data(path: str | Path) -> dict[str, Any] | None:
    """The data block of a page written by this module (``None`` if there is none)."""
    p = Path(path)
    if not p.is_file():
        return None
    match = _DATA_RE.search(p.read_text(encoding="utf-8"))
    if match is None:
        return None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def sweep_page_data(result: SweepResult,
                    pages: Mapping[str, dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The data block of a sweep's page: every scenario, each network once, the table.

    ``pages`` holds scenarios' page data already read (by scenario name; the sweep reads
    each as it finishes); the others are read from their folders.
    """
    pages = pages or {}
    from hubopt.sweep_records import RESULT_COLUMNS

    networks: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    scenarios = []
    for row in result.rows:
        name = str(row["scenario"])
        label = name + (" (" + ", ".join(f"{k}={row.get(k, '')}" for k in result.keys) + ")"
                        if result.keys else "")
        page = (pages[name] if name in pages
                else read_page_data(result.folder / name / "report.html"))
        entry: dict[str, Any] = {"name": name, "label": label,
                                 "values": [[k, str(row.get(k, ""))] for k in result.keys],
                                 "error": str(row.get("error", "") or "")}
        if page is not None and page.get("scenarios"):
            sc = page["scenarios"][0]
            net = page["networks"][sc.get("network", 0)]
            # pages of older versions carry no digest: their networks compare as text
            text = str(net.get("digest") or json.dumps(net, sort_keys=True))
            if text not in seen:
                seen[text] = len(networks)
                networks.append(net)
            entry = {**sc, **entry, "network": seen[text]}
        elif not entry["error"]:
            entry["error"] = "no report.html in the scenario's folder"
        scenarios.append(entry)
    reader = csv.reader(io.StringIO(result.to_csv()))
    header = next(reader, [])
    keep = [j for j, col in enumerate(header) if col != "seconds"]  # timings vary
    rows = [[row[j] for j in keep] for row in reader]
    first = next((s for s in scenarios if "title" in s), None)
    return {"kind": "sweep",
            "title": f"Sweep of {len(scenarios)} scenarios"
                     + (f": {first['title']}" if first else ""),
            "networks": networks, "scenarios": scenarios,
            "comparison": {"columns": [header[j] for j in keep], "rows": rows,
                           "keys": list(result.keys), "result_columns": list(RESULT_COLUMNS)},
            "osm_attribution": OSM_ATTRIBUTION}


def write_sweep_html(result: SweepResult,
                     pages: Mapping[str, dict[str, Any] | None] | None = None) -> Path:
    """Write ``report.html`` into the sweep's folder (atomically); return its path.

    ``pages``: as for :func:`sweep_page_data`.
    """
    return write_text_atomic(result.folder / "report.html",
                             page_html(sweep_page_data(result, pages)))


# ------------------------------------------------------------------------------------------
# the page


def _web(name: str) -> str:
    return (resources.files("hubopt") / "data" / "web" / name).read_text(encoding="utf-8")


def _leaflet_css() -> str:
    base = resources.files("hubopt") / "data" / "web" / "leaflet"

    def inline(match: re.Match[str]) -> str:
        png = (base / match.group(1)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(png).decode("ascii") + ")"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, _web("leaflet/leaflet.css"))


def _script_text(text: str) -> str:
    """JavaScript safe inside ``<script>``: no source-map request, no closing tag."""
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    return text.replace("</script", "<\\/script")


def data_json(data: dict[str, Any]) -> str:
    """The data block's text: compact JSON with ``<``, ``>`` and ``&`` escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def page_html(data: dict[str, Any]) -> str:
    """The whole page: template, Leaflet, script, style and the data block inlined."""
    parts = {
        "title": _esc(str(data.get("title", "hubopt report"))),
        "osm": _esc(OSM_ATTRIBUTION),
        "leaflet_license": _esc(_web("leaflet/LICENSE")).replace("--", "- -"),
        "leaflet_css": _leaflet_css(),
        "report_css": _web("report.css"),
        "leaflet_js": _script_text(_web("leaflet/leaflet.js")),
        "report_js": _script_text(_web("report.js")),
        "data": data_json(data),
        "data_id": _DATA_ID,
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda mt: parts[mt.group(1)], _web("page.html"))


__all__ = [
    "MAX_NETWORK_FEATURES",
    "MAX_NETWORK_VERTICES",
    "MONEY_UNIT",
    "data_json",
    "field_specs",
    "network_layers",
    "page_html",
    "read_page_data",
    "run_page_data",
    "scenario_data",
    "sweep_page_data",
    "units",
    "write_report_html",
    "write_sweep_html",
]
