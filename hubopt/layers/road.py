"""Road layer: drivable ways, speed from ``maxspeed`` or the highway class, travel time.

Speeds follow osmnx (``add_edge_speeds``) with the profile's per-class speeds and fallback,
capped at the profile's truck speed and at the country's legal limit for heavy goods
vehicles by urban/rural/motorway category (:func:`hubopt.layers._hgv.hgv_limited_speeds`);
travel time is length over speed plus
``junction_delay_s`` at each junction an edge runs into (not on motorways and trunk
roads; :func:`junction_delay_h`). The layer keeps
every weakly connected component of at least ``min_component_nodes`` nodes, so an
island's roads (Gozo beside Malta) stay, joined to the rest by ferries; smaller
fragments of a clipped extract are dropped. Points snap only to components that join
the network on their own (:func:`hubopt.snapping.served_components`).
Road has no terminals of its own: the other modes' terminals link to it.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from hubopt.layers._hgv import hgv_limited_speeds
from hubopt.layers._layer import Layer, Source, apply_unit_costs, empty_layer, empty_terminals
from hubopt.layers._osm import graph_frames, mode_input
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles


def junction_delay_h(graph: nx.MultiDiGraph, edges: pd.DataFrame, delay_s: float) -> np.ndarray:
    """Hours of delay at the junction each edge runs into (0 on motorways and trunk roads).

    A junction is a node where three or more road segments meet (undirected degree >= 3);
    free-flowing motorway and trunk carriageways (and their links) have none.
    """
    if delay_s <= 0 or edges.empty:
        return np.zeros(len(edges))
    degree = dict(nx.Graph(graph).degree())
    at_junction = np.array([degree.get(int(v), 0) >= 3 for v in edges["v"]], dtype=bool)
    kind = edges["kind"].astype(str)
    free = kind.str.contains("motorway|trunk", regex=True).to_numpy()
    return np.where(at_junction & ~free, delay_s / 3600.0, 0.0)


def _order_class_lists(graph: nx.MultiDiGraph, profile: ModeProfile) -> None:
    """Put the slowest class first in each merged edge's ``highway`` list (in place).

    Graph simplification merges ways into one edge with a list of classes built from a
    set, so its order changes from run to run; osmnx's ``add_edge_speeds`` takes the
    first element. Slowest first makes the speed deterministic (and the conservative one).
    """
    speed = profile.speed_by_class
    for _, _, data in graph.edges(data=True):
        hwy = data.get("highway")
        if isinstance(hwy, list):
            data["highway"] = sorted(hwy, key=lambda h: (speed.get(str(h), profile.speed_kmh),
                                                       str(h)))  # fmt: skip


def road_layer(source: Source, profile: ModeProfile, profiles: Profiles | None = None) -> Layer:
    """Build the road layer of ``source`` (file or online); empty with a warning if none."""
    import networkx as nx
    import osmnx as ox

    graph, _, _ = mode_input(source, Mode.ROAD, retain_all=True)
    if graph is None or graph.number_of_edges() == 0:
        return empty_layer(Mode.ROAD, source.describe(), reason="no drivable ways")
    min_nodes = profile.param("min_component_nodes", 50.0)
    comps = sorted(nx.weakly_connected_components(graph), key=len, reverse=True)
    keep = [c for i, c in enumerate(comps) if i == 0 or len(c) >= min_nodes]
    if len(keep) < len(comps):
        graph = graph.subgraph(set().union(*keep)).copy()
    _order_class_lists(graph, profile)
    graph = ox.routing.add_edge_speeds(graph, hwy_speeds=dict(profile.speed_by_class),
                                       fallback=profile.speed_kmh)
    nodes, edges = graph_frames(graph, Mode.ROAD, ("maxspeed", "oneway", "ref"))
    speeds = np.array([d["speed_kph"] for _, _, d in graph.edges(data=True)], dtype="float64")
    # graph_to_gdfs keeps the graph's edge order, so the speeds line up with the rows
    cap = profile.param("truck_speed_cap_kmh", 1e9)
    speeds = np.clip(np.nan_to_num(speeds, nan=profile.speed_kmh), 1.0, cap)
    speeds = hgv_limited_speeds(edges, nodes, speeds, profile)
    edges["speed_kmh"] = speeds
    edges["time_h"] = edges["length_m"].to_numpy() / 1000.0 / speeds + junction_delay_h(
        graph, edges, profile.param("junction_delay_s", 0.0))
    edges = apply_unit_costs(edges, profile)
    return Layer(Mode.ROAD, nodes, edges, empty_terminals(), source.describe())
