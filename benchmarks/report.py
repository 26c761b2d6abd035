"""Regenerate the benchmark pages from the results tables, and nothing else.

    python benchmarks/report.py [--results benchmarks/results] [--docs docs]
                                [--readme README.md]

Reads ``<results>/<suite>.csv`` for every suite of ``benchmarks/suites.py`` that has a
table, writes ``<docs>/benchmarks.md`` (per suite: the stamp of the run, summary lines
and the table; for ``growth`` also the time-and-gap table against the number of nodes
and its log-log plot ``<docs>/benchmarks/growth.svg``) and rewrites the block between
``<!-- results:start -->`` and ``<!-- results:end -->`` in the README with a headline
table.  A README without those
markers is left as it is.  Every figure on the pages comes from the tables.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from suites import SUITES  # noqa: E402

START, END = "<!-- results:start -->", "<!-- results:end -->"
Row = dict[str, str]


def read_table(path: Path) -> list[Row]:
    """The rows of one results CSV."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(value: str | None) -> float | None:
    """A number from a cell ('' is None)."""
    if value in (None, ""):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def fmt(value: str | None, spec: str = ",.2f") -> str:
    x = num(value)
    return "-" if x is None else format(x, spec)


def gap_pct(value: str | None) -> str:
    x = num(value)
    return "-" if x is None else f"{100 * x:.3g} %"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _counted(values: list[str]) -> str:
    counts = Counter(v for v in values if v)
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{v} ({c} rows)" for v, c in counts.most_common())


def stamp_lines(rows: list[Row]) -> list[str]:
    """Commit, machine, dates and load of the rows."""
    dates = sorted(r["date"] for r in rows if r.get("date"))
    loads = [x for x in (num(r.get("load_at_start")) for r in rows) if x is not None]
    lines = [
        f"- commit: {_counted([r['commit'] for r in rows])}",
        f"- machine: {_counted([r['machine'] for r in rows])}",
        f"- date: {dates[0]} to {dates[-1]}" if dates else "- date: -",
    ]
    if loads:
        lines.append(
            f"- 1-minute load average at the start of each measurement: median "
            f"{statistics.median(loads):.1f}, {min(loads):.1f} to {max(loads):.1f} "
            "(when it exceeds the number of CPUs, other processes shared the machine and "
            "the times are inflated)"
        )
    return lines


# ---------------------------------------------------------------- engine suites


@dataclass(frozen=True)
class Summary:
    """Counts and extremes of an engine table."""

    instances: int
    optimal: int
    errors: int
    with_reference: int
    matching: int
    worst_gap: float | None
    worst_gap_instance: str
    median_seconds: float | None
    max_seconds: float | None
    commits: tuple[str, ...]

    @property
    def worst_gap_text(self) -> str:
        if self.worst_gap is None:
            return "-"
        if self.worst_gap == 0:
            return "0 (every instance solved to a zero gap)"
        return f"{100 * self.worst_gap:.3g} % ({self.worst_gap_instance})"


def engine_summary(rows: list[Row]) -> Summary:
    """Counts and extremes of an engine table."""
    solved = [r for r in rows if r["status"] != "error"]
    with_ref = [r for r in rows if r.get("reference")]
    gaps = [(g, r["instance"]) for r in solved if (g := num(r["gap"])) is not None]
    worst = max(gaps, default=(None, ""), key=lambda g: g[0] or 0.0)
    secs = [x for x in (num(r["seconds"]) for r in solved) if x is not None]
    return Summary(
        instances=len(rows),
        optimal=sum(r["status"] == "optimal" for r in rows),
        errors=len(rows) - len(solved),
        with_reference=len(with_ref),
        matching=sum(r["matches_reference"] == "true" for r in with_ref),
        worst_gap=worst[0],
        worst_gap_instance=worst[1],
        median_seconds=statistics.median(secs) if secs else None,
        max_seconds=max(secs) if secs else None,
        commits=tuple(sorted({r["commit"] for r in rows})),
    )


