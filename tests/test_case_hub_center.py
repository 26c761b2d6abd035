"""p-hub center and hub covering as the model of a case, and in ``hubopt bench``.

The runs' optima are checked against brute force over the candidate sites of the run's
own ``instance.npz`` (:mod:`tests.oracles`), the CLI's records against the model's
objective recomputed from the published CAB matrix.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import CaseValidationError
from hubopt.case import builtin_cases, load_case
from hubopt.instance_file import load_instance_file
from hubopt.outputs import write_outputs
from hubopt.pipeline import run_case
from tests.oracles import (
    brute_center_multiple,
    brute_covering,
    max_route_cost_loops,
    sets_of_size,
    single_allocation_below,
)


def _case_copy(tmp_path: Path, problem: str, rule: str) -> Path:
    text = builtin_cases()["default"].read_text(encoding="utf-8")
    assert '\nproblem = "usaphmp"' in text
    assert "\np = 3\n" in text
    text = text.replace('\nproblem = "usaphmp"', f'\nproblem = "{problem}"', 1)
    path = tmp_path / f"{problem}.toml"
    path.write_text(text.replace("\np = 3\n", f"\n{rule}\n", 1), encoding="utf-8")
    return path


def test_hub_covering_case_without_max_cost_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(CaseValidationError) as err:
        load_case(_case_copy(tmp_path, "umahcp", "# no bound"))
    assert "model.max_cost" in str(err.value)
    with pytest.raises(CaseValidationError) as err:
        load_case(_case_copy(tmp_path, "umaphcp", "max_cost = 10.0"))
    text = str(err.value)
    assert "model.p" in text
    assert "model.max_cost: only used by problem = 'usahcp' or 'umahcp'" in text


def test_p_hub_center_case_equals_brute_force_over_its_sites(tmp_path: Path) -> None:
    result = run_case(_case_copy(tmp_path, "umaphcp", "p = 3"))
    out = write_outputs(result, tmp_path / "out")
    inst = load_instance_file(out / "instance.npz")
    assert inst.problem == "umaphcp"
    kw = {"chi": inst.chi, "alpha": inst.alpha, "delta": inst.delta}
    excluded = tuple(int(k) for k in np.flatnonzero(~inst.candidate))
    value, _hubs = brute_center_multiple(inst.C, inst.W, sets_of_size(inst.m, 3,
                                                                     excluded=excluded), **kw)
    solved = result.solved
    assert solved.status == "optimal"
    assert solved.objective == pytest.approx(value, rel=1e-12)
    assert solved.allocation is not None
    assert max_route_cost_loops(inst.C, inst.W, solved.allocation, single=False,
                                **kw) == pytest.approx(value, rel=1e-12)
    assert not any("differs" in w for w in result.warnings)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "largest route cost between two demand points" in report


def test_hub_covering_case_opens_the_fewest_hubs_of_brute_force(tmp_path: Path) -> None:
    result = run_case(_case_copy(tmp_path, "usahcp", "max_cost = 50.0"))
    out = write_outputs(result, tmp_path / "out")
    inst = load_instance_file(out / "instance.npz")
    kw = {"chi": inst.chi, "alpha": inst.alpha, "delta": inst.delta}
    closed = [k for k in range(inst.m) if not inst.candidate[k]]
    # the fewest hubs of which some set has a single allocation with every route within
    # 50: every hub set of each size, each with an exhaustive search over allocations
    fewest = next(q for q in range(1, inst.m + 1) if any(
        single_allocation_below(inst.C, inst.W, H, float(np.nextafter(50.0, np.inf)), **kw)
        is not None for H in sets_of_size(inst.m, q, excluded=closed)))
    solved = result.solved
    assert solved.status == "optimal"
    assert solved.objective == fewest
    assert solved.objective == len(solved.hubs)
    assert solved.single is not None
    assert max_route_cost_loops(inst.C, inst.W, solved.allocation, single=True,
                                **kw) <= 50.0
    # multiple allocation never needs more hubs than single allocation
    ma, _ = brute_covering(inst.C, inst.W, [H for q in range(1, fewest + 1)
                                            for H in sets_of_size(inst.m, q, excluded=closed)],
                           50.0, single=False, **kw)
    assert ma <= fewest


def test_bench_cli_solves_center_and_covering_on_cab_and_instance_files(tmp_path: Path):
    from hubopt.instance_file import InstanceFile, save_instance
    from hubopt.instances import load_instance

    cab = load_instance("cab", 10)
    out = tmp_path / "center.json"
    res = subprocess.run([sys.executable, "-m", "hubopt", "bench", "--suite", "cab",
                          "--problem", "usaphcp", "--n", "10", "--p", "2", "--alpha", "0.4",
                          "--time-limit", "60", "--out", str(out)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    (rec,) = json.loads(out.read_text(encoding="utf-8"))
    assert rec["problem"] == "usaphcp"
    assert rec["status"] == "optimal"
    alloc = np.array(rec["allocation"]) - 1
    assert set(alloc.tolist()) == {h - 1 for h in rec["hubs"]}
    value = max_route_cost_loops(cab.costs, cab.flows, alloc, single=True, chi=1.0,
                                 alpha=0.4, delta=1.0)
    assert rec["objective"] == pytest.approx(value, rel=1e-12)
    assert rec["bound"] == pytest.approx(value, rel=1e-12)

    npz = tmp_path / "cab10.npz"
    save_instance(npz, InstanceFile(
        C=cab.costs, W=cab.flows, candidate=np.ones(10, dtype=bool),
        fixed_cost=np.zeros(10), capacity=np.full(10, np.inf),
        name=np.array([f"city{i}" for i in range(10)]), lonlat=np.full((10, 2), np.nan),
        chi=1.0, alpha=0.4, delta=1.0, p=0, problem="umahcp"))
    out2 = tmp_path / "covering.json"
    res = subprocess.run([sys.executable, "-m", "hubopt", "bench", "--instance", str(npz),
                          "--max-cost", str(value), "--time-limit", "60", "--out", str(out2)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    (cov,) = json.loads(out2.read_text(encoding="utf-8"))
    assert cov["suite"] == "file"
    assert cov["max_cost"] == pytest.approx(value)
    # multiple allocation covers within the 2-hub single-allocation center value with
    # at most 2 hubs; brute force gives the fewest
    want, _ = brute_covering(cab.costs, cab.flows, [H for q in (1, 2) for H in
                                                    sets_of_size(10, q)], value,
                             single=False, chi=1.0, alpha=0.4, delta=1.0)
    assert cov["objective"] == want
    assert len(cov["hubs"]) == want
    routes = {(i, j): (k, m) for i, j, k, m in cov["allocation"]}
    assert len(routes) == int((cab.flows > 0).sum())

    res = subprocess.run([sys.executable, "-m", "hubopt", "bench", "--suite", "cab",
                          "--problem", "umahcp", "--n", "10", "--out",
                          str(tmp_path / "x.json")], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 2
    assert "--max-cost" in res.stderr
    assert "Traceback" not in res.stderr
