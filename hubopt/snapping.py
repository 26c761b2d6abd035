"""Snapping points onto the edges of one mode: the edge is split, the connector is the
perpendicular.

:func:`snap_to_edges` ``(network, lon, lat, *, mode="road", names=None, max_distance_m=None)
-> EdgeSnap``: each point is projected onto the nearest edge of ``mode`` among the
components that the mode's own edges keep together (:func:`served_components`); the edge
(and its twin in the other direction) is split at the projection by a new node, whose
pieces share the edge's length, time, cost and CO2 in proportion. ``EdgeSnap.network`` is
the split network (the old node positions are unchanged; new nodes follow), and
``EdgeSnap.points`` the :class:`~hubopt.network.SnappedPoints` on it, whose connector is
the straight perpendicular times the road profile's ``connector_detour`` at its
``connector_speed_kmh``.

Components: a point snaps only to a component of the mode's edges (strongly connected on
that mode alone) that is large (at least ``min_component_share`` of the largest one, or
``min_component_nodes`` nodes) and that belongs to the network's largest strongly
connected component, so that every pair of points is joined. An island's road network
joined to the mainland by a ferry (Gozo) is kept; a fragment joined only through a
transfer link (a short clipped road that meets a railway) is not.

Points farther than ``max_distance_m`` from every allowed edge are reported by
:func:`connector_problems` (name and distance); :func:`hubopt.matrices.compute_matrices`
raises them as one error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components

from hubopt._errors import LayerExtractionError
from hubopt.layers._geo import haversine_m
from hubopt.modes import Mode
from hubopt.network import MultimodalNetwork, SnappedPoints, _structure, main_component_mask

MIN_COMPONENT_NODES = 50
MIN_COMPONENT_SHARE = 0.05
_END_M = 1.0  # a projection within 1 m of an edge's end snaps to that node


@dataclass(frozen=True, eq=False)
class EdgeSnap:
    """The network with its snapped edges split, and the snapped points on it."""

    network: MultimodalNetwork
    points: SnappedPoints
    # distance (m) from each point to the nearest edge of the mode in *any* component;
    # smaller than ``points.distance_m`` where the nearest road does not join the network
    nearest_any_m: np.ndarray | None = None

    def cut_off(self, *, margin_m: float = 500.0) -> np.ndarray:
        """Positions of the points whose nearest road belongs to a part of the network
        that does not join the rest, and that were snapped more than ``margin_m`` farther
        away to a part that does."""
        if self.nearest_any_m is None:
            return np.zeros(0, dtype="int64")
        return np.flatnonzero(self.points.distance_m - self.nearest_any_m > margin_m)


def served_components(network: MultimodalNetwork, mode: Mode | str = Mode.ROAD, *,
                      min_nodes: int = MIN_COMPONENT_NODES,
                      min_share: float = MIN_COMPONENT_SHARE) -> np.ndarray:
    """Boolean mask of the nodes that points may snap to on ``mode`` (see module doc)."""
    m = Mode.parse(mode).value
    key = ("served", m, min_nodes, min_share)
    cached = network._cache.get(key)
    if cached is not None:
        return np.asarray(cached)
    sel = network.edges["mode"].astype(str).to_numpy() == m
    mask = np.zeros(network.n_nodes, dtype=bool)
    if sel.any():
        _, lab = connected_components(_structure(network, sel), directed=True,
                                      connection="strong")
        e = network.edges
        touched = np.zeros(network.n_nodes, dtype=bool)
        touched[e["u"].to_numpy(dtype="int64")[sel]] = True
        touched[e["v"].to_numpy(dtype="int64")[sel]] = True
        sizes = np.bincount(lab[touched], minlength=int(lab.max()) + 1)
        big = sizes >= min(max(min_nodes, min_share * sizes.max()), sizes.max())
        mask = touched & big[lab] & main_component_mask(network)
    network._cache[key] = mask
    return mask


def _local_xy(lon: np.ndarray, lat: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular kilometres around ``lat0`` (enough to rank nearby edges)."""
    return (np.asarray(lon, float) * 111.32 * np.cos(np.radians(lat0)),
            np.asarray(lat, float) * 110.57)


