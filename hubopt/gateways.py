"""Gateways: where the region's network meets the world-scale links to its markets.

Each link joins one gateway (a node of the region's network) to one market on one mode,
routed beyond the region on the same world-scale data as the world layers:

* **sea**: every sea terminal (port) of the network to the market's port (the searoute
  port nearest the market within ``market_radius_km``, or ``port = "LOCODE"``) along
  searoute's lanes, at the sea profile's speed. Both ports must lie within the sea
  profile's ``port_leg_radius_km`` of a lane node.
* **air**: every airport of the network with an IATA code to the market's airport
  (nearest IATA airport, or ``airport = "IATA"``), great circle at the air profile's
  cruise speed plus ``taxi_climb_h``, if the distance is within the profile's
  ``min_link_km``..``max_link_km``.
* **road, rail**: the world road or rail network of ``scgraph-data`` without the edges
  inside the region's bounding box, searched from the node nearest the market; a gateway
  is an inside node with an edge leaving the box (a border crossing of the box).
  Crossings closer than :data:`CROSSING_CLUSTER_KM` to a better one are merged, and only
  crossings within ``CROSSING_SLACK`` times the best distance plus
  :data:`CROSSING_SLACK_KM` are kept. Speeds as in the world layers (road at the road
  profile's ``truck_speed_cap_kmh``, rail at ``speed_kmh``).

At the market end, the goods leave the mode for road: the transfer rule of the mode pair
(``transfers.toml``, none for road) plus road access over the great circle from the
market's terminal to the market times the road profile's ``connector_detour``, at
``truck_speed_cap_kmh``. Money and CO2 follow the mode profiles' unit costs, as on the
network's own edges. The regional part of a path (demand point to gateway, with the
transfers at the gateway terminal) comes from the network itself (:mod:`hubopt.ext_model`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hubopt.costs import Weights
from hubopt.layers._geo import NearestIndex, haversine_m
from hubopt.modes import Mode

if TYPE_CHECKING:
    from hubopt.external import Markets
    from hubopt.network import MultimodalNetwork
    from hubopt.profiles import ModeProfile, Profiles

CROSSING_CLUSTER_KM = 100.0
CROSSING_SLACK = 1.15
CROSSING_SLACK_KM = 100.0


@dataclass(frozen=True)
class WorldLink:
    """One gateway-to-market link: the world-scale leg and the market-side access.

    ``time_h``, ``money``, ``co2_kg`` and ``cost`` (generalized, case weights) include the
    market-side transfer and road access; ``km`` is the world leg alone.
    """

    market: int
    mode: str
    gateway: str
    gateway_id: str
    node: int
    far_end: str
    km: float
    access_km: float
    time_h: float
    money: float
    co2_kg: float
    cost: float
    coords: tuple[tuple[float, float], ...] = field(repr=False, default=())


@dataclass(frozen=True, eq=False)
class Gateways:
    """The world links of every market and, per market and mode, why none exists."""

    links: tuple[WorldLink, ...]
    missing: dict[tuple[int, str], str]

    def of_market(self, m: int) -> list[int]:
        """Indices of the links of market ``m``."""
        return [k for k, ln in enumerate(self.links) if ln.market == m]


def _unit(hours: float, km: float, prof: ModeProfile) -> tuple[float, float]:
    """Money and CO2 of ``km`` in ``hours`` at a profile's unit costs (as on edges)."""
    return (float(km * prof.cost_per_km + hours * prof.cost_per_hour),
            float(km * prof.co2_per_unit_km))


def _leg(mode: Mode, km: float, hours: float, profiles: Profiles) -> tuple[float, float, float]:
    cost, co2 = _unit(hours, km, profiles[mode])
    return hours, cost, co2


def _market_end(mode: Mode, access_km: float, profiles: Profiles) -> tuple[float, float, float]:
    """Transfer to road at the market's terminal, then road access (time, money, co2)."""
    road = profiles[Mode.ROAD]
    speed = road.param("truck_speed_cap_kmh", road.speed_kmh)
    hours = access_km / speed
    cost, co2 = _unit(hours, access_km, road)
    if mode is not Mode.ROAD:
        rule = profiles.transfer(mode, Mode.ROAD)
        hours += rule.time_h
        cost += rule.cost
    return hours, cost, co2


def _gc_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(haversine_m(a[0], a[1], b[0], b[1])) / 1000.0


# ------------------------------------------------------------------------------------------
# sea


