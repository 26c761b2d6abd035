"""Reading OSM files without osmnx: the graph equals osmnx's, the cache follows the content.

The truth is osmnx itself: ``osmnx.graph_from_xml(simplify=True, retain_all=True)`` on an
XML file of the same ways (what hubopt read before), and ``osmnx.routing.add_edge_speeds``
for the speeds.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import pytest
from click.testing import CliRunner
from test_network_helpers import osm_file

from hubopt import settings
from hubopt.cli import cli
from hubopt.layers import EmptyLayerWarning, Mode, extract_layer
from hubopt.layers._osm import _useful_tags
from hubopt.layers._pbf import WAY_FILTERS, scan_osm_file
from hubopt.layers._ways import build_way_graph
from hubopt.profiles import load_profiles


def _filtered_xml(pbf: Path, mode: Mode, target: Path) -> Path:
    """The mode's ways of ``pbf`` and the nodes they use, as OSM XML (osmium only)."""
    keep = WAY_FILTERS[mode]
    refs = {r.ref for w in osmium.FileProcessor(str(pbf), osmium.osm.WAY) if keep(w.tags)
            for r in w.nodes}
    with osmium.SimpleWriter(str(target)) as writer:
        for n in osmium.FileProcessor(str(pbf), osmium.osm.NODE):
            if n.id in refs:
                writer.add_node(n)
        for w in osmium.FileProcessor(str(pbf), osmium.osm.WAY):
            if keep(w.tags):
                writer.add_way(w)
    return target


def text(value: object) -> str | None:
    """An osmnx attribute (scalar, or a list after simplification) as sorted ``;`` text."""
    if isinstance(value, list):
        return ";".join(sorted({str(v) for v in value}))
    return None if value is None else str(value)


def _osmnx_graph(xml: Path):
    import osmnx as ox

    with _useful_tags():
        return ox.graph_from_xml(xml, simplify=True, retain_all=True)


