"""Engine versus the textbook baseline, side by side in one run.

Baseline: the Ernst & Krishnamoorthy flow-based MIP (1996 for single allocation, 1998
for multiple allocation) handed as it is to OR-Tools MathOpt with HiGHS, no warm
start, no reduction.  Engine: ``hubopt`` with its default method (exact hub-set
search).  For each AP instance both are solved to proven optimality (or stopped at
the baseline time limit); the script records the times, the ratio and that both
reach the same objective.

    python benchmarks/compare_baseline.py --out benchmarks/baseline_results.json

writes the JSON results and ``benchmarks/baseline.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

from hubopt.bench import machine_description
from hubopt.instances import load_ap
from hubopt.models import Problem, SolveParameters, build_model
from hubopt.models._mip import solve_multiple_allocation_mip, solve_single_allocation_mip


def run(sizes: list[int], ps: list[int], problems: list[str], limit: float) -> list[dict]:
    rows = []
    for n in sizes:
        inst = load_ap(n)
        for prob_name in problems:
            prob = Problem.parse(prob_name)
            for p in ps:
                model = build_model(
                    prob, inst.costs, inst.scaled_flows(), p=p,
                    chi=inst.chi, alpha=inst.alpha, delta=inst.delta,
                )
                sol = model.solve(SolveParameters(time_limit=limit))
                params = SolveParameters(time_limit=limit)
                t0 = time.perf_counter()
                if prob.single_allocation:
                    base = solve_single_allocation_mip(prob, model.data, params, time_limit=limit)
                else:
                    base = solve_multiple_allocation_mip(prob, model.data, params, time_limit=limit)
                base_seconds = time.perf_counter() - t0
                row = {
                    "problem": prob.value,
                    "n": n,
                    "p": p,
                    "engine_seconds": round(sol.seconds, 3),
                    "engine_objective": sol.objective,
                    "engine_status": sol.status.value,
                    "baseline_seconds": round(base_seconds, 3),
                    "baseline_objective": base.objective,
                    "baseline_bound": base.bound,
                    "baseline_optimal": base.proven_optimal,
                    "speedup": round(base_seconds / max(sol.seconds, 1e-9), 1),
                    "same_objective": abs(base.objective - sol.objective)
                    <= 1e-6 * abs(sol.objective),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def markdown(rows: list[dict], limit: float) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    lines = [
        "# Engine versus the E&K flow MIP (HiGHS), AP instances",
        "",
        f"Machine: {machine_description()} ({platform.processor() or 'cpu'}); commit {commit}.",
        f"Baseline time limit {limit:g} s per instance. Reproduce with "
        "`python benchmarks/compare_baseline.py`.",
        "",
        "Where the baseline hit its limit, the speed-up is a lower bound and *same objective*",
        "compares the baseline's incumbent at the limit.",
        "",
        "| problem | n | p | engine s | baseline s | speed-up | baseline proven | same objective |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{r['baseline_seconds']:.2f}" + ("" if r["baseline_optimal"] else " (limit)")
        lines.append(
            f"| {r['problem']} | {r['n']} | {r['p']} | {r['engine_seconds']:.2f} | {base} | "
            f"{'' if r['baseline_optimal'] else '>= '}{r['speedup']:.0f}x | "
            f"{'yes' if r['baseline_optimal'] else 'no'} | "
            f"{'yes' if r['same_objective'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20, 25, 40, 50])
    parser.add_argument("--p", type=int, nargs="+", default=[2, 3, 4, 5])
    parser.add_argument("--problem", nargs="+", default=["umaphmp", "usaphmp"])
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/baseline_results.json"))
    args = parser.parse_args()
    rows = run(args.n, args.p, args.problem, args.time_limit)
    args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    args.out.with_name("baseline.md").write_text(markdown(rows, args.time_limit), encoding="utf-8")


if __name__ == "__main__":
    main()
