"""Road layer: drivable ways, speed from ``maxspeed`` or the highway class, travel time.

Speeds follow osmnx (``add_edge_speeds``) with the profile's per-class speeds and fallback,
capped at the profile's truck speed; travel time is length over speed. The layer keeps
every weakly connected component of at least ``min_component_nodes`` nodes, so an
island's roads (Gozo beside Malta) stay, joined to the rest by ferries; smaller
fragments of a clipped extract are dropped. Points snap only to components that join
the network on their own (:func:`hubopt.snapping.served_components`).
Road has no terminals of its own: the other modes' terminals link to it.
"""

from __future__ import annotations

import numpy as np

from hubopt.layers._layer import Layer, Source, apply_unit_costs, empty_layer, empty_terminals
from hubopt.layers._osm import graph_frames, mode_input
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles


def road_layer(source: Source, profile: ModeProfile, profiles: Profiles | None = None) -> Layer:
    """Build the road layer of ``source`` (file or online); empty with a warning if none."""
    import osmnx as ox

    import networkx as nx

    graph, _, _ = mode_input(source, Mode.ROAD, retain_all=True)
    if graph is None or graph.number_of_edges() == 0:
        return empty_layer(Mode.ROAD, source.describe(), reason="no drivable ways")
    min_nodes = profile.param("min_component_nodes", 50.0)
    comps = sorted(nx.weakly_connected_components(graph), key=len, reverse=True)
    keep = [c for i, c in enumerate(comps) if i == 0 or len(c) >= min_nodes]
    if len(keep) < len(comps):
        graph = graph.subgraph(set().union(*keep)).copy()
    graph = ox.routing.add_edge_speeds(graph, hwy_speeds=dict(profile.speed_by_class),
                                       fallback=profile.speed_kmh)
    nodes, edges = graph_frames(graph, Mode.ROAD, ("maxspeed", "oneway", "ref"))
    speeds = np.array([d["speed_kph"] for _, _, d in graph.edges(data=True)], dtype="float64")
    # graph_to_gdfs keeps the graph's edge order, so the speeds line up with the rows
    cap = profile.param("truck_speed_cap_kmh", 1e9)
    speeds = np.clip(np.nan_to_num(speeds, nan=profile.speed_kmh), 1.0, cap)
    edges["speed_kmh"] = speeds
    edges["time_h"] = edges["length_m"].to_numpy() / 1000.0 / speeds
    edges = apply_unit_costs(edges, profile)
    return Layer(Mode.ROAD, nodes, edges, empty_terminals(), source.describe())