@functools.cache
def _lane_index() -> NearestIndex:
    from hubopt.layers._world_data import searoute_lanes

    lanes = searoute_lanes()
    lon = np.concatenate([lanes["lon1"].to_numpy(), lanes["lon2"].to_numpy()])
    lat = np.concatenate([lanes["lat1"].to_numpy(), lanes["lat2"].to_numpy()])
    return NearestIndex(lon, lat)


@functools.cache
def sea_route(a: tuple[float, float], b: tuple[float, float]
              ) -> tuple[float, tuple[tuple[float, float], ...]]:
    """searoute's lane distance (km) and line between two points (lon, lat)."""
    import searoute

    feat = searoute.searoute(list(a), list(b), units="km")
    coords = tuple((float(x), float(y)) for x, y in feat["geometry"]["coordinates"])
    return float(feat["properties"]["length"]), coords


def _pick(table: object, code_col: str, code: str | None, lon: float, lat: float,
          radius_km: float) -> tuple[int, float] | None:
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    if code is not None:
        rows = np.flatnonzero(table[code_col].to_numpy() == code)
        if not len(rows):
            return None
        k = int(rows[0])
    else:
        if table.empty:
            return None
        pos, _ = NearestIndex(table["lon"].to_numpy(), table["lat"].to_numpy()).nearest(
            np.array([lon]), np.array([lat]), max_m=radius_km * 1000.0)
        if pos[0] < 0:
            return None
        k = int(pos[0])
    row = table.iloc[k]
    return k, _gc_km((lon, lat), (float(row["lon"]), float(row["lat"])))


def _sea_links(net: MultimodalNetwork, markets: Markets, radius_km: float,
               weights: Weights, out: list[WorldLink], missing: dict[tuple[int, str], str]
               ) -> None:
    from hubopt.layers._world_data import searoute_ports

    prof = net.profiles[Mode.SEA]
    leg_km = prof.param("port_leg_radius_km", 150.0)
    lanes = _lane_index()
    ports = searoute_ports()
    term = net.terminals[net.terminals["mode"] == "sea"]
    gx, gy = term.geometry.x.to_numpy(), term.geometry.y.to_numpy()
    _, gd = lanes.nearest(gx, gy)
    for m in range(len(markets)):
        ref = markets.refs[m]
        mx_, my_ = float(markets.lon[m]), float(markets.lat[m])
        picked = _pick(ports, "locode", ref.port, mx_, my_, radius_km)
        if picked is None:
            missing[(m, "sea")] = (f"no searoute port {ref.port}" if ref.port else
                                   f"no sea port within {radius_km:g} km")
            continue
        k, access = picked
        prow = ports.iloc[k]
        pxy = (float(prow["lon"]), float(prow["lat"]))
        _, pd_ = lanes.nearest(np.array([pxy[0]]), np.array([pxy[1]]))
        if pd_[0] > leg_km * 1000.0:
            missing[(m, "sea")] = (f"the market's port {prow['locode']} lies "
                                   f"{pd_[0] / 1000:.0f} km from the sea lanes")
            continue
        if term.empty or not (gd <= leg_km * 1000.0).any():
            missing[(m, "sea")] = "no port of the region on the sea lanes"
            continue
        end = _market_end(Mode.SEA, access * net.profiles[Mode.ROAD].param(
            "connector_detour", 1.0), net.profiles)
        for q, row in enumerate(term.itertuples(index=False)):
            if gd[q] > leg_km * 1000.0:
                continue
            km, coords = sea_route((float(gx[q]), float(gy[q])), pxy)
            h, c, co2 = _leg(Mode.SEA, km, km / prof.speed_kmh, net.profiles)
            _append(out, weights, m, "sea", f"{row.name} ({row.ref})" if row.ref else
                    str(row.name), str(row.terminal_id), int(row.node),
                    f"{prow['name']} ({prow['locode']})", km,
                    access * net.profiles[Mode.ROAD].param("connector_detour", 1.0),
                    (h, c, co2), end, coords)


def _append(out: list[WorldLink], weights: Weights, m: int, mode: str, gateway: str,
            gid: str, node: int, far: str, km: float, access_km: float,
            leg: tuple[float, float, float], end: tuple[float, float, float],
            coords: tuple[tuple[float, float], ...]) -> None:
    h, c, co2 = leg[0] + end[0], leg[1] + end[1], leg[2] + end[2]
    out.append(WorldLink(m, mode, gateway, gid, node, far, float(km), float(access_km),
                         float(h), float(c), float(co2),
                         float(weights.combine(h, c, co2)), coords))


# ------------------------------------------------------------------------------------------
# air