def engine_section(name: str, rows: list[Row]) -> list[str]:
    """The page section of an engine suite."""
    suite = SUITES[name]
    planned = {c.instance: c.time_limit for c in suite.cases()} if suite.cases else {}
    s = engine_summary(rows)
    limits = Counter(r["time_limit"] for r in rows)
    capped = [r for r in rows if r["instance"] in planned
              and num(r["time_limit"]) != planned[r["instance"]]]  # fmt: skip
    mismatched = [r["instance"] for r in rows if r["matches_reference"] == "false"]
    differing = f"; differing: {', '.join(mismatched)}" if mismatched else ""
    errors = f"; {s.errors} ended in an error" if s.errors else ""
    median = "-" if s.median_seconds is None else f"{s.median_seconds:.2f}"
    longest = "-" if s.max_seconds is None else f"{s.max_seconds:.2f}"
    lines = [
        f"## {name}",
        "",
        f"{suite.description}. Reproduce: `python benchmarks/run.py {name}`; table "
        f"`benchmarks/results/{name}.csv`.",
        "",
        *stamp_lines(rows),
        "",
        f"- instances: {s.instances} of the {len(planned)} in the suite{errors}",
        f"- proven optimal: {s.optimal} of {s.instances}",
        (f"- equal to the published optimum (`optima.json`, to its printed two decimals): "
         f"{s.matching} of the {s.with_reference} instances that have one{differing}"
         if s.with_reference else "- published optimum: none in `optima.json` for these"),
        f"- worst gap: {s.worst_gap_text}",
        f"- solve time: median {median} s, max {longest} s",
        "- time limits (s): "
        + ", ".join(f"{fmt(k, 'g')} ({v} rows)" for k, v in sorted(limits.items())),
    ]
    if capped:
        lines.append(
            f"- {len(capped)} rows ran with a shorter limit than the suite's "
            "(`--max-time`); rows proven optimal within it are unaffected"
        )
    if rows and "nominal_objective" in rows[0]:
        return [*lines, *_resilience_rows(rows)]
    lines += [
        "",
        "| instance | limit s | objective | bound | gap | status | method | s | peak MB "
        "| reference | match | hubs | load |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        match = {"true": "yes", "false": "**no**"}.get(r["matches_reference"], "")
        lines.append(
            f"| {r['instance']} | {fmt(r['time_limit'], 'g')} | {fmt(r['objective'])} | "
            f"{fmt(r['bound'])} | {gap_pct(r['gap'])} | {r['status']} | {r['method']} | "
            f"{fmt(r['seconds'])} | {fmt(r['peak_rss_mb'], '.0f')} | {fmt(r['reference'])} | "
            f"{match} | {r['hubs'].replace(' ', ',')} | {fmt(r['load_at_start'], '.1f')} |"
        )
    return [*lines, ""]


def _resilience_rows(rows: list[Row]) -> list[str]:
    """The table of a resilient suite: the resilient objective beside the nominal cost of
    the same hubs (the published optima are nominal, so there is no reference)."""
    lines = [
        "",
        "`objective` is the resilient objective (expected cost under single-hub failures, "
        "or the worst case under the attack); `nominal` the cost of the same hubs with no "
        "failure.",
        "",
        "| instance | limit s | objective | nominal | bound | gap | status | method | s "
        "| peak MB | hubs | load |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {fmt(r['time_limit'], 'g')} | {fmt(r['objective'])} | "
            f"{fmt(r['nominal_objective'])} | {fmt(r['bound'])} | {gap_pct(r['gap'])} | "
            f"{r['status']} | {r['method']} | {fmt(r['seconds'])} | "
            f"{fmt(r['peak_rss_mb'], '.0f')} | {r['hubs'].replace(' ', ',')} | "
            f"{fmt(r['load_at_start'], '.1f')} |"
        )
    return [*lines, ""]


# ---------------------------------------------------------------- network, run


def network_section(rows: list[Row]) -> list[str]:
    """The page section of the network suite."""
    lines = [
        "## network",
        "",
        f"{SUITES['network'].description}. Reproduce: `python benchmarks/run.py network`; "
        "table `benchmarks/results/network.csv`. Every phase runs in a fresh process with "
        "an empty cache folder.",
        "",
        *stamp_lines(rows),
        "",
        "| phase | item | seconds | seconds (warm) | nodes | edges | terminals | km "
        "| sources | per second | value | peak MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r["phase"], r["item"], fmt(r["seconds"], ".3f"), fmt(r["seconds_warm"], ".3f"),
                 fmt(r["nodes"], ",.0f"), fmt(r["edges"], ",.0f"), fmt(r["terminals"], ",.0f"),
                 fmt(r["length_km"], ",.0f"), fmt(r["sources"], ".0f"),
                 fmt(r["per_second"], ",.1f"), fmt(r["value"], ".3g"),
                 fmt(r["peak_rss_mb"], ",.0f")]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", "`value` is the number of transfer links for *assemble network*, "
            "and the ratio or difference its item names otherwise.", "",
            "Map data © OpenStreetMap contributors (ODbL).", ""]


