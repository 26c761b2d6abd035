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

import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hubopt.layers._geo import NearestIndex, haversine_m, segments
from hubopt.layers._layer import (
    CRS,
    BBox,
    Layer,
    Source,
    TerminalEvidenceWarning,
    apply_unit_costs,
    empty_edges,
    empty_layer,
    empty_terminals,
)
from hubopt.layers._osm import mode_input
from hubopt.layers._seamask import SeaMask, sea_mask, water_legs
from hubopt.layers._ways import WayGraph
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
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    u, v = edges["u"].to_numpy(dtype="int64"), edges["v"].to_numpy(dtype="int64")
    ids = nodes.index.to_numpy(dtype="int64")
    ids = np.concatenate([ids, np.setdiff1d(np.concatenate([u, v]), ids)])
    pos = pd.Index(ids).get_indexer
    a, b = pos(u), pos(v)
    n = len(ids)
    _, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)),
                                   directed=False)
    good = np.zeros(comp.max() + 1 if n else 0, dtype=bool)
    good[comp[np.isin(ids, list(ports)) | (ids < LANE_ID_OFFSET)]] = True  # OSM ferry nodes
    keep = set(ids[good[comp]].tolist())
    keep_nodes = nodes.index.isin(list(keep))
    return nodes[keep_nodes], edges[edges["u"].isin(list(keep))].reset_index(drop=True)


def _coastal(ports: pd.DataFrame, mask: SeaMask | None, coast_m: float, *,
             inland: bool) -> pd.DataFrame:
    """Ports within ``coast_m`` of the sea; the others are inland or lake ports.

    Inland ports are dropped with a :class:`TerminalEvidenceWarning`, or kept as
    ``kind = "inland_port"`` when the profile's ``inland_ports`` is set. Without a land mask
    every port counts as coastal.
    """
    if mask is None or ports.empty:
        return ports.assign(inland=False)
    km = mask.coast_km(ports["lon"].to_numpy(float), ports["lat"].to_numpy(float),
                       max_km=coast_m / 1000.0)
    far = ~np.isfinite(km)
    ports = ports.assign(inland=far)
    if not far.any():
        return ports
    names = _port_names(ports[far])
    if inland:
        ports.loc[far, "kind"] = "inland_port"
        return ports
    warnings.warn(f"sea: {len(names)} inland or lake port(s) lie more than "
                  f"{coast_m / 1000:g} km from the sea and are not sea terminals: "
                  + ", ".join(names), TerminalEvidenceWarning, stacklevel=3)
    return ports[~far].reset_index(drop=True)


def _port_names(ports: pd.DataFrame) -> list[str]:
    out = []
    for name, ref in zip(ports["name"], ports["ref"], strict=True):
        label = str(name) if isinstance(name, str) and name else "unnamed"
        out.append(f"{label} ({ref})" if isinstance(ref, str) and ref else label)
    return sorted(out)