def _osmnx_edges(G) -> pd.DataFrame:
    rows = [(int(u), int(v), float(d["length"]), text(d.get("highway")), text(d.get("name")),
             text(d.get("maxspeed")), text(d.get("oneway"))) for u, v, d in G.edges(data=True)]
    frame = pd.DataFrame(rows, columns=["u", "v", "length", "highway", "name", "maxspeed",
                                        "oneway"])
    return frame.sort_values(["u", "v", "length"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def malta_osmnx(tmp_path_factory):
    xml = _filtered_xml(osm_file("malta"), Mode.ROAD,
                        tmp_path_factory.mktemp("malta") / "road.osm")
    return _osmnx_graph(xml)


@pytest.fixture(scope="module")
def malta_graph():
    return build_way_graph(scan_osm_file(osm_file("malta")).ways[Mode.ROAD])


def test_malta_road_graph_has_the_nodes_and_edges_osmnx_builds(malta_osmnx,
                                                               malta_graph) -> None:
    G, g = malta_osmnx, malta_graph
    assert G.number_of_nodes() > 20_000
    assert set(G.nodes) == set(g.node_id.tolist())
    ref = _osmnx_edges(G)
    mine = pd.DataFrame({"u": g.u, "v": g.v, "length": g.length_m,
                         "highway": g.text("highway"), "name": g.text("name"),
                         "maxspeed": g.text("maxspeed"), "oneway": g.text("oneway")})
    mine = mine.sort_values(["u", "v", "length"]).reset_index(drop=True)
    assert len(mine) == len(ref)
    assert (mine[["u", "v"]].to_numpy() == ref[["u", "v"]].to_numpy()).all()
    # hubopt's Earth radius is 6,371,008.8 m, osmnx's 6,371,009 m: 3e-8 apart
    np.testing.assert_allclose(mine["length"], ref["length"], rtol=1e-7)
    for col in ("highway", "name", "maxspeed", "oneway"):
        assert mine[col].fillna("").tolist() == ref[col].fillna("").tolist(), col


def test_malta_road_speeds_are_those_osmnx_gives(malta_osmnx, malta_graph) -> None:
    """Before the truck caps: osmnx's add_edge_speeds on the same graph, with the slowest
    of a merged edge's classes first (osmnx takes the first of the list)."""
    import osmnx as ox

    from hubopt.layers.road import road_speeds

    profile = load_profiles()[Mode.ROAD]
    G = malta_osmnx.copy()
    for _, _, data in G.edges(data=True):
        if isinstance(data.get("highway"), list):
            data["highway"] = sorted(data["highway"], key=lambda h: (
                profile.speed_by_class.get(h, profile.speed_kmh), h))
    G = ox.routing.add_edge_speeds(G, hwy_speeds=dict(profile.speed_by_class),
                                   fallback=profile.speed_kmh)
    ref = pd.DataFrame([(int(u), int(v), d["length"], d["speed_kph"])
                        for u, v, d in G.edges(data=True)], columns=["u", "v", "len", "kmh"])
    g = malta_graph
    mine = pd.DataFrame({"u": g.u, "v": g.v, "len": g.length_m,
                         "kmh": road_speeds(g, profile)})
    ref = ref.sort_values(["u", "v", "len"]).reset_index(drop=True)
    mine = mine.sort_values(["u", "v", "len"]).reset_index(drop=True)
    assert len(mine) == len(ref) > 40_000
    assert (ref["kmh"] != ref["kmh"].iloc[0]).any()  # tagged and class speeds both occur
    np.testing.assert_allclose(mine["kmh"], ref["kmh"])


def test_simplification_matches_osmnx_on_one_way_rings_and_parallel_ways(tmp_path) -> None:
    """A hand-made file with the awkward cases: a lone roundabout (dropped), a reversed
    one-way, a closed two-way loop hanging off a junction, two ways over the same nodes."""
    ways = [
        (1, [1, 2, 3, 4], {"highway": "primary", "name": "A"}),
        (2, [4, 5, 6], {"highway": "residential", "oneway": "-1"}),
        (3, [6, 7, 8, 9, 6], {"highway": "tertiary"}),  # loop hanging off node 6
        (4, [11, 12, 13, 11], {"highway": "residential", "junction": "roundabout"}),
        (5, [2, 21, 22, 23], {"highway": "service", "oneway": "yes"}),
        (6, [2, 21, 22, 23], {"highway": "service"}),  # same nodes, two-way
        (7, [30, 31, 32, 33, 34], {"highway": "secondary", "maxspeed": "60"}),
        (8, [34, 35, 36], {"highway": "secondary", "maxspeed": "50"}),
        (9, [40, 41, 42, 43, 40], {"highway": "unclassified"}),  # a lone two-way ring
    ]
    used = sorted({r for _, refs, _ in ways for r in refs})
    nodes = {i: (14.0 + 0.001 * (i % 10), 35.0 + 0.001 * (i // 10)) for i in used}
    xml = tmp_path / "small.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for i, (lon, lat) in nodes.items():
            writer.add_node(osmium.osm.mutable.Node(id=i, location=(lon, lat)))
        for wid, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    old = settings.cache_folder
    settings.cache_folder = tmp_path / "cache"
    try:
        g = build_way_graph(scan_osm_file(xml).ways[Mode.ROAD])
    finally:
        settings.cache_folder = old
    G = _osmnx_graph(xml)
    assert set(G.nodes) == set(g.node_id.tolist())
    assert 11 not in set(g.node_id.tolist())  # the lone rings are gone
    ref = _osmnx_edges(G)
    mine = pd.DataFrame({"u": g.u, "v": g.v, "length": g.length_m,
                         "highway": g.text("highway"), "maxspeed": g.text("maxspeed")})
    mine = mine.sort_values(["u", "v", "length"]).reset_index(drop=True)
    assert (mine[["u", "v"]].to_numpy() == ref[["u", "v"]].to_numpy()).all()
    np.testing.assert_allclose(mine["length"], ref["length"], rtol=1e-7)
    assert mine["highway"].tolist() == ref["highway"].tolist()
    assert mine["maxspeed"].fillna("").tolist() == ref["maxspeed"].fillna("").tolist()


def test_the_cache_follows_the_file_content_not_its_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    path = tmp_path / "region.osm.pbf"
    shutil.copyfile(osm_file("kiel"), path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        kiel = extract_layer("road", path)
        shutil.copyfile(osm_file("baltimore"), path)  # same name, other content
        changed = extract_layer("road", path)
        baltimore = extract_layer("road", osm_file("baltimore"))
    assert sorted(changed.nodes.index) == sorted(baltimore.nodes.index)
    assert not set(changed.nodes.index) & set(kiel.nodes.index)
    # two contents, two cache entries; the Baltimore copy and the original share one
    assert len(list((tmp_path / "cache" / "osm").iterdir())) == 2


def test_a_truncated_extract_exits_2_naming_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    data = osm_file("malta").read_bytes()
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(cli, ["network", "--pbf", str(bad), "--modes", "road",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "cut.osm.pbf" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
