"""The ``[resilience]`` table of a case, and the scorecard's failure analysis.

The table is validated with the rest of the case (every problem at once); the failure
analysis re-optimises single allocation, checked against brute force over every
reassignment to the hubs left.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from resilience_oracles import sa_cost

from hubopt._errors import CaseValidationError
from hubopt.case import case_from_dict
from hubopt.models.base import HubData, Problem
from hubopt.records import Solved
from hubopt.scorecard import failure_cost, failure_cost_proven

CORPUS = Path(__file__).parent / "broken_cases"


def _base(problem: str = "usaphmp", p: int = 3) -> dict:  # type: ignore[type-arg]
    return {
        "case": {"name": "t"},
        "region": {"bbox": [21.5, 58.3, 27.0, 61.0]},
        "network": {"source": "world"},
        "demand": {"source": "file", "file": "data/points.csv"},
        "flows": {"source": "gravity"},
        "candidates": {"source": "file", "file": "data/sites.csv"},
        "model": {"problem": problem, "p": p},
    }


def test_a_resilience_table_reaches_the_case() -> None:
    data = _base()
    data["resilience"] = {"objective": "worst", "attacks": 2}
    case = case_from_dict(data, path=CORPUS / "virtual.toml")
    assert case.resilience.objective == "worst"
    assert case.resilience.attacks == 2
    assert case_from_dict(_base(), path=CORPUS / "virtual.toml").resilience.objective == "none"


def test_every_resilience_problem_is_reported_at_once() -> None:
    data = _base("usaphmp", 3)
    data["resilience"] = {"objective": "worst", "attacks": 3, "failure_probability": 1.5,
                          "typo": 1}
    with pytest.raises(CaseValidationError) as info:
        case_from_dict(data, path=CORPUS / "virtual.toml")
    text = str(info.value)
    for field in ("resilience.attacks", "resilience.failure_probability", "resilience.typo"):
        assert field in text
    assert "fewer than model.p = 3" in text


def test_resilience_needs_a_p_hub_median_and_room_for_failures() -> None:
    data = _base("usahlp")
    data["model"] = {"problem": "usahlp", "fixed_cost": 10}
    data["resilience"] = {"objective": "expected"}
    with pytest.raises(CaseValidationError, match="resilient designs exist for usaphmp"):
        case_from_dict(data, path=CORPUS / "virtual.toml")
    data = _base("umaphmp", 4)
    data["resilience"] = {"objective": "expected", "failure_probability": 0.3}
    with pytest.raises(CaseValidationError, match=r"at most 1/p = 0\.25"):
        case_from_dict(data, path=CORPUS / "virtual.toml")


def _instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    C = np.linalg.norm(xy[:, None] - xy[None, :], axis=2)
    W = rng.uniform(0, 10, (n, n)) * (rng.uniform(size=(n, n)) < 0.8)
    return C, W


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_failure_analysis_finds_the_best_reassignment_to_the_hubs_left(seed: int) -> None:
    C, W = _instance(7, seed)
    hubs = (0, 3, 5)
    chi, alpha, delta = 1.0, 0.5, 1.0
    data = HubData(costs=C, flows=W, chi=chi, alpha=alpha, delta=delta)
    alloc = np.array([0, 0, 3, 3, 5, 5, 5])
    solved = Solved(hubs, alloc, None, 0.0, 0.0, 0.0, "optimal", 0.0, "test",
                    problem=Problem.USAPHMP, data=data, allocation=alloc)
    for down in hubs:
        rest = [h for h in hubs if h != down]
        others = [i for i in range(7) if i not in rest]
        best = np.inf
        for choice in itertools.product(rest, repeat=len(others)):
            a = list(range(7))
            for i, k in zip(others, choice, strict=True):
                a[i] = k
            best = min(best, sa_cost(C, W, a, chi, alpha, delta))
        cost, proven = failure_cost_proven(solved, down)
        assert proven
        assert cost == pytest.approx(best, rel=1e-9)
        assert failure_cost(solved, down) == pytest.approx(best, rel=1e-9)


@pytest.mark.slow
def test_default_case_reports_the_price_of_resilience(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "hubopt", "run", "--set",
                          "resilience.objective=worst", "--out", str(out)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    block = json.loads((out / "scorecard.json").read_text())["resilience"]
    resilient, cheapest = block["designs"]["resilient"], block["designs"]["cheapest"]
    # each design is optimal for its own objective
    assert resilient["worst_case_cost"] <= cheapest["worst_case_cost"] * (1 + 1e-9)
    assert cheapest["nominal_cost"] <= resilient["nominal_cost"] * (1 + 1e-9)
    assert block["price_of_resilience"] == pytest.approx(
        resilient["nominal_cost"] / cheapest["nominal_cost"] - 1)
    hubs = json.loads((out / "hubs.geojson").read_text())["features"]
    assert sorted(f["properties"]["name"] for f in hubs) == sorted(resilient["hubs"])
    assert all(f["properties"]["in_cheapest_design"] == (f["properties"]["name"] in
                                                         cheapest["hubs"]) for f in hubs)
    assert "Price of resilience" in (out / "report.md").read_text()
