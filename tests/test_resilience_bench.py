"""``hubopt bench --resilience`` through the real command line, checked against the
brute force of :mod:`resilience_oracles`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from oracles import sets_of_size
from resilience_oracles import brute_ma, ma_cost, ma_resilient

from hubopt.instances import load_instance


def hubopt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubopt", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("kind", "flags"), [
    ("expected", ["--failure-probability", "0.05"]), ("worst", ["--attacks", "1"]),
])
def test_bench_records_the_resilient_and_the_nominal_objective(tmp_path: Path, hub_data_dir,
                                                                kind, flags):
    out = tmp_path / "r.json"
    res = hubopt("bench", "--suite", "cab", "--problem", "umaphmp", "--n", "10", "--p", "3",
                 "--alpha", "0.4", "--resilience", kind, *flags, "--out", str(out))
    assert res.returncode == 0, res.stderr
    [rec] = json.loads(out.read_text())
    inst = load_instance("cab", 10, data_dir=hub_data_dir)
    C, W = inst.costs, inst.scaled_flows()
    q = [0.05] * 10
    hubs = [h - 1 for h in rec["hubs"]]
    assert rec["resilience"] == kind
    assert rec["failure_probability"] == (0.05 if kind == "expected" else None)
    assert rec["attacks"] == (1 if kind == "worst" else None)
    assert rec["nominal_objective"] == pytest.approx(ma_cost(C, W, hubs, 1.0, 0.4, 1.0))
    assert rec["objective"] == pytest.approx(ma_resilient(C, W, hubs, kind, q, 1, 1.0, 0.4, 1.0))
    best, _ = brute_ma(C, W, sets_of_size(10, 3), kind, q, 1, 1.0, 0.4, 1.0)
    assert rec["objective"] == pytest.approx(best, rel=1e-9)
    assert rec["status"] == "optimal"
    assert rec["reference"] is None  # the published optima are nominal


def test_bench_refuses_resilience_for_fixed_cost_problems(tmp_path: Path):
    res = hubopt("bench", "--suite", "ap", "--problem", "umahlp", "--n", "10",
                 "--resilience", "expected", "--out", str(tmp_path / "r.json"))
    assert res.returncode == 2
    assert "--resilience expected" in res.stderr
    assert "p-hub medians" in res.stderr
