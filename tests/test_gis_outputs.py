"""The GIS outputs as an analyst opens them: units in the field names, booleans typed as
booleans, one site id across the files, valid geometries, layer descriptions, field units
and QGIS default styles in network.gpkg, read back with geopandas/pyogrio, sqlite3 and
(where the system Python has it) PyQGIS."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from hubopt.export import LAYER_NAMES, network_to_gdfs, save_network_geopackage
from hubopt.features import Units, feature_collection
from hubopt.outputs import write_outputs
from hubopt.pipeline import RunResult, run_case

GEOJSON = ("hubs", "allocations", "routes")
RUN_LAYERS = (*LAYER_NAMES, "candidates", "allocations", "routes", "hubs")
UNIT_SUFFIXES = ("_m", "_km", "_h", "_min", "_kmh", "_t_per_year", "_eur_per_t",
                 "_eur_per_year", "_kg_per_t")
UNITLESS = {"u", "v", "node", "node_id", "leg", "seq", "n_modes", "demand_weight"}
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """The default case, run once for this module, and its output folder."""
    r = run_case(None)
    return r, write_outputs(r, tmp_path_factory.mktemp("gis") / "out")


@pytest.fixture(scope="module")
def out(run_out: tuple[RunResult, Path]) -> Path:
    """The default case's output folder."""
    return run_out[1]


