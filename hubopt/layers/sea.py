"""Sea layer: ports, ferry routes and sea lanes between ports over searoute's network.

* Ports: OSM ``harbour=*``, ``landuse=port``, ``industrial=port``, ``seamark:type=harbour``
  and ``amenity=ferry_terminal`` features, plus searoute's ports inside the region (a
  searoute port within ``ferry_link_radius_m`` of an OSM port only lends it its UN/LOCODE).
  Every port is a terminal and a node of its own.
* Ferry routes: ``route=ferry`` ways from OSM (clipped routes keep the part inside the file).
* Sea lanes: searoute's lane segments within ``lane_buffer_km`` of the region.
* Legs: each port joins the nearest ferry node within ``ferry_link_radius_m``
  (``port_link``) and the nearest lane node within ``port_leg_radius_km`` (``port_leg``);
  each loose end of a ferry route joins the nearest port within ``ferry_link_radius_m``
  (``port_link``), or else the nearest lane node (``ferry_leg``), so that a route clipped
  at the edge of an extract continues on the lanes.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from hubopt.layers._geo import NearestIndex, haversine_m, segments
from hubopt.layers._layer import (
    CRS,
    BBox,
    Layer,
    Source,
    apply_unit_costs,
    empty_edges,
    empty_layer,
    empty_terminals,
)
from hubopt.layers._osm import graph_frames, mode_input
from hubopt.layers._world_data import searoute_lanes, searoute_ports
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles

LANE_ID_OFFSET = 1_000_000_000_000
OSM_PORT_ID_OFFSET = 2_000_000_000_000
SEAROUTE_PORT_ID_OFFSET = 3_000_000_000_000


def _lanes(bbox: BBox, buffer_km: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    lanes = searoute_lanes()
    box = bbox.buffered(buffer_km)
    keep = box.contains(lanes["lon1"].to_numpy(), lanes["lat1"].to_numpy()) & box.contains(
        lanes["lon2"].to_numpy(), lanes["lat2"].to_numpy())
    sel = lanes[keep]
    if sel.empty:
        return _nodes_frame(np.array([], "int64"), np.array([]), np.array([])), _edge_frame()
    coords = np.vstack([sel[["lon1", "lat1"]].to_numpy(), sel[["lon2", "lat2"]].to_numpy()])
    uniq, inverse = np.unique(np.round(coords, 6), axis=0, return_inverse=True)
    ids = LANE_ID_OFFSET + np.arange(len(uniq), dtype="int64")
    n = len(sel)
    u, v = ids[inverse[:n]], ids[inverse[n:]]
    nodes = _nodes_frame(ids, uniq[:, 0], uniq[:, 1])
    edges = _links(nodes, u, v, "lane", sel["passage"].to_numpy())
    return nodes, edges


def _nodes_frame(ids: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"x": np.asarray(lon, "float64"), "y": np.asarray(lat, "float64")},
                            geometry=gpd.points_from_xy(lon, lat), crs=CRS,
                            index=pd.Index(np.asarray(ids, "int64"), name="node_id"))


def _edge_frame() -> gpd.GeoDataFrame:
    return empty_edges()


def _links(nodes: pd.DataFrame, u: np.ndarray, v: np.ndarray, kind: str,
           names: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Straight undirected links u-v as two directed rows each."""
    if len(u) == 0:
        return _edge_frame()
    x1, y1 = nodes.loc[u, "x"].to_numpy(), nodes.loc[u, "y"].to_numpy()
    x2, y2 = nodes.loc[v, "x"].to_numpy(), nodes.loc[v, "y"].to_numpy()
    length = haversine_m(x1, y1, x2, y2)
    name = names if names is not None else np.full(len(u), None, dtype=object)
    return gpd.GeoDataFrame({
        "u": np.concatenate([u, v]).astype("int64"), "v": np.concatenate([v, u]).astype("int64"),
        "mode": Mode.SEA.value, "kind": kind, "name": np.concatenate([name, name]),
        "length_m": np.concatenate([length, length]),
    }, geometry=np.concatenate([segments(x1, y1, x2, y2), segments(x2, y2, x1, y1)]), crs=CRS)


