"""Growth of solve time with n: the engine beside the textbook baseline.

Problems USApHMP and UMApHMP with p = 3 and p = 5 on

* AP n in {10, 20, 25, 40, 50, 100, 200} (chi 3, alpha 0.75, delta 2, flows / 1000),
* TR 81 (chi = delta = 1, alpha = 0.5, km and flows as given),
* random Euclidean instances (:func:`hubopt.instances.random_euclidean`, seed 0)
  with n in {50, 100, 200, 300, 500}.

Engine: ``model.solve(SolveParameters(time_limit=300))`` (its own method choice).
Baseline: the Ernst & Krishnamoorthy flow MIP (``hubopt.models._mip``) on
MathOpt/HiGHS, no warm start, time limit 300 s.  The baseline is run only for
n <= 60 (its model grows as n^3) and, for each (problem, p), only until it first
fails to prove optimality within its limit.  Instances run in order of increasing n;
an instance not started before ``--deadline`` (UTC ``HH:MM``) is recorded as skipped.

    python benchmarks/growth.py                  # full run; writes the JSON as it goes
    python benchmarks/growth.py --report-only    # rebuild growth.md and growth.png

Outputs: ``benchmarks/growth_results.json`` (rewritten after every solve),
``benchmarks/growth.md`` and ``benchmarks/growth.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any

from hubopt._io import write_json_atomic, write_text_atomic
from hubopt.bench import machine_description
from hubopt.instances import (
    HubInstance,
    find_optimum,
    load_ap,
    load_optima,
    load_tr,
    random_euclidean,
)
from hubopt.models import Problem, SolveParameters, build_model
from hubopt.models._mip import solve_multiple_allocation_mip, solve_single_allocation_mip

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "growth_results.json"
AP_SIZES = (10, 20, 25, 40, 50, 100, 200)
RANDOM_SIZES = (50, 100, 200, 300, 500)
PROBLEMS = ("usaphmp", "umaphmp")
PS = (3, 5)
BASELINE_MAX_N = 60
TR_ALPHA = 0.5


def instance_plan(ap: tuple[int, ...], rnd: tuple[int, ...], *, tr: bool) -> list[tuple[str, int]]:
    """(family, n) in order of increasing n (AP before TR before random on ties)."""
    order = {"ap": 0, "tr": 1, "random": 2}
    plan = [("ap", n) for n in ap] + [("random", n) for n in rnd]
    if tr:
        plan.append(("tr", 81))
    return sorted(plan, key=lambda fn: (fn[1], order[fn[0]]))


def load(family: str, n: int) -> HubInstance:
    """The instance of ``family`` with ``n`` nodes, with the factors used here."""
    if family == "ap":
        return load_ap(n)
    if family == "tr":
        return dataclasses.replace(load_tr(), alpha=TR_ALPHA)
    return random_euclidean(n, seed=0)


def run_engine(prob: Problem, inst: HubInstance, p: int, limit: float) -> dict[str, Any]:
    """Solve with the engine's own method choice."""
    model = build_model(
        prob, inst.costs, inst.scaled_flows(), p=p,
        chi=inst.chi, alpha=inst.alpha, delta=inst.delta,
    )
    t0 = time.perf_counter()
    sol = model.solve(SolveParameters(time_limit=limit, seed=0))
    wall = time.perf_counter() - t0
    return {
        "seconds": round(wall, 3),
        "solver_seconds": round(sol.seconds, 3),
        "status": sol.status.value,
        "proven": sol.proven_optimal,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "method": sol.method,
        "hubs": [h + 1 for h in sol.hubs],
    }


def run_baseline(prob: Problem, inst: HubInstance, p: int, limit: float) -> dict[str, Any]:
    """Solve the E&K flow MIP as it is on HiGHS."""
    model = build_model(
        prob, inst.costs, inst.scaled_flows(), p=p,
        chi=inst.chi, alpha=inst.alpha, delta=inst.delta,
    )
    params = SolveParameters(time_limit=limit)
    t0 = time.perf_counter()
    if prob.single_allocation:
        res = solve_single_allocation_mip(prob, model.data, params, time_limit=limit)
    else:
        res = solve_multiple_allocation_mip(prob, model.data, params, time_limit=limit)
    wall = time.perf_counter() - t0
    obj, bound = res.objective, res.bound
    gap = (obj - bound) / abs(obj) if obj and math.isfinite(obj) else None
    return {
        "seconds": round(wall, 3),
        "status": "optimal" if res.proven_optimal else "time_limit",
        "proven": res.proven_optimal,
        "objective": obj if math.isfinite(obj) else None,
        "bound": bound,
        "gap": None if gap is None else max(0.0, gap),
        "method": "E&K flow MIP, MathOpt/HiGHS",
        "hubs": None if res.hubs is None else [h + 1 for h in res.hubs],
    }


