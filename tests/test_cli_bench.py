"""``hubopt bench`` end to end through the real command line."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from pathlib import Path

import pytest

from hubopt.cli.bench import expand_multi_values

KEYS = {
    "info",
    "suite",
    "problem",
    "n",
    "p",
    "alpha",
    "chi",
    "delta",
    "fixed_cost",
    "capacity",
    "objective",
    "bound",
    "gap",
    "status",
    "hubs",
    "seconds",
}


def hubopt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubopt", *args], capture_output=True, text=True, check=False
    )


def test_bench_writes_one_record_per_instance_with_published_references(tmp_path: Path):
    out = tmp_path / "results.json"
    res = hubopt(
        "bench",
        "--suite",
        "cab",
        "--problem",
        "usaphmp",
        "--n",
        "10",
        "15",
        "--p",
        "2",
        "3",
        "--alpha",
        "0.4",
        "--memory-gb",
        "2",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    records = json.loads(out.read_text())
    assert len(records) == 4
    for r in records:
        assert KEYS <= set(r)
        assert r["status"] == "optimal"
        assert r["matches_reference"] is True
        assert all(1 <= h <= r["n"] for h in r["hubs"])
    assert "4/4 equal to the reference value" in res.stdout
    assert "CAB10 usaphmp p=2" in res.stdout


def test_bench_refuses_to_overwrite_results_without_force(tmp_path: Path):
    out = tmp_path / "results.json"
    out.write_text("[]")
    res = hubopt("bench", "--suite", "tr", "--problem", "umaphmp", "--out", str(out))
    assert res.returncode == 2
    assert "--force" in res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_text() == "[]"


def test_fixed_cost_problem_on_cab_is_a_clear_error(tmp_path: Path):
    res = hubopt(
        "bench", "--suite", "cab", "--problem", "usahlp", "--out", str(tmp_path / "r.json")
    )
    assert res.returncode == 2
    assert "no fixed hub costs" in res.stderr
    assert "Traceback" not in res.stderr


def test_bench_runs_fixed_cost_and_capacity_grid_on_ap(tmp_path: Path):
    out = tmp_path / "r.json"
    res = hubopt(
        "bench",
        "--suite",
        "ap",
        "--problem",
        "csahlp",
        "--n",
        "10",
        "--fixed-cost",
        "T",
        "--capacity",
        "L",
        "T",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    records = json.loads(out.read_text())
    assert [(r["fixed_cost"], r["capacity"]) for r in records] == [("T", "L"), ("T", "T")]
    assert all(r["matches_reference"] for r in records)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--n", "10", "20", "--p", "3"], ["--n", "10", "--n", "20", "--p", "3"]),
        (["--n", "10,20", "--out", "x"], ["--n", "10", "--n", "20", "--out", "x"]),
        (["--suite", "ap", "--n", "5"], ["--suite", "ap", "--n", "5"]),
    ],
)
def test_multi_value_options_accept_space_and_comma_lists(args, expected):
    assert expand_multi_values(args) == expected


def test_result_records_keep_the_solvers_figures_as_json_allows() -> None:
    """``info`` keeps numbers (numpy's too, as floats), flags and text; an infinite
    number becomes null and what JSON cannot hold is left out."""
    import numpy as np

    from hubopt.bench import _json_info

    info = {
        "lp_bound": np.float64(12.5),
        "cuts": np.int64(7),
        "iterations": 3,
        "bound": -math.inf,
        "proven": True,
        "phase": "lp",
        "hubs": (1, 2),
    }
    got = _json_info(info)
    assert got == {
        "bound": None,
        "cuts": 7.0,
        "iterations": 3.0,
        "lp_bound": 12.5,
        "phase": "lp",
        "proven": True,
    }
    assert json.loads(json.dumps(got)) == got


def test_a_negative_memory_budget_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    res = hubopt(
        "bench", "--suite", "cab", "--problem", "usaphmp", "--n", "10", "--p", "2",
        "--memory-gb", "-1", "--out", str(out),
    )  # fmt: skip
    assert res.returncode != 0
    assert "--memory-gb" in res.stderr
    assert not out.exists()


def test_debug_verbosity_turns_on_hubopts_debug_log_not_its_libraries() -> None:
    """``-vv`` shows hubopt's debug messages; numba's debug log (compiler IR) stays off."""
    from click.testing import CliRunner

    from hubopt.cli import cli

    root, own = logging.getLogger(), logging.getLogger("hubopt")
    saved = root.level, own.level
    try:
        result = CliRunner().invoke(cli, ["-vv", "cases"])
        assert result.exit_code == 0, result.output
        assert own.isEnabledFor(logging.DEBUG)
        assert logging.getLogger("numba").isEnabledFor(logging.INFO)
        assert not logging.getLogger("numba").isEnabledFor(logging.DEBUG)
        result = CliRunner().invoke(cli, ["-q", "cases"])
        assert result.exit_code == 0, result.output
        assert not own.isEnabledFor(logging.INFO)
    finally:
        root.setLevel(saved[0])
        own.setLevel(saved[1])


def test_parallel_jobs_give_the_results_of_one_process(tmp_path: Path) -> None:
    grid = ["bench", "--suite", "cab", "--problem", "usaphmp", "--n", "10", "--alpha", "0.4"]
    grid += ["--p", "2", "--p", "3", "--p", "4", "--time-limit", "20"]
    one = hubopt(*grid, "--out", str(tmp_path / "one.json"))
    two = hubopt(*grid, "--jobs", "2", "--out", str(tmp_path / "two.json"))
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    first = json.loads((tmp_path / "one.json").read_text())
    second = json.loads((tmp_path / "two.json").read_text())
    assert [r["p"] for r in second] == [2, 3, 4]
    assert [(r["objective"], r["hubs"], r["status"]) for r in first] == [
        (r["objective"], r["hubs"], r["status"]) for r in second
    ]


def test_each_of_several_jobs_gets_its_share_of_numbas_threads() -> None:
    import numba

    from hubopt.bench import share_threads

    before = numba.get_num_threads()
    try:
        assert share_threads(1) == numba.config.NUMBA_NUM_THREADS == numba.get_num_threads()
        assert share_threads(10**6) == 1 == numba.get_num_threads()
    finally:
        numba.set_num_threads(before)