def _unique_ids(ids: list[str]) -> list[str]:
    """Suffix repeated ids (searoute lists a few UN/LOCODEs twice) with ``#2``, ``#3``..."""
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}#{seen[i]}")
    return out


def _ports(features: list[dict[str, object]], bbox: BBox | None,
           merge_m: float) -> pd.DataFrame:
    """OSM port features plus searoute ports inside ``bbox`` (merged when close)."""
    osm = pd.DataFrame(features, columns=["osm_type", "osm_id", "kind", "name", "ref", "lon",
                                          "lat"])
    osm = osm.sort_values(["osm_type", "osm_id"], kind="stable").reset_index(drop=True)
    osm["node_id"] = (OSM_PORT_ID_OFFSET + 2 * osm["osm_id"].astype("int64")
                      + (osm["osm_type"] != "node").astype("int64"))
    osm["terminal_id"] = [f"sea:{t[0]}/{i}" for t, i in zip(osm["osm_type"], osm["osm_id"],
                                                           strict=True)]
    osm["source"] = "osm"
    sr = searoute_ports().reset_index(names="pos")
    if bbox is not None:
        sr = sr[bbox.contains(sr["lon"].to_numpy(), sr["lat"].to_numpy())]
    else:
        sr = sr.iloc[0:0]
    if len(osm) and len(sr):
        index = NearestIndex(osm["lon"].to_numpy(), osm["lat"].to_numpy())
        pos, _ = index.nearest(sr["lon"].to_numpy(), sr["lat"].to_numpy(), max_m=merge_m)
        for p, code in zip(pos, sr["locode"], strict=True):
            if p >= 0 and (osm.at[p, "ref"] is None or osm.at[p, "ref"] != osm.at[p, "ref"]):
                osm.at[p, "ref"] = code
        sr = sr[pos < 0]
    sr_rows = pd.DataFrame({
        "kind": "port", "name": sr["name"].to_numpy(), "ref": sr["locode"].to_numpy(),
        "lon": sr["lon"].to_numpy(), "lat": sr["lat"].to_numpy(),
        "node_id": SEAROUTE_PORT_ID_OFFSET + sr["pos"].to_numpy().astype("int64"),
        "terminal_id": _unique_ids([f"sea:locode/{c}" for c in sr["locode"]]),
        "source": "searoute",
    })
    cols = ["terminal_id", "kind", "name", "ref", "lon", "lat", "node_id", "source"]
    frames = [f[cols] for f in (osm, sr_rows) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _drop_portless_lanes(nodes: pd.DataFrame, edges: pd.DataFrame,
                         ports: set[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop pieces of the clipped lane network that reach no port and no ferry route."""
    g = nx.Graph()
    g.add_nodes_from(nodes.index)
    g.add_edges_from(zip(edges["u"], edges["v"], strict=True))
    keep: set[int] = set()
    for comp in nx.connected_components(g):
        if comp & ports or any(n < LANE_ID_OFFSET for n in comp):  # OSM ferry nodes
            keep |= comp
    keep_nodes = nodes.index.isin(list(keep))
    return nodes[keep_nodes], edges[edges["u"].isin(list(keep))].reset_index(drop=True)


def build_sea_layer(
    ferries: nx.MultiDiGraph | None, features: list[dict[str, object]], bbox: BBox | None,
    profile: ModeProfile, *, source: str,
) -> Layer:
    """Assemble ports, ferry routes, lanes and legs into the sea layer (see module doc)."""
    link_m = profile.param("ferry_link_radius_m", 2000.0)
    leg_m = profile.param("port_leg_radius_km", 150.0) * 1000.0
    parts_nodes: list[gpd.GeoDataFrame] = []
    parts_edges: list[gpd.GeoDataFrame] = []
    if ferries is not None and ferries.number_of_edges() > 0:
        f_nodes, f_edges = graph_frames(ferries, Mode.SEA, ("duration", "operator"))
        f_edges["kind"] = "ferry"
        parts_nodes.append(f_nodes)
        parts_edges.append(f_edges)
        degree = pd.Series(dict(nx.Graph(ferries).degree()))
        loose = degree[degree == 1].index.to_numpy(dtype="int64")
    else:
        f_nodes = _nodes_frame(np.array([], "int64"), np.array([]), np.array([]))
        loose = np.array([], dtype="int64")
    if bbox is not None:
        l_nodes, l_edges = _lanes(bbox, profile.param("lane_buffer_km", 150.0))
    else:
        l_nodes, l_edges = _lanes(BBox(0, 0, 0, 0), 0.0)
    ports = _ports(features, bbox, link_m)
    if f_nodes.empty and ports.empty:
        return empty_layer(Mode.SEA, source, reason="no ports and no ferry routes")
    p_nodes = _nodes_frame(ports["node_id"].to_numpy(), ports["lon"].to_numpy(),
                           ports["lat"].to_numpy())
    parts_nodes += [l_nodes, p_nodes]
    parts_edges.append(l_edges)
    nodes = pd.concat([p for p in parts_nodes if len(p)])
    nodes = nodes[~nodes.index.duplicated()]
    lane_index = NearestIndex(l_nodes["x"].to_numpy(), l_nodes["y"].to_numpy())
    ferry_index = NearestIndex(f_nodes["x"].to_numpy(), f_nodes["y"].to_numpy())
    px, py = p_nodes["x"].to_numpy(), p_nodes["y"].to_numpy()
    fpos, _ = ferry_index.nearest(px, py, max_m=link_m)
    ok = fpos >= 0
    parts_edges.append(_links(nodes, p_nodes.index.to_numpy()[ok],
                              f_nodes.index.to_numpy()[fpos[ok]], "port_link"))
    lpos, _ = lane_index.nearest(px, py, max_m=leg_m)
    ok = lpos >= 0
    parts_edges.append(_links(nodes, p_nodes.index.to_numpy()[ok],
                              l_nodes.index.to_numpy()[lpos[ok]], "port_leg"))
    if len(loose):
        port_index = NearestIndex(px, py)
        lx, ly = f_nodes.loc[loose, "x"].to_numpy(), f_nodes.loc[loose, "y"].to_numpy()
        near_port, _ = port_index.nearest(lx, ly, max_m=link_m)
        ok = near_port >= 0
        parts_edges.append(_links(nodes, loose[ok], p_nodes.index.to_numpy()[near_port[ok]],
                                  "port_link"))
        loose, lx, ly = loose[~ok], lx[~ok], ly[~ok]
        lpos, _ = lane_index.nearest(lx, ly, max_m=leg_m)
        ok = lpos >= 0
        parts_edges.append(_links(nodes, loose[ok], l_nodes.index.to_numpy()[lpos[ok]],
                                  "ferry_leg"))
    edges = pd.concat([e for e in parts_edges if len(e)], ignore_index=True)
    nodes, edges = _drop_portless_lanes(nodes, edges, set(p_nodes.index))
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=CRS)
    edges["speed_kmh"] = profile.speed_kmh
    edges["time_h"] = edges["length_m"] / 1000.0 / profile.speed_kmh
    edges = apply_unit_costs(edges, profile)
    terminals = gpd.GeoDataFrame({
        "terminal_id": ports["terminal_id"].to_numpy(), "mode": Mode.SEA.value,
        "kind": ports["kind"].to_numpy(), "name": ports["name"].to_numpy(),
        "ref": ports["ref"].to_numpy(), "node_id": ports["node_id"].astype("int64").to_numpy(),
        "source": ports["source"].to_numpy(),
    }, geometry=gpd.points_from_xy(px, py), crs=CRS) if len(ports) else empty_terminals()
    return Layer(Mode.SEA, gpd.GeoDataFrame(nodes, geometry="geometry", crs=CRS), edges,
                 terminals, source)


def sea_layer(source: Source, profile: ModeProfile, profiles: Profiles | None = None) -> Layer:
    """Build the sea layer of ``source`` (file or online)."""
    graph, features, bbox = mode_input(source, Mode.SEA, retain_all=True)
    return build_sea_layer(graph, features, bbox, profile, source=source.describe())
