"""optima.json loader and lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubopt._errors import InputFormatError
from hubopt.instances import ReferenceOptimum, find_optimum, load_optima
from hubopt.instances.optima import read_optima


@pytest.fixture(scope="module")
def optima(hub_data_dir: Path) -> list[ReferenceOptimum]:
    return load_optima(data_dir=hub_data_dir)


def test_optima_cover_the_records_listed_in_the_data_readme(
    optima: list[ReferenceOptimum],
) -> None:
    def count(problem: str, suite: str) -> int:
        return sum(1 for r in optima if r.problem == problem and r.suite == suite)

    # AP n = 10, 20, 25, 40 (n = 50 held out); CAB n = 10, 15, 20 (n = 25 held out)
    assert count("USApHMP", "ap") == count("UMApHMP", "ap") == 16
    assert count("CSAHLP", "ap") == 16
    assert count("USAHLP", "ap") == count("UMAHLP", "ap") == 8
    assert count("USApHMP", "cab") == count("UMApHMP", "cab") == 60
    assert len(optima) == 184
    assert {r.n for r in optima if r.suite == "ap"} == {10, 20, 25, 40}
    assert {r.n for r in optima if r.suite == "cab"} == {10, 15, 20}


def test_single_allocations_are_1_based_and_hubs_serve_themselves(
    optima: list[ReferenceOptimum],
) -> None:
    with_alloc = [r for r in optima if r.allocation is not None]
    assert with_alloc
    for rec in with_alloc:
        assert rec.allocation is not None
        assert len(rec.allocation) == rec.n
        assert tuple(sorted(set(rec.allocation))) == tuple(sorted(rec.hubs)), rec.instance
        assert all(rec.allocation[h - 1] == h for h in rec.hubs), rec.instance
    for rec in optima:
        assert all(1 <= h <= rec.n for h in rec.hubs)
        if rec.problem in {"USApHMP", "UMApHMP"}:
            assert len(rec.hubs) == rec.p


def test_the_lookup_key_is_unique(optima: list[ReferenceOptimum]) -> None:
    keys = [
        (r.problem, r.suite, r.n, r.p, r.alpha, r.fixed_cost_type, r.capacity_type) for r in optima
    ]
    assert len(set(keys)) == len(keys)
    for rec in optima:
        p = rec.p if rec.fixed_cost_type is None else None
        found = find_optimum(
            optima,
            problem=rec.problem,
            suite=rec.suite,
            n=rec.n,
            p=p,
            alpha=rec.alpha,
            fixed_cost=rec.fixed_cost_type,
            capacity=rec.capacity_type,
        )
        assert found is rec


def test_find_optimum_matches_case_insensitively_and_with_wildcards(
    optima: list[ReferenceOptimum],
) -> None:
    rec = find_optimum(optima, problem="usaphmp", suite="AP", n=10, p=2, alpha=0.75)
    assert rec is not None
    assert (rec.instance, rec.objective, rec.hubs) == ("AP10.2", 167493.06, (3, 7))
    assert rec.is_literature_value
    lt = find_optimum(optima, problem="csahlp", suite="ap", n=10, fixed_cost="L", capacity="T")
    assert lt is not None
    assert (lt.instance, lt.hubs) == ("AP10LT", (1, 4, 5, 10))
    cab = find_optimum(optima, problem="UMApHMP", suite="cab", n=15, p=3, alpha=0.6 + 1e-12)
    assert cab is not None
    assert cab.instance == "CAB15"
    assert not cab.is_literature_value


def test_find_optimum_returns_none_for_held_out_and_unknown_instances(
    optima: list[ReferenceOptimum],
) -> None:
    assert find_optimum(optima, problem="USApHMP", suite="ap", n=50, p=3) is None
    assert find_optimum(optima, problem="USApHMP", suite="cab", n=25, p=2, alpha=0.2) is None
    assert find_optimum(optima, problem="USApHMP", suite="tr", n=81, p=2) is None
    # fixed-cost records need the fixed-cost type
    assert find_optimum(optima, problem="USAHLP", suite="ap", n=10) is None


def test_every_malformed_record_is_reported_at_once(hub_data_dir: Path, tmp_path: Path) -> None:
    records = json.loads((hub_data_dir / "optima.json").read_text())[:3]
    records[0]["hubs"] = [0, 3]
    records[1]["objective"] = "167k"
    del records[2]["n"]
    bad = tmp_path / "optima.json"
    bad.write_text(json.dumps(records))
    with pytest.raises(InputFormatError) as err:
        load_optima(data_dir=tmp_path)
    message = str(err.value)
    assert message.startswith(f"{bad}: 3 problem(s)")
    assert "record 0: field 'hubs'" in message
    assert "record 1: field 'objective': expected a number, found '167k'" in message
    assert "record 2: field 'n': expected a positive integer, found None" in message


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "optima.json"
    bad.write_text('[\n{"problem": "USApHMP",\n]')
    with pytest.raises(InputFormatError, match=r"optima.json, line 3: expected JSON"):
        read_optima(bad)