def _lane_legs(mask: SeaMask | None, lane_index: NearestIndex, x: np.ndarray, y: np.ndarray,
               leg_m: float, coast_m: float,
               straight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target lane node, geometry and length of each leg (over water where a mask exists).

    ``straight`` marks the points (inland ports kept on request) whose leg is the straight
    line to the nearest lane node, as is every leg without a land mask.
    """
    n = len(x)
    target = np.full(n, -1, dtype="int64")
    length = np.full(n, np.inf)
    geoms = np.full(n, None, dtype=object)
    if n == 0 or len(lane_index) == 0:
        return target, geoms, length
    line = straight | (mask is None)
    if line.any():
        pos, dist = lane_index.nearest(x[line], y[line], max_m=leg_m)
        target[line], length[line] = pos, dist
    wet = np.flatnonzero(~line)
    if len(wet) and mask is not None:
        legs = water_legs(mask, x[wet], y[wet], lane_index.lon, lane_index.lat,
                          max_km=leg_m / 1000.0, coast_km=coast_m / 1000.0)
        target[wet], length[wet] = legs.target, legs.km * 1000.0
        for k, path in zip(wet, legs.paths, strict=True):
            if len(path) >= 2:
                geoms[k] = shapely.simplify(shapely.LineString(path), 0.002)
    ok = target >= 0
    for k in np.flatnonzero(ok & (geoms == None)):  # noqa: E711 (object array)
        geoms[k] = shapely.LineString([(x[k], y[k]), (lane_index.lon[target[k]],
                                                       lane_index.lat[target[k]])])
    return target, geoms, length


def _leg_edges(u: np.ndarray, v: np.ndarray, kinds: np.ndarray, length: np.ndarray,
               geoms: np.ndarray) -> gpd.GeoDataFrame:
    """Legs u-v in both directions with their sailed length and path."""
    if len(u) == 0:
        return _edge_frame()
    back = np.array([shapely.reverse(g) for g in geoms], dtype=object)
    return gpd.GeoDataFrame({
        "u": np.concatenate([u, v]).astype("int64"), "v": np.concatenate([v, u]).astype("int64"),
        "mode": Mode.SEA.value, "kind": np.concatenate([kinds, kinds]), "name": None,
        "length_m": np.concatenate([length, length]),
    }, geometry=np.concatenate([geoms, back]), crs=CRS)


def ferry_hours(edges: pd.DataFrame) -> np.ndarray:
    """Hours of each ferry edge from its way's OSM ``duration`` tag (NaN where untagged).

    A way's duration is shared among its edges in proportion to their length (a way split
    where routes meet keeps its total time).
    """
    dur = np.array([parse_duration_h(d) for d in edges["duration"]], dtype="float64")
    out = np.full(len(edges), np.nan)
    ids = edges["osmid"].astype(str).to_numpy()
    single = np.array([";" not in i for i in ids]) & np.isfinite(dur)
    if not single.any():
        return out
    length = edges["length_m"].to_numpy(dtype="float64")
    pairs = set(zip(edges["u"].to_numpy().tolist(), edges["v"].to_numpy().tolist(),
                    strict=True))
    for way in np.unique(ids[single]):
        sel = np.flatnonzero(single & (ids == way))
        both = any((int(edges["v"].iat[k]), int(edges["u"].iat[k])) in pairs for k in sel)
        total = length[sel].sum() / (2.0 if both else 1.0)
        if total > 0:
            out[sel] = dur[sel] * length[sel] / total
    return out


def parse_duration_h(value: object) -> float:
    """Hours of an OSM ``duration`` value (``"01:45"``, ``"1:45:00"``, ``"90"`` minutes,
    ``"PT1H45M"``); NaN when missing or unreadable."""
    if not isinstance(value, str) or not value.strip() or ";" in value:
        return float("nan")
    text = value.strip().upper()
    try:
        if text.startswith("PT"):
            m = re.fullmatch(r"PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                             r"(?:(\d+(?:\.\d+)?)S)?", text)
            if m is None or not any(m.groups()):
                return float("nan")
            h, mi, se = (float(g) if g else 0.0 for g in m.groups())
            hours = h + mi / 60.0 + se / 3600.0
        else:
            parts = [float(p) for p in text.split(":")]
            if len(parts) == 1:
                hours = parts[0] / 60.0
            elif len(parts) == 2:
                hours = parts[0] + parts[1] / 60.0
            elif len(parts) == 3:
                hours = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
            else:
                return float("nan")
    except ValueError:
        return float("nan")
    return hours if hours > 0 else float("nan")


def build_sea_layer(
    ferries: WayGraph | None, features: list[dict[str, object]], bbox: BBox | None,
    profile: ModeProfile, *, source: str,
) -> Layer:
    """Assemble ports, ferry routes, lanes and legs into the sea layer (see module doc)."""
    link_m = profile.param("ferry_link_radius_m", 2000.0)
    leg_m = profile.param("port_leg_radius_km", 150.0) * 1000.0
    parts_nodes: list[gpd.GeoDataFrame] = []
    parts_edges: list[gpd.GeoDataFrame] = []
    if ferries is not None and len(ferries) > 0:
        f_nodes, f_edges = ferries.frames(Mode.SEA, ("duration", "operator", "osmid"))
        f_edges["kind"] = "ferry"
        f_edges["tagged_h"] = ferry_hours(f_edges)
        f_edges = f_edges.drop(columns=["osmid"])
        parts_nodes.append(f_nodes)
        parts_edges.append(f_edges)
        degree = ferries.node_degree()
        loose = degree[degree == 1].index.to_numpy(dtype="int64")
    else:
        f_nodes = _nodes_frame(np.array([], "int64"), np.array([]), np.array([]))
        loose = np.array([], dtype="int64")
    if bbox is not None:
        l_nodes, l_edges = _lanes(bbox, profile.param("lane_buffer_km", 150.0))
    else:
        l_nodes, l_edges = _lanes(BBox(0, 0, 0, 0), 0.0)
    ports = _ports(features, bbox, link_m)
    mask = sea_mask(bbox) if bbox is not None else None
    coast_m = profile.param("port_coast_km", 5.0) * 1000.0
    ports = _coastal(ports, mask, coast_m, inland=profile.param("inland_ports", 0.0) > 0)
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
    on_ferry = ok.copy()
    parts_edges.append(_links(nodes, p_nodes.index.to_numpy()[ok],
                              f_nodes.index.to_numpy()[fpos[ok]], "port_link"))
    if len(loose):
        port_index = NearestIndex(px, py)
        lx, ly = f_nodes.loc[loose, "x"].to_numpy(), f_nodes.loc[loose, "y"].to_numpy()
        near_port, _ = port_index.nearest(lx, ly, max_m=link_m)
        ok = near_port >= 0
        parts_edges.append(_links(nodes, loose[ok], p_nodes.index.to_numpy()[near_port[ok]],
                                  "port_link"))
        on_ferry[near_port[ok]] = True
        loose = loose[~ok]
    # legs to the lanes: ports, then the loose ends of ferry routes (clipped at the border)
    leg_from = np.concatenate([p_nodes.index.to_numpy(), loose])
    leg_x = np.concatenate([px, f_nodes.loc[loose, "x"].to_numpy()])
    leg_y = np.concatenate([py, f_nodes.loc[loose, "y"].to_numpy()])
    kinds = np.array(["port_leg"] * len(px) + ["ferry_leg"] * len(loose), dtype=object)
    straight = np.concatenate([ports["inland"].to_numpy(bool), np.zeros(len(loose), bool)])
    target, geoms, lengths = _lane_legs(mask, lane_index, leg_x, leg_y, leg_m, coast_m,
                                        straight)
    ok = target >= 0
    parts_edges.append(_leg_edges(leg_from[ok], l_nodes.index.to_numpy()[target[ok]],
                                  kinds[ok], lengths[ok], geoms[ok]))
    reached = ok[:len(px)] | on_ferry
    if not reached.all():
        names = _port_names(ports[~reached])
        warnings.warn(f"sea: {len(names)} port(s) reach neither a ferry route nor the sea "
                      f"lanes within {leg_m / 1000:g} km over water and are not terminals: "
                      + ", ".join(names), TerminalEvidenceWarning, stacklevel=2)
        ports, p_nodes = ports[reached].reset_index(drop=True), p_nodes[reached]
        nodes = nodes.drop(index=leg_from[:len(px)][~reached])
        px, py = px[reached], py[reached]
    if f_nodes.empty and ports.empty:
        return empty_layer(Mode.SEA, source, reason="no sea ports with a route to the sea")
    edges = pd.concat([e for e in parts_edges if len(e)], ignore_index=True)
    nodes, edges = _drop_portless_lanes(nodes, edges, set(p_nodes.index))
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=CRS)
    edges["speed_kmh"] = profile.speed_kmh
    edges["time_h"] = edges["length_m"] / 1000.0 / profile.speed_kmh
    if "tagged_h" in edges:
        tagged = edges["tagged_h"].to_numpy(dtype="float64")
        edges["time_h"] = np.where(np.isfinite(tagged), tagged, edges["time_h"].to_numpy())
        edges = edges.drop(columns="tagged_h")
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
    graph, features, bbox = mode_input(source, Mode.SEA)
    return build_sea_layer(graph, features, bbox, profile, source=source.describe())
