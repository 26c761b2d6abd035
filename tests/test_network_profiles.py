"""Built-in mode profiles (hubopt/data/profiles/*.toml): loaded, complete, every default sourced."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

import hubopt
from hubopt._errors import CaseValidationError
from hubopt.layers import Mode
from hubopt.profiles import PROFILE_FOLDER, load_profiles


def test_default_profiles_cover_every_mode_and_pair_with_sources() -> None:
    prof = load_profiles()
    assert set(prof.modes) == set(Mode)
    for mode in Mode:
        p = prof[mode]
        with (PROFILE_FOLDER / f"{mode.value}.toml").open("rb") as fh:
            raw = tomllib.load(fh)
        assert set(raw["defaults"]) <= set(p.sources)
        assert all(len(text) > 20 for text in p.sources.values())
        assert p.speed_kmh > 0
    for a in Mode:
        for b in Mode:
            if a is not b:
                rule = prof.transfer(a, b)
                assert rule is prof.transfer(b, a)
                assert rule.world_radius_m >= rule.radius_m > 0


def test_profile_problems_are_all_reported_at_once(tmp_path) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILE_FOLDER, folder)
    road = folder / "road.toml"
    text = road.read_text(encoding="utf-8")
    text = text.replace('cost_per_km = "Assumption', 'no_longer_cost = "Assumption')
    text = text.replace("speed_kmh = 50.0 ", 'speed_kmh = "fast" ')
    road.write_text(text, encoding="utf-8")
    (folder / "air.toml").unlink()
    with pytest.raises(CaseValidationError) as info:
        load_profiles(folder)
    problems = "\n".join(info.value.problems)
    assert "air.toml: file not found" in problems
    assert "road.toml: [sources] must state the source of default 'cost_per_km'" in problems
    assert "road.toml: [defaults] speed_kmh must be a number >= 0, got 'fast'" in problems
    assert len(info.value.problems) >= 3


def test_builtin_profiles_ship_inside_the_package() -> None:
    package = Path(hubopt.__file__).resolve().parent
    assert package / "data" / "profiles" == PROFILE_FOLDER
    names = {p.name for p in PROFILE_FOLDER.glob("*.toml")}
    assert names == {f"{m.value}.toml" for m in Mode} | {"transfers.toml"}


def test_town_size_below_the_smallest_shipped_city_set_is_refused(tmp_path) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILE_FOLDER, folder)
    road = folder / "road.toml"
    text = road.read_text(encoding="utf-8")
    assert "world_town_population = 15000" in text
    road.write_text(text.replace("world_town_population = 15000",
                                 "world_town_population = 2000"), encoding="utf-8")
    with pytest.raises(CaseValidationError) as info:
        load_profiles(folder)
    (problem,) = info.value.problems
    assert "road.toml: [defaults] world_town_population must be at least 5,000" in problem
    assert "got 2000" in problem
    road.write_text(text.replace("world_town_population = 15000",
                                 "world_town_population = 5000"), encoding="utf-8")
    assert load_profiles(folder)[Mode.ROAD].param("world_town_population") == 5000.0
