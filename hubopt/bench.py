"""Standard benchmark suites (CAB, AP, TR) run through the engine.

:func:`grid` expands a suite and problem into benchmark cases, :func:`run_case` solves
one, and :func:`run_grid` solves them all, writing the results file atomically after
each instance so that an interrupted run keeps what it finished.  Objectives are in
the units of the published tables: AP transport cost divided by 1000 (plus the
``FcostX`` values, which are on that scale), CAB with flows normalised to sum 1, TR as
given.  Hub numbers in the results are 1-based, as in ``optima.json``.

The reproducible benchmark suites (named grids, one CSV table each, the pages in
``docs/benchmarks.md``) are run by ``benchmarks/run.py``, which solves each instance with
:func:`run_case`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hubopt._errors import ModelSpecificationError
from hubopt._io import write_json_atomic
from hubopt.instances import HubInstance, ReferenceOptimum, find_optimum, load_instance
from hubopt.models import Problem, SolveParameters, build_model

RESILIENT = (Problem.USAPHMP, Problem.UMAPHMP, Problem.USAHLP, Problem.UMAHLP)
DEFAULT_N = {"cab": (10, 15, 20, 25), "ap": (10, 20, 25, 40, 50, 100, 200), "tr": (81,)}
DEFAULT_P = {"cab": (1, 2, 3, 4), "ap": (2, 3, 4, 5), "tr": (2, 3, 4, 5)}
DEFAULT_ALPHA: dict[str, tuple[float, ...] | None] = {
    "cab": (0.2, 0.4, 0.6, 0.8, 1.0),
    "ap": None,  # from the file (0.75)
    "tr": (0.2, 0.5, 0.8),
}
TR_CHI_DELTA = 1.0


@dataclass(frozen=True)
class BenchCase:
    """One benchmark instance: suite, size, problem and parameters."""

    suite: str
    problem: Problem
    n: int
    p: int | None
    alpha: float | None  # None: the instance file's value
    fixed_cost: str | None
    capacity: str | None
    max_cost: float | None = None  # hub covering: the bound on every route's cost
    resilience: str = "none"  # none, expected or worst (p-hub medians only)
    failure_probability: float = 0.05
    attacks: int = 1
    n1_access: float | None = None  # every node keeps two hubs within this cost

    @property
    def label(self) -> str:
        """Short name, e.g. ``AP25 USApHMP p=3``."""
        parts = [f"{self.suite.upper()}{self.n}", self.problem.label]
        if self.p is not None:
            parts.append(f"p={self.p}")
        if self.alpha is not None:
            parts.append(f"alpha={self.alpha:g}")
        if self.fixed_cost:
            parts.append(f"F={self.fixed_cost}{self.capacity or ''}")
        if self.max_cost is not None:
            parts.append(f"max_cost={self.max_cost:g}")
        if self.resilience == "expected":
            parts.append(f"expected q={self.failure_probability:g}")
        elif self.resilience == "worst":
            parts.append(f"worst r={self.attacks}")
        if self.n1_access is not None:
            parts.append(f"n1<={self.n1_access:g}")
        return " ".join(parts)


def grid(
    suite: str,
    problem: Problem | str,
    *,
    n: Sequence[int] | None = None,
    p: Sequence[int] | None = None,
    alpha: Sequence[float] | None = None,
    fixed_cost: Sequence[str] | None = None,
    capacity: Sequence[str] | None = None,
    max_cost: Sequence[float] | None = None,
    resilience: str = "none",
    failure_probability: float = 0.05,
    attacks: int = 1,
    n1_access: float | None = None,
) -> list[BenchCase]:
    """The benchmark cases of ``suite`` x ``problem`` (issue defaults where not given;
    the hub covering problems need ``max_cost``, and count hubs unless ``fixed_cost``
    is given, on AP); ``resilience`` other than ``"none"`` solves the resilient p-hub
    median (:mod:`hubopt.models.resilience`) with ``failure_probability`` or ``attacks``;
    ``n1_access`` requires two hubs within that cost of every node (p-hub medians)."""
    suite = suite.lower()
    prob = Problem.parse(problem)
    if resilience not in ("none", "expected", "worst"):
        msg = f"--resilience: expected none, expected or worst, found {resilience!r}"
        raise ModelSpecificationError(msg)
    if resilience != "none" and prob is Problem.CSAHLP:
        msg = (
            f"--resilience {resilience}: csahlp has no resilient model (hub capacities would "
            "have to hold a failed hub's flow in every scenario); use usahlp or umahlp"
        )
        raise ModelSpecificationError(msg)
    if resilience != "none" and prob not in RESILIENT:
        msg = (
            f"--resilience {resilience}: resilient designs exist for the p-hub medians "
            f"(usaphmp, umaphmp) and the fixed-cost usahlp, umahlp, not {prob.value}"
        )
        raise ModelSpecificationError(msg)
    if n1_access is not None and prob not in (Problem.USAPHMP, Problem.UMAPHMP):
        msg = f"--n1-access: applies to the p-hub medians (usaphmp, umaphmp), not {prob.value}"
        raise ModelSpecificationError(msg)
    if suite not in DEFAULT_N:
        msg = f"--suite: expected one of cab, ap, tr, found {suite!r}"
        raise ModelSpecificationError(msg)
    if prob.covering and not max_cost:
        msg = f"--max-cost: required for --problem {prob.value} (the bound on every route)"
        raise ModelSpecificationError(msg)
    if max_cost and not prob.covering:
        msg = f"--max-cost: only for the hub covering problems (usahcp, umahcp), not {prob.value}"
        raise ModelSpecificationError(msg)
    if prob.covering and fixed_cost and suite != "ap":
        msg = f"--fixed-cost: the {suite.upper()} data have no fixed hub costs; use AP"
        raise ModelSpecificationError(msg)
    if not prob.has_p and not prob.minimax and suite != "ap":
        msg = (
            f"--problem {prob.value}: the {suite.upper()} data have no fixed hub costs; "
            "fixed-cost problems run on the AP suite"
        )
        raise ModelSpecificationError(msg)
    sizes = tuple(n) if n else DEFAULT_N[suite]
    ps: tuple[int | None, ...] = (tuple(p) if p else DEFAULT_P[suite]) if prob.has_p else (None,)
    default_alpha = DEFAULT_ALPHA[suite]
    alphas: tuple[float | None, ...] = (
        tuple(alpha) if alpha else (default_alpha if default_alpha else (None,))
    )
    fcs: tuple[str | None, ...] = (None,)
    caps: tuple[str | None, ...] = (None,)
    if prob.covering:
        fcs = tuple(fixed_cost) if fixed_cost else (None,)
    elif not prob.has_p:
        fcs = tuple(fixed_cost) if fixed_cost else ("L", "T")
    if prob is Problem.CSAHLP:
        caps = tuple(capacity) if capacity else ("L", "T")
    bad = [v for v in (*fcs, *caps) if v not in (None, "L", "T")]
    if bad:
        msg = f"--fixed-cost/--capacity: expected L or T, found {bad}"
        raise ModelSpecificationError(msg)
    bounds: tuple[float | None, ...] = tuple(max_cost) if max_cost else (None,)
    return [
        BenchCase(suite, prob, size, pp, a, fc, cap, r, resilience, failure_probability,
                  attacks, n1_access)
        for size, pp, a, fc, cap, r in itertools.product(sizes, ps, alphas, fcs, caps, bounds)
    ]


def model_inputs(case: BenchCase, inst: HubInstance) -> dict[str, Any]:
    """Keyword arguments of ``build_model`` for ``case`` on ``inst`` (published units)."""
    chi, delta = inst.chi, inst.delta
    if case.suite == "tr":
        chi = delta = TR_CHI_DELTA
    alpha = inst.alpha if case.alpha is None else case.alpha
    kwargs: dict[str, Any] = {
        "costs": inst.costs,
        "flows": inst.scaled_flows(),
        "chi": chi,
        "alpha": alpha,
        "delta": delta,
    }
    if case.p is not None:
        kwargs["p"] = case.p
    if case.fixed_cost is not None:
        if case.fixed_cost not in inst.fixed_costs:
            msg = f"{inst.name}: no Fcost{case.fixed_cost}.{inst.n} file for this size"
            raise ModelSpecificationError(msg)
        kwargs["fixed_costs"] = inst.fixed_costs[case.fixed_cost]
    if case.capacity is not None:
        if case.capacity not in inst.capacities:
            msg = f"{inst.name}: no Cap{case.capacity}.{inst.n} file for this size"
            raise ModelSpecificationError(msg)
        # capacities bound raw flows; the model's flows are scaled
        kwargs["capacities"] = inst.capacities[case.capacity] * inst.flow_scale
    if case.max_cost is not None:
        kwargs["max_cost"] = case.max_cost
    return kwargs


def run_case(
    case: BenchCase,
    params: SolveParameters,
    *,
    instance: HubInstance | None = None,
    optima: Sequence[ReferenceOptimum] = (),
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Solve one case; return its result record (1-based hubs, reference if known)."""
    inst = instance or load_instance(case.suite, case.n, data_dir=data_dir)
    kwargs = model_inputs(case, inst)
    if case.resilience != "none" or case.n1_access is not None:
        return _resilient_record(case, params, kwargs)
    flows = kwargs.pop("flows")
    model = build_model(case.problem, kwargs.pop("costs"), flows, **kwargs)
    sol = model.solve(params)
    ref = find_optimum(
        optima,
        problem=case.problem.label,
        suite=case.suite,
        n=case.n,
        p=case.p,
        alpha=kwargs["alpha"],
        fixed_cost=case.fixed_cost,
        capacity=case.capacity,
    )
    record: dict[str, Any] = {
        "suite": case.suite,
        "problem": case.problem.value,
        "n": case.n,
        "p": case.p if case.p is not None else len(sol.hubs),
        "alpha": kwargs["alpha"],
        "chi": kwargs["chi"],
        "delta": kwargs["delta"],
        "fixed_cost": case.fixed_cost,
        "capacity": case.capacity,
        "objective": _finite(sol.objective),
        "bound": _finite(sol.bound),
        "gap": _finite(sol.gap),
        "status": sol.status.value,
        "hubs": [h + 1 for h in sol.hubs],
        "seconds": round(sol.seconds, 3),
        "method": sol.method,
        "reference": ref.objective if ref else None,
        "reference_status": ref.status if ref else None,
        "matches_reference": matches_reference(
            _finite(sol.objective), ref.objective if ref else None
        ),
        "relative_difference": (
            (sol.objective - ref.objective) / abs(ref.objective)
            if ref and math.isfinite(sol.objective)
            else None
        ),
        "info": _json_info(sol.info),
        "resilience": "none",
        "failure_probability": None,
        "attacks": None,
        "n1_access": None,
        "nominal_objective": _finite(sol.objective),
    }
    if case.problem.minimax:
        record["max_cost"] = case.max_cost
        record["allocation"] = allocation_record(case.problem, sol.allocation, flows)
    return record


