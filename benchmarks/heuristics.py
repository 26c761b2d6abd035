"""USApHMP heuristics on AP 100 and AP 200: the current local search beside the GVNS.

For p in {2, 3, 4, 5, 10, 15, 20} (chi 3, alpha 0.75, delta 2, flows / 1000):

* ``local search``: what the engine runs today (``hubopt.models._model._heuristic``):
  ``greedy_hubs`` + ``local_search_hubs`` on the multiple-allocation cost, then
  ``single_local_search`` with a deadline of 10 s or 50 s after the start;
* ``gvns default``: :func:`hubopt.models.gvns.gvns_single_allocation` with its default
  stopping rule (60 shakes in a row without improvement), no deadline;
* ``gvns 10 s`` / ``gvns 50 s``: the GVNS running until the deadline (no iteration limit).

Each value is checked with the independent evaluator and compared with the proven
optima of ``benchmarks/results/ap_usaphmp.json`` (a heuristic value below a proven
optimum would be a bug).  Seed 0 everywhere.

A second part (``--part fixed``) runs :func:`gvns_single_allocation_fixed_cost` on
USAHLP and CSAHLP (fixed costs L/T, capacities none/L/T) for AP 50, 100 and 200, with
its default stopping rule and with a 10 s deadline, beside the engine's own results in
``results/ap_usahlp.json`` / ``results/ap_csahlp.json`` (proven optima for AP 50).

    nice python benchmarks/heuristics.py                 # p-hub median part (~30 min)
    nice python benchmarks/heuristics.py --part fixed    # fixed-cost part (~5 min)
    python benchmarks/heuristics.py --report-only        # rebuild heuristics.md

Outputs: ``benchmarks/results/heuristics.json`` (rewritten after every instance) and
``benchmarks/heuristics.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hubopt._io import write_json_atomic, write_text_atomic
from hubopt.bench import machine_description
from hubopt.instances import load_ap
from hubopt.models.base import HubData, IntArray, Problem, make_hub_data
from hubopt.models.evaluate import evaluate, single_allocation_od_costs
from hubopt.models.gvns import gvns_single_allocation, gvns_single_allocation_fixed_cost
from hubopt.models.heuristics import greedy_hubs, improve_allocation, local_search_hubs, ma_costs

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "heuristics.json"
REPORT = HERE / "heuristics.md"
EXACT = HERE / "results" / "ap_usaphmp.json"
SIZES = (100, 200)
PS = (2, 3, 4, 5, 10, 15, 20)
BUDGETS = (10.0, 50.0)
FIXED_SIZES = (50, 100, 200)
ENGINE = {
    "usahlp": HERE / "results" / "ap_usahlp.json",
    "csahlp": HERE / "results" / "ap_csahlp.json",
}


def single_local_search(
    data: HubData,
    hubs: Sequence[int],
    *,
    shortlist: int = 15,
    max_iterations: int = 50,
    deadline: float | None = None,
) -> tuple[list[int], IntArray, float]:
    """The engine's single-allocation heuristic before GVNS (kept here as the comparison).

    Swap descent on the single-allocation cost, for a fixed number of hubs.

    Each step ranks every swap (one hub out, one candidate in) by its cheap
    multiple-allocation cost, reallocates the ``shortlist`` best with
    :func:`improve_allocation`, and moves to the best if it lowers the cost.
    """

    def cost_of(H: Sequence[int]) -> tuple[IntArray, float]:
        a = improve_allocation(data, H)
        return a, float(single_allocation_od_costs(data, a).sum())

    H = sorted(int(h) for h in hubs)
    alloc, current = cost_of(H)
    fixed = set(data.fixed_hubs)
    for _ in range(max_iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        outs = [h for h in H if h not in fixed]
        ins = [c for c in data.candidates if c not in set(H)]
        if not outs or not ins:
            break
        sets = np.array(
            [sorted([*(h for h in H if h != o), c]) for o in outs for c in ins], dtype=np.int64
        )
        order = np.argsort(ma_costs(data, sets), kind="stable")[:shortlist]
        best: tuple[float, list[int], IntArray] | None = None
        for idx in order:
            cand = sets[idx].tolist()
            a, value = cost_of(cand)
            if best is None or value < best[0]:
                best = (value, cand, a)
        if best is None or best[0] >= current - 1e-12 * max(1.0, abs(current)):
            break
        current, H, alloc = best
    return H, alloc, current


def _data(n: int, p: int) -> HubData:
    inst = load_ap(n)
    return make_hub_data(
        inst.costs,
        inst.scaled_flows(),
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
        p=p,
        need_p=True,
        need_fixed_costs=False,
        need_capacities=False,
    )


def _proven_optima() -> dict[tuple[int, int], float]:
    if not EXACT.exists():
        return {}
    records = json.loads(EXACT.read_text(encoding="utf-8"))
    return {
        (int(r["n"]), int(r["p"])): float(r["objective"])
        for r in records
        if r.get("status") == "optimal" and r.get("p") is not None
    }


def _local_search(data: HubData, p: int, budget: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    hubs, _ = local_search_hubs(data, greedy_hubs(data, p))
    hubs, alloc, _ = single_local_search(data, hubs, deadline=t0 + budget)
    seconds = time.perf_counter() - t0
    value = evaluate(Problem.USAPHMP, data, hubs, alloc)
    return {"objective": value, "seconds": round(seconds, 3), "hubs": sorted(hubs)}


def _gvns(data: HubData, p: int, budget: float | None) -> dict[str, Any]:
    t0 = time.perf_counter()
    if budget is None:
        hubs, alloc, value = gvns_single_allocation(data, p, seed=0)
    else:
        hubs, alloc, value = gvns_single_allocation(
            data, p, seed=0, deadline=t0 + budget, max_iterations=10**9
        )
    seconds = time.perf_counter() - t0
    check = evaluate(Problem.USAPHMP, data, hubs, alloc)
    if abs(check - value) > 1e-9 * abs(check):
        msg = f"GVNS reported {value} but the evaluator gives {check}"
        raise RuntimeError(msg)
    return {"objective": value, "seconds": round(seconds, 3), "hubs": list(hubs)}


def run() -> list[dict[str, Any]]:
    proven = _proven_optima()
    records: list[dict[str, Any]] = []
    for n in SIZES:
        for p in PS:
            data = _data(n, p)
            rec: dict[str, Any] = {"n": n, "p": p, "proven_optimum": proven.get((n, p))}
            # the local search stops at its own local optimum; a run that ends before the
            # shorter budget is the same run for both budgets
            long = _local_search(data, p, BUDGETS[-1])
            short = long if long["seconds"] < BUDGETS[0] else _local_search(data, p, BUDGETS[0])
            rec["local_search_10s"] = short
            rec["local_search_50s"] = long
            rec["gvns_default"] = _gvns(data, p, None)
            rec["gvns_10s"] = _gvns(data, p, BUDGETS[0])
            rec["gvns_50s"] = _gvns(data, p, BUDGETS[1])
            opt = rec["proven_optimum"]
            if opt is not None:
                for key in ("gvns_default", "gvns_10s", "gvns_50s"):
                    if rec[key]["objective"] < opt * (1 - 1e-9):
                        msg = f"AP{n} p={p}: {key} {rec[key]['objective']} below optimum {opt}"
                        raise RuntimeError(msg)
            records.append(rec)
            print(
                f"AP{n} p={p}: local search {long['objective']:.2f} ({long['seconds']} s), "
                f"gvns default {rec['gvns_default']['objective']:.2f} "
                f"({rec['gvns_default']['seconds']} s), 50 s {rec['gvns_50s']['objective']:.2f}",
                flush=True,
            )
            _write(records)
    return records


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _write(records: list[dict[str, Any]], key: str = "records") -> None:
    payload: dict[str, Any] = {}
    if RESULTS.exists():
        payload = json.loads(RESULTS.read_text(encoding="utf-8"))
    stamp = {
        "machine": machine_description(),
        "commit": _commit(),
        "finished": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if key == "records":
        payload.update(stamp)
    else:
        payload[f"{key}_run"] = stamp
    payload[key] = records
    write_json_atomic(RESULTS, payload)


def _engine_results() -> dict[tuple[str, int, str, str | None], dict[str, Any]]:
    out = {}
    for problem, path in ENGINE.items():
        if not path.exists():
            continue
        for r in json.loads(path.read_text(encoding="utf-8")):
            out[(problem, int(r["n"]), str(r["fixed_cost"]), r["capacity"])] = r
    return out


def run_fixed() -> list[dict[str, Any]]:
    engine = _engine_results()
    records: list[dict[str, Any]] = []
    for n in FIXED_SIZES:
        inst = load_ap(n)
        for fc in ("L", "T"):
            for cap_type in (None, "L", "T"):
                problem = "usahlp" if cap_type is None else "csahlp"
                cap = None if cap_type is None else inst.capacities[cap_type] * inst.flow_scale
                data = make_hub_data(
                    inst.costs,
                    inst.scaled_flows(),
                    chi=inst.chi,
                    alpha=inst.alpha,
                    delta=inst.delta,
                    p=None,
                    fixed_costs=inst.fixed_costs[fc],
                    capacities=cap,
                    need_p=False,
                    need_fixed_costs=True,
                    need_capacities=cap is not None,
                )
                kind = Problem.USAHLP if cap is None else Problem.CSAHLP
                rec: dict[str, Any] = {"n": n, "fixed_cost": fc, "capacity": cap_type}
                for label, budget in (("gvns_default", None), ("gvns_10s", BUDGETS[0])):
                    t0 = time.perf_counter()
                    if budget is None:
                        hubs, alloc, value = gvns_single_allocation_fixed_cost(data, capacities=cap)
                    else:
                        hubs, alloc, value = gvns_single_allocation_fixed_cost(
                            data, capacities=cap, deadline=t0 + budget, max_iterations=10**9
                        )
                    seconds = time.perf_counter() - t0
                    check = evaluate(kind, data, hubs, alloc)
                    if abs(check - value) > 1e-9 * abs(check):
                        msg = f"GVNS reported {value} but the evaluator gives {check}"
                        raise RuntimeError(msg)
                    rec[label] = {
                        "objective": value,
                        "seconds": round(seconds, 3),
                        "hubs": list(hubs),
                    }
                eng = engine.get((problem, n, fc, cap_type))
                if eng is not None:
                    rec["engine"] = {
                        key: eng[key]
                        for key in ("objective", "bound", "status", "seconds", "method")
                    }
                    if eng["status"] == "optimal":
                        for label in ("gvns_default", "gvns_10s"):
                            if rec[label]["objective"] < eng["objective"] * (1 - 1e-9):
                                msg = f"AP{n} {fc}{cap_type}: {label} below the proven optimum"
                                raise RuntimeError(msg)
                records.append(rec)
                print(
                    f"AP{n} {problem} {fc}{cap_type or ''}: gvns "
                    f"{rec['gvns_default']['objective']:.2f} ({rec['gvns_default']['seconds']} s)"
                    f", 10 s {rec['gvns_10s']['objective']:.2f}",
                    flush=True,
                )
                _write(records, key="fixed_cost_records")
    return records


def _gap(value: float, best: float) -> str:
    gap = 100 * (value - best) / best
    return "0" if gap < 5e-7 else f"{gap:.3f}"


def report() -> str:
    payload = json.loads(RESULTS.read_text(encoding="utf-8"))
    records = payload["records"]
    keys = ("local_search_10s", "local_search_50s", "gvns_default", "gvns_10s", "gvns_50s")
    lines = [
        "# USApHMP heuristics on AP 100 and AP 200",
        "",
        "Produced by `benchmarks/heuristics.py` (raw data: `results/heuristics.json`) on "
        f"{payload['machine']}, commit {payload['commit']}, {payload['finished']}. "
        "The machine was shared with other jobs; times are wall-clock and inflated.",
        "",
        *([payload["note"], ""] if payload.get("note") else []),
        "* **LS**: the engine's current heuristic (greedy + hub swap descent on the "
        "multiple-allocation cost, then `single_local_search`) with a 10 s / 50 s deadline;",
        "* **GVNS**: `hubopt.models.gvns.gvns_single_allocation`, seed 0: *default* stops "
        "after 60 shakes without improvement; *10 s* / *50 s* run until the deadline.",
        "",
        "Gap (%) to the best value any method found for the instance; *opt* marks values "
        "proven optimal by hubopt's exact hub-set search (`results/ap_usaphmp.json`). "
        "Seconds in brackets.",
        "",
        "| instance | p | best found | LS 10 s | LS 50 s | GVNS default | GVNS 10 s | GVNS 50 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rec in records:
        best = min(rec[k]["objective"] for k in keys)
        mark = " (opt)" if rec["proven_optimum"] is not None else ""
        cells = [f"{_gap(rec[k]['objective'], best)} ({rec[k]['seconds']:.1f})" for k in keys]
        lines.append(
            f"| AP{rec['n']} | {rec['p']} | {best:.2f}{mark} | " + " | ".join(cells) + " |"
        )
    n_best = {
        k: sum(
            1
            for r in records
            if r[k]["objective"] <= min(r[m]["objective"] for m in keys) * (1 + 5e-9)
        )
        for k in keys
    }
    lines += [
        "",
        "Instances on which each method reaches the best value found: "
        + ", ".join(f"{k} {v}/{len(records)}" for k, v in n_best.items())
        + ".",
        "",
    ]
    longer = sum(
        1
        for r in records
        if r["gvns_50s"]["objective"] < r["gvns_default"]["objective"] * (1 - 5e-9)
    )
    overrun = max(r["local_search_10s"]["seconds"] for r in records)
    lines += [
        "Notes:",
        "",
        f"* the 50 s GVNS improved on the default stopping rule on {longer} of "
        f"{len(records)} instances;",
        "* the LS deadline bounds only `single_local_search`: the greedy start and the "
        "multiple-allocation swap descent before it run to completion (longest LS run "
        f"with a 10 s budget: {overrun:.1f} s);",
        "* every GVNS value was recomputed with `hubopt.models.evaluate.evaluate`, and the "
        "script stops if one falls below a proven optimum.",
        "",
    ]
    fixed = payload.get("fixed_cost_records")
    if fixed:
        run = payload.get("fixed_cost_records_run", {})
        lines += [
            "## Fixed-cost variant (USAHLP, CSAHLP)",
            "",
            "`gvns_single_allocation_fixed_cost` (seed 0; capacities passed for CSAHLP), "
            f"commit {run.get('commit', '?')}, {run.get('finished', '?')}, beside the engine's "
            "results in `results/ap_usahlp.json` / `results/ap_csahlp.json` (its own "
            "heuristic plus bound, or a proven optimum: *opt*). Gap (%) to the best of the "
            "three; seconds in brackets.",
            "",
            "| instance | best found | engine | GVNS default | GVNS 10 s |",
            "|---|---|---|---|---|",
        ]
        for rec in fixed:
            vals = [rec["gvns_default"]["objective"], rec["gvns_10s"]["objective"]]
            eng = rec.get("engine")
            if eng is not None:
                vals.append(eng["objective"])
            best = min(vals)
            mark = " (opt)" if eng is not None and eng["status"] == "optimal" else ""
            name = f"AP{rec['n']} {rec['fixed_cost']}{rec['capacity'] or ''}"
            eng_cell = (
                "-" if eng is None else f"{_gap(eng['objective'], best)} ({eng['seconds']:.0f})"
            )
            cells = [
                f"{_gap(rec[k]['objective'], best)} ({rec[k]['seconds']:.1f})"
                for k in ("gvns_default", "gvns_10s")
            ]
            lines.append(f"| {name} | {best:.2f}{mark} | {eng_cell} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true", help="rebuild the Markdown only")
    parser.add_argument(
        "--part", choices=("phub", "fixed"), default="phub", help="which part to run"
    )
    args = parser.parse_args()
    if not args.report_only:
        if args.part == "phub":
            run()
        else:
            run_fixed()
    write_text_atomic(REPORT, report())


if __name__ == "__main__":
    main()