def _frames(out: Path) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of network.gpkg and every GeoJSON file (keys ``<name>.geojson``)."""
    gpkg = out / "network.gpkg"
    frames = {name: gpd.read_file(gpkg, layer=name) for name in RUN_LAYERS}
    frames.update({f"{n}.geojson": gpd.read_file(out / f"{n}.geojson") for n in GEOJSON})
    return frames


def test_network_gpkg_has_the_run_layers(out: Path) -> None:
    kinds = dict(pyogrio.list_layers(out / "network.gpkg"))
    assert [n for n, k in kinds.items() if k is not None] == list(RUN_LAYERS)
    assert kinds["hubs"] == "Point"
    assert kinds["routes"] == "LineString"


def test_every_numeric_field_names_its_unit(out: Path) -> None:
    for name, frame in _frames(out).items():
        for col in frame.columns:
            if col == "geometry" or frame[col].dtype.kind not in "if":
                continue
            assert col.endswith(("_id", *UNIT_SUFFIXES)) or col in UNITLESS, (name, col)
    alloc = gpd.read_file(out / "allocations.geojson")
    for col in ("flow_t_per_year", "flow_out_t_per_year", "unit_cost_out_eur_per_t",
                "cost_eur_per_year"):
        assert col in alloc.columns
    road = gpd.read_file(out / "network.gpkg", layer="road")
    assert {"length_m", "time_h", "cost_eur_per_t", "co2_kg_per_t"} <= set(road.columns)
    assert "cost" not in road.columns


def test_field_units_are_listed_in_the_geopackage(out: Path) -> None:
    with closing(sqlite3.connect(out / "network.gpkg")) as db:
        rows = db.execute("SELECT table_name, column_name, description "
                          "FROM gpkg_data_columns").fetchall()
        ext = {r[0] for r in db.execute("SELECT table_name FROM gpkg_extensions "
                                        "WHERE extension_name = 'gpkg_schema'")}
    units = {(t, c): d for t, c, d in rows}
    assert units[("routes", "flow_t_per_year")] == "unit: t/year"
    assert units[("allocations", "cost_eur_per_year")] == "unit: EUR/year"
    assert units[("road", "cost_eur_per_t")] == "unit: EUR/t"
    assert units[("hubs", "site_id")] == "no unit"
    assert "gpkg_data_columns" in ext
    for name in RUN_LAYERS:
        fields = pyogrio.read_info(out / "network.gpkg", layer=name)["fields"]
        assert all((name, f) in units for f in fields), name
        meta = pyogrio.read_info(out / "network.gpkg", layer=name)["layer_metadata"]
        assert all(f"unit_{f}" in meta for f in fields), name


def test_flags_are_booleans_in_every_file(out: Path) -> None:
    expect = {"hubs.geojson": ("existing", "full_four_mode"), "routes.geojson": ("connector",),
              "hubs": ("existing", "full_four_mode"), "routes": ("connector",),
              "candidates": ("open", "existing", "excluded")}
    frames = _frames(out)
    for name, cols in expect.items():
        for col in cols:
            assert frames[name][col].dtype == bool, (name, col)
    info = pyogrio.read_info(out / "network.gpkg", layer="candidates")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["open"] == types["existing"] == types["excluded"] == "bool"


def test_one_site_id_joins_hubs_candidates_allocations_and_routes(
        run_out: tuple[RunResult, Path]) -> None:
    r, out = run_out
    frames = _frames(out)
    sites = frames["candidates"]
    assert list(sites["site_id"]) == list(range(len(r.candidates)))
    name_of = dict(zip(sites["site_id"], sites["name"], strict=True))
    hubs = frames["hubs.geojson"]
    assert sorted(hubs["site_id"]) == sorted(int(k) for k in r.solved.hubs)
    assert set(hubs["site_id"]) == set(sites.loc[sites["open"], "site_id"])
    assert all(name_of[k] == n for k, n in zip(hubs["site_id"], hubs["name"], strict=True))
    for name in ("allocations.geojson", "routes.geojson", "allocations", "routes"):
        frame = frames[name]
        assert frame["site_id"].dtype.kind == "i", name
        assert set(frame["site_id"]) <= set(hubs["site_id"]), name
    alloc = frames["allocations.geojson"]
    for _, row in alloc.iterrows():
        assert name_of[row["site_id"]] == row["to_name"]
        if row["kind"] == "inter_hub":
            assert name_of[int(row["from_site_id"])] == row["from_name"]
        else:
            assert r.demand.names[int(row["demand_id"])] == row["from_name"]
    routes = frames["routes.geojson"]
    for _, row in routes.iterrows():
        hub = row["from_name"] if row["leg_kind"] == "distribute" else row["to_name"]
        assert name_of[row["site_id"]] == hub
    gj, gp = frames["hubs.geojson"], frames["hubs"]
    assert list(gj["site_id"]) == list(gp["site_id"])


def test_every_geometry_is_valid_and_every_line_has_length(out: Path) -> None:
    for name, frame in _frames(out).items():
        geoms = frame.geometry.dropna().to_numpy()
        assert shapely.is_valid(geoms).all(), name
        assert not shapely.is_empty(geoms).any(), name
        lines = geoms[np.isin(shapely.get_type_id(geoms), (1, 5))]
        assert (shapely.length(lines) > 0).all(), name
        assert frame.crs.to_epsg() == 4326, name


def test_layers_have_descriptions(out: Path) -> None:
    with closing(sqlite3.connect(out / "network.gpkg")) as db:
        desc = dict(db.execute("SELECT table_name, description FROM gpkg_contents "
                               "WHERE data_type = 'features'"))
    assert set(desc) == set(RUN_LAYERS)
    assert all(text and text != name for name, text in desc.items())


def _styles(path: Path) -> dict[str, tuple[str, int, str]]:
    with closing(sqlite3.connect(path)) as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(layer_styles)")]
        rows = db.execute("SELECT f_table_name, styleQML, useAsDefault, f_geometry_column "
                          "FROM layer_styles").fetchall()
    assert cols == ["id", "f_table_catalog", "f_table_schema", "f_table_name",
                    "f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault",
                    "description", "owner", "ui", "update_time"]
    return {t: (q, int(d), g) for t, q, d, g in rows}


def test_qgis_styles_are_stored_for_every_layer(out: Path) -> None:
    styles = _styles(out / "network.gpkg")
    assert set(styles) == set(RUN_LAYERS)
    for _name, (qml, default, geom) in styles.items():
        assert default == 1
        assert geom == "geom"
        ElementTree.fromstring(qml.split("\n", 1)[1])  # well-formed after the doctype
    air = ElementTree.fromstring(styles["air"][0].split("\n", 1)[1])
    assert float(air.findtext("layerOpacity") or 1) < 0.5
    hubs = ElementTree.fromstring(styles["hubs"][0].split("\n", 1)[1])
    assert hubs.find(".//prop[@k='name']").get("v") == "star"  # type: ignore[union-attr]
    assert '"flow_t_per_year"' in styles["routes"][0]
    colours = {ElementTree.fromstring(styles[m][0].split("\n", 1)[1])
               .find(".//prop[@k='line_color']").get("v")  # type: ignore[union-attr]
               for m in ("road", "rail", "sea", "air", "transfers")}
    assert len(colours) == 5


def test_an_empty_layer_keeps_its_field_types(tmp_path: Path) -> None:
    from test_network_helpers import network_of

    from hubopt.network import assemble_network

    net = network_of("baltimore")
    sub = assemble_network({m: net.layers[m] for m in net.layers if m.value != "air"})
    path = save_network_geopackage(sub, tmp_path / "sub.gpkg")
    air = pyogrio.read_info(path, layer="air")
    rail = pyogrio.read_info(path, layer="rail")
    assert air["features"] == 0
    rail_types = dict(zip(rail["fields"], rail["dtypes"], strict=True))
    for f, t in zip(air["fields"], air["dtypes"], strict=True):
        assert t == rail_types[f], f
    assert dict(zip(air["fields"], air["dtypes"], strict=True))["name"] == "object"


def test_zero_length_and_invalid_lines_are_left_out_of_the_network_layers() -> None:
    from test_network_helpers import network_of

    net = network_of("kiel")
    frames = network_to_gdfs(net)
    t = net.transfers
    zero = int((shapely.length(t.geometry.to_numpy()) == 0).sum())
    assert len(frames["transfers"]) == len(t) - zero
    for name, frame in frames.items():
        geoms = frame.geometry.to_numpy()
        assert shapely.is_valid(geoms).all(), name


def test_a_degenerate_line_gets_a_null_geometry_and_keeps_its_attributes() -> None:
    line = {"type": "LineString", "coordinates": [[24.1, 60.2], [24.1, 60.2]]}
    text = feature_collection([(line, {"cost_eur_per_year": 5.0})], "x")
    doc = json.loads(text)
    assert doc["features"][0]["geometry"] is None
    assert doc["features"][0]["properties"]["cost_eur_per_year"] == 5.0
    assert text == feature_collection([(line, {"cost_eur_per_year": 5.0})], "x")


@pytest.mark.parametrize(("unit", "flow", "unit_cost", "cost"), [
    ("t/year", "t_per_year", "eur_per_t", "eur_per_year"),
    ("TEU/week", "teu_per_week", "eur_per_teu", "eur_per_week"),
    ("t", "t", "eur_per_t", "eur"),
])
def test_field_names_follow_the_cases_flow_unit(unit: str, flow: str, unit_cost: str,
                                                cost: str) -> None:
    u = Units.of(unit)
    assert (u.flow_suffix, u.unit_cost_suffix, u.cost_suffix) == (flow, unit_cost, cost)


_QGIS_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from qgis.core import QgsApplication, QgsVectorLayer
    app = QgsApplication([], False)
    app.initQgis()
    out = {}
    for key, uri in json.loads(sys.argv[1]).items():
        layer = QgsVectorLayer(uri, key, "ogr")
        info = {"valid": layer.isValid(), "crs": layer.crs().authid(),
                "count": layer.featureCount()}
        msg, ok = layer.loadDefaultStyle()
        info["default_style"] = bool(ok)
        renderer = layer.renderer()
        info["renderer"] = renderer.type()
        info["opacity"] = layer.opacity()
        if renderer.type() == "singleSymbol":
            symbol = renderer.symbol()
            info["color"] = symbol.color().name()
            info["layer_type"] = symbol.symbolLayer(0).layerType()
            if symbol.type() == 0:
                info["shape"] = int(symbol.symbolLayer(0).shape())
                info["size"] = symbol.size()
        elif renderer.type() == "categorizedSymbol":
            cats = renderer.categories()
            symbols = [c.symbol() for c in cats]
            info["categories"] = {c.value(): s.color().name() for c, s in zip(cats, symbols)}
            props = symbols[0].symbolLayer(0).dataDefinedProperties()
            info["width"] = props.property(
                symbols[0].symbolLayer(0).PropertyStrokeWidth).expressionString()
        out[key] = info
    print("RESULT " + json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # skip the teardown, which crashes in some PyQGIS builds
""")


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).is_file():
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          check=False, timeout=120)
    return done.returncode == 0


