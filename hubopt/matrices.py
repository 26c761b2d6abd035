"""The matrices of a case: what the model and the scorecard read off the network.

Every number here comes from the public routing functions, the same ones the network
benchmark measures: points (demand, sites and terminals) are snapped onto the nearest road
edge with :func:`hubopt.snapping.snap_to_edges` (the edge is split; only road components
that join the network's largest strongly connected component on their own, so every pair
of model nodes is joined; a connector longer than the case's ``max_connector_km`` is an
error naming the point), and costs and times come from :func:`hubopt.costs.travel_costs`:

* ``costs``: generalized cost between model nodes (demand points, then the candidate
  sites unless the sites are the demand points), connectors included, float64;
* ``demand_minutes``: road-only minutes from every demand point to every site;
* ``site_mode_minutes`` / ``demand_mode_minutes``: road minutes to the nearest terminal of
  each mode;
* ``site_components``: the trunk-mode networks (rail, sea, air components) that each site
  reaches within the scorecard's ``mode_reach_minutes``;
* ``demand_motorway_minutes``: road minutes to the nearest motorway junction (``None``
  when the road layer has no OSM road classes).

A case with ``[network] source = "matrix"`` gets the same record from the planner's own
matrix instead (:func:`hubopt.matrix_source.matrices_from_skims`), with ``skims`` set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.case import MODES, TRUNK_MODES
from hubopt.costs import Weights, travel_costs
from hubopt.network import SnappedPoints, mode_components, snap_points
from hubopt.snapping import connector_problems, cut_off_notes, snap_to_edges

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.network import MultimodalNetwork
    from hubopt.skims import Skims

ROAD_TIME = Weights(time=1.0)
"""Weights of road-only travel times (hours)."""


@dataclass(frozen=True, eq=False)
class Matrices:
    """Costs and times that the model, the flows and the scorecard need."""

    weights: Weights
    demand_snap: SnappedPoints
    site_snap: SnappedPoints
    costs: np.ndarray  # (n_model, n_model) generalized cost between model nodes
    demand_minutes: np.ndarray  # (n_d, n_s) road minutes
    site_mode_minutes: np.ndarray  # (n_s, 4) minutes to the nearest terminal of each mode
    demand_mode_minutes: np.ndarray  # (n_d, 4)
    site_components: dict[str, list[frozenset[int]]]
    shared: bool  # sites are the demand points
    demand_motorway_minutes: np.ndarray | None = None  # None: no road classes in the network
    connector_detour: float = 1.0  # the road profile's connector length / straight line
    skims: Skims | None = None  # the planner's own matrix (hubopt.matrix_source), no network
    terminals_known: bool = True  # False: no network, so no terminals or trunk components
    network: MultimodalNetwork | None = None  # the network with the snapped edges split
    notes: tuple[str, ...] = ()  # points moved off a road that does not join the network

    def connector_cost(self, snap: SnappedPoints) -> np.ndarray:
        """Generalized cost of each snapped point's connector."""
        return self.weights.combine(snap.time_h, snap.cost, snap.co2_kg)

    def connector_km(self, snap: SnappedPoints) -> np.ndarray:
        """Length (km) of each snapped point's connector, detour included."""
        return np.asarray(snap.distance_m, dtype=float) / 1000.0 * self.connector_detour


def case_weights(case: Case) -> Weights:
    """The generalized-cost weights of a case's ``[network.weights]``."""
    spec = case.network
    return Weights(time=spec.time_weight, money=spec.money_weight, co2=spec.co2_weight)


def snap_lonlat(net: MultimodalNetwork, lon: np.ndarray, lat: np.ndarray) -> SnappedPoints:
    """Snap points to the nearest road node of the network's main component."""
    pts = list(zip(np.asarray(lon, float).tolist(), np.asarray(lat, float).tolist(),
                   strict=True))
    return snap_points(net, pts, mode="road", main_component=True)


def _part(snap: SnappedPoints, a: int, b: int) -> SnappedPoints:
    return SnappedPoints(ids=tuple(range(b - a)), node=snap.node[a:b],
                         distance_m=snap.distance_m[a:b], time_h=snap.time_h[a:b],
                         cost=snap.cost[a:b], co2_kg=snap.co2_kg[a:b], mode=snap.mode)


def _concat(a: SnappedPoints, b: SnappedPoints) -> SnappedPoints:
    return SnappedPoints(
        ids=tuple(range(len(a) + len(b))), node=np.concatenate([a.node, b.node]),
        distance_m=np.concatenate([a.distance_m, b.distance_m]),
        time_h=np.concatenate([a.time_h, b.time_h]), cost=np.concatenate([a.cost, b.cost]),
        co2_kg=np.concatenate([a.co2_kg, b.co2_kg]), mode=a.mode)