def _past(deadline: dt.datetime | None) -> bool:
    return deadline is not None and dt.datetime.now(dt.UTC) >= deadline


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the grid, rewriting the results file after every solve."""
    rows: list[dict[str, Any]] = []
    baseline_failed: set[tuple[str, int]] = set()
    args.commit = _commit()  # the engine code this process runs (imported at start)
    for family, n in instance_plan(tuple(args.ap), tuple(args.random), tr=not args.no_tr):
        inst = None if _past(args.deadline) else load(family, n)
        for prob_name in args.problem:
            prob = Problem.parse(prob_name)
            for p in args.p:
                base_row = {"family": family, "instance": f"{family.upper()}{n}",
                            "n": n, "problem": prob.value, "p": p}
                if inst is not None:
                    base_row["instance"] = inst.name
                for method in ("engine", "baseline"):
                    row = dict(base_row, role=method, method=method)
                    if method == "baseline":
                        if args.no_baseline or n > args.baseline_max_n:
                            continue
                        if (prob.value, p) in baseline_failed:
                            row["skipped"] = "baseline failed at a smaller n"
                            rows.append(row)
                            continue
                    if inst is None or _past(args.deadline):
                        row["skipped"] = "deadline"
                        rows.append(row)
                        continue
                    started = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
                    print(f"{started} {row['instance']} {prob.value} p={p} {method}", flush=True)
                    try:
                        fn = run_engine if method == "engine" else run_baseline
                        row.update(fn(prob, inst, p, args.time_limit))
                    except Exception as exc:  # record and carry on with the grid
                        row["error"] = f"{type(exc).__name__}: {exc}"
                        traceback.print_exc()
                    if method == "baseline" and not row.get("proven", False):
                        baseline_failed.add((prob.value, p))
                    rows.append(row)
                    print("   ", json.dumps({k: row.get(k) for k in
                                             ("seconds", "status", "gap", "method", "objective")}),
                          flush=True)
                    write_json_atomic(args.out, results_document(rows, args))
    return rows


def results_document(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """The JSON document: settings, machine and rows."""
    return {
        "machine": machine_description(),
        "processor": platform.processor() or "cpu",
        "commit": getattr(args, "commit", None) or _commit(),
        "time_limit": args.time_limit,
        "baseline_max_n": getattr(args, "baseline_max_n", BASELINE_MAX_N),
        "deadline": None if args.deadline is None else args.deadline.strftime("%H:%M UTC"),
        "rows": rows,
    }


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
        cwd=HERE,
    ).stdout.strip()


# -- report ---------------------------------------------------------------------------
def role(row: dict[str, Any]) -> str:
    """``"engine"`` or ``"baseline"`` (rows of early runs lack the ``role`` key)."""
    if "role" in row:
        return str(row["role"])
    method = str(row.get("method", ""))
    return "baseline" if method.startswith("E&K") or method == "baseline" else "engine"


def _cell(row: dict[str, Any] | None) -> tuple[str, str, str]:
    if row is None:
        return ("", "", "")
    if "skipped" in row:
        return ("skipped", row["skipped"], "")
    if "error" in row:
        return ("error", row["error"][:40], "")
    secs = f"{row['seconds']:.2f}"
    gap = row.get("gap")
    gap_s = "" if gap is None else f"{100 * gap:.2f}%"
    return (secs, row["status"], gap_s)


def markdown(doc: dict[str, Any], note: str) -> str:
    """growth.md: table, machine, commit, reproduction."""
    rows = doc["rows"]
    keys: list[tuple[str, str, int, str]] = []
    for r in rows:
        key = (r["instance"], r["problem"], r["p"], r["family"])
        if key not in keys:
            keys.append(key)
    lines = [
        "# Growth: solve time against n, engine and textbook baseline",
        "",
        f"Machine: {doc['machine']} ({doc['processor']}); commit {doc['commit']}; "
        f"time limit {doc['time_limit']:g} s per solve (rows merged from other runs keep "
        "their own limit and commit, see the note below). The machine has two cores and "
        "other jobs ran beside these solves: read the times as orders of magnitude.",
        "",
        f"Engine: `model.solve(SolveParameters(time_limit={doc['time_limit']:g}, seed=0))` "
        "with its own method choice (`search` = exact hub-set search, proven optimal when "
        "it completes; `heuristic+benders` = GVNS/VNS, then Benders of the multiple-allocation "
        "problem (n <= 150: exact for UMApHMP, a bound for USApHMP); `heuristic+lagrangian` "
        "= GVNS, then the single-allocation Lagrangian bound and its branch and bound "
        "(USApHMP, n <= 150; exact when it completes); `heuristic+bound` = "
        "GVNS/VNS with facility-location lower bounds, or for UMApHMP with n = 151-250 "
        "the multiple-allocation Lagrangian bound). "
        "Baseline: the Ernst & Krishnamoorthy flow MIP (`hubopt.models._mip`) on "
        "MathOpt/HiGHS, no warm start; run only for n <= "
        f"{doc['baseline_max_n']} and, per problem and p, only until it first fails to "
        "prove optimality within its limit. Seconds are wall clock including model "
        "building. Gap = (objective - bound) / objective. Speed-up = baseline s / engine s "
        "(\">\" when the baseline stopped at its limit). Published = the value in "
        "`$HUBOPT_DATA/hub-instances/optima.json` where it has one (E&K solution files, "
        "n <= 40; no AP 100/200 or TR value is available there, see `literature.md`).",
        "",
        "Instances: AP (chi 3, alpha 0.75, delta 2, flows / 1000); TR 81 (chi = delta = 1, "
        "alpha = 0.5); RND = `random_euclidean(n, seed=0)` (uniform points in a 100 x 100 "
        "square, gravity flows totalling 1000, chi 3, alpha 0.75, delta 2).",
        "",
    ]
    if note:
        lines += [note, ""]
    lines += [
        "| instance | n | problem | p | engine s | engine status | engine gap | engine method "
        "| baseline s | baseline status | baseline gap | speed-up | objective | published |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    try:
        optima = load_optima()
    except Exception:  # the report works without the data folder
        optima = []
    for inst, prob, p, _fam in keys:
        eng = next((r for r in rows if (r["instance"], r["problem"], r["p"], role(r))
                    == (inst, prob, p, "engine")), None)
        base = next((r for r in rows if (r["instance"], r["problem"], r["p"], role(r))
                     == (inst, prob, p, "baseline")), None)
        e_s, e_st, e_gap = _cell(eng)
        b_s, b_st, b_gap = _cell(base) if base is not None else ("-", "not run", "")
        method = "" if eng is None else str(eng.get("method", ""))
        obj = "" if eng is None or eng.get("objective") is None else f"{eng['objective']:.2f}"
        n = eng["n"] if eng is not None else ""
        speed = ""
        if eng is not None and base is not None and "seconds" in eng and "seconds" in base:
            speed = f"{base['seconds'] / max(eng['seconds'], 1e-3):.0f}x"
            if not base.get("proven"):
                speed = ">" + speed
        ref = None
        if _fam in ("ap", "tr") and n != "":
            alpha = TR_ALPHA if _fam == "tr" else None
            ref = find_optimum(optima, problem=prob, suite=_fam, n=int(n), p=p, alpha=alpha)
        pub = "" if ref is None else f"{ref.objective:.2f} ({ref.status})"
        lines.append(
            f"| {inst} | {n} | {prob} | {p} | {e_s} | {e_st} | {e_gap} | {method} "
            f"| {b_s} | {b_st} | {b_gap} | {speed} | {obj} | {pub} |"
        )
    lines += [
        "",
        "![seconds against n, log-log](growth.png)",
        "",
        "Plot: seconds against n on log-log axes, one panel per problem; filled markers "
        "are proven optimal, open red-edged markers stopped at the time limit (unproven).",
        "",
        "Reproduce (about an hour on this machine):",
        "",
        "```bash",
        "python benchmarks/growth.py            # writes growth_results.json, .md, .png",
        "python benchmarks/growth.py --report-only   # rebuild .md and .png from the JSON",
        "```",
        "",
    ]
    return "\n".join(lines)


def plot(doc: dict[str, Any], target: Path) -> None:
    """growth.png: log-log seconds against n, one line per problem, p, family and method."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["rows"] if "seconds" in r]
    problems = sorted({r["problem"] for r in rows})
    fig, axes = plt.subplots(1, max(1, len(problems)), figsize=(13, 5.5), sharey=True)
    axes_list = list(axes) if len(problems) > 1 else [axes]
    colours = {("engine", 3): "tab:blue", ("engine", 5): "tab:cyan",
               ("baseline", 3): "tab:orange", ("baseline", 5): "tab:red"}
    markers = {"ap": "o", "random": "s", "tr": "*"}
    styles = {"ap": "-", "random": "--", "tr": ""}
    for ax, prob in zip(axes_list, problems, strict=False):
        groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
        for r in rows:
            if r["problem"] == prob:
                groups.setdefault((role(r), r["p"], r["family"]), []).append(r)
        for (method, p, fam), grp in sorted(groups.items()):
            grp.sort(key=lambda r: r["n"])
            colour = colours.get((method, p), "grey")
            xs = [r["n"] for r in grp]
            ys = [max(r["seconds"], 1e-3) for r in grp]
            label = f"{method} p={p} {fam.upper()}"
            if styles[fam]:
                ax.plot(xs, ys, styles[fam], color=colour, alpha=0.8, label=label)
            for r, x, y in zip(grp, xs, ys, strict=True):
                proven = bool(r.get("proven"))
                ax.plot(
                    x, y, markers[fam], markersize=11 if fam == "tr" else 6,
                    markerfacecolor=colour if proven else "white",
                    markeredgecolor=colour if proven else "red",
                    markeredgewidth=1 if proven else 1.6,
                    label=label if not styles[fam] and r is grp[0] else None,
                )
                method_name = str(r.get("method", ""))
                if method == "engine" and method_name != "search":
                    ax.annotate(method_name, (x, y), textcoords="offset points",
                                xytext=(4, -9), fontsize=6, color=colour)
        ax.axhline(doc["time_limit"], color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = [t for t in (10, 20, 50, 100, 200, 500) if t <= max(r["n"] for r in rows) * 1.2]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
        ax.set_xlabel("n (nodes)")
        ax.set_title(prob.upper())
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    axes_list[0].set_ylabel("seconds (wall clock)")
    fig.suptitle("Solve time against n (open red-edged markers: not proven optimal; dotted: "
                 "time limit; engine method written beside points not solved by the exact "
                 "hub-set search)", fontsize=9)
    fig.tight_layout()
    # (a name of this process's own: runs side by side must not share the temporary)
    with_tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.png")
    fig.savefig(with_tmp, dpi=110)
    plt.close(fig)
    with_tmp.replace(target)


def _key(row: dict[str, Any]) -> tuple[str, str, int, str]:
    return (str(row["instance"]), str(row["problem"]), int(row["p"]), role(row))


def merge(out: Path, others: list[Path], *, replace: bool = False) -> None:
    """Merge the rows of ``others`` into ``out``: a row that was solved replaces one that
    was skipped or missing (same instance, problem, p and role), or any row with
    ``replace`` (a re-run of newer code); rows stay sorted by n."""
    doc = json.loads(out.read_text(encoding="utf-8"))
    rows = {_key(r): r for r in doc["rows"]}
    for path in others:
        for r in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            k = _key(r)
            solved = "skipped" not in r
            if k not in rows or (solved and ("skipped" in rows[k] or replace)):
                rows[k] = dict(r, run=path.name)
    order = {"ap": 0, "tr": 1, "random": 2}
    doc["rows"] = sorted(rows.values(), key=lambda r: (r["n"], order.get(r["family"], 3)))
    doc["merged_from"] = [*doc.get("merged_from", []), *(p.name for p in others)]
    write_json_atomic(out, doc)


def report(out: Path, note: str) -> None:
    """Write growth.md and growth.png beside ``out`` from its JSON."""
    doc = json.loads(out.read_text(encoding="utf-8"))
    write_text_atomic(out.with_name("growth.md"), markdown(doc, note))
    plot(doc, out.with_name("growth.png"))


def _deadline(text: str) -> dt.datetime:
    hh, mm = (int(x) for x in text.split(":"))
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=hh, minute=mm, second=0, microsecond=0)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ap", type=int, nargs="*", default=list(AP_SIZES))
    parser.add_argument("--random", type=int, nargs="*", default=list(RANDOM_SIZES))
    parser.add_argument("--no-tr", action="store_true")
    parser.add_argument("--no-baseline", action="store_true",
                        help="engine only (merge the baseline rows of an earlier run)")
    parser.add_argument("--baseline-max-n", type=int, default=BASELINE_MAX_N,
                        help="largest n for which the baseline is run")
    parser.add_argument("--problem", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--p", type=int, nargs="+", default=list(PS))
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--deadline", type=_deadline, default=None,
                        help="UTC HH:MM after which no new solve is started")
    parser.add_argument("--note", default="", help="paragraph added to growth.md")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="results files of other runs of this script to merge into --out")
    parser.add_argument("--merge-replace", type=Path, nargs="*", default=[],
                        help="re-runs (newer code) whose solved rows replace those in --out")
    args = parser.parse_args()
    if not args.report_only:
        run(args)
    if args.merge:
        merge(args.out, args.merge)
    if args.merge_replace:
        merge(args.out, args.merge_replace, replace=True)
    report(args.out, args.note)


if __name__ == "__main__":
    main()