def test_qgis_opens_every_layer_styled(out: Path) -> None:
    from hubopt.qgis_styles import HUB_COLOR, MODE_COLORS

    if not _has_qgis():
        pytest.skip(f"{SYSTEM_PYTHON} cannot import qgis.core (apt-get install python3-qgis)")
    gpkg = out / "network.gpkg"
    uris = {name: f"{gpkg}|layername={name}" for name in RUN_LAYERS}
    uris.update({f"{n}.geojson": str(out / f"{n}.geojson") for n in GEOJSON})
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_RUNTIME_DIR": str(out.parent / "xdg")}
    (out.parent / "xdg").mkdir(mode=0o700, exist_ok=True)
    done = subprocess.run([SYSTEM_PYTHON, "-c", _QGIS_SCRIPT, json.dumps(uris)],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, done.stdout + done.stderr
    got: dict[str, Any] = json.loads(lines[-1][len("RESULT "):])
    frames = _frames(out)
    for key, info in got.items():
        assert info["valid"], key
        assert info["crs"] == "EPSG:4326", key
        assert info["count"] == len(frames[key]), key
    for name in RUN_LAYERS:
        assert got[name]["default_style"], name
    for layer, mode in (("road", "road"), ("rail", "rail"), ("sea", "sea"), ("air", "air"),
                        ("transfers", "transfer")):
        assert got[layer]["renderer"] == "singleSymbol"
        assert got[layer]["color"] == MODE_COLORS[mode]
    assert got["air"]["opacity"] < 0.5
    hubs = got["hubs"]
    assert (hubs["renderer"], hubs["color"], hubs["layer_type"]) == (
        "singleSymbol", HUB_COLOR, "SimpleMarker")
    assert hubs["size"] >= 6
    routes = got["routes"]
    assert routes["renderer"] == "categorizedSymbol"
    assert routes["categories"]["sea"] == MODE_COLORS["sea"]
    assert "flow_t_per_year" in routes["width"]
