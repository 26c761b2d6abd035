"""One multimodal network: road, rail, sea and air layers joined by transfer links.

Public API (stable; see also docs/network.md)
-------------------------------------------------------------------------------------

Build::

    from hubopt.network import build_network, snap_points
    from hubopt.costs import Weights, travel_costs, shortest_path
    from hubopt.export import network_to_gdfs, save_network_geopackage

    net = build_network(source="kiel.osm.pbf", modes="road,rail,sea,air")
    net = build_network(source=Source.from_bbox("22,59,30,61"), world=True)

* :func:`build_network` ``(*, source, modes=None, profiles=None, world=False)
  -> MultimodalNetwork``: extract the layers (:mod:`hubopt.layers`) and join them.
* :func:`assemble_network` ``(layers, *, profiles=None, world=False, source="")``: join
  already extracted layers.
* :class:`MultimodalNetwork`: ``layers`` (mode -> :class:`~hubopt.layers.Layer`),
  ``nodes`` (index = network node position 0..N-1; columns ``key`` ``"road:123"``, ``mode``,
  ``node_id``, ``x``, ``y``, ``geometry``), ``edges`` (``u``, ``v`` = node positions,
  ``mode`` in road/rail/sea/air/transfer, ``kind``, ``name``, ``length_m``, ``time_h``,
  ``cost``, ``co2_kg``, ``from_mode``, ``to_mode``, ``terminal_id``, ``geometry``),
  ``terminals`` (every layer's terminals plus ``node``, their network position),
  ``transfers`` (the transfer edges), ``summary()`` (per mode: nodes, edges, terminals,
  transfer_links, length_km), ``node_position(mode, node_id)``.
* :func:`snap_points` ``(network, points, *, mode="road", id_column=None,
  max_distance_m=None) -> SnappedPoints``: nearest node of ``mode`` for each point, with the
  connector's distance, time, cost and CO2 (straight line times the road profile's detour
  factor, at its connector speed).
* :func:`network_to_networkx` ``(network) -> nx.MultiDiGraph``: the same graph for networkx.
* Cost matrices and paths: :mod:`hubopt.costs` (``travel_costs``, ``shortest_path``,
  ``CostMatrix``, ``Weights``); export: :mod:`hubopt.export` (``network_to_gdfs``,
  ``save_network_geopackage``, ``save_network_geojson``).

Transfer links: each terminal is linked, both ways, to the nearest node of every other mode
within the radius of that mode pair (``hubopt/data/profiles/transfers.toml``; ``world_radius_m`` for
world-scale layers). A link costs the pair's handling time and cost plus drayage over the
straight-line distance at the connector speed, priced at the road profile's cost per km
and per hour; its CO2 is that of road over the distance. A port or airport that a rail
line passes gets a rail terminal (:func:`_rail_access`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from hubopt._errors import InputFormatError, LayerExtractionError
from hubopt.layers import (
    CRS,
    Layer,
    Mode,
    Source,
    empty_layer,
    extract_layers,
    parse_modes,
)
from hubopt.layers._geo import NearestIndex, segments
from hubopt.profiles import Profiles, default_profiles
from hubopt.settings import OSM_ATTRIBUTION

NETWORK_ATTRIBUTION = (
    f"Map data {OSM_ATTRIBUTION}; world-scale road/rail from scgraph-data "
    "(OpenStreetMap-derived); sea lanes and ports from searoute; airports from airportsdata"
)


@dataclass(frozen=True, eq=False)
class MultimodalNetwork:
    """Layers joined by transfer links, with one integer position per node (see module doc)."""

    layers: Mapping[Mode, Layer]
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    terminals: gpd.GeoDataFrame
    profiles: Profiles
    source: str = ""
    world: bool = False
    attribution: str = NETWORK_ATTRIBUTION
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def modes(self) -> tuple[Mode, ...]:
        """The modes requested for this network (some layers may be empty)."""
        return tuple(self.layers)

    @property
    def transfers(self) -> gpd.GeoDataFrame:
        """The transfer edges (``mode == "transfer"``)."""
        return self.edges[self.edges["mode"] == "transfer"]

    @property
    def n_nodes(self) -> int:
        """Number of nodes over all layers."""
        return len(self.nodes)

    def node_position(self, mode: Mode | str, node_id: int) -> int:
        """Network position of a layer node (``mode``, ``node_id``)."""
        key = f"{Mode.parse(mode).value}:{int(node_id)}"
        lookup = self._cache.get("key_lookup")
        if lookup is None:
            lookup = dict(zip(self.nodes["key"], self.nodes.index, strict=True))
            self._cache["key_lookup"] = lookup
        try:
            return int(lookup[key])
        except KeyError:
            msg = f"no node {key} in the network"
            raise KeyError(msg) from None

    def summary(self) -> pd.DataFrame:
        """One row per requested mode: nodes, edges, terminals, transfer_links, length_km."""
        transfers = self.transfers
        rows = []
        for mode, layer in self.layers.items():
            s = layer.summary()
            touches = (transfers["from_mode"] == mode.value) | (transfers["to_mode"] == mode.value)
            s["transfer_links"] = int(touches.sum())
            s["empty"] = layer.is_empty
            rows.append(s)
        return pd.DataFrame(rows, columns=["mode", "nodes", "edges", "terminals",
                                           "transfer_links", "length_km", "empty"])


def _concat_nodes(layers: Mapping[Mode, Layer]) -> gpd.GeoDataFrame:
    parts = []
    for mode, layer in layers.items():
        if layer.is_empty:
            continue
        ids = layer.nodes.index.to_numpy(dtype="int64")
        parts.append(pd.DataFrame({
            "key": [f"{mode.value}:{i}" for i in ids],
            "mode": mode.value, "node_id": ids,
            "x": layer.nodes["x"].to_numpy("float64"), "y": layer.nodes["y"].to_numpy("float64"),
        }))
    frame = (pd.concat(parts, ignore_index=True) if parts else
             pd.DataFrame({"key": [], "mode": [], "node_id": pd.Series(dtype="int64"),
                           "x": pd.Series(dtype="float64"), "y": pd.Series(dtype="float64")}))
    frame.index.name = "node"
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=CRS)


def _position_map(nodes: pd.DataFrame, mode: Mode) -> pd.Series:
    sel = nodes[nodes["mode"] == mode.value]
    return pd.Series(sel.index.to_numpy(), index=sel["node_id"].to_numpy())


_EDGE_KEEP = ("mode", "kind", "name", "length_m", "time_h", "cost", "co2_kg")


def _layer_edges(layers: Mapping[Mode, Layer], nodes: pd.DataFrame) -> list[pd.DataFrame]:
    parts = []
    for mode, layer in layers.items():
        if layer.is_empty or layer.edges.empty:
            continue
        pos = _position_map(nodes, mode)
        e = layer.edges
        frame = pd.DataFrame({
            "u": pos.loc[e["u"].to_numpy()].to_numpy(), "v": pos.loc[e["v"].to_numpy()].to_numpy(),
            **{c: e[c].to_numpy() for c in _EDGE_KEEP},
            "from_mode": mode.value, "to_mode": mode.value, "terminal_id": None,
            "geometry": e.geometry.to_numpy(),
        })
        parts.append(frame)
    return parts


def _terminals(layers: Mapping[Mode, Layer], nodes: pd.DataFrame) -> gpd.GeoDataFrame:
    parts = []
    for mode, layer in layers.items():
        if layer.terminals.empty:
            continue
        t = layer.terminals.copy()
        t["node"] = _position_map(nodes, mode).loc[t["node_id"].to_numpy()].to_numpy()
        parts.append(t)
    if not parts:
        from hubopt.layers import empty_terminals

        t = empty_terminals()
        t["node"] = pd.Series(dtype="int64")
        return t
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)


def _rail_access(terminals: gpd.GeoDataFrame, nodes: pd.DataFrame, profiles: Profiles, *,
                 world: bool) -> gpd.GeoDataFrame:
    """Rail terminals at ports and airports that a rail line reaches (the rail layer's nodes).

    A sea or air terminal with a rail node within the rail profile's ``port_rail_radius_m``
    (``world_port_rail_radius_m`` on world layers) gets a rail terminal of kind
    ``port_rail`` / ``airport_rail`` at that node, so that a port served by rail counts as
    rail-served whether or not a large city lies near it.
    """
    rail = nodes[nodes["mode"] == Mode.RAIL.value]
    src = terminals[terminals["mode"].isin([Mode.SEA.value, Mode.AIR.value])]
    if rail.empty or src.empty:
        return terminals
    prof = profiles[Mode.RAIL]
    radius = (prof.param("world_port_rail_radius_m", 10_000.0) if world
              else prof.param("port_rail_radius_m", 3_000.0))
    index = NearestIndex(rail["x"].to_numpy(), rail["y"].to_numpy())
    pos, _ = index.nearest(src.geometry.x.to_numpy(), src.geometry.y.to_numpy(), max_m=radius)
    ok = pos >= 0
    if not ok.any():
        return terminals
    hit = src[ok]
    node = rail.index.to_numpy()[pos[ok]]
    have = set(terminals.loc[terminals["mode"] == Mode.RAIL.value, "node"].tolist())
    fresh = np.array([n not in have for n in node])
    if not fresh.any():
        return terminals
    hit, node = hit[fresh], node[fresh]
    extra = gpd.GeoDataFrame({
        "terminal_id": [f"rail:{t}" for t in hit["terminal_id"]], "mode": Mode.RAIL.value,
        "kind": [f"{'port' if m == 'sea' else 'airport'}_rail" for m in hit["mode"]],
        "name": hit["name"].to_numpy(), "ref": hit["ref"].to_numpy(),
        "node_id": nodes.loc[node, "node_id"].to_numpy(dtype="int64"),
        "source": "rail layer near " + hit["source"].astype(str),
        "node": node.astype("int64"),
    }, geometry=gpd.points_from_xy(nodes.loc[node, "x"], nodes.loc[node, "y"]), crs=CRS)
    extra = extra.drop_duplicates("node")
    return gpd.GeoDataFrame(pd.concat([terminals, extra], ignore_index=True),
                            geometry="geometry", crs=CRS)


def _transfer_edges(terminals: pd.DataFrame, nodes: pd.DataFrame, profiles: Profiles,
                    modes: Iterable[Mode], *, world: bool) -> pd.DataFrame | None:
    road = profiles[Mode.ROAD]
    speed = profiles.connector_speed_kmh
    rows: list[pd.DataFrame] = []
    for other in modes:
        cand = nodes[nodes["mode"] == other.value]
        if cand.empty:
            continue
        index = NearestIndex(cand["x"].to_numpy(), cand["y"].to_numpy())
        for mode in Mode:
            if mode is other:
                continue
            terms = terminals[terminals["mode"] == mode.value]
            if terms.empty:
                continue
            rule = profiles.transfer(mode, other)
            radius = rule.world_radius_m if world else rule.radius_m
            tx = nodes.loc[terms["node"], "x"].to_numpy()
            ty = nodes.loc[terms["node"], "y"].to_numpy()
            pos, dist = index.nearest(tx, ty, max_m=radius)
            ok = pos >= 0
            if not ok.any():
                continue
            a = terms["node"].to_numpy()[ok]
            b = cand.index.to_numpy()[pos[ok]]
            d = dist[ok]
            time_h = rule.time_h + d / 1000.0 / speed
            # drayage costs money too: road's cost per km and per hour over the hop
            cost = rule.cost + d / 1000.0 * road.cost_per_km + (
                d / 1000.0 / speed) * road.cost_per_hour
            co2 = d / 1000.0 * road.co2_per_unit_km
            tid = terms["terminal_id"].to_numpy()[ok]
            x1, y1 = tx[ok], ty[ok]
            x2, y2 = cand["x"].to_numpy()[pos[ok]], cand["y"].to_numpy()[pos[ok]]
            for (uu, vv, fm, tm, geom) in (
                (a, b, mode.value, other.value, segments(x1, y1, x2, y2)),
                (b, a, other.value, mode.value, segments(x2, y2, x1, y1)),
            ):
                rows.append(pd.DataFrame({
                    "u": uu, "v": vv, "mode": "transfer",
                    "kind": f"{fm}-{tm}", "name": None, "length_m": d, "time_h": time_h,
                    "cost": cost, "co2_kg": co2, "from_mode": fm, "to_mode": tm,
                    "terminal_id": tid, "geometry": geom,
                }))
    return pd.concat(rows, ignore_index=True) if rows else None


def assemble_network(
    layers: Mapping[Mode, Layer],
    *,
    profiles: Profiles | None = None,
    world: bool = False,
    source: str = "",
) -> MultimodalNetwork:
    """Join extracted layers into one :class:`MultimodalNetwork` with transfer links."""
    prof = profiles if profiles is not None else default_profiles()
    layers = MappingProxyType(dict(layers))
    nodes = _concat_nodes(layers)
    parts = _layer_edges(layers, nodes)
    terminals = _rail_access(_terminals(layers, nodes), nodes, prof, world=world)
    transfers = _transfer_edges(terminals, nodes, prof, layers, world=world)
    if transfers is not None:
        parts.append(transfers)
    if parts:
        edges = pd.concat(parts, ignore_index=True)
    else:
        edges = pd.DataFrame({c: [] for c in ("u", "v", *_EDGE_KEEP, "from_mode", "to_mode",
                                               "terminal_id", "geometry")})
    edges["u"] = edges["u"].astype("int64")
    edges["v"] = edges["v"].astype("int64")
    for col in ("length_m", "time_h", "cost", "co2_kg"):
        edges[col] = edges[col].astype("float64")
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=CRS)
    edges.index.name = "edge"
    return MultimodalNetwork(layers=layers, nodes=nodes, edges=edges, terminals=terminals,
                             profiles=prof, source=source, world=world)


def build_network(
    *,
    source: Source | str | os.PathLike[str],
    modes: Iterable[Mode | str] | str | None = None,
    profiles: Profiles | None = None,
    world: bool = False,
) -> MultimodalNetwork:
    """Extract the requested layers from ``source`` and join them at terminals.

    Parameters
    ----------
    source
        A :class:`~hubopt.layers.Source` or a path to a ``.osm.pbf`` / ``.osm`` file.
    modes
        ``"road,rail,sea,air"`` or a sequence of :class:`~hubopt.layers.Mode`; default all.
    profiles
        Mode profiles (default: the package's ``hubopt/data/profiles/``).
    world
        Use the world-scale strategic layers over the source's bounding box.

    A requested mode with nothing in the region yields an empty layer and an
    :class:`~hubopt.layers.EmptyLayerWarning`.
    """
    src = Source.infer(source)
    prof = profiles if profiles is not None else default_profiles()
    wanted = parse_modes(modes)
    layers = extract_layers(src, wanted, profiles=prof, world=world)
    return assemble_network(layers, profiles=prof, world=world, source=src.describe())


def network_to_networkx(network: MultimodalNetwork) -> nx.MultiDiGraph:
    """The network as a networkx MultiDiGraph on node positions, edge attributes kept."""
    G = nx.MultiDiGraph()
    G.add_nodes_from(network.nodes.index)
    e = network.edges
    cols = ["mode", "length_m", "time_h", "cost", "co2_kg"]
    for row in zip(e["u"], e["v"], *(e[c] for c in cols), strict=True):
        G.add_edge(int(row[0]), int(row[1]), **dict(zip(cols, row[2:], strict=True)))
    return G


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Points snapped to network nodes, with the connector's distance, time, cost and CO2.

    ``node`` holds network positions (-1 where no node lay within ``max_distance_m``).
    """

    ids: tuple[Any, ...]
    node: np.ndarray
    distance_m: np.ndarray
    time_h: np.ndarray
    cost: np.ndarray
    co2_kg: np.ndarray
    mode: str

    def __len__(self) -> int:
        """Number of points."""
        return len(self.ids)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: id, node, distance_m, time_h, cost, co2_kg."""
        return pd.DataFrame({"id": list(self.ids), "node": self.node,
                             "distance_m": self.distance_m, "time_h": self.time_h,
                             "cost": self.cost, "co2_kg": self.co2_kg})


def _points_lonlat(points: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[tuple[float, float]],
                   id_column: str | None) -> tuple[tuple[Any, ...], np.ndarray, np.ndarray]:
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        if points.crs is None:
            msg = "points have no CRS; set one (e.g. EPSG:4326) before snapping"
            raise InputFormatError(msg)
        geo = points.to_crs(CRS)
        geom = geo.geometry if isinstance(geo, gpd.GeoDataFrame) else geo
        if geom.is_empty.any() or geom.isna().any():
            msg = "points: empty or missing geometries cannot be snapped"
            raise InputFormatError(msg)
        pts = geom.representative_point()
        if id_column is not None:
            if not isinstance(points, gpd.GeoDataFrame) or id_column not in points:
                msg = f"points: no column {id_column!r} for the ids"
                raise InputFormatError(msg)
            ids = tuple(points[id_column].tolist())
        else:
            ids = tuple(points.index.tolist())
        return ids, pts.x.to_numpy(), pts.y.to_numpy()
    arr = np.asarray(points, dtype="float64").reshape(-1, 2)
    return tuple(range(len(arr))), arr[:, 0], arr[:, 1]


def snap_points(
    network: MultimodalNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[tuple[float, float]],
    *,
    mode: Mode | str | None = Mode.ROAD,
    id_column: str | None = None,
    max_distance_m: float | None = None,
    main_component: bool = False,
) -> SnappedPoints:
    """Snap each point to the nearest node of ``mode`` (``None``: any mode).

    ``points`` is a GeoDataFrame/GeoSeries with a CRS (non-point geometries use a
    representative point) or a sequence of ``(lon, lat)``. The connector is the straight
    line times the road profile's ``connector_detour``, at ``connector_speed_kmh``, priced
    with the road profile's cost per km and hour and CO2 per km. Points farther than
    ``max_distance_m`` from every node get ``node == -1`` and a warning.
    ``main_component=True`` snaps only to nodes of the network's largest strongly connected
    component (:func:`main_component_mask`), so that every pair of snapped points is
    joined by a path.
    """
    ids, lon, lat = _points_lonlat(points, id_column)
    nodes = network.nodes
    label = "any"
    if mode is not None:
        m = Mode.parse(mode)
        label = m.value
        nodes = nodes[nodes["mode"] == m.value]
    if main_component:
        nodes = nodes[main_component_mask(network)[nodes.index.to_numpy()]]
        label += " main-component"
    if nodes.empty:
        msg = f"cannot snap points: the network has no {label} nodes"
        raise LayerExtractionError(msg)
    index = NearestIndex(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    limit = np.inf if max_distance_m is None else float(max_distance_m)
    pos, dist = index.nearest(lon, lat, max_m=limit)
    node = np.where(pos >= 0, nodes.index.to_numpy()[np.maximum(pos, 0)], -1).astype("int64")
    if (node < 0).any():
        warnings.warn(f"{int((node < 0).sum())} point(s) lie farther than {limit:g} m from "
                      f"every {label} node and were not snapped", UserWarning, stacklevel=2)
    road = network.profiles[Mode.ROAD]
    km = np.where(node >= 0, dist, 0.0) / 1000.0 * road.param("connector_detour", 1.0)
    hours = km / road.param("connector_speed_kmh", road.speed_kmh)
    return SnappedPoints(
        ids=ids, node=node, distance_m=np.where(node >= 0, dist, np.inf),
        time_h=hours, cost=km * road.cost_per_km + hours * road.cost_per_hour,
        co2_kg=km * road.co2_per_unit_km, mode=label,
    )


def _structure(network: MultimodalNetwork, sel: np.ndarray | None = None) -> sp.csr_matrix:
    """Adjacency (0/1) of the network's edges, or of the edges selected by ``sel``."""
    e = network.edges
    u = e["u"].to_numpy(dtype="int64")
    v = e["v"].to_numpy(dtype="int64")
    if sel is not None:
        u, v = u[sel], v[sel]
    n = network.n_nodes
    return sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))


