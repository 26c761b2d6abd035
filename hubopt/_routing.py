"""Routing adapter over :class:`hubopt.network.MultimodalNetwork` for the run pipeline.

The pipeline needs, besides the cost matrices, the least-cost *paths* (edge by edge, for
``routes.geojson`` and the objective's split by mode), road-only travel times, and
connected components per trunk mode. This module computes them with
``scipy.sparse.csgraph`` on the network's node positions and edge table:

* parallel edges keep the cheapest one;
* points (demand points, candidate sites, terminals) snap to the nearest road node of
  the network's largest strongly connected component, through a connector priced as in
  :func:`hubopt.network.snap_points` (straight line times the road profile's
  ``connector_detour``, at ``connector_speed_kmh``), so every pair stays reachable;
* the generalized cost of an edge is ``time_weight * time_h + money_weight * cost +
  co2_weight * co2_kg``.

:func:`compute_matrices` gives a run's :class:`Matrices`: the generalized-cost matrix
between model nodes, road minutes from demand points to sites, minutes to the nearest
terminal of each mode, trunk-mode components near each site and motorway-junction access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from hubopt._errors import InfeasibleModelError, LayerExtractionError
from hubopt.case import MODES, TRUNK_MODES
from hubopt.demand import great_circle_km

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.network import MultimodalNetwork

_EPS = 1e-12  # zero-cost edges stay edges in the sparse graph


@dataclass(frozen=True)
class Snap:
    """Points snapped to road nodes: network position and connector time (h) and cost."""

    node: np.ndarray
    km: np.ndarray
    time_h: np.ndarray
    gen_cost: np.ndarray


@dataclass(frozen=True)
class Leg:
    """A least-cost path between two snapped points.

    ``edges`` are edge-table indices in order; ``cost`` the generalized cost including both
    connectors; ``by_mode`` that cost split by mode (connectors count as road).
    """

    src: int
    dst: int
    edges: tuple[int, ...]
    cost: float
    by_mode: dict[str, float]


@dataclass
class Router:
    """Shortest paths on one network with one set of generalized-cost weights."""

    network: MultimodalNetwork
    time_weight: float = 0.0
    money_weight: float = 1.0
    co2_weight: float = 0.0
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Build the sparse graphs (all modes: generalized cost; road: hours)."""
        e = self.network.edges
        n = self.network.n_nodes
        if n == 0 or len(e) == 0:
            msg = "the network is empty: no nodes or edges to route on"
            raise LayerExtractionError(msg)
        u = e["u"].to_numpy(dtype=np.int64)
        v = e["v"].to_numpy(dtype=np.int64)
        self.edge_cost = (self.time_weight * e["time_h"].to_numpy(dtype=float)
                          + self.money_weight * e["cost"].to_numpy(dtype=float)
                          + self.co2_weight * e["co2_kg"].to_numpy(dtype=float))
        self.edge_time = e["time_h"].to_numpy(dtype=float)
        self.edge_mode = e["mode"].astype(str).to_numpy()
        self.u, self.v = u, v
        self.n = n
        self.graph, self.pair_edge = _graph(u, v, self.edge_cost, n)
        road = self.edge_mode == "road"
        self.road_graph, _ = _graph(u[road], v[road], self.edge_time[road], n)
        # largest strongly connected component of the whole network
        _, labels = connected_components(self.graph, directed=True, connection="strong")
        counts = np.bincount(labels)
        self.main = labels == int(np.argmax(counts))
        nodes = self.network.nodes
        is_road = nodes["mode"].to_numpy() == "road"
        self.snap_nodes = np.flatnonzero(is_road & self.main)
        if len(self.snap_nodes) == 0:
            msg = "the network has no road nodes in its main component to snap points to"
            raise LayerExtractionError(msg)
        self.node_x = nodes["x"].to_numpy(dtype=float)
        self.node_y = nodes["y"].to_numpy(dtype=float)
        road_prof = self.network.profiles["road"]
        self.detour = road_prof.param("connector_detour", 1.0)
        self.conn_speed = road_prof.param("connector_speed_kmh", road_prof.speed_kmh)
        self.road_prof = road_prof

    # -- snapping ----------------------------------------------------------------------------
    def snap(self, lon: np.ndarray, lat: np.ndarray) -> Snap:
        """Snap points to the nearest road node of the main component."""
        from scipy.spatial import cKDTree

        tree = self._cache.get("tree")
        if tree is None:
            tree = cKDTree(_xyz(self.node_x[self.snap_nodes], self.node_y[self.snap_nodes]))
            self._cache["tree"] = tree
        _, pos = tree.query(_xyz(np.asarray(lon, float), np.asarray(lat, float)), k=1)
        node = self.snap_nodes[np.asarray(pos, dtype=np.int64)]
        km = great_circle_km(lon, lat, self.node_x[node], self.node_y[node]) * self.detour
        hours = km / self.conn_speed
        money = km * self.road_prof.cost_per_km + hours * self.road_prof.cost_per_hour
        co2 = km * self.road_prof.co2_per_unit_km
        gen = self.time_weight * hours + self.money_weight * money + self.co2_weight * co2
        return Snap(node=node, km=np.asarray(km), time_h=np.asarray(hours),
                    gen_cost=np.asarray(gen))

    # -- matrices ----------------------------------------------------------------------------
    def cost_tree(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Generalized-cost distances and predecessors from each source node to all nodes."""
        uniq = np.unique(sources)
        dist, pred = dijkstra(self.graph, directed=True, indices=uniq, return_predecessors=True)
        return uniq, np.asarray(dist), np.asarray(pred)

    def road_hours(self, sources: np.ndarray) -> np.ndarray:
        """Road-only travel time (h) from each source node to all nodes."""
        return np.asarray(dijkstra(self.road_graph, directed=True, indices=sources))

    def _pred(self, source: int) -> np.ndarray:
        """Predecessor row of the least-cost tree from ``source`` (cached)."""
        trees: dict[int, np.ndarray] = self._cache.setdefault("pred", {})
        if source not in trees:
            _, pred = dijkstra(self.graph, directed=True, indices=source,
                               return_predecessors=True)
            trees[source] = np.asarray(pred, dtype=np.int32)
        return trees[source]

    def legs(self, a: Snap, b: Snap) -> list[list[Leg]]:
        """Least-cost legs from every point of ``a`` to every point of ``b``."""
        out: list[list[Leg]] = []
        for i in range(len(a.node)):
            pred = self._pred(int(a.node[i]))
            legs = []
            for j in range(len(b.node)):
                path = self._path(pred, int(a.node[i]), int(b.node[j]))
                by_mode: dict[str, float] = {"road": float(a.gen_cost[i] + b.gen_cost[j])}
                for eid in path:
                    m = str(self.edge_mode[eid])
                    by_mode[m] = by_mode.get(m, 0.0) + float(self.edge_cost[eid])
                legs.append(Leg(i, j, path, float(sum(by_mode.values())), by_mode))
            out.append(legs)
        return out

    def _path(self, pred: np.ndarray, s: int, t: int) -> tuple[int, ...]:
        if s == t:
            return ()
        nodes = [t]
        while nodes[-1] != s:
            p = int(pred[nodes[-1]])
            if p < 0:
                msg = f"node {t} is not reachable from node {s}"
                raise LayerExtractionError(msg)
            nodes.append(p)
        nodes.reverse()
        return tuple(self.pair_edge[(nodes[k], nodes[k + 1])] for k in range(len(nodes) - 1))

    # -- components --------------------------------------------------------------------------
    def mode_components(self, mode: str) -> np.ndarray:
        """Weakly connected component label of each node on ``mode``'s edges (-1: none)."""
        sel = self.edge_mode == mode
        labels = np.full(self.n, -1, dtype=np.int64)
        if not sel.any():
            return labels
        g, _ = _graph(self.u[sel], self.v[sel], np.ones(int(sel.sum())), self.n)
        _, lab = connected_components(g, directed=True, connection="weak")
        touched = np.zeros(self.n, dtype=bool)
        touched[self.u[sel]] = True
        touched[self.v[sel]] = True
        labels[touched] = lab[touched]
        return labels


def _xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def _graph(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int
           ) -> tuple[csr_matrix, dict[tuple[int, int], int]]:
    """CSR graph keeping the cheapest of parallel edges, and (u, v) -> edge index."""
    idx = np.arange(len(u))
    order = np.lexsort((idx, w, v, u))  # by u, v, then cheapest, then lowest index
    us, vs = u[order], v[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (us[1:] != us[:-1]) | (vs[1:] != vs[:-1])
    keep = order[first]
    keep = keep[u[keep] != v[keep]]
    weights = np.maximum(w[keep], _EPS)
    graph = csr_matrix((weights, (u[keep], v[keep])), shape=(n, n))
    pair_edge = {(int(a), int(b)): int(k) for a, b, k in zip(u[keep], v[keep], keep, strict=True)}
    return graph, pair_edge


def min_over(matrix: np.ndarray, cols: Sequence[np.ndarray]) -> np.ndarray:
    """For each group of column indices, the row-wise minimum (inf for an empty group)."""
    out = np.full((matrix.shape[0], len(cols)), np.inf)
    for j, c in enumerate(cols):
        if len(c):
            out[:, j] = matrix[:, c].min(axis=1)
    return out


# ------------------------------------------------------------------------------------------
# matrices of a run


@dataclass(frozen=True)
class Matrices:
    """Costs and times the model and the scorecard need."""

    router: Router
    demand_snap: Snap
    site_snap: Snap
    costs: np.ndarray  # model nodes
    demand_minutes: np.ndarray  # (n_d, n_s) road minutes
    site_mode_minutes: np.ndarray  # (n_s, 4) minutes to the nearest terminal of each mode
    demand_mode_minutes: np.ndarray  # (n_d, 4)
    site_components: dict[str, list[frozenset[int]]]
    shared: bool  # sites are the demand points
    demand_motorway_minutes: np.ndarray | None = None  # None: no road classes in the network


def compute_matrices(case: Case, net: MultimodalNetwork, demand: DemandPoints,
                     cands: Candidates) -> Matrices:
    """Snap points, then least-cost and road-time matrices and terminal reach."""
    spec = case.network
    router = Router(net, time_weight=spec.time_weight, money_weight=spec.money_weight,
                    co2_weight=spec.co2_weight)
    ds = router.snap(demand.lon, demand.lat)
    ss = router.snap(cands.lon, cands.lat)
    shared = cands.demand_index is not None
    # model nodes: demand points, then (unless shared) the sites
    node = ds.node if shared else np.concatenate([ds.node, ss.node])
    conn = ds.gen_cost if shared else np.concatenate([ds.gen_cost, ss.gen_cost])
    uniq, dist, _ = router.cost_tree(node)
    row = np.searchsorted(uniq, node)
    costs = conn[:, None] + dist[row][:, node] + conn[None, :]
    np.fill_diagonal(costs, 0.0)
    if not np.isfinite(costs).all():
        bad = np.argwhere(~np.isfinite(costs))[0]
        msg = f"model nodes {bad[0]} and {bad[1]} are not connected on the network"
        raise InfeasibleModelError(msg)
    # road minutes: demand -> sites and sites/demand -> terminals
    term = net.terminals
    t_mode = term["mode"].astype(str).to_numpy() if len(term) else np.array([], dtype=str)
    if len(term):
        tg = term.geometry
        tsnap = router.snap(np.asarray(tg.x, float), np.asarray(tg.y, float))
        t_node, t_hours = tsnap.node, tsnap.time_h
    else:
        t_node, t_hours = np.zeros(0, dtype=np.int64), np.zeros(0)
    src = np.concatenate([ds.node, ss.node])
    hours = router.road_hours(src)
    nd = len(ds.node)
    d_hours, s_hours = hours[:nd], hours[nd:]
    demand_minutes = 60.0 * (ds.time_h[:, None] + d_hours[:, ss.node] + ss.time_h[None, :])
    to_term_d = 60.0 * (ds.time_h[:, None] + d_hours[:, t_node] + t_hours[None, :])
    to_term_s = 60.0 * (ss.time_h[:, None] + s_hours[:, t_node] + t_hours[None, :])
    site_mode = np.full((len(ss.node), len(MODES)), np.inf)
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
        labels = router.mode_components(m)[term["node"].to_numpy(dtype=np.int64)[sel]]
        comps[m] = [frozenset(int(labels[q]) for q in np.flatnonzero(to_term_s[k, sel] <= reach)
                              if labels[q] >= 0) for k in range(len(ss.node))]
    junctions = motorway_junctions(net)
    motorway = None
    if junctions is not None:
        motorway = np.full(nd, np.inf)
        if len(junctions):
            motorway = 60.0 * (ds.time_h + d_hours[:, junctions].min(axis=1))
    return Matrices(router, ds, ss, costs, demand_minutes, site_mode, demand_mode, comps, shared,
                    motorway)


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


__all__ = ["Leg", "Matrices", "Router", "Snap", "compute_matrices", "min_over",
           "motorway_junctions"]