def _air_links(net: MultimodalNetwork, markets: Markets, radius_km: float, weights: Weights,
               out: list[WorldLink], missing: dict[tuple[int, str], str]) -> None:
    from hubopt.layers._world_data import airports

    prof = net.profiles[Mode.AIR]
    lo, hi = prof.param("min_link_km", 0.0), prof.param("max_link_km", 1e9)
    db = airports()
    term = net.terminals[net.terminals["mode"] == "air"]
    codes = set(db["iata"])
    term = term[[isinstance(r, str) and r in codes for r in term["ref"]]]
    detour = net.profiles[Mode.ROAD].param("connector_detour", 1.0)
    for m in range(len(markets)):
        ref = markets.refs[m]
        mx_, my_ = float(markets.lon[m]), float(markets.lat[m])
        picked = _pick(db, "iata", ref.airport, mx_, my_, radius_km)
        if picked is None:
            missing[(m, "air")] = (f"no airport {ref.airport} in airportsdata" if ref.airport
                                   else f"no IATA airport within {radius_km:g} km")
            continue
        k, access = picked
        arow = db.iloc[k]
        axy = (float(arow["lon"]), float(arow["lat"]))
        if term.empty:
            missing[(m, "air")] = "no airport with an IATA code in the region"
            continue
        end = _market_end(Mode.AIR, access * detour, net.profiles)
        n_before = len(out)
        for row in term.itertuples(index=False):
            gxy = (float(row.geometry.x), float(row.geometry.y))
            km = _gc_km(gxy, axy)
            if not lo <= km <= hi:
                continue
            h = km / prof.speed_kmh + prof.param("taxi_climb_h", 0.0)
            _append(out, weights, m, "air", f"{row.name} ({row.ref})", str(row.terminal_id),
                    int(row.node), f"{arow['name']} ({arow['iata']})", km, access * detour,
                    _leg(Mode.AIR, km, h, net.profiles), end, _great_circle(gxy, axy))
        if len(out) == n_before:
            missing[(m, "air")] = (f"no airport of the region within {lo:g}-{hi:g} km of "
                                   f"{arow['iata']}")


def _great_circle(a: tuple[float, float], b: tuple[float, float], n: int = 32
                  ) -> tuple[tuple[float, float], ...]:
    """Points along the great circle from ``a`` to ``b`` (for maps)."""
    la1, lo1, la2, lo2 = np.radians([a[1], a[0], b[1], b[0]])
    p1 = np.array([np.cos(la1) * np.cos(lo1), np.cos(la1) * np.sin(lo1), np.sin(la1)])
    p2 = np.array([np.cos(la2) * np.cos(lo2), np.cos(la2) * np.sin(lo2), np.sin(la2)])
    omega = float(np.arccos(np.clip(p1 @ p2, -1.0, 1.0)))
    if omega < 1e-9:
        return (a, b)
    ts = np.linspace(0.0, 1.0, n)
    pts = (np.sin((1 - ts) * omega)[:, None] * p1 + np.sin(ts * omega)[:, None] * p2) / np.sin(
        omega)
    lat = np.degrees(np.arcsin(pts[:, 2]))
    lon = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    return tuple((float(x), float(y)) for x, y in zip(lon, lat, strict=True))


# ------------------------------------------------------------------------------------------
# road and rail


@functools.cache
def _outside_graph(mode: Mode, bbox: tuple[float, float, float, float]
                   ) -> tuple[object, np.ndarray, np.ndarray]:
    """The world graph without inside-inside edges (CSR, km) and the border nodes."""
    import scipy.sparse as sp

    from hubopt.layers import BBox
    from hubopt.layers.world import WORLD_GRAPHS, world_graph

    g = world_graph(WORLD_GRAPHS[mode])
    lon, lat = g["lon"].astype("float64"), g["lat"].astype("float64")
    inside = BBox(*bbox).contains(lon, lat)
    u, v = g["u"].astype("int64"), g["v"].astype("int64")
    km = np.maximum(g["km"].astype("float64"),
                    haversine_m(lon[u], lat[u], lon[v], lat[v]) / 1000.0)
    km = np.maximum(km, 1e-6)
    keep = ~(inside[u] & inside[v])
    n = len(lon)
    csr = sp.coo_matrix((km[keep], (u[keep], v[keep])), shape=(n, n)).tocsr()
    cross = keep & (inside[u] ^ inside[v])
    border = np.unique(np.where(inside[u[cross]], u[cross], v[cross]))
    return csr, border, inside


