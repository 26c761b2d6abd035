"""Benders with and without probing reduction tests (issue 5): ``benchmarks/probing.md``.

Runs :func:`hubopt.models.benders.benders_multiple_allocation` on AP 200 UMApHMP with
the same start (greedy hubs improved by the VNS for 20 s) and the same time limit, once
with ``probe_budget=0`` and once with ``probe_budget=0.25`` (the default); the two arms
of one instance run side by side, one per core, as ``hubopt bench`` does in
``run_large_v*.sh``.  Results go to ``benchmarks/results/probing.json``; ``--report``
writes ``benchmarks/probing.md`` from it.

    python benchmarks/probing.py [--p 10 5] [--seconds 600]
    python benchmarks/probing.py --report
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from hubopt._io import write_json_atomic, write_text_atomic
from hubopt.bench import machine_description
from hubopt.instances import load_instance
from hubopt.models import UMApHMP
from hubopt.models.benders import benders_multiple_allocation
from hubopt.models.heuristics import greedy_hubs, vns_hubs

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "probing.json"
REPORT = HERE / "probing.md"


def run(n: int, p: int, seconds: float, probe_budget: float) -> dict[str, Any]:
    inst = load_instance("ap", n)
    model = UMApHMP.from_cost_matrix(
        inst.costs, inst.scaled_flows(), p=p, chi=inst.chi, alpha=inst.alpha, delta=inst.delta
    )
    start, _ = vns_hubs(
        model.data, greedy_hubs(model.data, p), deadline=time.perf_counter() + 20.0, seed=0
    )
    t0 = time.perf_counter()
    res = benders_multiple_allocation(
        model.data, start=start, deadline=t0 + seconds, probe_budget=probe_budget
    )
    return {
        "n": n,
        "p": p,
        "seconds_limit": seconds,
        "probe_budget": probe_budget,
        "objective": res.objective,
        "bound": res.bound,
        "gap": (res.objective - res.bound) / res.objective,
        "proven": res.proven,
        "seconds": time.perf_counter() - t0,
        **res.summary(),
    }


def report() -> None:
    doc = json.loads(OUT.read_text(encoding="utf-8"))
    lines = [
        "# Benders with and without probing (issue 5)",
        "",
        f"Machine: {doc['machine']}. `python benchmarks/probing.py` (the two arms of an "
        "instance side by side, one per core; same start: greedy hubs and 20 s of VNS). "
        "Probing re-solves the master LP with one site fixed after the LP phase "
        "(`probe_budget`: share of the time left).",
        "",
        "| instance | p | probe_budget | objective | bound | gap | LP bound | probe LPs "
        "| sites fixed by probing | master MIPs | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["runs"]:
        lines.append(
            f"| AP{r['n']} | {r['p']} | {r['probe_budget']} | {r['objective']:,.2f} | "
            f"{r['bound']:,.2f} | {r['gap']:.3%} | {r['lp_bound']:,.2f} | "
            f"{r.get('probe_lps', 0):.0f} | {r.get('fixed_by_probe', 0):.0f} | "
            f"{r['mip_iterations']} | {r['seconds']:.1f} |"
        )
    lines.append("")
    write_text_atomic(REPORT, "\n".join(lines), overwrite=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--p", type=int, nargs="+", default=[10, 5])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--report", action="store_true", help="only write probing.md")
    args = ap.parse_args()
    if args.report:
        report()
        return
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=2) as pool:
        for p in args.p:
            arms = [pool.submit(run, args.n, p, args.seconds, b) for b in (0.0, 0.25)]
            for fut in arms:
                row = fut.result()
                rows.append(row)
                print(json.dumps(row), flush=True)
    write_json_atomic(OUT, {"machine": machine_description(), "runs": rows}, overwrite=True)
    report()


if __name__ == "__main__":
    main()
