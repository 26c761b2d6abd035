"""``hubopt network``: output files, per-mode summary, clear errors without tracebacks."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from test_network_helpers import osm_file

from hubopt.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, ["network", *args])


def test_network_command_writes_the_geopackage_and_prints_a_summary(tmp_path) -> None:
    result = _run("--pbf", str(osm_file("kiel")), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    gpkg = tmp_path / "network.gpkg"
    assert [name for name, _ in pyogrio.list_layers(gpkg)] == [
        "road", "rail", "sea", "air", "transfers", "terminals"]
    lines = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    for mode in ("road", "rail", "sea", "air"):
        n_edges = len(gpd.read_file(gpkg, layer=mode))
        assert int(lines[mode][2]) == n_edges  # nodes, edges, terminals, transfers, km
    assert "© OpenStreetMap contributors (ODbL)" in result.output


def test_empty_mode_is_reported_in_the_summary(tmp_path) -> None:
    result = _run("--bbox", "-30,40,-29,41", "--world", "--modes", "air,sea",
                  "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "empty: nothing in the region" in result.output
    assert len(gpd.read_file(tmp_path / "network.gpkg", layer="air")) == 0


def test_world_layers_over_a_bbox(tmp_path) -> None:
    result = _run("--bbox", "22,59,30.5,61", "--world", "--out", str(tmp_path), "--geojson")
    assert result.exit_code == 0, result.output
    assert len(gpd.read_file(tmp_path / "network.gpkg", layer="rail")) > 100
    assert (tmp_path / "geojson" / "sea.geojson").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--bbox", "10,50,2,51", "--world"], "west (10.0) > east (2.0)"),
    (["--pbf", "/nonexistent/file.osm.pbf"], "not found"),
    (["--pbf", "KIEL", "--modes", "road,boat"], "unknown mode 'boat'"),
    (["--pbf", "KIEL", "--osm", "x.osm"], "exactly one of"),
    (["--bbox", "1,2,3"], "four numbers"),
    (["--pbf", "KIEL", "--world"], "--world needs --bbox"),
])
def test_bad_input_gives_a_clear_error_and_no_traceback(tmp_path, args, message) -> None:
    args = [str(osm_file("kiel")) if a == "KIEL" else a for a in args]
    result = _run(*args, "--out", str(tmp_path))
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                      SystemExit)


def test_corrupt_file_gives_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00\x01garbage" * 500)
    result = _run("--pbf", str(bad), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "bad.osm.pbf" in result.output
    assert "cannot read" in result.output


def test_existing_output_needs_force(tmp_path) -> None:
    assert _run("--pbf", str(osm_file("kiel")), "--modes", "road", "--out",
                str(tmp_path)).exit_code == 0
    again = _run("--pbf", str(osm_file("kiel")), "--modes", "road", "--out", str(tmp_path))
    assert again.exit_code == 2
    assert "--force" in again.output


def test_osm_xml_input_gives_the_same_road_layer_as_the_pbf(tmp_path) -> None:
    import osmium

    xml = tmp_path / "kiel.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(osm_file("kiel"))):
            writer.add(obj)
    a = _run("--osm", str(xml), "--modes", "road", "--out", str(tmp_path / "a"))
    b = _run("--pbf", str(osm_file("kiel")), "--modes", "road", "--out", str(tmp_path / "b"))
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    ra = gpd.read_file(tmp_path / "a" / "network.gpkg", layer="road")
    rb = gpd.read_file(tmp_path / "b" / "network.gpkg", layer="road")
    assert len(ra) == len(rb) > 500


def test_unknown_file_kind_is_rejected(tmp_path) -> None:
    from hubopt._errors import InputFormatError
    from hubopt.layers import Source

    other = tmp_path / "roads.shp"
    other.write_bytes(b"")
    with pytest.raises(InputFormatError, match=r"\.osm\.pbf or \.osm"):
        Source.infer(other)


@pytest.mark.online
def test_place_name_is_fetched_online(tmp_path) -> None:
    result = _run("--place", "Holtenau, Kiel, Germany", "--modes", "road,air",
                  "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert len(gpd.read_file(tmp_path / "network.gpkg", layer="road")) > 10
