"""The single-allocation Lagrangian relaxation alone on an AP USApHMP instance.

Runs :func:`hubopt.models.sa_lagrangian.single_allocation_lagrangian` (root only, no
branching) for a fixed time from a given upper bound (the best known objective) and
appends its bound, gap, iterations and surviving sites to a JSON file, with the commit
and the machine.  Start two copies from two checkouts side by side to compare code
versions on the same machine (what ``large.md`` calls a same-machine comparison):

    PYTHONPATH=old python benchmarks/sa_relaxation.py --n 200 --p 15 \\
        --upper 94459.20 --seconds 300 --out benchmarks/results/sa_relaxation_old.json &
    PYTHONPATH=new python benchmarks/sa_relaxation.py ... --out .../sa_relaxation_new.json &

The first iterations include numba's compilation when its cache is cold.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hubopt.bench import code_commit, machine_description
from hubopt.instances import load_ap
from hubopt.models import USApHMP
from hubopt.models.sa_lagrangian import single_allocation_lagrangian


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--p", type=int, required=True)
    ap.add_argument("--upper", type=float, required=True, help="best known objective")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument(
        "--start-share",
        type=float,
        default=None,
        help="share of the access costs in the starting prices (default: the library's)",
    )
    ap.add_argument(
        "--flow-scaling",
        type=float,
        default=None,
        help="power of the OD flows in the subgradient's metric (default: the library's)",
    )
    ap.add_argument(
        "--weight",
        type=float,
        default=None,
        help="share of the new subgradient in the step's direction (default: the library's)",
    )
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    inst = load_ap(args.n)
    model = USApHMP.from_cost_matrix(
        inst.costs, inst.scaled_flows(), p=args.p, chi=inst.chi, alpha=inst.alpha, delta=inst.delta
    )
    t0 = time.perf_counter()
    options: dict[str, float] = {}
    if args.start_share is not None:
        options["start_share"] = args.start_share
    if args.flow_scaling is not None:
        options["flow_scaling"] = args.flow_scaling
    if args.weight is not None:
        options["weight"] = args.weight
    res = single_allocation_lagrangian(
        model.data, upper=args.upper, time_limit=args.seconds, **options
    )
    commit = code_commit()
    record = {
        "instance": f"AP{args.n}",
        "p": args.p,
        "upper": args.upper,
        "seconds_limit": args.seconds,
        "start_share": args.start_share,
        "flow_scaling": args.flow_scaling,
        "weight": args.weight,
        "bound": res.bound,
        "gap": (args.upper - res.bound) / args.upper,
        "iterations": res.iterations,
        "sites": len(res.sites),
        "seconds": round(time.perf_counter() - t0, 1),
        "commit": commit,
        "machine": machine_description(),
    }
    rows = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else []
    rows.append(record)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
