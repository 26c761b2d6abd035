"""``--set KEY=VALUE`` overrides: the same case as editing the file, validated as the file."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from hubopt._errors import CaseValidationError
from hubopt.case import builtin_cases, case_to_dict, load_case, parse_override
from hubopt.cli import cli


def _edited_copy(tmp_path: Path, old: str, new: str) -> Path:
    src = builtin_cases()["default"]
    text = src.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "default.toml"  # the default case names no file beside it
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("item", ["model.p=4", "model.p = 4"])
def test_override_gives_the_case_that_editing_the_file_gives(tmp_path: Path, item: str) -> None:
    want = case_to_dict(load_case(_edited_copy(tmp_path, "\np = 3", "\np = 4")))
    got = case_to_dict(load_case("default", overrides=[item, "model.alpha=0.5"]))
    assert got["model"]["p"] == 4
    assert got["model"]["alpha"] == 0.5
    want["model"]["alpha"] = 0.5
    for doc in (got, want):
        doc.pop("path")
    assert got == want


@pytest.mark.parametrize(("item", "keys", "value"), [
    ("model.p=4", ["model", "p"], 4),
    ("model.alpha=0.25", ["model", "alpha"], 0.25),
    ("model.problem=umaphmp", ["model", "problem"], "umaphmp"),
    ('case.name="x y"', ["case", "name"], "x y"),
    ("region.bbox=[1, 2, 3.5, 4]", ["region", "bbox"], [1, 2, 3.5, 4]),
    ("scorecard.default_targets=false", ["scorecard", "default_targets"], False),
])
def test_override_values_are_read_as_toml_else_as_text(item: str, keys: list[str],
                                                       value: object) -> None:
    assert parse_override(item) == (keys, value)


def test_bad_overrides_are_reported_with_every_other_problem() -> None:
    with pytest.raises(CaseValidationError) as err:
        load_case("default", overrides=["model.p=0", "model.alpah=2", "nonsense"])
    text = str(err.value)
    assert "model.p: expected an integer >= 1" in text
    assert "model.alpah: unknown key (did you mean 'alpha'?)" in text
    assert "--set: expected KEY=VALUE" in text
    assert "3 problems" in text


def test_cli_validate_exits_2_without_traceback_on_a_bad_override() -> None:
    result = CliRunner().invoke(cli, ["validate", "--set", "model.p=zero"])
    assert result.exit_code == 2
    out = result.output + (result.stderr or "")
    assert "model.p" in out
    assert "Traceback" not in out


@pytest.mark.slow
def test_run_with_an_override_opens_that_many_hubs(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--set", "model.p=2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    hubs = gpd.read_file(tmp_path / "o" / "hubs.geojson")
    assert len(hubs) == 2
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert run["options"]["set"] == ["model.p=2"]
    assert run["case_spec"]["model"]["p"] == 2