@dataclass(frozen=True, eq=False)
class EdgeLocation:
    """Where each point meets the network: edge row, fraction along it, end node or -1.

    ``twin`` is the edge that runs back along ``edge`` (-1 if it is one-way);
    ``distance_m`` the perpendicular's length, ``x``/``y`` the projection, and
    ``nearest_any_m`` the distance to the nearest edge of the mode in any component.
    """

    edge: np.ndarray
    frac: np.ndarray
    node: np.ndarray
    twin: np.ndarray
    distance_m: np.ndarray
    x: np.ndarray
    y: np.ndarray
    nearest_any_m: np.ndarray


def locate_on_edges(
    network: MultimodalNetwork,
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    *,
    mode: Mode | str = Mode.ROAD,
) -> EdgeLocation:
    """Project each point onto the nearest allowed edge of ``mode`` (no edge is split)."""
    m = Mode.parse(mode)
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    allowed = served_components(network, m)
    e = network.edges
    u_all, v_all = e["u"].to_numpy(dtype="int64"), e["v"].to_numpy(dtype="int64")
    of_mode = e["mode"].astype(str).to_numpy() == m.value
    cand = np.flatnonzero(of_mode & allowed[u_all] & allowed[v_all])
    if not len(cand):
        msg = f"cannot snap points: the network has no {m.value} edges to snap to"
        raise LayerExtractionError(msg)
    lat0 = float(np.mean(lat)) if len(lat) else 0.0
    geoms = e.geometry.to_numpy()[cand]
    local = shapely.transform(geoms, lambda c: np.column_stack(_local_xy(c[:, 0], c[:, 1],
                                                                          lat0)))
    tree = shapely.STRtree(local)
    px, py = _local_xy(lon, lat, lat0)
    pts = shapely.points(px, py)
    hit = tree.query_nearest(pts, all_matches=False, return_distance=False)
    order = np.argsort(hit[0], kind="stable")
    which = np.empty(len(lon), dtype="int64")
    which[hit[0][order]] = hit[1][order]
    edge = cand[which]
    frac = shapely.line_locate_point(local[which], pts, normalized=True)
    proj = shapely.line_interpolate_point(geoms[which], frac, normalized=True)
    qx, qy = shapely.get_x(proj), shapely.get_y(proj)
    dist = haversine_m(lon, lat, qx, qy)
    length = e["length_m"].to_numpy(dtype="float64")[edge]
    frac = np.asarray(frac, dtype="float64")
    at_u = frac * length <= _END_M
    at_v = (1.0 - frac) * length <= _END_M
    node = np.where(at_u, u_all[edge], np.where(at_v, v_all[edge], -1)).astype("int64")
    twins = _twins(e, np.unique(edge))
    twin = np.asarray([twins.get(int(k), -1) for k in edge], dtype="int64")
    nearest_any = dist
    others = np.flatnonzero(of_mode & ~(allowed[u_all] & allowed[v_all]))
    if len(others):
        og = e.geometry.to_numpy()[others]
        olocal = shapely.transform(og, lambda c: np.column_stack(_local_xy(c[:, 0], c[:, 1],
                                                                            lat0)))
        hit2 = shapely.STRtree(olocal).query_nearest(pts, all_matches=False,
                                                     return_distance=True)
        (pi, oi), _ = hit2
        o_frac = shapely.line_locate_point(olocal[oi], pts[pi], normalized=True)
        o_proj = shapely.line_interpolate_point(og[oi], o_frac, normalized=True)
        o_dist = haversine_m(lon[pi], lat[pi], shapely.get_x(o_proj), shapely.get_y(o_proj))
        nearest_any = dist.copy()
        np.minimum.at(nearest_any, pi, o_dist)
    return EdgeLocation(edge, frac, node, twin, dist, np.asarray(qx), np.asarray(qy),
                        nearest_any)


