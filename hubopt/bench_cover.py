"""``hubopt bench --instance FILE --problem mclp|lscp``: the covering models on files.

An ``instance.npz`` (:mod:`hubopt.instance_file`) read as a covering instance: every
node is a demand point weighing its ``weight`` (default: row + column sum of ``W``),
every candidate node a site, ``C`` the travel minutes. ``mclp`` opens ``p`` hubs
covering the most weight within ``minutes``; ``lscp`` opens the fewest hubs covering
the ``share`` of the weight (default: all the weight some candidate reaches).

The record is the one of the other problems (``suite`` = ``"file"``): ``objective`` is
the covered weight (``mclp``) or the number of hubs (``lscp``) and ``bound`` its bound,
``hubs`` and ``allocation`` are 1-based; ``covered_weight``, ``minutes`` and ``share``
come on top.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hubopt._errors import ModelSpecificationError
from hubopt.models import CoverageModel, SolveParameters

COVER_PROBLEMS = ("mclp", "lscp")


def coverage_model(path: Path, problem: str, *, p: int | None, minutes: float | None,
                   share: float | None) -> CoverageModel:  # fmt: skip
    """The covering model of ``problem`` on the file at ``path``."""
    from hubopt.instance_file import load_instance_file

    problems = []
    if minutes is None:
        problems.append(f"--minutes: the {problem} model needs the travel-time target")
    if problem == "mclp" and p is None:
        problems.append("--p: the mclp model needs the number of hubs")
    if problem == "mclp" and share is not None:
        problems.append("--share: applies to lscp, not to mclp (it takes --p)")
    if problem == "lscp" and p is not None:
        problems.append("--p: lscp chooses the number of hubs (give --share instead)")
    if problems:
        raise ModelSpecificationError(f"{path}: " + "; ".join(problems))
    assert minutes is not None
    inst = load_instance_file(path)
    kwargs = inst.coverage_inputs()
    if problem == "lscp":
        kwargs.pop("capacities", None)
        if share is None:  # all the weight some candidate reaches
            w = kwargs["weights"]
            sites = np.flatnonzero(inst.candidate)
            reach = (inst.C[:, sites] <= minutes).any(axis=1)
            share = float(w[reach].sum() / w.sum()) if w.sum() > 0 else 1.0
    try:
        return CoverageModel.from_cost_matrix(kwargs.pop("times"), kwargs.pop("weights"),
                                              minutes=minutes, p=p, share=share,
                                              **kwargs)  # fmt: skip
    except ModelSpecificationError as exc:
        raise ModelSpecificationError(f"{path}: {exc}") from exc


def run_coverage_file(path: Path, params: SolveParameters, *, problem: str,
                      p: int | None = None, minutes: float | None = None,
                      share: float | None = None) -> dict[str, Any]:  # fmt: skip
    """Solve a covering model on an ``instance.npz``; the standard record."""
    model = coverage_model(path, problem, p=p, minutes=minutes, share=share)
    sol = model.solve(params)
    covered = model.objective(sol)
    if problem == "mclp":
        objective, bound = covered, sol.bound
    else:
        objective = float(len(sol.hubs))
        bound = float(sol.info.get("hubs_bound", math.nan))
    gap = abs(objective - bound) / abs(objective) if objective and math.isfinite(bound) else (
        0.0 if bound == objective else math.nan)  # fmt: skip
    from hubopt.bench import _finite, _json_info

    return {
        "suite": "file", "instance": path.name, "problem": problem, "n": model.n,
        "p": len(sol.hubs), "alpha": None, "chi": None, "delta": None,
        "fixed_cost": None, "capacity": None, "minutes": model.data.minutes,
        "share": model.data.share, "objective": objective, "bound": _finite(bound),
        "gap": _finite(gap), "status": sol.status.value, "covered_weight": covered,
        "hubs": [h + 1 for h in sol.hubs],
        "allocation": [int(a) + 1 for a in np.asarray(sol.allocation)],
        "seconds": round(sol.seconds, 3), "method": sol.method, "reference": None,
        "reference_status": None, "matches_reference": None, "relative_difference": None,
        "info": _json_info(sol.info),
    }


__all__ = ["COVER_PROBLEMS", "coverage_model", "run_coverage_file"]
