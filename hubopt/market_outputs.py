"""Outputs of a run's ``[external]`` markets: GeoJSON layers, the report section, the map.

* ``markets.geojson``: one point per market with its typical path (gateway, mode chain,
  time, cost), its flows and the modes and gateways that link it;
* ``corridors.geojson``: one line per world link (gateway to the market's terminal:
  searoute lane, great circle or world road/rail path), with its length, time and cost,
  the flow that the points' least-cost paths put on it, and ``typical`` for the market's
  typical link;
* :func:`markets_report`: the Markdown section "Global connectivity";
* :func:`draw_corridors`: the typical corridors on the map, leaving the frame towards
  their market, labelled at the frame's edge.

Nothing here runs without ``[external]``; no other output changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from hubopt.pipeline import RunResult

_SUMMARY_KEYS = ("market", "gateway", "gateway_mode", "modes", "time_h", "cost",
                 "flow_share_typical", "flow_export", "flow_import", "flow_transit",
                 "gateway_n1_gateway", "gateway_n1_cost", "gateway_n1_time_h",
                 "gateway_n1_cost_increase_share", "gateway_n1_time_increase_share")


def _link_flows(r: RunResult) -> dict[tuple[int, str, str], float]:
    """Flow (exports + imports) on each (market, gateway, mode) from the least-cost paths."""
    assert r.external is not None
    f = r.external.flows
    out: dict[tuple[int, str, str], float] = {}
    for m, s in enumerate(r.markets):
        w = f.export[:, m] + f.imports[m, :]
        for i, row in enumerate(s["paths"]):
            lc = row["least_cost"]
            key = (m, lc["gateway"], lc["gateway_mode"])
            out[key] = out.get(key, 0.0) + float(w[i])
    return out


def market_fields(r: RunResult) -> dict[str, dict[str, str]]:
    """Field -> unit of the ``markets`` and ``corridors`` layers ('' if none)."""
    unit = r.case.flows.unit
    money = f"{r.network.profiles.currency}/{unit.split('/')[0]}"
    return {
        "markets": {"market": "", "gateway": "", "gateway_mode": "", "modes": "",
                    "time_h": "h", "cost": money, "flow_share_typical": "",
                    "flow_export": unit, "flow_import": unit, "flow_transit": unit,
                    "gateway_n1_gateway": "", "gateway_n1_cost": money,
                    "gateway_n1_time_h": "h", "gateway_n1_cost_increase_share": "",
                    "gateway_n1_time_increase_share": "",
                    "modes_linked": "", "modes_missing": "", "gateways_linked": ""},
        "corridors": {"market": "", "mode": "", "gateway": "", "gateway_ref": "",
                      "far_end": "", "km": "km", "access_km": "km", "time_h": "h",
                      "money": money, "co2_kg": f"kg/{unit.split('/')[0]}", "cost": money,
                      "flow": unit, "typical": ""},
    }


def market_features(r: RunResult) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """Points of the markets with their typical path and links (empty without markets)."""
    out: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
    for s in r.markets:
        props = {k: s.get(k) for k in _SUMMARY_KEYS}
        props["modes_linked"] = ",".join(s["modes_linked"])
        props["modes_missing"] = "; ".join(f"{k}: {v}" for k, v in s["modes_missing"].items())
        props["gateways_linked"] = len(s["gateways_linked"])
        out.append(({"type": "Point", "coordinates": [s["lon"], s["lat"]]}, props))
    return out


def corridor_features(r: RunResult) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """Lines of the world links, with the flow the least-cost paths put on them."""
    if r.external is None:
        return []
    flows = _link_flows(r)
    mk = r.external.flows.markets
    out: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
    for ln in r.external.gateways.links:
        s = r.markets[ln.market]
        typical = s["gateway"] == ln.gateway and s["gateway_mode"] == ln.mode
        props = {"market": mk.names[ln.market], "mode": ln.mode, "gateway": ln.gateway,
                 "gateway_ref": ln.gateway_id, "far_end": ln.far_end, "km": ln.km,
                 "access_km": ln.access_km, "time_h": ln.time_h, "money": ln.money,
                 "co2_kg": ln.co2_kg, "cost": ln.cost,
                 "flow": flows.get((ln.market, ln.gateway, ln.mode), 0.0),
                 "typical": typical}
        coords = [list(c) for c in ln.coords] if len(ln.coords) >= 2 else None
        out.append(({"type": "LineString", "coordinates": coords} if coords else None, props))
    return out


def markets_report(r: RunResult) -> list[str | tuple[list[str], list[list[Any]]]]:
    """The report's "Global connectivity" section: paragraphs and (header, rows) tables
    (empty without markets; :mod:`hubopt.report` renders it)."""
    if r.external is None:
        return []
    unit = r.case.flows.unit
    cur = r.network.profiles.currency
    parts: list[str | tuple[list[str], list[list[Any]]]] = [
        "## Global connectivity: markets beyond the region\n",
        "Each market's typical path is the gateway and mode chain that carries the most "
        "flow among the demand points' least-cost paths (through their hubs); time and "
        f"cost are flow-weighted means per {unit.split('/')[0]}. Links are routed on "
        "world-scale data beyond the region (searoute lanes, great circles between "
        "airports, scgraph-data roads and railways).\n"]
    parts.append((
        ["market", "gateway", "modes", "time (h)", f"cost ({cur})", "share of flow",
         f"export ({unit})", f"import ({unit})", f"transit ({unit})", "linked by",
         "not linked by"],
        [[s["market"], s["gateway"], s["modes"], s["time_h"], s["cost"],
          s["flow_share_typical"], s["flow_export"], s["flow_import"], s["flow_transit"],
          ", ".join(s["modes_linked"]),
          "; ".join(f"{k} ({v})" for k, v in s["modes_missing"].items()) or "–"]
         for s in r.markets]))
    parts.append("### When a market's best gateway fails (gateway N-1)\n")
    parts.append("Each market's typical path re-routed from the same hubs over the other "
                 "gateways when the gateway carrying most of its flow is unavailable "
                 "(export direction, flow-weighted means).\n")
    parts.append((
        ["market", "failed gateway", "fallback gateway", f"cost ({cur})",
         "cost increase", "time (h)", "time increase"],
        [[s["market"], s["gateway_n1_failed"], s["gateway_n1_gateway"] or "none",
          s["gateway_n1_cost"], s["gateway_n1_cost_increase_share"], s["gateway_n1_time_h"],
          s["gateway_n1_time_increase_share"]] for s in r.markets]))
    parts.append("### Fastest and least-cost paths from each demand point\n")
    rows = []
    for s in r.markets:
        for row in s["paths"]:
            lc, fa = row["least_cost"], row["fastest"]
            rows.append([s["market"], row["point"], lc["gateway"], lc["modes"], lc["time_h"],
                         lc["cost"], fa["gateway"], fa["modes"], fa["time_h"], fa["cost"]])
    parts.append((["market", "demand point", "least-cost gateway", "modes", "time (h)",
                   f"cost ({cur})", "fastest gateway", "modes", "time (h)", f"cost ({cur})"],
                  rows))
    return parts


def typical_corridors(r: RunResult) -> list[dict[str, Any]]:
    """Each market's typical corridor: the regional path from the market's usual hub to
    the gateway (least generalized cost on the network) and the world link beyond it."""
    if r.external is None or r.matrices is None:
        return []
    from collections import Counter

    from hubopt.costs import shortest_path

    net, mx, c = r.network, r.matrices, r.candidates
    x = net.nodes["x"].to_numpy(dtype=float)
    y = net.nodes["y"].to_numpy(dtype=float)
    out = []
    for m, s in enumerate(r.markets):
        link = next(ln for ln in r.external.gateways.links if ln.market == m
                    and ln.gateway == s["gateway"] and ln.mode == s["gateway_mode"])
        hubs = Counter(row["least_cost"]["hubs"][-1] for row in s["paths"]
                       if row["least_cost"]["gateway"] == s["gateway"])
        hub = sorted(hubs, key=lambda h: (-hubs[h], h))[0]
        k = c.names.index(hub)
        path = shortest_path(net, int(mx.site_snap.node[k]), link.node, weights=mx.weights)
        regional = ([(float(c.lon[k]), float(c.lat[k]))]
                    + [(float(x[q]), float(y[q])) for q in path.nodes] if path else [])
        out.append({"market": m, "name": s["market"], "mode": link.mode, "hub": hub,
                    "gateway": link.gateway, "gateway_xy": (float(x[link.node]),
                                                            float(y[link.node])),
                    "regional": regional, "world": list(link.coords), "time_h": s["time_h"]})
    return out


def corridor_extent_points(r: RunResult) -> np.ndarray:
    """(n, 2) lon/lat of the typical corridors' gateways (for the map's frame)."""
    pts = [c["gateway_xy"] for c in typical_corridors(r)]
    return np.asarray(pts, dtype=float).reshape(-1, 2)


def _exit_point(xy: np.ndarray, box: tuple[float, float, float, float]
                ) -> tuple[float, float] | None:
    """Where a line that starts inside ``box`` first leaves it (None if it never does)."""
    w, s, e, n = box
    inside = (xy[:, 0] >= w) & (xy[:, 0] <= e) & (xy[:, 1] >= s) & (xy[:, 1] <= n)
    if not inside[0] or inside.all():
        return None
    j = int(np.flatnonzero(~inside)[0])
    (x0, y0), (x1, y1) = xy[j - 1], xy[j]
    ts = [1.0]
    for a0, a1, lim in ((x0, x1, w), (x0, x1, e), (y0, y1, s), (y0, y1, n)):
        if a1 != a0:
            t = (lim - a0) / (a1 - a0)
            if 0.0 <= t <= 1.0:
                ts.append(t)
    t = min(ts)
    return float(x0 + t * (x1 - x0)), float(y0 + t * (y1 - y0))


def draw_corridors(ax: Axes, r: RunResult, box: tuple[float, float, float, float]
                   ) -> list[Any]:
    """Typical corridors (hub -> gateway -> out of the frame), labelled with the markets
    where they leave the frame."""
    from matplotlib.lines import Line2D

    from hubopt.qgis_styles import MODE_COLORS

    corridors = typical_corridors(r)
    labels: dict[tuple[float, float, str], list[str]] = {}
    drawn: list[str] = []
    for cor in corridors:
        color = MODE_COLORS.get(cor["mode"], "black")
        if len(cor["regional"]) >= 2:
            reg = np.asarray(cor["regional"], dtype=float)
            ax.plot(reg[:, 0], reg[:, 1], color="#333333", lw=2.0, ls=(0, (6, 2)),
                    alpha=0.8, zorder=4)
        world = np.asarray(cor["world"], dtype=float)
        if len(world) >= 2:
            ax.plot(world[:, 0], world[:, 1], color=color, lw=2.5, ls=(0, (6, 2)),
                    alpha=0.9, zorder=4)
            exit_xy = _exit_point(world, box)
            if exit_xy is not None:
                key = (round(exit_xy[0], 2), round(exit_xy[1], 2), cor["mode"])
                labels.setdefault(key, []).append(f"{cor['name']} {cor['time_h']:.0f} h")
        if cor["mode"] not in drawn:
            drawn.append(cor["mode"])
    w, _, e, _ = box
    for (x, y, mode), names in sorted(labels.items()):
        color = MODE_COLORS.get(mode, "black")
        ax.annotate(f"to {', '.join(names)} ({mode})", (x, y), fontsize=7, color=color,
                    zorder=6, ha="right" if x > (w + e) / 2 else "left", va="bottom",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": color,
                          "alpha": 0.85})
    handles = [Line2D([], [], color=MODE_COLORS.get(m, "black"), lw=2.5, ls=(0, (6, 2)),
                      label=f"corridor to a market by {m}") for m in drawn]
    if corridors:
        handles.append(Line2D([], [], color="#333333", lw=2.0, ls=(0, (6, 2)),
                              label="corridor: hub to gateway"))
    return handles


__all__ = ["corridor_extent_points", "corridor_features", "draw_corridors", "market_features",
           "market_fields", "markets_report", "typical_corridors"]
