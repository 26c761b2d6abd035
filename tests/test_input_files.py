"""Input point files: encodings, CSV dialects, decimal comma, GeoJSON/GeoPackage CRS.

Every file is written here as a user's tool would write it (Excel's semicolon CSV with a
decimal comma, a tab export, a Windows cp1251 or Latin-1 file, a QGIS layer in a projected
CRS) and read back; the parsed coordinates are checked against the cities' known WGS84
coordinates that the test started from.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from hubopt._errors import CaseValidationError
from hubopt.candidates import candidates_from_file
from hubopt.cli import cli as main
from hubopt.demand import demand_from_file

# name, lon, lat (WGS84), population
CITIES = [
    ("Санкт-Петербург", 30.3141, 59.9386, 5384342),
    ("Москва", 37.6173, 55.7558, 13010112),
    ("Ålesund", 6.1549, 62.4722, 67114),
    ("Málaga", -4.4214, 36.7213, 579076),
]


def _by_name(points: object) -> dict[str, tuple[float, float, float]]:
    return {n: (float(x), float(y), float(w)) for n, x, y, w in
            zip(points.names, points.lon, points.lat, points.weight, strict=True)}  # type: ignore[attr-defined]


def _assert_cities(points: object, cities: list[tuple[str, float, float, int]]) -> None:
    got = _by_name(points)
    assert sorted(got) == sorted(c[0] for c in cities)
    for name, lon, lat, pop in cities:
        assert got[name][0] == pytest.approx(lon, abs=1e-6)
        assert got[name][1] == pytest.approx(lat, abs=1e-6)
        assert got[name][2] == pytest.approx(pop)


def _csv(cities: list[tuple[str, float, float, int]], sep: str, decimal: str) -> str:
    lines = [sep.join(("name", "population", "lon", "lat"))]
    for name, lon, lat, pop in cities:
        lines.append(sep.join((name, str(pop), str(lon).replace(".", decimal),
                               str(lat).replace(".", decimal))))
    return "\r\n".join(lines) + "\r\n"


def test_semicolon_csv_with_decimal_comma_reads_the_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(_csv(CITIES, ";", ","), encoding="utf-8")
    assert "59,9386" in path.read_text(encoding="utf-8")
    _assert_cities(demand_from_file(path), CITIES)


def test_tab_separated_file_with_bom_reads_the_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(_csv(CITIES, "\t", ".").encode("utf-8-sig"))
    _assert_cities(demand_from_file(path), CITIES)


def test_comma_csv_with_quoted_names_still_reads(tmp_path: Path) -> None:
    cities = [("Málaga, Spain", -4.4214, 36.7213, 579076), ("Ålesund", 6.1549, 62.4722, 67114)]
    path = tmp_path / "points.csv"
    lines = ["name,population,lon,lat"] + [f'"{n}",{p},{x},{y}' for n, x, y, p in cities]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _assert_cities(demand_from_file(path), cities)


@pytest.mark.parametrize(("encoding", "cities", "named"), [
    ("cp1251", CITIES[:2], "cp1251 (Windows Cyrillic)"),
    ("latin-1", CITIES[2:], "Latin-1"),
])
def test_file_not_in_utf8_is_refused_naming_its_encoding(
    tmp_path: Path, encoding: str, cities: list[tuple[str, float, float, int]], named: str
) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(_csv(cities, ";", ",").encode(encoding))
    with pytest.raises(CaseValidationError) as err:
        demand_from_file(path)
    text = str(err.value)
    assert str(path) in text
    assert "is not UTF-8" in text
    assert named in text
    assert "save it as UTF-8" in text
    # the same names saved as UTF-8 read back unchanged
    path.write_text(_csv(cities, ";", ","), encoding="utf-8")
    _assert_cities(demand_from_file(path), cities)


def _frame(crs: str) -> gpd.GeoDataFrame:
    wgs = gpd.GeoDataFrame(
        {"name": [c[0] for c in CITIES], "population": [c[3] for c in CITIES]},
        geometry=[Point(c[1], c[2]) for c in CITIES], crs="EPSG:4326")
    return wgs.to_crs(crs)


def test_geojson_in_web_mercator_is_reprojected_to_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    frame = _frame("EPSG:3857")
    frame.to_file(path, driver="GeoJSON")
    assert "3857" in path.read_text(encoding="utf-8")
    assert abs(frame.geometry.x).max() > 1e6  # really written in metres
    _assert_cities(demand_from_file(path), CITIES)


def test_geopackage_in_laea_europe_is_reprojected_to_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "points.gpkg"
    frame = _frame("EPSG:3035")
    frame.to_file(path, driver="GPKG")
    assert gpd.read_file(path).crs.to_epsg() == 3035
    _assert_cities(demand_from_file(path), CITIES)
    sites = candidates_from_file(path)
    assert np.allclose(sorted(sites.lat), sorted(c[2] for c in CITIES), atol=1e-6)


def test_geojson_with_an_unknown_crs_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
        '{"name": "urn:ogc:def:crs:EPSG::999999"}}, "features": [{"type": "Feature", '
        '"properties": {"name": "a", "population": 1}, "geometry": {"type": "Point", '
        '"coordinates": [1, 2]}}]}', encoding="utf-8")
    with pytest.raises(CaseValidationError, match="EPSG::999999"):
        demand_from_file(path)


def test_every_problem_of_a_csv_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("name;population;lon;lat\nA;10;30,3;59,9\nB;10;30,3\nC;x;30,3;95,0\n",
                    encoding="utf-8")
    with pytest.raises(CaseValidationError) as err:
        demand_from_file(path)
    text = str(err.value)
    assert "row 3: expected 4 fields separated by semicolon; got 3" in text
    assert "row 4.population: expected a weight >= 0; got 'x'" in text
    assert "row 4.lat: expected a latitude in [-90, 90]; got '95.0'" in text


def test_matrix_cli_exits_2_on_a_cp1251_file_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(_csv(CITIES[:2], ";", ",").encode("cp1251"))
    out = tmp_path / "od.csv"
    res = CliRunner().invoke(main, ["matrix", str(path), "--world", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "cp1251 (Windows Cyrillic)" in res.output
    assert str(path) in res.output
    assert "Traceback" not in res.output
    assert "at least one" not in res.output
    assert not out.exists()


def test_flows_file_in_tab_separated_cp1251_is_refused_and_utf8_read(tmp_path: Path) -> None:
    from hubopt.flows import flows_from_file

    names = ("Санкт-Петербург", "Москва")
    text = "origin\tdestination\tflow\nСанкт-Петербург\tМосква\t12,5\nМосква\tСанкт-Петербург\t7\n"
    path = tmp_path / "flows.csv"
    path.write_bytes(text.encode("cp1251"))
    with pytest.raises(CaseValidationError, match=r"cp1251 \(Windows Cyrillic\)"):
        flows_from_file(path, names)
    path.write_text(text, encoding="utf-8")
    w = flows_from_file(path, names)
    assert w[0, 1] == pytest.approx(12.5)
    assert w[1, 0] == pytest.approx(7.0)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_geopackage_without_a_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "points.gpkg"
    frame = _frame("EPSG:3035").set_crs(None, allow_override=True)
    frame.to_file(path, driver="GPKG")
    with pytest.raises(CaseValidationError, match="crs: expected the layer to have a coordinate"):
        demand_from_file(path)
