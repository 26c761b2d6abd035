"""Rail layer: ``railway=rail`` with ``usage``, ``maxspeed``, ``electrified`` and ``gauge``.

Speed is ``maxspeed`` capped at the profile's freight speed, else the profile's default
speed; electrified lines emit ``electric_co2_factor`` times the profile's CO2 per unit-km.
Stations, halts, yards (``railway=yard`` or ``service=yard`` tracks) and freight terminals
become terminals, each attached to the nearest rail node within ``terminal_radius_m``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.layers._geo import NearestIndex
from hubopt.layers._layer import (
    CRS,
    Layer,
    Source,
    apply_unit_costs,
    empty_layer,
    empty_terminals,
)
from hubopt.layers._osm import mode_input, parse_speed_kmh
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles

RAIL_COLUMNS = ("maxspeed", "usage", "electrified", "gauge", "service")


def attach_terminals(
    features: list[dict[str, object]], nodes: pd.DataFrame, mode: Mode, radius_m: float,
) -> pd.DataFrame:
    """Terminal rows for ``features`` attached to the nearest node within ``radius_m``.

    Features farther than the radius from every node are left out; several features on the
    same node are merged into one terminal (the first by OSM id names it).
    """
    import geopandas as gpd

    if not features or len(nodes) == 0:
        return empty_terminals()
    feats = pd.DataFrame(features).sort_values(["kind", "osm_type", "osm_id"], kind="stable")
    index = NearestIndex(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    pos, _ = index.nearest(feats["lon"].to_numpy(), feats["lat"].to_numpy(), max_m=radius_m)
    feats = feats[pos >= 0].assign(node_id=nodes.index.to_numpy()[pos[pos >= 0]])
    feats = feats.drop_duplicates("node_id", keep="first")
    node_xy = nodes.loc[feats["node_id"], ["x", "y"]].to_numpy()
    return gpd.GeoDataFrame({
        "terminal_id": [f"{mode.value}:{t[0]}/{i}" for t, i in
                        zip(feats["osm_type"], feats["osm_id"], strict=True)],
        "mode": mode.value,
        "kind": feats["kind"].to_numpy(),
        "name": feats["name"].to_numpy(),
        "ref": feats["ref"].to_numpy(),
        "node_id": feats["node_id"].astype("int64").to_numpy(),
        "source": "osm",
    }, geometry=gpd.points_from_xy(node_xy[:, 0], node_xy[:, 1]), crs=CRS)


def rail_layer(source: Source, profile: ModeProfile, profiles: Profiles | None = None) -> Layer:
    """Build the rail layer of ``source`` (file or online); empty with a warning if none."""
    graph, features, _ = mode_input(source, Mode.RAIL)
    if graph is None or len(graph) == 0:
        return empty_layer(Mode.RAIL, source.describe(), reason="no railway=rail ways")
    nodes, edges = graph.frames(Mode.RAIL, RAIL_COLUMNS)
    edges["kind"] = "rail"
    cap = profile.param("freight_speed_cap_kmh", 1e9)
    speeds = np.array([parse_speed_kmh(v) or profile.speed_kmh for v in edges["maxspeed"]])
    speeds = np.clip(speeds, 1.0, cap)
    edges["speed_kmh"] = speeds
    edges["time_h"] = edges["length_m"].to_numpy() / 1000.0 / speeds
    electric = edges["electrified"].fillna("no").map(lambda v: v not in ("no", "", "None"))
    edges["co2_factor"] = np.where(electric, profile.param("electric_co2_factor", 1.0), 1.0)
    edges = apply_unit_costs(edges, profile)
    terminals = attach_terminals(features, nodes, Mode.RAIL,
                                 profile.param("terminal_radius_m", 1000.0))
    return Layer(Mode.RAIL, nodes, edges, terminals, source.describe())
