"""Benders with one option set two ways, side by side (issue 5).

Runs :func:`hubopt.models.benders.benders_multiple_allocation` on AP UMApHMP with the
same start (greedy hubs improved by the VNS for 20 s) and the same time limit once per
value of one keyword option; the arms of one instance run side by side, one per core,
as ``hubopt bench`` does in ``run_large_v*.sh``.  Results go to
``benchmarks/results/<name>.json``; ``--report`` writes ``benchmarks/<name>.md`` from it.

The comparisons on record:

    # probing reduction tests (benchmarks/probing.md)
    python benchmarks/benders_arms.py --name probing --option probe_budget \\
        --values 0 0.25 --n 200 --p 10 5 --seconds 600
    # integer phase: master MIP or branch-and-cut tree (benchmarks/integer_phase.md)
    python benchmarks/benders_arms.py --name integer_phase --option integer_phase \\
        --values mip tree --n 100 --p 5 10 15 20 --seconds 60
    python benchmarks/benders_arms.py --name integer_phase_ap200 --option integer_phase \
        --values mip tree --n 200 --p 10 --seconds 600
    # probing with new cuts at the probes' own points (benchmarks/probe_separation.md)
    python benchmarks/benders_arms.py --name probe_separation \
        --option probe_separation_rounds --values 0 2 --n 200 --p 10 5 --seconds 600
    # the in-out centre's step (benchmarks/center_step_*.md)
    python benchmarks/benders_arms.py --name center_step_ap200_01 --option center_step \
        --values 0.1 --n 200 --p 10 5 --seconds 600
    python benchmarks/benders_arms.py --name probing --report
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

#: what each comparison on record changes (the first paragraph of its report)
ABOUT = {
    "probing": "Probing re-solves the master LP with one site fixed after the LP phase "
    "(`probe_budget`: share of the time left; 0: no probing).",
    "integer_phase": "After the LP phase and the reduction tests, `mip` solves the master "
    "MIP with HiGHS repeatedly (cuts added at each master solution); `tree` is hubopt's own "
    "best-first branch and bound over the master LP (GLOP) that separates cuts at every "
    "node's LP point (`hubopt/models/_tree.py`).",
}
ABOUT["integer_phase_ap200"] = ABOUT["integer_phase"]
_CENTRE = (
    "`center_step`: the share of the way Benders' in-out centre moves to each LP point "
    "(0: it stays at the uniform share p / n; 0.5 was the default before the ninth pass, "
    "0.1 is the default now). The rows with 0.5 are in `integer_phase.md` (AP 100, 60 s, "
    "arm `mip`) and `probe_separation.md` (AP 200, 600 s, arm 0), same script and start."
)
for _name in ("center_step_ap100", "center_step_ap200", "center_step_ap200_01"):
    ABOUT[_name] = _CENTRE
ABOUT["probe_separation"] = (
    "Probing with `probe_separation_rounds` rounds of new cuts at the LP point of every "
    "probe that ends at least half-way from the LP bound to the incumbent (0: the pool's "
    "cuts only, as before)."
)


def parse_value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run(n: int, p: int, seconds: float, option: str, value: int | float | str) -> dict[str, Any]:
    inst = load_instance("ap", n)
    model = UMApHMP.from_cost_matrix(
        inst.costs, inst.scaled_flows(), p=p, chi=inst.chi, alpha=inst.alpha, delta=inst.delta
    )
    start, _ = vns_hubs(
        model.data, greedy_hubs(model.data, p), deadline=time.perf_counter() + 20.0, seed=0
    )
    t0 = time.perf_counter()
    res = benders_multiple_allocation(
        model.data, start=start, deadline=t0 + seconds, **{option: value}
    )
    return {
        "n": n,
        "p": p,
        "seconds_limit": seconds,
        "option": option,
        "value": value,
        "objective": res.objective,
        "bound": res.bound,
        "gap": (res.objective - res.bound) / res.objective,
        "proven": res.proven,
        "seconds": time.perf_counter() - t0,
        **res.summary(),
    }


def report(name: str) -> None:
    doc = json.loads((HERE / "results" / f"{name}.json").read_text(encoding="utf-8"))
    lines = [
        f"# Benders: {name.replace('_', ' ')} (issue 5)",
        "",
        f"Machine: {doc['machine']}. `{doc['command']}` (the arms of an instance side by "
        "side, one per core; same start: greedy hubs and 20 s of VNS). " + ABOUT.get(name, ""),
        "",
        "| instance | p | option | objective | bound | gap | LP bound | probe LPs "
        "| sites fixed by probing | master MIPs | tree nodes | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["runs"]:
        lines.append(
            f"| AP{r['n']} | {r['p']} | `{r['option']}={r['value']}` | {r['objective']:,.2f} | "
            f"{r['bound']:,.2f} | {r['gap']:.3%} | {r['lp_bound']:,.2f} | "
            f"{r.get('probe_lps', 0):.0f} | {r.get('fixed_by_probe', 0):.0f} | "
            f"{r['mip_iterations']} | {r.get('tree_nodes', 0):.0f} | {r['seconds']:.1f} |"
        )
    if doc.get("notes"):
        lines += ["", doc["notes"]]
    lines.append("")
    write_text_atomic(HERE / f"{name}.md", "\n".join(lines), overwrite=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--name", required=True, help="results/<name>.json and <name>.md")
    ap.add_argument("--option", help="keyword of benders_multiple_allocation")
    ap.add_argument("--values", nargs="+", type=parse_value, help="one arm per value")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--p", type=int, nargs="+", default=[10, 5])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--report", action="store_true", help="only write <name>.md")
    args = ap.parse_args()
    if args.report:
        report(args.name)
        return
    if not args.option or not args.values:
        ap.error("--option and --values are needed unless --report")
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=2) as pool:  # in order: one instance's arms pair up
        arms = [
            pool.submit(run, args.n, p, args.seconds, args.option, v)
            for p in args.p
            for v in args.values
        ]
        for fut in arms:
            row = fut.result()
            rows.append(row)
            print(json.dumps(row), flush=True)
    command = (
        f"python benchmarks/benders_arms.py --name {args.name} --option {args.option} "
        f"--values {' '.join(str(v) for v in args.values)} --n {args.n} "
        f"--p {' '.join(map(str, args.p))} --seconds {args.seconds:g}"
    )
    doc = {"machine": machine_description(), "command": command, "runs": rows}
    write_json_atomic(HERE / "results" / f"{args.name}.json", doc, overwrite=True)
    report(args.name)


if __name__ == "__main__":
    main()