def pbf_section(rows: list[Row]) -> list[str]:
    """The page section of the pbf suite: hubopt's four layers against pyrosm per file."""
    lines = [
        "## pbf",
        "",
        f"{SUITES['pbf'].description}. Reproduce: `python benchmarks/run.py pbf`; table "
        "`benchmarks/results/pbf.csv`. *seconds* is the call after the imports (wall "
        "clock), *CPU s* its processor time, *with imports* the whole fresh process; "
        "nodes, edges and km are the road layer's (hubopt: directed edges, components of "
        "50+ nodes) and the driving network's own counts (pyrosm: one row per way piece, "
        "not per direction). Each row carries the load when it was written.",
        "",
        *stamp_lines(rows),
        "",
        "| file | MB | tool | item | seconds | CPU s | with imports | nodes | edges | km "
        "| peak MB | load | note |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [r["file"], fmt(r["file_mb"], ".1f"), r["tool"], r["item"],
                 fmt(r["seconds"], ".2f"), fmt(r.get("cpu_seconds"), ".2f"),
                 fmt(r["seconds_incl_imports"], ".2f"),
                 fmt(r["nodes"], ",.0f"), fmt(r["edges"], ",.0f"), fmt(r["length_km"], ",.0f"),
                 fmt(r["peak_rss_mb"], ",.0f"), r.get("load_at_start") or "",
                 r.get("note") or ""]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", "Map data © OpenStreetMap contributors (ODbL).", ""]


def road_evidence_section(rows: list[Row]) -> list[str]:
    """The page section of the road-evidence suite: one line per cited pair."""
    lines = [
        "## road-evidence",
        "",
        f"{SUITES['road-evidence'].description}. Reproduce: `python benchmarks/run.py "
        "road-evidence`; table `benchmarks/results/road-evidence.csv`; the sources are in "
        "`tests/data/road_pairs.csv`. Car time *precise*: a routing-service figure to the "
        "minute; *approx.*: a rounded statement; *at most*: the source bounds the car time "
        "from above, so the time ratio is a lower bound. Training pairs (they chose the "
        "world road speed and town density) are listed apart and left out of the medians.",
        "",
        *stamp_lines(rows),
        "",
    ]
    report = [r for r in rows if r.get("role", "report") != "training"]
    training = [r for r in rows if r.get("role") == "training"]
    lines += _evidence_table(report)
    dev = sorted(abs(v - 1.0) for r in report if (v := num(r["km_ratio"])) is not None)
    timed = sorted(v for r in report if r.get("car_time_kind") in ("precise", "approximate")
                   and (v := num(r["time_ratio"])) is not None)  # fmt: skip
    precise = sorted(v for r in report if r.get("car_time_kind") == "precise"
                     and (v := num(r["time_ratio"])) is not None)  # fmt: skip
    if dev:
        lines += ["", f"Median \\|distance ratio - 1\\|: {100 * _median(dev):.1f} % over "
                  f"{len(dev)} pairs (target <= 5 %)."]  # fmt: skip
    for label, values in (("precise or approximate", timed), ("precise", precise)):
        if values:
            lines += ["", f"Truck / {label} car time: median {_median(values):.2f} "
                      f"(target 1.0-1.4), lowest {values[0]:.2f} (target >= 0.9), "
                      f"{len(values)} pairs."]  # fmt: skip
    if training:
        lines += ["", "Training pairs (not reported above):", "", *_evidence_table(training)]
    return [*lines, "", "Map data © OpenStreetMap contributors (ODbL).", ""]