def compute_matrices(case: Case, net: MultimodalNetwork, demand: DemandPoints,
                     cands: Candidates) -> Matrices:
    """Snap points, then least-cost and road-time matrices and terminal reach."""
    spec = case.network
    weights = case_weights(case)
    term = net.terminals
    nd0, ns0 = len(demand.lon), len(cands.lon)
    snap = snap_to_edges(
        net, np.concatenate([demand.lon, cands.lon, np.asarray(term.geometry.x, float)]),
        np.concatenate([demand.lat, cands.lat, np.asarray(term.geometry.y, float)]))
    net = snap.network
    ds = _part(snap.points, 0, nd0)
    ss = _part(snap.points, nd0, nd0 + ns0)
    tsnap = _part(snap.points, nd0 + ns0, nd0 + ns0 + len(term))
    problems = (connector_problems(demand.names, ds, max_km=spec.connector_limit_km,
                                   what="demand point")
                + connector_problems(cands.names, ss, max_km=spec.connector_limit_km,
                                     what="candidate site"))
    if problems:
        msg = (f"{case.path}: network.max_connector_km: {len(problems)} point(s) lie beyond "
               f"the longest connector accepted ({spec.connector_limit_km:g} km); move them, "
               "check the region, or raise [network] max_connector_km:\n  "
               + "\n  ".join(problems))
        raise InfeasibleModelError(msg)
    notes = tuple(cut_off_notes(demand.names, snap, 0, "demand point")
                  + cut_off_notes(cands.names, snap, nd0, "candidate site"))
    # sites share the demand points' model nodes only when they are all of them, in order
    shared = (cands.demand_index is not None
              and tuple(cands.demand_index) == tuple(range(len(demand))))
    model_pts = ds if shared else _concat(ds, ss)
    costs = travel_costs(net, model_pts, weights=weights, dtype="float64").values
    costs = np.array(costs, dtype=np.float64)
    np.fill_diagonal(costs, 0.0)
    if cands.demand_index is not None and not shared:  # a site at its own demand point
        nd_ = len(ds)
        for k, i in enumerate(cands.demand_index):
            costs[i, nd_ + k] = costs[nd_ + k, i] = 0.0
    if not np.isfinite(costs).all():
        bad = np.argwhere(~np.isfinite(costs))[0]
        msg = f"model nodes {bad[0]} and {bad[1]} are not connected on the network"
        raise InfeasibleModelError(msg)
    # road minutes: demand -> sites, and sites/demand -> terminals and motorway junctions
    t_mode = term["mode"].astype(str).to_numpy() if len(term) else np.array([], dtype=str)
    if len(term):
        t_node, t_hours = tsnap.node, tsnap.time_h
    else:
        t_node, t_hours = np.zeros(0, dtype=np.int64), np.zeros(0)
    junctions = motorway_junctions(net)
    j_node = junctions if junctions is not None else np.zeros(0, dtype=np.int64)
    nd, ns, nt = len(ds), len(ss), len(t_node)
    targets = np.concatenate([ss.node, t_node, j_node]).astype(np.int64)
    sources = np.concatenate([ds.node, ss.node]).astype(np.int64)
    hours = travel_costs(net, sources, targets, weights=ROAD_TIME, modes=("road",),
                         dtype="float64").values
    d_hours, s_hours = hours[:nd], hours[nd:]
    demand_minutes = 60.0 * (ds.time_h[:, None] + d_hours[:, :ns] + ss.time_h[None, :])
    t_cols = slice(ns, ns + nt)
    to_term_d = 60.0 * (ds.time_h[:, None] + d_hours[:, t_cols] + t_hours[None, :])
    to_term_s = 60.0 * (ss.time_h[:, None] + s_hours[:, t_cols] + t_hours[None, :])
    site_mode = np.full((ns, len(MODES)), np.inf)
    demand_mode = np.full((nd, len(MODES)), np.inf)
    for j, m in enumerate(MODES):
        if m == "road":
            if m in spec.modes:
                site_mode[:, j] = 60.0 * ss.time_h
                demand_mode[:, j] = 60.0 * ds.time_h
            continue
        sel = np.flatnonzero(t_mode == m)
        if len(sel):
            site_mode[:, j] = to_term_s[:, sel].min(axis=1)
            demand_mode[:, j] = to_term_d[:, sel].min(axis=1)
    reach = case.scorecard.mode_reach_minutes
    comps: dict[str, list[frozenset[int]]] = {}
    for m in TRUNK_MODES:
        sel = np.flatnonzero(t_mode == m)
        if not len(sel):
            continue
        labels = mode_components(net, m)[term["node"].to_numpy(dtype=np.int64)[sel]]
        comps[m] = [frozenset(int(labels[q]) for q in np.flatnonzero(to_term_s[k, sel] <= reach)
                              if labels[q] >= 0) for k in range(ns)]
    motorway = None
    if junctions is not None:
        motorway = np.full(nd, np.inf)
        if len(junctions):
            motorway = 60.0 * (ds.time_h + d_hours[:, ns + nt:].min(axis=1))
    detour = float(net.profiles["road"].param("connector_detour", 1.0))
    return Matrices(weights, ds, ss, costs, demand_minutes, site_mode, demand_mode, comps,
                    shared, motorway, detour, network=net, notes=notes)


def motorway_junctions(net: MultimodalNetwork) -> np.ndarray | None:
    """Road nodes where a motorway link meets the ordinary road network.

    ``None`` when the road layer has no OSM road classes (world-scale roads).
    """
    e = net.edges[net.edges["mode"] == "road"]
    kind = e["kind"].astype(str)
    classes = {"motorway", "motorway_link", "trunk", "primary", "secondary", "tertiary",
               "residential", "unclassified", "service"}
    if not kind.str.split(";").map(lambda ks: bool(set(ks) & classes)).any():
        return None
    link = kind.str.contains("motorway_link", regex=False).to_numpy()
    ordinary = (~kind.str.contains("motorway", regex=False)).to_numpy()
    u, v = e["u"].to_numpy(), e["v"].to_numpy()
    on_link = set(u[link].tolist()) | set(v[link].tolist())
    on_road = set(u[ordinary].tolist()) | set(v[ordinary].tolist())
    return np.array(sorted(on_link & on_road), dtype=np.int64)


__all__ = ["ROAD_TIME", "Matrices", "case_weights", "compute_matrices", "motorway_junctions",
           "snap_lonlat"]