def allocation_record(problem: Problem, allocation: Any, flows: Any) -> list[Any]:
    """The allocation, 1-based: each node's hub (single allocation) or, for multiple
    allocation, ``[i, j, first hub, second hub]`` of every OD pair with flow."""
    alloc = np.asarray(allocation)
    if alloc.size == 0:
        return []
    if problem.single_allocation:
        return [int(a) + 1 for a in alloc]
    ii, jj = np.nonzero(np.asarray(flows) > 0)
    return [[int(i) + 1, int(j) + 1, int(alloc[i, j, 0]) + 1, int(alloc[i, j, 1]) + 1]
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True)]


def _resilient_record(
    case: BenchCase, params: SolveParameters, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Solve the resilient p-hub median (or fixed-cost hub location) of ``case``:
    ``objective`` is the resilient objective, ``nominal_objective`` the cost of the chosen
    hubs with no failure (both with the opening costs of fixed-cost problems); the
    published optima are nominal, so there is no reference."""
    from hubopt.models.resilience import ResilienceOptions, ResilientHubModel

    opts = ResilienceOptions(case.resilience, case.failure_probability, case.attacks,
                             n1_access=case.n1_access)
    costs, flows = kwargs.pop("costs"), kwargs.pop("flows")
    model = ResilientHubModel.from_cost_matrix(
        costs, flows, problem=case.problem, resilience=opts, **kwargs
    )
    sol = model.solve(params)
    return {
        "suite": case.suite, "problem": case.problem.value, "n": case.n,
        "p": case.p if case.p is not None else len(sol.hubs),
        "alpha": kwargs["alpha"], "chi": kwargs["chi"], "delta": kwargs["delta"],
        "fixed_cost": case.fixed_cost, "capacity": None,
        "objective": _finite(sol.objective), "bound": _finite(sol.bound),
        "gap": _finite(sol.gap), "status": sol.status.value,
        "hubs": [h + 1 for h in sol.hubs], "seconds": round(sol.seconds, 3),
        "method": sol.method, "reference": None, "reference_status": None,
        "matches_reference": None, "relative_difference": None,
        "info": _json_info(sol.info),
        "resilience": case.resilience,
        "failure_probability": case.failure_probability if case.resilience == "expected" else None,
        "attacks": case.attacks if case.resilience == "worst" else None,
        "n1_access": case.n1_access,
        "nominal_objective": _finite(sol.nominal_objective),
    }


def run_instance_file(
    path: Path,
    params: SolveParameters,
    *,
    problem: str | None = None,
    p: int | None = None,
    alpha: float | None = None,
    max_cost: float | None = None,
) -> dict[str, Any]:
    """Solve an ``instance.npz`` (:mod:`hubopt.instance_file`); the standard record with
    ``suite`` = ``"file"``, ``n`` = the number of model nodes, ``instance`` = the file name
    and ``allocation``: each node's 1-based hub (single allocation) or, for multiple
    allocation, the 1-based (first, second) hubs of every OD pair with flow."""
    from hubopt.instance_file import load_instance_file

    inst = load_instance_file(path)
    prob = Problem.parse(problem or inst.problem)
    kwargs = inst.model_kwargs(problem=prob.value, p=p, alpha=alpha)
    if prob is Problem.COVERAGE:
        msg = f"{path}: problem: the coverage model needs travel times, not this instance"
        raise ModelSpecificationError(msg)
    if prob.covering:
        if max_cost is None:
            msg = f"--max-cost: required for --problem {prob.value} (the bound on every route)"
            raise ModelSpecificationError(msg)
        kwargs["max_cost"] = max_cost
    model = build_model(prob, inst.C, inst.W, **kwargs)
    sol = model.solve(params)
    allocation = allocation_record(prob, sol.allocation, inst.W)
    return {
        "suite": "file", "instance": path.name, "problem": prob.value, "n": inst.m,
        "p": kwargs.get("p", len(sol.hubs)), "alpha": kwargs["alpha"], "chi": kwargs["chi"],
        "delta": kwargs["delta"], "fixed_cost": None, "capacity": None,
        "objective": _finite(sol.objective), "bound": _finite(sol.bound),
        "gap": _finite(sol.gap), "status": sol.status.value, "hubs": [h + 1 for h in sol.hubs],
        "allocation": allocation, "seconds": round(sol.seconds, 3), "method": sol.method,
        "reference": None, "reference_status": None, "matches_reference": None,
        "relative_difference": None, "info": _json_info(sol.info),
        **({"max_cost": max_cost} if prob.minimax else {}),
        "resilience": "none", "failure_probability": None, "attacks": None,
        "nominal_objective": _finite(sol.objective),
    }


def _json_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """The solve's own figures (bounds of each method, iterations, sites screened...),
    as JSON allows: numbers, flags and text; an infinite or missing number is null."""
    out: dict[str, Any] = {}
    for key, value in sorted(info.items()):
        if isinstance(value, bool | str) or value is None:
            out[key] = value
        elif isinstance(value, int | float | np.integer | np.floating):
            number = float(value)
            out[key] = number if math.isfinite(number) else None
    return out


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _run_one(
    args: tuple[BenchCase, SolveParameters, Sequence[ReferenceOptimum], Path | None],
) -> dict[str, Any]:
    case, params, optima, data_dir = args
    return run_case(case, params, optima=optima, data_dir=data_dir)


def share_threads(jobs: int) -> int:
    """Give this process its share of numba's threads when ``jobs`` processes solve side
    by side (at least one); returns the share.  Without it every worker starts one
    thread per core, and their parallel loops wait on threads the others hold (AP 200
    single-allocation relaxation, two processes on 2 cores: 394 iterations in 150 s with
    one thread each against 343 with two)."""
    import numba

    share = max(1, int(numba.config.NUMBA_NUM_THREADS) // max(1, jobs))
    numba.set_num_threads(share)
    return share


def run_grid(
    cases: Iterable[BenchCase],
    params: SolveParameters,
    *,
    out: Path | None,
    optima: Sequence[ReferenceOptimum] = (),
    data_dir: Path | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    previous: Sequence[dict[str, Any]] = (),
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """Solve every case (``jobs`` processes); rewrite ``out`` atomically after each one.

    Results come back in the order of ``cases`` whatever ``jobs`` is.
    """
    results = list(previous)

    def keep(record: dict[str, Any]) -> None:
        results.append(record)
        if out is not None:
            write_json_atomic(out, results)
        if on_result is not None:
            on_result(record)

    todo = list(cases)
    if jobs > 1 and len(todo) > 1:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(processes=jobs, initializer=share_threads, initargs=(jobs,)) as pool:
            args = [(c, params, optima, data_dir) for c in todo]
            for record in pool.imap(_run_one, args):
                keep(record)
        return results
    cache: dict[tuple[str, int], HubInstance] = {}
    for case in todo:
        key = (case.suite, case.n)
        if key not in cache:
            cache[key] = load_instance(case.suite, case.n, data_dir=data_dir)
        keep(run_case(case, params, instance=cache[key], optima=optima))
    return results


def matches_reference(objective: float | None, reference: float | None) -> bool | None:
    """True when ``objective`` equals a published value to its printed precision.

    The published tables give two decimals, so a value matches when it agrees to within
    a relative 1e-6 or within half a unit of the second decimal (0.005), whichever is
    larger; ``None`` when there is no reference.
    """
    if reference is None or objective is None:
        return None
    return abs(objective - reference) <= max(1e-6 * abs(reference), 0.005 + 1e-9)


TABLE_COLUMNS = (
    ("instance", 22),
    ("objective", 14),
    ("bound", 14),
    ("gap", 9),
    ("status", 9),
    ("seconds", 8),
    ("reference", 14),
    ("rel.diff", 9),
    ("hubs", 18),
)


def table_header() -> str:
    """Header line of the printed results table."""
    return "  ".join(
        name.rjust(w) if i else name.ljust(w) for i, (name, w) in enumerate(TABLE_COLUMNS)
    )


def table_row(r: dict[str, Any]) -> str:
    """One printed line for a result record."""
    label = f"{r['suite'].upper()}{r['n']} {r['problem']}"
    if r["fixed_cost"]:
        label += f" {r['fixed_cost']}{r['capacity'] or ''}"
    else:
        label += f" p={r['p']}"
    if r.get("max_cost") is not None:
        label += f" r={r['max_cost']:g}"
    if r.get("minutes") is not None:  # covering models
        label += f" t={r['minutes']:g}"
    elif r["suite"] != "ap":
        label += f" a={r['alpha']:g}"
    if r.get("resilience") == "expected":
        label += f" E q={r['failure_probability']:g}"
    elif r.get("resilience") == "worst":
        label += f" W r={r['attacks']}"
    if r.get("n1_access") is not None:
        label += f" N1<={r['n1_access']:g}"

    def num(x: float | None, fmt: str = ",.2f") -> str:
        return "-" if x is None else format(x, fmt)

    cells = [
        label,
        num(r["objective"]),
        num(r["bound"]),
        num(r["gap"], ".2e"),
        r["status"],
        num(r["seconds"], ".2f"),
        num(r["reference"]),
        num(r["relative_difference"], ".1e"),
        ",".join(str(h) for h in r["hubs"]),
    ]
    return "  ".join(
        c.rjust(w) if i else c.ljust(w)
        for i, (c, (_, w)) in enumerate(zip(cells, TABLE_COLUMNS, strict=True))
    )
