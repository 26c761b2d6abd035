"""Road layer: drivable ways, speed from ``maxspeed`` or the highway class, travel time.

Speeds follow osmnx's ``add_edge_speeds`` with the profile's per-class speeds and fallback,
capped at the profile's truck speed and at the country's legal limit for heavy goods
vehicles by urban/rural/motorway category (:func:`hubopt.layers._hgv.hgv_limited_speeds`):
an edge's ``maxspeed`` values (several when ways were
merged) are read as osmnx reads them and averaged; an edge without one takes the speed of
its slowest highway class (classes missing from the profile take the mean tagged speed of
their edges, else the fallback). Travel time is length over speed plus
``junction_delay_s`` at each junction an edge runs into (not on motorways and trunk
roads; :func:`junction_delay_h`). The layer keeps every weakly connected component of at
least ``min_component_nodes`` nodes, so an island's roads (Gozo beside Malta) stay, joined
to the rest by ferries; smaller fragments of a clipped extract are dropped. Points snap
only to components that join the network on their own
(:func:`hubopt.snapping.served_components`). Road has no terminals of its own: the other
modes' terminals link to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.layers._hgv import hgv_limited_speeds
from hubopt.layers._layer import Layer, Source, apply_unit_costs, empty_layer, empty_terminals
from hubopt.layers._osm import mode_input, osm_maxspeed_kmh
from hubopt.layers._ways import WayGraph
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles


def junction_delay_h(degree_v: np.ndarray, kind: tuple[np.ndarray, np.ndarray],
                     delay_s: float) -> np.ndarray:
    """Hours of delay at the junction each edge runs into (0 on motorways and trunk roads).

    ``degree_v`` is the undirected degree of each edge's end node: a junction is a node
    where three or more road segments meet (degree >= 3); free-flowing motorway and trunk
    carriageways (and their links) have none. ``kind`` is each edge's highway class as
    ``(codes, labels)`` (code -1: none).
    """
    codes, labels = kind
    if delay_s <= 0 or len(codes) == 0:
        return np.zeros(len(codes))
    free = np.array([("motorway" in str(h) or "trunk" in str(h)) for h in labels.tolist()]
                    + [False])[codes]
    return np.where((np.asarray(degree_v) >= 3) & ~free, delay_s / 3600.0, 0.0)


def road_speeds(graph: WayGraph, profile: ModeProfile) -> np.ndarray:
    """Speed (km/h) of every edge before the truck cap (see the module docstring).

    A merged edge's speed class is its slowest class (by the profile's speed, then name),
    which makes the speed deterministic and the conservative one.
    """
    n = len(graph)
    by_class = dict(profile.speed_by_class)
    edge, codes, vocab = graph.value_codes("highway")
    present = np.unique(codes)
    names = sorted(vocab[present].tolist(),
                   key=lambda h: (by_class.get(str(h), profile.speed_kmh), str(h)))
    rank_of = {h: i for i, h in enumerate(names)}
    rank = np.full(len(vocab), len(names), dtype="int64")
    rank[present] = [rank_of[h] for h in vocab[present].tolist()]
    best = np.full(n, len(names), dtype="int64")
    np.minimum.at(best, edge, rank[codes])
    edge, codes, vocab = graph.value_codes("maxspeed")
    kmh = np.array([osm_maxspeed_kmh(str(v)) for v in vocab.tolist()], dtype="float64")[codes]
    ok = np.isfinite(kmh)
    total = np.bincount(edge[ok], weights=kmh[ok], minlength=n)
    count = np.bincount(edge[ok], minlength=n)
    tagged = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    # classes without a profile speed: the mean tagged speed of their edges, else fallback
    class_kmh = [by_class.get(str(h), np.nan) for h in names]
    unknown = [i for i, h in enumerate(names) if str(h) not in by_class]
    if unknown:
        rows = np.isin(best, unknown)
        labels = np.array([*names, None], dtype=object)
        frame = pd.DataFrame({"cls": labels[best[rows]], "kmh": tagged[rows]})
        for h, group in frame.groupby("cls"):
            class_kmh[rank_of[h]] = group["kmh"].mean()
    default = np.array([*class_kmh, np.nan], dtype="float64")[best]
    default = np.where(np.isfinite(default), default, profile.speed_kmh)
    return np.where(np.isfinite(tagged), tagged, default)


def road_layer(source: Source, profile: ModeProfile, profiles: Profiles | None = None) -> Layer:
    """Build the road layer of ``source`` (file or online); empty with a warning if none."""
    graph, _, _ = mode_input(source, Mode.ROAD)
    if graph is None or len(graph) == 0:
        return empty_layer(Mode.ROAD, source.describe(), reason="no drivable ways")
    keep = graph.keep_components(profile.param("min_component_nodes", 50.0))
    speeds = road_speeds(graph, profile)[keep]
    degree_v = graph.end_degree()[keep]
    nodes, edges = graph.frames(Mode.ROAD, ("maxspeed", "oneway", "ref"), keep=keep)
    cap = profile.param("truck_speed_cap_kmh", 1e9)
    speeds = np.clip(np.nan_to_num(speeds, nan=profile.speed_kmh), 1.0, cap)
    kind_codes, kind_labels = graph.edge_codes("highway")
    kind = (kind_codes[keep], kind_labels)
    speed_codes, speed_labels = graph.edge_codes("maxspeed")
    lon, lat, start = graph.edge_starts()
    speeds = hgv_limited_speeds(speeds, kind, (speed_codes[keep], speed_labels), start[keep],
                                lon, lat, profile)
    edges["speed_kmh"] = speeds
    edges["time_h"] = edges["length_m"].to_numpy() / 1000.0 / speeds + junction_delay_h(
        degree_v, kind, profile.param("junction_delay_s", 0.0))
    edges = apply_unit_costs(edges, profile)
    return Layer(Mode.ROAD, nodes, edges, empty_terminals(), source.describe())
