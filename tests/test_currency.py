"""The money unit: the mode profiles' currency names every money field of a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pytest

from hubopt._errors import CaseValidationError
from hubopt.profiles import PROFILE_FOLDER, load_profiles


def _profiles(tmp_path: Path, currency: dict[str, str]) -> Path:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILE_FOLDER, folder)
    for name, code in currency.items():
        path = folder / f"{name}.toml"
        text = path.read_text(encoding="utf-8")
        assert 'currency = "EUR"' in text
        path.write_text(text.replace('currency = "EUR"', f'currency = "{code}"'),
                        encoding="utf-8")
    return folder


ALL = ("road", "rail", "sea", "air", "transfers")


def test_built_in_profiles_state_euros() -> None:
    assert load_profiles().currency == "EUR"


def test_profiles_in_another_currency_say_so(tmp_path: Path) -> None:
    assert load_profiles(_profiles(tmp_path, dict.fromkeys(ALL, "USD"))).currency == "USD"


def test_mixed_or_malformed_currencies_are_refused(tmp_path: Path) -> None:
    folder = _profiles(tmp_path, {"road": "USD", "air": "dollars"})
    with pytest.raises(CaseValidationError) as err:
        load_profiles(folder)
    text = str(err.value)
    assert "air.toml: currency: expected an ISO 4217 code" in text
    assert "expected one currency in every profile; got EUR in" in text
    assert "USD in road.toml" in text


@pytest.mark.slow
def test_a_run_names_its_money_fields_in_the_profiles_currency(tmp_path: Path) -> None:
    from hubopt.case import load_case
    from hubopt.outputs import write_outputs
    from hubopt.pipeline import run_case

    folder = _profiles(tmp_path, dict.fromkeys(ALL, "USD"))
    case = load_case("default", overrides=[f'network.profiles="{folder}"'])
    out = write_outputs(run_case(case), tmp_path / "out")
    hubs = gpd.read_file(out / "hubs.geojson")
    alloc = gpd.read_file(out / "allocations.geojson")
    assert "fixed_cost_usd_per_year" in hubs.columns
    assert {"unit_cost_out_usd_per_t", "cost_usd_per_year"} <= set(alloc.columns)
    road = gpd.read_file(out / "network.gpkg", layer="road")
    assert "cost_usd_per_t" in road.columns
    every = [*hubs.columns, *alloc.columns, *road.columns,
             *gpd.read_file(out / "routes.geojson").columns]
    assert not [c for c in every if "eur" in c.lower()]
    score = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))
    assert score["currency"] == "USD"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "USD/t" in page
    assert "EUR/" not in page