def main_component_mask(network: MultimodalNetwork) -> np.ndarray:
    """Boolean mask of the nodes in the network's largest strongly connected component."""
    cached = network._cache.get("main_component")
    if cached is None:
        if network.n_nodes == 0:
            cached = np.zeros(0, dtype=bool)
        else:
            _, labels = connected_components(_structure(network), directed=True,
                                             connection="strong")
            cached = labels == int(np.argmax(np.bincount(labels)))
        network._cache["main_component"] = cached
    return np.asarray(cached)


def mode_components(network: MultimodalNetwork, mode: Mode | str) -> np.ndarray:
    """Weakly connected component label of each node on ``mode``'s edges (-1: none)."""
    m = Mode.parse(mode).value
    sel = network.edges["mode"].astype(str).to_numpy() == m
    labels = np.full(network.n_nodes, -1, dtype=np.int64)
    if not sel.any():
        return labels
    _, lab = connected_components(_structure(network, sel), directed=True, connection="weak")
    e = network.edges
    touched = np.zeros(network.n_nodes, dtype=bool)
    touched[e["u"].to_numpy(dtype="int64")[sel]] = True
    touched[e["v"].to_numpy(dtype="int64")[sel]] = True
    labels[touched] = lab[touched]
    return labels


def nearest_nodes(network: MultimodalNetwork, lon: Sequence[float], lat: Sequence[float], *,
                  mode: Mode | str = Mode.ROAD) -> np.ndarray:
    """Network positions of the nearest ``mode`` node for each (lon, lat)."""
    return snap_points(network, list(zip(lon, lat, strict=True)), mode=mode).node


def empty_network(modes: Iterable[Mode | str] | None = None, *,
                  profiles: Profiles | None = None) -> MultimodalNetwork:
    """A network whose requested layers are all empty (for tests and placeholders)."""
    layers = {m: empty_layer(m) for m in parse_modes(modes)}
    return assemble_network(layers, profiles=profiles)


__all__ = [
    "NETWORK_ATTRIBUTION",
    "MultimodalNetwork",
    "SnappedPoints",
    "assemble_network",
    "build_network",
    "empty_network",
    "main_component_mask",
    "mode_components",
    "nearest_nodes",
    "network_to_networkx",
    "snap_points",
]
