"""GeoPackage and GeoJSON export, read back with geopandas/pyogrio."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
from test_network_helpers import network_of

from hubopt._errors import OutputExistsError
from hubopt.export import (
    LAYER_NAMES,
    network_to_gdfs,
    save_network_geojson,
    save_network_geopackage,
)
from hubopt.settings import OSM_ATTRIBUTION


def test_geopackage_has_one_layer_per_mode_plus_transfers_and_terminals(tmp_path) -> None:
    net = network_of("kiel")
    path = save_network_geopackage(net, tmp_path / "network.gpkg")
    layers = {name: kind for name, kind in pyogrio.list_layers(path) if kind is not None}
    assert list(layers) == list(LAYER_NAMES)
    assert layers["terminals"] == "Point"
    frames = network_to_gdfs(net)
    for name in LAYER_NAMES:
        back = gpd.read_file(path, layer=name)
        assert len(back) == len(frames[name])
        assert back.crs.to_epsg() == 4326
    road = gpd.read_file(path, layer="road")
    assert road["length_m"].sum() == pytest.approx(net.layers["road"].edges["length_m"].sum())
    tr = gpd.read_file(path, layer="transfers")
    assert len(tr) == len(net.transfers)
    assert set(tr["u_key"].str.split(":").str[0]) <= {"road", "rail", "sea", "air"}
    info = pyogrio.read_info(path, layer="road")
    assert OSM_ATTRIBUTION in info["dataset_metadata"]["attribution"]
    assert OSM_ATTRIBUTION in info["layer_metadata"]["attribution"]


def test_geopackage_is_not_overwritten_unless_asked(tmp_path) -> None:
    net = network_of("kiel")
    path = save_network_geopackage(net, tmp_path / "n.gpkg")
    with pytest.raises(OutputExistsError):
        save_network_geopackage(net, path, overwrite=False)


def test_geojson_layers_are_rfc7946_with_flat_properties(tmp_path) -> None:
    net = network_of("kiel")
    paths = save_network_geojson(net, tmp_path / "gj")
    assert set(paths) == set(LAYER_NAMES)
    with paths["sea"].open(encoding="utf-8") as fh:
        doc = json.load(fh)
    assert OSM_ATTRIBUTION in doc["description"]
    assert "crs" not in doc  # RFC 7946: always WGS 84 lon/lat, no crs member
    assert len(doc["features"]) == len(net.layers["sea"].edges)
    for feat in doc["features"]:
        assert all(not isinstance(v, dict | list) for v in feat["properties"].values())
        lon, lat = feat["geometry"]["coordinates"][0]
        assert -180 <= lon <= 180
        assert -90 <= lat <= 90
    names = {f["properties"]["name"] for f in doc["features"]}
    assert "Kiel – Oslo" in names
    term = gpd.read_file(paths["terminals"])
    assert len(term) == len(net.terminals)


def test_an_empty_mode_is_written_as_an_empty_layer(tmp_path) -> None:
    net = network_of("baltimore")
    from hubopt.network import assemble_network

    # air not requested: the GeoPackage still has an (empty) air layer
    sub = assemble_network({m: net.layers[m] for m in net.layers if m.value != "air"})
    path = save_network_geopackage(sub, tmp_path / "sub.gpkg")
    assert len(gpd.read_file(path, layer="air")) == 0
    assert len(gpd.read_file(path, layer="rail")) == len(net.layers["rail"].edges)


def test_geopackage_styles_are_stored_when_asked(tmp_path) -> None:
    import sqlite3
    from contextlib import closing

    net = network_of("kiel")
    plain = save_network_geopackage(net, tmp_path / "plain.gpkg")
    styled = save_network_geopackage(net, tmp_path / "styled.gpkg", styles=True)
    assert [n for n, _ in pyogrio.list_layers(plain)] == list(LAYER_NAMES)
    with closing(sqlite3.connect(styled)) as db:
        names = {r[0] for r in db.execute("SELECT f_table_name FROM layer_styles "
                                          "WHERE useAsDefault")}
        desc = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
    assert names == set(LAYER_NAMES)
    assert all(desc[n] for n in LAYER_NAMES)
    road = gpd.read_file(styled, layer="road")
    assert {"cost_eur_per_t", "co2_kg_per_t", "length_m"} <= set(road.columns)
