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


def test_bench_refuses_resilience_for_the_capacitated_problem(tmp_path: Path):
    res = hubopt("bench", "--suite", "ap", "--problem", "csahlp", "--n", "10",
                 "--resilience", "expected", "--out", str(tmp_path / "r.json"))
    assert res.returncode == 2
    assert "--resilience expected" in res.stderr
    assert "csahlp has no resilient model" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("kind", ["expected", "worst"])
def test_bench_fixed_cost_record_equals_brute_force_over_every_hub_set(tmp_path: Path,
                                                                       hub_data_dir, kind):
    out = tmp_path / "r.json"
    res = hubopt("bench", "--suite", "ap", "--problem", "umahlp", "--n", "10",
                 "--fixed-cost", "T", "--resilience", kind, "--out", str(out))
    assert res.returncode == 0, res.stderr
    [rec] = json.loads(out.read_text())
    inst = load_instance("ap", 10, data_dir=hub_data_dir)
    C, W, f = inst.costs, inst.scaled_flows(), inst.fixed_costs["T"]
    args = (kind, [0.05] * 10, 1, inst.chi, inst.alpha, inst.delta)
    sets = [H for m in range(2, 11) for H in sets_of_size(10, m)]
    best = min(ma_resilient(C, W, H, *args) + f[list(H)].sum() for H in sets)
    hubs = [h - 1 for h in rec["hubs"]]
    assert rec["fixed_cost"] == "T"
    assert rec["p"] == len(hubs)
    assert rec["status"] == "optimal"
    assert rec["objective"] == pytest.approx(best, rel=1e-9)
    assert rec["nominal_objective"] == pytest.approx(
        ma_cost(C, W, hubs, inst.chi, inst.alpha, inst.delta) + f[hubs].sum(), rel=1e-9)


def test_bench_n1_access_equals_brute_force_over_the_sets_that_keep_two_hubs_in_reach(
        tmp_path: Path, hub_data_dir):
    inst = load_instance("cab", 10, data_dir=hub_data_dir)
    C, W = inst.costs, inst.scaled_flows()

    def ok(H, T):  # every node with flow has two of H within T
        return all((C[i, list(H)] <= T).sum() >= 2 for i in range(10)
                   if W[i].sum() + W[:, i].sum() > 0)

    plain, _ = brute_ma(C, W, sets_of_size(10, 3), "expected", [0.0] * 10, 1, 1.0, 0.4, 1.0)
    # the least limit on a 10-grid that some set of 3 hubs meets
    T = next(t for t in range(10, 3000, 10) if any(ok(H, t) for H in sets_of_size(10, 3)))
    out = tmp_path / "r.json"
    res = hubopt("bench", "--suite", "cab", "--problem", "umaphmp", "--n", "10", "--p", "3",
                 "--alpha", "0.4", "--n1-access", str(T), "--out", str(out))
    assert res.returncode == 0, res.stderr
    [rec] = json.loads(out.read_text())
    feasible = [H for H in sets_of_size(10, 3) if ok(H, T)]
    best, _ = brute_ma(C, W, feasible, "expected", [0.0] * 10, 1, 1.0, 0.4, 1.0)
    assert rec["n1_access"] == T
    assert rec["status"] == "optimal"
    assert ok([h - 1 for h in rec["hubs"]], T)
    assert rec["objective"] == pytest.approx(best, rel=1e-9)
    assert rec["objective"] >= plain * (1 - 1e-12)