def connector_values(network: MultimodalNetwork, distance_m: np.ndarray) -> dict[str, np.ndarray]:
    """A connector's km, hours, money cost and CO2 for perpendiculars of ``distance_m``."""
    road = network.profiles[Mode.ROAD]
    km = np.asarray(distance_m, dtype="float64") / 1000.0 * road.param("connector_detour", 1.0)
    hours = km / road.param("connector_speed_kmh", road.speed_kmh)
    return {"km": km, "time_h": hours, "cost": km * road.cost_per_km + hours * road.cost_per_hour,
            "co2_kg": km * road.co2_per_unit_km}


def snap_to_edges(
    network: MultimodalNetwork,
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    *,
    mode: Mode | str = Mode.ROAD,
    ids: Sequence[object] | None = None,
) -> EdgeSnap:
    """Project each point onto the nearest allowed edge of ``mode`` and split it there."""
    m = Mode.parse(mode)
    loc = locate_on_edges(network, lon, lat, mode=m)
    node = loc.node.copy()
    split = np.flatnonzero(node < 0)
    new_net, new_nodes = _split(network, loc.edge[split], loc.frac[split], loc.x[split],
                                loc.y[split], m)
    node[split] = new_nodes
    conn = connector_values(network, loc.distance_m)
    points = SnappedPoints(
        ids=tuple(ids) if ids is not None else tuple(range(len(node))), node=node,
        distance_m=loc.distance_m, time_h=conn["time_h"], cost=conn["cost"],
        co2_kg=conn["co2_kg"], mode=m.value)
    return EdgeSnap(new_net, points, loc.nearest_any_m)


def _twins(edges: pd.DataFrame, ks: np.ndarray) -> dict[int, int]:
    """For each edge ``k``, the edge that runs back along it (ends swapped, same length)."""
    u = edges["u"].to_numpy(dtype="int64")
    v = edges["v"].to_numpy(dtype="int64")
    ks = np.asarray(ks, dtype="int64")
    span = int(max(u.max(initial=0), v.max(initial=0))) + 1
    wanted = v[ks] * span + u[ks]
    back: dict[tuple[int, int], list[int]] = {}
    for j in np.flatnonzero(np.isin(u * span + v, wanted)).tolist():
        back.setdefault((int(u[j]), int(v[j])), []).append(int(j))
    length = edges["length_m"].to_numpy(dtype="float64")
    mode = edges["mode"].to_numpy()
    out: dict[int, int] = {}
    for k in ks.tolist():
        for jj in back.get((int(v[k]), int(u[k])), []):
            if jj != k and mode[jj] == mode[k] and abs(length[jj] - length[k]) <= max(0.5,
                                                                         1e-6 * length[k]):
                out[int(k)] = jj
                break
    return out


_SCALED = ("length_m", "time_h", "cost", "co2_kg")


def _pieces(row: pd.Series, cuts: np.ndarray, ends: list[int]) -> list[dict[str, object]]:
    """Edge ``row`` cut at the sorted fractions ``cuts``, joining the nodes ``ends``."""
    bounds = np.concatenate([[0.0], cuts, [1.0]])
    out = []
    geom = row["geometry"]
    for i in range(len(bounds) - 1):
        a, b = float(bounds[i]), float(bounds[i + 1])
        piece = row.to_dict()
        for col in _SCALED:
            piece[col] = float(row[col]) * (b - a)
        piece["u"], piece["v"] = ends[i], ends[i + 1]
        piece["geometry"] = shapely.ops.substring(geom, a, b, normalized=True)
        out.append(piece)
    return out