def _evidence_table(rows: list[Row]) -> list[str]:
    lines = ["| layer | pair | real km | hubopt km | ratio | car h | hubopt truck h | ratio "
             "| connector km |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        car = fmt(r["car_h"], ".2f")
        kind = r.get("car_time_kind")
        if kind in ("at most", "approximate", "precise") and car:
            car = {"at most": f"at most {car}", "approximate": f"{car} approx.",
                   "precise": f"{car} precise"}[str(kind)]
        cells = [r["layer"], f"{r['origin']} - {r['destination']}", fmt(r["real_km"], ",.0f"),
                 fmt(r["hubopt_km"], ",.1f"), fmt(r["km_ratio"], ".3f"), car,
                 fmt(r["hubopt_truck_h"], ".2f"), fmt(r["time_ratio"], ".2f"),
                 fmt(r["connector_km"], ".2f")]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def matrix_scale_section(rows: list[Row]) -> list[str]:
    """The page section of the matrix-scale suite: one line per engine, then the targets."""
    lines = [
        "## matrix-scale",
        "",
        f"{SUITES['matrix-scale'].description}. Reproduce: `python benchmarks/run.py "
        "matrix-scale`; table `benchmarks/results/matrix-scale.csv`; the graph is made by "
        "`benchmarks/tiled_road.py`. *base MB*: the process's peak before the timed part "
        "(the tiled network in memory); *load*: the 1-minute load average when the engine "
        "started, on 2 cores; *CPU s*: user + system time of the timed part (all threads; "
        "for the extrapolated rows, of the measured sources).",
        "",
        *stamp_lines(rows),
        "",
        "| engine | seconds | CPU s | preprocess s | query s | sources | base MB | peak MB "
        "| max rel. diff | load | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if not r.get("seconds"):
            continue
        cells = [r["item"], fmt(r["seconds"], ",.1f"), fmt(r["cpu_seconds"], ",.1f"),
                 fmt(r["preprocess_seconds"], ",.1f"),
                 fmt(r["query_seconds"], ",.1f"), r.get("sources", ""),
                 fmt(r["base_rss_mb"], ",.0f"), fmt(r["peak_rss_mb"], ",.0f"),
                 fmt(r["max_rel_diff"], ".1e"), fmt(r["load_at_start"], ".1f"),
                 r.get("note", "")]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append("")
    for r in rows:
        if not r.get("seconds"):
            lines.append(f"- {r['item']}: {r.get('value', '')}")
    return [*lines, "", "Map data © OpenStreetMap contributors (ODbL).", ""]


def _median(values: list[float]) -> float:
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def sweep_section(rows: list[Row]) -> list[str]:
    """The page section of the sweep suite: serial against Dask, the speed-up."""
    lines = [
        "## sweep",
        "",
        f"{SUITES['sweep'].description}. Reproduce: `python benchmarks/run.py sweep`; table "
        "`benchmarks/results/sweep.csv`. Each sweep is a fresh `hubopt sweep` process after a "
        "warm-up run that fills the layer cache; the two sweeps run 3 times, alternating, "
        "and *seconds* is the median (every run in the last column).",
        "",
        *stamp_lines(rows),
        "",
        "| mode | scenarios | seconds | speed-up over `--workers 0` | speed-up over "
        "separate runs | same rows as `--workers 0` | runs (s) |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['scenarios']} | {fmt(r['seconds'], '.1f')} | "
                     f"{fmt(r['speedup'], '.2f')} | "
                     f"{fmt(r.get('speedup_vs_separate_runs', ''), '.2f')} | "
                     f"{r['identical_rows'] or '-'} | {r.get('runs') or '-'} |")
    return [*lines, ""]


def coverage_section(rows: list[Row]) -> list[str]:
    """The page section of the coverage suite: hubopt and spopt + CBC side by side."""
    by: dict[str, dict[str, Row]] = {}
    for r in rows:
        by.setdefault(r["instance"], {})[r["solver"]] = r
    lines = [
        "## coverage",
        "",
        f"{SUITES['coverage'].description}. Reproduce: `python benchmarks/run.py coverage`; "
        "table `benchmarks/results/coverage.csv`; instances and solvers in "
        "`benchmarks/bench_coverage.py` (points and sites uniform in 100 km x 100 km, "
        "minutes = km at 60 km/h, integer weights 1-5999, seed 0 for both). Seconds are "
        "wall time from the matrix to the solution, model building included; the "
        "covered weight is recomputed from the matrix for both.",
        "",
        *stamp_lines(rows),
        "",
        "| points x sites, p, radius | hubopt covered weight | proven | seconds | "
        "spopt + CBC covered weight | proven | seconds | speed-up | limits | load | commit |",
        "|---|---:|---|---:|---:|---|---:|---:|---|---|---|",
    ]

    def proven(r: Row | None) -> str:
        return "-" if r is None else ("yes" if r["proven"] == "true" else "no")

    for name, pair in by.items():
        h, s = pair.get("hubopt"), pair.get("spopt+cbc")
        hs = num(h["seconds"]) if h else None
        ss = num(s["seconds"]) if s else None
        speed = f"{ss / hs:.1f}x" if hs and ss else "-"
        if h is None or h["proven"] != "true":
            speed = "-"  # no time to compare: hubopt stopped at its limit
        elif s is not None and s["proven"] != "true":
            speed = ">= " + speed  # spopt stopped before its proof
        load = " / ".join(x["load_at_start"] for x in (h, s) if x is not None)
        limits = " / ".join(fmt(x["time_limit"], ".0f") for x in (h, s) if x is not None)
        commit = " / ".join(dict.fromkeys(x["commit"] for x in (h, s) if x is not None))
        lines.append(
            f"| {name} | {fmt(h['objective'], ',.0f') if h else '-'} | {proven(h)} | "
            f"{fmt(h['seconds'], '.1f') if h else '-'} | "
            f"{fmt(s['objective'], ',.0f') if s else '-'} | {proven(s)} | "
            f"{fmt(s['seconds'], '.1f') if s else '-'} | {speed} | {limits} s | {load} | "
            f"{commit} |")
    lines += ["", "Speed-up: spopt + CBC seconds / hubopt seconds; `>=` when spopt + CBC "
              "stopped at its time limit without a proof and hubopt proved the optimum; `-` when "
              "hubopt stopped at its limit. Limits: each solver's time limit, hubopt / "
              "spopt + CBC. Load: the 1-minute load average when hubopt, then spopt, "
              "started. Commit: the hubopt version each row was measured with (one when both "
              "agree).", ""]
    return lines


def run_section(rows: list[Row]) -> list[str]:
    """The page section of the run suite: one line per run, one column per step."""
    runs: dict[tuple[str, str], dict[str, Row]] = {}
    steps: list[str] = []
    for r in rows:
        runs.setdefault((r["case"], r["run"]), {})[r["step"]] = r
        if r["step"] not in steps:
            steps.append(r["step"])
    warm = [num(by["total (wall)"]["seconds"]) for (case, run), by in runs.items()
            if case == "default" and run.startswith("warm") and "total (wall)" in by]  # fmt: skip
    lines = [
        "## run",
        "",
        f"{SUITES['run'].description}. Reproduce: `python benchmarks/run.py run`; table "
        "`benchmarks/results/run.csv`. Seconds per step of the pipeline's own log; the last "
        "column is the process's peak resident memory.",
        "",
        *stamp_lines(rows),
    ]
    warm_s = [w for w in warm if w is not None]
    if warm_s:
        lines.append(f"- median warm wall time of the default case: "
                     f"{statistics.median(warm_s):.1f} s (target 60 s)")  # fmt: skip
    lines += [
        "",
        "| case | run | " + " | ".join(f"{s} s" for s in steps) + " | peak MB | status | hubs |",
        "|---|---|" + "---:|" * len(steps) + "---:|---|---|",
    ]
    for (case, run), by in runs.items():
        any_row = next(iter(by.values()))
        peak = max((num(x["peak_rss_mb"]) or 0.0 for x in by.values()), default=0.0)
        cells = [case, run, *(fmt(by[s]["seconds"]) if s in by else "-" for s in steps),
                 f"{peak:,.0f}", any_row["status"], any_row["hubs"]]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


# ---------------------------------------------------------------- pages


def tables(results: Path) -> dict[str, list[Row]]:
    """The tables present, in suite order."""
    return {name: read_table(results / f"{name}.csv") for name in SUITES
            if (results / f"{name}.csv").exists()}  # fmt: skip


def benchmarks_page(found: dict[str, list[Row]], page_dir: Path | None = None) -> str:
    """The whole ``docs/benchmarks.md`` (``page_dir``: its folder, where the growth plot
    goes; ``None``: no plot)."""
    lines = [
        "# Benchmark results",
        "",
        "<!-- Generated by `python benchmarks/report.py` from benchmarks/results/*.csv; "
        "do not edit by hand. -->",
        "",
        "Every figure on this page comes from the results tables in `benchmarks/results/`, "
        "one per suite, written by `python benchmarks/run.py SUITE` (suites defined in "
        "`benchmarks/suites.py`); `python benchmarks/report.py` rebuilds this page. Each "
        "row carries the commit, machine, date and machine load of its run. Objectives "
        "are in the units of the published tables (AP: transport cost / 1000 plus the "
        "FcostX values; CAB: flows normalised to sum 1; TR as given); hubs are 1-based. "
        "Results of earlier runs (per-run JSON files, `large.md`, `growth.md` ...) are at "
        "the git tag `benchmarks-history`. No published optimum for AP 100/200 could be "
        "found ([literature search](benchmarks/literature.md)), so those rows have no "
        "reference.",
        "",
        *sets_section(),
    ]
    missing = [n for n in SUITES if n not in found]
    if missing:
        lines += [f"Not run yet (no table): {', '.join(missing)}.", ""]
    if found:
        lines += [*headline(found), ""]
    for name, rows in found.items():
        if not rows:
            continue
        kind = SUITES[name].kind
        if kind == "engine":
            lines += engine_section(name, rows)
            if name == "growth":
                lines += growth_section(rows, page_dir)
        elif kind == "network":
            lines += network_section(rows)
        elif kind == "road-evidence":
            lines += road_evidence_section(rows)
        elif kind == "pbf":
            lines += pbf_section(rows)
        elif kind == "matrix-scale":
            lines += matrix_scale_section(rows)
        elif kind == "sweep":
            lines += sweep_section(rows)
        elif kind == "coverage":
            lines += coverage_section(rows)
        else:
            lines += run_section(rows)
    return "\n".join(lines).rstrip() + "\n"


def sets_section() -> list[str]:
    """Which instances the engine was tuned on and which this page reports."""
    return [
        "## Training and reported sets",
        "",
        "The engine's switches and parameters (`hubopt/models/strategy.py`, "
        "[Engine decisions](decisions.md)) are set on **training** instances: random "
        "Euclidean instances (`hubopt.instances.random_euclidean`) and random case-like "
        "instances (`hubopt.instances.random_case`: demand points and separate candidate "
        "sites, asymmetric costs that break the triangle inequality, sparse flows), with "
        "seeds other than the reported rows' where a row is reported. The **reported** "
        "sets are CAB, AP and TR with their published optima (`engine-small`, "
        "`ap-large-60`, `ap-large-600`, `fixed-cost`) and the real instances built from "
        "the world layers by `benchmarks/real_instances.py` (`real`, `real-600`, and the "
        "`REAL` rows of `growth`); no switch sits on one of their sizes or time limits. "
        "(`real-600`'s first run showed the failure that `ma_first` answers; its share was "
        "not tuned on it: see the decisions page.) The random "
        "rows of `growth` and `large-600` (seed 0; the training used seed 1 and up) show "
        "how time and gap grow; they are training-like instances, not a test of the "
        "tuning.",
        "",
    ]


def _family(instance: str) -> str:
    head = instance.split(maxsplit=1)[0]
    return "REAL" if head == "REAL" else head.rstrip("0123456789")


def growth_section(rows: list[Row], page_dir: Path | None) -> list[str]:
    """Time and gap against the number of nodes (p = 5), and the log-log plot."""
    keep = [r for r in rows if r["p"] == "5" and r["status"] != "error"]
    series: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for r in keep:
        secs, gap, n = num(r["seconds"]), num(r["gap"]), num(r["n"])
        if secs is None or n is None:
            continue
        key = (_family(r["instance"]), r["problem"])
        series.setdefault(key, []).append((int(n), secs, gap or 0.0))
    if not series:
        return []
    lines = [
        "### Time and gap against the number of nodes (p = 5)",
        "",
        "Nodes are the model's nodes `m` (REAL: demand points plus terminal sites). The "
        "same code and the same 60-s limit on every row.",
        "",
        "| family | m | USApHMP s | USApHMP gap | UMApHMP s | UMApHMP gap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    by_row: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    for (fam, prob), pts in series.items():
        for n, secs, gap in pts:
            by_row.setdefault((fam, n), {})[prob] = (secs, gap)
    for (fam, n), cells in sorted(by_row.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        parts = []
        for prob in ("usaphmp", "umaphmp"):
            secs, gap = cells.get(prob, (math.nan, math.nan))
            parts += ["-" if math.isnan(secs) else f"{secs:.1f}",
                      "-" if math.isnan(gap) else gap_pct(repr(gap))]  # fmt: skip
        lines.append(f"| {fam} | {n:,} | " + " | ".join(parts) + " |")
    lines.append("")
    if page_dir is not None and _growth_plot(series, page_dir / "benchmarks" / "growth.svg"):
        lines += ["![Time and gap against m, log-log](benchmarks/growth.svg)", ""]
    return lines


def _growth_plot(series: dict[tuple[str, str], list[tuple[int, float, float]]],
                 path: Path) -> bool:  # fmt: skip
    """Write the log-log plot of time and gap against m; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    matplotlib.rcParams["svg.hashsalt"] = "hubopt-growth"
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for (fam, prob), points in sorted(series.items()):
        pts = sorted(points)
        xs = [p[0] for p in pts]
        style = "o-" if prob == "usaphmp" else "s--"
        left.plot(xs, [max(p[1], 1e-2) for p in pts], style, label=f"{fam} {prob}")
        right.plot(xs, [max(100 * p[2], 1e-3) for p in pts], style, label=f"{fam} {prob}")
    for ax, label in ((left, "seconds"), (right, "gap % (0 shown as 0.001)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("nodes m")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    fig.suptitle("growth suite, p = 5, 60 s limit")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)
    fig.savefig(tmp, format="svg", metadata={"Date": None})
    plt.close(fig)
    os.replace(tmp, path)
    return True


def headline(found: dict[str, list[Row]]) -> list[str]:
    """The small table of the README block: one line per engine suite."""
    lines = [
        "| suite | instances run / in suite | time limit s | proven optimal "
        "| equal to published optimum | worst gap | max time s | median load | commit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, rows in found.items():
        if SUITES[name].kind != "engine" or not rows:
            continue
        s = engine_summary(rows)
        worst = "-" if s.worst_gap is None else f"{100 * s.worst_gap:.3g} %"
        longest = "-" if s.max_seconds is None else f"{s.max_seconds:.1f}"
        planned = len(SUITES[name].cases()) if SUITES[name].cases else s.instances
        limits = sorted({v for r in rows if (v := num(r["time_limit"])) is not None})
        limit = ", ".join(f"{v:g}" for v in limits) or "-"
        loads = [v for r in rows if (v := num(r.get("load_at_start"))) is not None]
        load = f"{statistics.median(loads):.1f}" if loads else "-"
        lines.append(
            f"| {name} | {s.instances} / {planned} | {limit} | {s.optimal} | "
            f"{s.matching} / {s.with_reference} | {worst} | {longest} | {load} | "
            f"{', '.join(s.commits)} |"
        )
    return lines


def other_headlines(found: dict[str, list[Row]]) -> list[str]:
    """One line each for the ``run`` and ``network`` tables, when they are there."""
    lines = []
    run = found.get("run") or []
    warm = [num(r["seconds"]) for r in run if r["case"] == "default"
            and r["run"].startswith("warm") and r["step"] == "total (wall)"]  # fmt: skip
    warm_s = [w for w in warm if w is not None]
    if warm_s:
        lines.append(f"- `hubopt run` of the default case, fresh process, warm cache: median "
                     f"{statistics.median(warm_s):.1f} s wall time "
                     f"(commit {_counted([r['commit'] for r in run])})")  # fmt: skip
    sweep = [r for r in found.get("sweep") or [] if r.get("speedup")]
    if sweep:
        r = sweep[-1]
        lines.append(f"- `hubopt sweep`, 8 scenarios of the default case: "
                     f"{fmt(r['speedup'], '.2f')}x faster on 2 Dask workers than one after "
                     f"another, same rows: "
                     f"{r['identical_rows']} (commit {r['commit']})")  # fmt: skip
    cover: dict[str, dict[str, Row]] = {}
    for r in found.get("coverage") or []:
        cover.setdefault(r["instance"], {})[r["solver"]] = r
    pairs = [(x["hubopt"], x["spopt+cbc"]) for x in cover.values()
             if "hubopt" in x and "spopt+cbc" in x]  # fmt: skip
    if pairs:
        faster = sum(1 for h, s in pairs if h["proven"] == "true"
                     and (num(h["seconds"]) or 0) < (num(s["seconds"]) or 0))  # fmt: skip
        lines.append(
            f"- maximal covering, {len(pairs)} random instances up to "
            f"{int(pairs[-1][0]['n']):,} x {int(pairs[-1][0]['m']):,}: hubopt proven optimal on "
            f"{sum(h['proven'] == 'true' for h, _ in pairs)}, spopt + CBC on "
            f"{sum(s['proven'] == 'true' for _, s in pairs)}; hubopt proven and faster on {faster} "
            f"(commit {_counted([h['commit'] for h, _ in pairs])})")
    net = {r["item"]: r for r in found.get("network") or []}
    speed = net.get("speedup vs networkx (target >= 20)")
    ratio = net.get("time vs raw scipy (target <= 1.5)")
    if speed and ratio:
        lines.append(f"- travel-cost matrix (Malta): {fmt(speed['value'], '.1f')}x networkx, "
                     f"{fmt(ratio['value'], '.2f')}x the time of raw scipy "
                     f"(commit {speed['commit']})")  # fmt: skip
    return lines


def readme_block(found: dict[str, list[Row]], link: str) -> str:
    """The text between the README markers."""
    others = other_headlines(found)
    return "\n".join([
        "",
        *headline(found),
        "",
        *([*others, ""] if others else []),
        "Load is the 1-minute load average when each instance started, on a 2-core machine: "
        "above 2, other jobs shared it and times are inflated.",
        "",
        f"Full tables, machine and load of each run: [{link}]({link}); regenerate with "
        "`python benchmarks/report.py`.",
        "",
    ])  # fmt: skip


def update_readme(readme: Path, block: str) -> bool:
    """Replace the block between the markers; False when the markers are missing."""
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    i, j = text.find(START), text.find(END)
    if i < 0 or j < i:
        return False
    new = text[: i + len(START)] + "\n" + block.strip("\n") + "\n" + text[j:]
    if new != text:
        write_atomic(readme, new)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--docs", type=Path, default=HERE.parent / "docs")
    parser.add_argument("--readme", type=Path, default=HERE.parent / "README.md")
    args = parser.parse_args(argv)
    found = tables(args.results)
    page = args.docs / "benchmarks.md"
    write_atomic(page, benchmarks_page(found, args.docs))
    print(f"wrote {page} ({', '.join(found) or 'no tables'})")
    if update_readme(args.readme, readme_block(found, "docs/benchmarks.md")):
        print(f"updated the results block of {args.readme}")
    else:
        print(f"{args.readme}: no {START} ... {END} markers; left as it is")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
