"""World-scale layers over the Gulf of Finland: scgraph-data road/rail, searoute, airports."""

from __future__ import annotations

import numpy as np
from test_network_helpers import GULF_OF_FINLAND, world_network

from hubopt import settings
from hubopt.costs import Weights, shortest_path
from hubopt.layers import Mode
from hubopt.layers import world as world_mod


def test_world_road_and_rail_lie_inside_the_box_and_are_not_empty() -> None:
    net = world_network()
    for mode in (Mode.ROAD, Mode.RAIL):
        layer = net.layers[mode]
        assert len(layer.edges) > 100
        assert GULF_OF_FINLAND.contains(layer.nodes["x"], layer.nodes["y"]).all()


def test_world_graph_cache_is_compact_and_reads_back_equal() -> None:
    first = world_mod.world_graph("world_railways")
    cache = settings.cache_folder / "world" / "world_railways-v1.npz"
    assert cache.is_file()
    assert cache.stat().st_size < 20e6  # the source module is 17 MB of text
    world_mod.world_graph.cache_clear()
    again = world_mod.world_graph("world_railways")
    for key in ("lon", "lat", "u", "v", "km"):
        np.testing.assert_array_equal(first[key], again[key])
    assert (first["u"] < first["v"]).all()


def test_scgraph_data_modules_are_read_without_being_imported() -> None:
    import sys

    world_mod.world_graph("world_highways")
    assert "scgraph_data.world_highways" not in sys.modules


def test_helsinki_and_tallinn_are_joined_by_sea() -> None:
    net = world_network()
    t = net.terminals
    hel = t[(t["mode"] == "sea") & (t["ref"] == "FIHEL")]
    tll = t[(t["mode"] == "sea") & (t["ref"] == "EETLL")]
    assert len(hel) == 1
    assert len(tll) == 1
    path = shortest_path(net, int(hel["node"].iloc[0]), int(tll["node"].iloc[0]),
                         weights=Weights(time=0, money=1))
    assert path is not None
    assert set(path.edge_modes) == {"sea"}
    assert 70_000 < path.length_m < 150_000  # the crossing is about 80 km
