"""Per-site data in the candidates file: fixed costs, capacities, existing and excluded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import CaseValidationError
from hubopt.candidates import candidates_from_file
from hubopt.pipeline import validate_case

DATA = Path(__file__).parent / "broken_cases" / "data"

SITES = """name,lon,lat,modes,fixed_cost,capacity,existing,excluded
Vuosaari,25.19,60.21,road;rail;sea,100,500,yes,
Muuga,24.95,59.50,road;rail;sea,80,400,,no
Kotka,26.95,60.46,road;rail;sea,60,300,0,true
Turku,22.22,60.43,road;rail;sea,90,350,false,
"""


def _case(tmp_path: Path, sites: str, extra: str = "") -> Path:
    (tmp_path / "sites.csv").write_text(sites, encoding="utf-8")
    shutil.copy(DATA / "points.csv", tmp_path / "points.csv")
    path = tmp_path / "case.toml"
    path.write_text(f"""
[case]
name = "flags"
[region]
bbox = [21.5, 58.3, 27.5, 61.0]
[network]
source = "world"
modes = ["road", "rail", "sea"]
[demand]
source = "file"
file = "points.csv"
[flows]
source = "gravity"
total = 1000.0
[candidates]
source = "file"
file = "sites.csv"
{extra}
[model]
problem = "csahlp"
[scorecard]
default_targets = false
""", encoding="utf-8")
    return path


def test_site_flags_and_values_are_read_per_site(tmp_path: Path) -> None:
    inputs = validate_case(_case(tmp_path, SITES))
    cands = inputs.candidates
    assert cands is not None
    assert cands.names == ("Vuosaari", "Muuga", "Kotka", "Turku")
    assert cands.existing == (0,)
    assert cands.excluded == (2,)
    np.testing.assert_array_equal(cands.fixed_cost, [100, 80, 60, 90])
    np.testing.assert_array_equal(cands.capacity, [500, 400, 300, 350])
    assert cands.allowed == (0, 1, 3)


def test_case_lists_add_to_the_files_flags(tmp_path: Path) -> None:
    inputs = validate_case(_case(tmp_path, SITES, 'existing = ["Turku"]'))
    assert inputs.candidates is not None
    assert inputs.candidates.existing == (0, 3)


def test_a_site_both_existing_and_excluded_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CaseValidationError, match=r"candidates\.excluded"):
        validate_case(_case(tmp_path, SITES, 'excluded = ["Vuosaari"]'))


def test_bad_flags_name_the_row_and_column(tmp_path: Path) -> None:
    bad = SITES.replace("Muuga,24.95,59.50,road;rail;sea,80,400,,no",
                        "Muuga,24.95,59.50,road;rail;sea,80,400,maybe,no")
    bad = bad.replace("Turku,22.22,60.43,road;rail;sea,90,350,false,",
                      "Turku,22.22,60.43,road;rail;sea,90,350,yes,yes")
    (tmp_path / "s.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(CaseValidationError) as err:
        candidates_from_file(tmp_path / "s.csv")
    text = str(err.value)
    assert "row 3.existing: expected true/false, yes/no, 1/0 or empty; got 'maybe'" in text
    assert "no site flagged both existing and excluded" in text
    assert "Turku" in text


def test_missing_fixed_costs_in_file_and_case_name_both_places(tmp_path: Path) -> None:
    sites = "\n".join(",".join(line.split(",")[:4]) for line in SITES.splitlines()) + "\n"
    with pytest.raises(CaseValidationError) as err:
        validate_case(_case(tmp_path, sites))
    text = str(err.value)
    assert "model.fixed_cost: expected a hub opening cost for csahlp" in text
    assert "'fixed_cost' column in the candidates file" in text
    assert "model.capacity" in text


@pytest.mark.slow
def test_run_opens_existing_sites_closes_excluded_ones_and_pays_each_sites_cost(
        tmp_path: Path) -> None:
    from hubopt.pipeline import run_case

    r = run_case(_case(tmp_path, SITES))
    names = [r.candidates.names[k] for k in r.solved.hubs]
    assert "Vuosaari" in names
    assert "Kotka" not in names
    fixed = {"Vuosaari": 100.0, "Muuga": 80.0, "Kotka": 60.0, "Turku": 90.0}
    assert r.fixed_cost_total == pytest.approx(sum(fixed[n] for n in names))
    assert r.solved.objective == pytest.approx(r.transport_cost + r.fixed_cost_total, rel=1e-9)
    load = dict.fromkeys(r.solved.hubs, 0.0)
    assert r.solved.single is not None
    for i, k in enumerate(r.solved.single):
        load[int(k)] += float(r.flows[i].sum())
    caps = {"Vuosaari": 500.0, "Muuga": 400.0, "Kotka": 300.0, "Turku": 350.0}
    for k, v in load.items():
        assert v <= caps[r.candidates.names[k]] + 1e-6


def test_a_value_missing_from_one_geojson_feature_is_named_not_shifted(tmp_path: Path) -> None:
    import json

    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 60.0]},
              "properties": {"name": n, "lon": x, "lat": 60.0, **extra}}
             for n, x, extra in (("A", 24.0, {"fixed_cost": 5}), ("B", 25.0, {}),
                                 ("C", 26.0, {"fixed_cost": 7}))]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                    encoding="utf-8")
    with pytest.raises(CaseValidationError, match=r"features\[1\]\.fixed_cost"):
        candidates_from_file(path)
