"""Time the single-allocation relaxation's route pricing on stored multipliers.

Runs :func:`hubopt.models.sa_lagrangian.single_allocation_lagrangian` on an AP USApHMP
instance for a number of iterations (no time limit, so the run is deterministic), keeps
the route pricing's inputs of its last iteration in an ``.npz`` file, then times
``_routes`` of the checkout on the Python path on them (best of ``--repeat`` calls after
one warm-up) and appends the figure, the priced total and the commit to a JSON file.
Time two checkouts on the same stored state to compare pricing kernels:

    PYTHONPATH=new python benchmarks/route_pricing.py --n 200 --p 10 --upper 110147.66 \\
        --iterations 400 --state /tmp/p10.npz --out benchmarks/results/route_pricing.json
    PYTHONPATH=old python benchmarks/route_pricing.py --state /tmp/p10.npz --out ...

(the second call only times: the state exists).  Kernels without a ``slack`` argument
(before the triangle test) are called without it.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from hubopt.bench import machine_description
from hubopt.instances import load_ap
from hubopt.models import USApHMP
from hubopt.models import sa_lagrangian as sa

try:
    from hubopt.bench import code_commit
except ImportError:  # an older checkout, timed for comparison: its path names it

    def code_commit() -> str:
        return ""


NAMES = ("to_site", "from_site", "between", "W", "chi", "alpha", "delta", "u", "v")


def capture(n: int, p: int, upper: float, iterations: int, state: Path) -> None:
    """Run the relaxation ``iterations`` steps and store its last pricing's inputs."""
    inst = load_ap(n)
    model = USApHMP.from_cost_matrix(
        inst.costs, inst.scaled_flows(), p=p, chi=inst.chi, alpha=inst.alpha, delta=inst.delta
    )
    pricing = sa._routes
    calls = [0]

    def keep(*args: Any) -> float:
        calls[0] += 1
        if calls[0] == iterations:
            kept = dict(zip((*NAMES, "kpos", "lpos"), args, strict=False))
            np.savez(state, **{k: np.asarray(v) for k, v in kept.items()})
        return float(pricing(*args))

    sa._routes = keep  # type: ignore[assignment]
    try:
        sa.single_allocation_lagrangian(
            model.data, upper=upper, time_limit=None, max_iterations=iterations
        )
    finally:
        sa._routes = pricing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--upper", type=float, default=110147.66, help="best known objective")
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--state", type=Path, required=True, help=".npz of the stored inputs")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if not args.state.exists():
        capture(args.n, args.p, args.upper, args.iterations, args.state)
    stored = dict(np.load(args.state))
    inputs = [stored[k] if stored[k].ndim else float(stored[k]) for k in NAMES]
    takes_slack = "slack" in inspect.signature(sa._routes.py_func).parameters
    extra = [float(sa._triangle_slack(stored["between"]))] if takes_slack else []
    times = []
    total = 0.0
    for _ in range(args.repeat + 1):
        kpos, lpos = stored["kpos"].copy(), stored["lpos"].copy()
        started = time.perf_counter()
        total = float(sa._routes(*inputs, kpos, lpos, *extra))
        times.append(time.perf_counter() - started)
    commit = code_commit()
    record = {
        "state": args.state.name,
        "sites": int(stored["between"].shape[0]),
        "seconds_per_call": round(min(times[1:]), 4),
        "total": total,
        "commit": commit,
        "module": sa.__file__,
        "machine": machine_description(),
    }
    print(json.dumps(record))
    old = json.loads(args.out.read_text()) if args.out.exists() else []
    args.out.write_text(json.dumps([*old, record], indent=1) + "\n")


if __name__ == "__main__":
    main()