def _split(network: MultimodalNetwork, edge: np.ndarray, frac: np.ndarray, x: np.ndarray,
           y: np.ndarray, mode: Mode) -> tuple[MultimodalNetwork, np.ndarray]:
    """Split the edges at the given fractions; one new node per distinct cut."""
    import shapely.ops  # noqa: F401  (substring)

    if not len(edge):
        return network, np.zeros(0, dtype="int64")
    edges = network.edges
    n0 = network.n_nodes
    new_pos = np.empty(len(edge), dtype="int64")
    node_rows: list[tuple[float, float]] = []
    drop: list[int] = []
    add: list[dict[str, object]] = []
    twins = _twins(edges, np.unique(edge))
    # one of each pair of twins carries the cut: the lower index, at its own fraction
    flip = np.array([twins.get(int(k), int(k)) < int(k) for k in edge], dtype=bool)
    edge = np.where(flip, [twins.get(int(k), int(k)) for k in edge], edge).astype("int64")
    frac = np.where(flip, 1.0 - frac, frac)
    twins.update({j: k for k, j in list(twins.items())})
    for k in np.unique(edge):
        sel = np.flatnonzero(edge == k)
        cuts, inverse = np.unique(np.round(frac[sel], 9), return_inverse=True)
        first = n0 + len(node_rows)
        for c in range(len(cuts)):
            j = sel[np.flatnonzero(inverse == c)[0]]
            node_rows.append((float(x[j]), float(y[j])))
        new_pos[sel] = first + inverse
        mids = list(range(first, first + len(cuts)))
        row = edges.iloc[int(k)]
        add += _pieces(row, cuts, [int(row["u"]), *mids, int(row["v"])])
        drop.append(int(k))
        twin = twins.get(int(k))
        if twin is not None and twin not in drop:
            trow = edges.iloc[twin]
            add += _pieces(trow, (1.0 - cuts)[::-1], [int(trow["u"]), *mids[::-1],
                                                      int(trow["v"])])
            drop.append(twin)
    xs = np.array([p[0] for p in node_rows])
    ys = np.array([p[1] for p in node_rows])
    low = min(0, int(network.nodes["node_id"].min())) if network.n_nodes else 0
    ids = low - 1 - np.arange(len(node_rows), dtype="int64")
    new_nodes = gpd.GeoDataFrame({
        "key": [f"{mode.value}:{i}" for i in ids], "mode": mode.value, "node_id": ids,
        "x": xs, "y": ys,
    }, geometry=gpd.points_from_xy(xs, ys), crs=network.nodes.crs,
        index=pd.RangeIndex(n0, n0 + len(node_rows), name="node"))
    nodes = pd.concat([network.nodes, new_nodes])
    kept = edges.drop(index=edges.index[drop])
    added = gpd.GeoDataFrame(pd.DataFrame(add, columns=list(edges.columns)),
                             geometry="geometry", crs=edges.crs)
    all_edges = pd.concat([kept, added], ignore_index=True)
    all_edges["u"] = all_edges["u"].astype("int64")
    all_edges["v"] = all_edges["v"].astype("int64")
    all_edges.index.name = "edge"
    split = MultimodalNetwork(
        layers=network.layers, nodes=gpd.GeoDataFrame(nodes, geometry="geometry",
                                                      crs=network.nodes.crs),
        edges=gpd.GeoDataFrame(all_edges, geometry="geometry", crs=edges.crs),
        terminals=network.terminals, profiles=network.profiles, source=network.source,
        world=network.world, attribution=network.attribution)
    return split, new_pos


def cut_off_notes(names: Sequence[str], snap: EdgeSnap, first: int, what: str) -> list[str]:
    """One line per point (of ``names``, at positions ``first..``) moved off a cut-off road."""
    out = []
    near = snap.nearest_any_m
    for i in snap.cut_off():
        k = int(i) - first
        if near is None or not 0 <= k < len(names):
            continue
        out.append(f"{what} {names[k]!r}: its nearest road ({near[i] / 1000:.1f} km) does not "
                   "join the network on its own (an island without a ferry, or a fragment); "
                   f"snapped to a road that does, {snap.points.distance_m[i] / 1000:.1f} km "
                   "away")
    return out


def connector_problems(names: Sequence[str], snap: SnappedPoints, *, max_km: float,
                       what: str) -> list[str]:
    """One line per point whose connector exceeds ``max_km``: name and distance."""
    km = np.asarray(snap.distance_m, dtype=float) / 1000.0
    far = np.flatnonzero(~(km <= max_km))
    return [f"{what} {names[i]!r} lies {km[i]:.1f} km from the nearest road that joins the "
            f"network (limit {max_km:g} km)" for i in far[np.argsort(-km[far], kind="stable")]]


__all__ = ["MIN_COMPONENT_NODES", "MIN_COMPONENT_SHARE", "EdgeLocation", "EdgeSnap",
           "connector_problems", "connector_values", "cut_off_notes", "locate_on_edges",
           "served_components", "snap_to_edges"]