def _land_links(mode: Mode, net: MultimodalNetwork, markets: Markets,
                bbox: tuple[float, float, float, float], radius_km: float, weights: Weights,
                out: list[WorldLink], missing: dict[tuple[int, str], str],
                place: NearestIndex | None, place_names: tuple[str, ...]) -> None:
    from scipy.sparse.csgraph import dijkstra

    from hubopt.layers.world import RAIL_ID_OFFSET, ROAD_ID_OFFSET, WORLD_GRAPHS, world_graph

    g = world_graph(WORLD_GRAPHS[mode])
    lon, lat = g["lon"].astype("float64"), g["lat"].astype("float64")
    csr, border, inside = _outside_graph(mode, bbox)
    offset = ROAD_ID_OFFSET if mode is Mode.ROAD else RAIL_ID_OFFSET
    prof = net.profiles[mode]
    speed = prof.speed_kmh if mode is Mode.RAIL else prof.param("truck_speed_cap_kmh",
                                                                prof.speed_kmh)
    outside = np.flatnonzero(~inside)
    index = NearestIndex(lon[outside], lat[outside])
    detour = net.profiles[Mode.ROAD].param("connector_detour", 1.0)
    # border nodes that the region's network has
    known: list[tuple[int, int]] = []
    for b in border.tolist():
        try:
            known.append((b, net.node_position(mode, b + offset)))
        except KeyError:
            continue
    for m in range(len(markets)):
        mxy = (float(markets.lon[m]), float(markets.lat[m]))
        pos, dist = index.nearest(np.array([mxy[0]]), np.array([mxy[1]]),
                                  max_m=radius_km * 1000.0)
        if pos[0] < 0:
            missing[(m, mode.value)] = f"no world {mode.value} node within {radius_km:g} km"
            continue
        src = int(outside[pos[0]])
        access = float(dist[0]) / 1000.0 * detour
        d, pred = dijkstra(csr, directed=False, indices=src, return_predecessors=True)
        reach = sorted(((float(d[b]), b, p) for b, p in known if np.isfinite(d[b])))
        if not reach:
            missing[(m, mode.value)] = (f"the world {mode.value} network does not reach the "
                                        "region from the market")
            continue
        best = reach[0][0]
        kept: list[tuple[float, int, int]] = []
        for km, b, p in reach:
            if km > CROSSING_SLACK * best + CROSSING_SLACK_KM:
                break
            if any(_gc_km((lon[b], lat[b]), (lon[k], lat[k])) < CROSSING_CLUSTER_KM
                   for _, k, _ in kept):
                continue
            kept.append((km, b, p))
        end = _market_end(mode, access, net.profiles)
        for km, b, p in kept:
            path = [b]
            while path[-1] != src and pred[path[-1]] >= 0:
                path.append(int(pred[path[-1]]))
            coords = tuple((float(lon[q]), float(lat[q])) for q in path)
            near = ""
            if place is not None and len(place):
                qpos, _ = place.nearest(np.array([lon[b]]), np.array([lat[b]]))
                near = f" near {place_names[int(qpos[0])]}"
            name = f"{mode.value} crossing{near} ({lon[b]:.2f}E {lat[b]:.2f}N)"
            _append(out, weights, m, mode.value, name, f"{mode.value}:crossing/{b + offset}",
                    p, "world " + mode.value + " network", km, access,
                    _leg(mode, km, km / speed, net.profiles), end, coords)


# ------------------------------------------------------------------------------------------


def world_links(net: MultimodalNetwork, markets: Markets, *, bbox: tuple[float, float, float,
                float], modes: tuple[str, ...], weights: Weights, radius_km: float = 150.0,
                places: tuple[tuple[str, ...], np.ndarray, np.ndarray] | None = None
                ) -> Gateways:
    """Every gateway-to-market link on ``modes`` (see the module doc).

    ``places`` (names, lon, lat) name road and rail crossings after the nearest place.
    """
    out: list[WorldLink] = []
    missing: dict[tuple[int, str], str] = {}
    place = NearestIndex(places[1], places[2]) if places is not None else None
    names = places[0] if places is not None else ()
    for mode in (Mode.parse(x) for x in modes):
        if mode is Mode.SEA:
            _sea_links(net, markets, radius_km, weights, out, missing)
        elif mode is Mode.AIR:
            _air_links(net, markets, radius_km, weights, out, missing)
        else:
            _land_links(mode, net, markets, bbox, radius_km, weights, out, missing, place,
                        names)
    out.sort(key=lambda ln: (ln.market, ln.mode, ln.cost, ln.gateway_id))
    return Gateways(tuple(out), missing)


__all__ = ["CROSSING_CLUSTER_KM", "CROSSING_SLACK", "CROSSING_SLACK_KM", "Gateways",
           "WorldLink", "sea_route", "world_links"]
