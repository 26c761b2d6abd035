"""Benchmark of the covering models: hubopt against spopt + CBC, side by side.

Random instances as in issue 29: demand points and candidate sites uniform in a
100 km x 100 km square, travel minutes = straight-line km at 60 km/h (one minute a km),
integer demand weights uniform in 1..5999, the same seed for both solvers. Each row is
one solver on one instance: the wall time from the matrix to the solution (model build
included, as a planner would call it), the covered weight, whether the solver proved
it optimal, and the open sites (1-based).

* hubopt: ``CoverageModel.from_cost_matrix(times, weights, minutes=r, p=p).solve()``.
* spopt: ``MCLP.from_cost_matrix(times, weights, service_radius=r, p_facilities=p)``
  solved by CBC through PuLP (``PULP_CBC_CMD``, one thread). CBC gets four times
  hubopt's limit (:data:`PEER_TIME_LIMIT`), so that its time to the proof is measured
  rather than cut at hubopt's limit; a row that it does not prove says so.

The ``coverage`` suite of ``benchmarks/run.py`` calls :func:`measure`; its rows go to
``benchmarks/results/coverage.csv``. ``python benchmarks/bench_coverage.py N M P R SEED``
runs one instance (training: use other sizes and seeds than :data:`INSTANCES`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

SIDE_KM = 100.0
KMH = 60.0
TIME_LIMIT = 300.0  # hubopt's limit per instance, the limit of the runs
PEER_TIME_LIMIT = 4 * TIME_LIMIT  # spopt + CBC: its time to the proof, not a cut-off
SEED = 0


@dataclass(frozen=True)
class CoverInstance:
    """One reported instance: points x sites, hubs, radius (minutes)."""

    n: int
    m: int
    p: int
    minutes: float

    @property
    def name(self) -> str:
        return f"{self.n:,} x {self.m:,}, p = {self.p}, {self.minutes:g} min"


# the three instances and the ends of its range (1,000 x 100 to 20,000 x 2,000)
INSTANCES = (
    CoverInstance(1000, 100, 5, 20.0),
    CoverInstance(2000, 200, 10, 15.0),
    CoverInstance(5000, 500, 15, 12.0),
    CoverInstance(10000, 1000, 20, 10.0),
    CoverInstance(20000, 2000, 30, 8.0),
)


def random_instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Travel minutes ``(n, m)`` and integer weights ``(n,)`` of a random instance."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0.0, SIDE_KM, (n, 2))
    sites = rng.uniform(0.0, SIDE_KM, (m, 2))
    weights = rng.integers(1, 6000, n).astype(np.float64)
    from scipy.spatial.distance import cdist

    minutes = cdist(points, sites)  # km
    minutes *= 60.0 / KMH
    return minutes, weights


def solve_hubopt(times: np.ndarray, weights: np.ndarray, p: int, minutes: float,
                 limit: float) -> dict[str, Any]:  # fmt: skip
    from hubopt.models import CoverageModel, Status

    start = time.perf_counter()
    model = CoverageModel.from_cost_matrix(times, weights, minutes=minutes, p=p)
    sol = model.solve(time_limit=limit)
    seconds = time.perf_counter() - start
    return {"objective": model.objective(sol), "proven": sol.status is Status.OPTIMAL,
            "seconds": round(seconds, 2), "hubs": [h + 1 for h in sol.hubs],
            "method": sol.method}  # fmt: skip


def solve_spopt(times: np.ndarray, weights: np.ndarray, p: int, minutes: float,
                limit: float) -> dict[str, Any]:  # fmt: skip
    import pulp
    from spopt.locate import MCLP

    start = time.perf_counter()
    mclp = MCLP.from_cost_matrix(times, weights, service_radius=minutes, p_facilities=p)
    mclp.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit), results=False)
    seconds = time.perf_counter() - start
    status = pulp.LpStatus[mclp.problem.status]
    hubs = [k + 1 for k, v in enumerate(mclp.fac_vars) if (v.value() or 0) > 0.5]
    covered = (times[:, [h - 1 for h in hubs]] <= minutes).any(axis=1) if hubs else None
    objective = float(weights[covered].sum()) if covered is not None else None
    # PuLP says "Optimal" for a CBC run stopped on its time limit with a solution too;
    # proven only when CBC's own status says so
    proven = status == "Optimal" and mclp.problem.sol_status == pulp.LpSolutionOptimal
    return {"objective": objective, "proven": proven, "seconds": round(seconds, 2),
            "hubs": hubs, "method": "spopt MCLP + CBC (PuLP)"}  # fmt: skip


def measure(limit: float = TIME_LIMIT, seed: int = SEED,
            instances: tuple[CoverInstance, ...] | None = None,
            peer_limit: float = PEER_TIME_LIMIT) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Rows: for each instance (default :data:`INSTANCES`), hubopt (``limit``) then
    spopt + CBC (``peer_limit``) on the same matrix, same seed."""
    import os

    for inst in INSTANCES if instances is None else instances:
        times, weights = random_instance(inst.n, inst.m, seed)
        for solver, fn, lim in (("hubopt", solve_hubopt, limit),
                                ("spopt+cbc", solve_spopt, peer_limit)):  # fmt: skip
            load = f"{os.getloadavg()[0]:.2f}"
            rec = fn(times, weights, inst.p, inst.minutes, lim)
            yield {"instance": inst.name, "n": inst.n, "m": inst.m, "p": inst.p,
                   "minutes": inst.minutes, "seed": seed, "solver": solver,
                   "time_limit": lim, **rec, "load_at_start": load}  # fmt: skip


if __name__ == "__main__":
    n, m, p, r, seed = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                        float(sys.argv[4]), int(sys.argv[5]))  # fmt: skip
    which = sys.argv[6:] or ["hubopt", "spopt"]
    t, w = random_instance(n, m, seed)
    for name in which:
        fn = solve_hubopt if name == "hubopt" else solve_spopt
        rec = fn(t, w, p, r, TIME_LIMIT if name == "hubopt" else PEER_TIME_LIMIT)
        print(name, {k: v for k, v in rec.items() if k != "hubs"}, flush=True)
