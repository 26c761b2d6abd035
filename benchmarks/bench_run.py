"""Benchmark of ``hubopt run``: wall time and peak memory of a case, step by step.

Each run is a fresh Python process (so imports and caches count as they would for a
user): a *cold* run with an empty cache folder (the world-scale layers are read from
the dependencies' data and cached), then *warm* runs that reuse the cache. Every run
reports the pipeline's own step log (seconds and the process's peak resident memory
after each step) and the parent measures the whole process's wall time.

Usage::

    python benchmarks/bench_run.py [--case default] [--repeat 3] [--no-cold]

Writes ``benchmarks/run_results.json`` and the summary ``benchmarks/run.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 60.0

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from hubopt.pipeline import run_case
t_import = time.perf_counter() - t0
r = run_case(sys.argv[1], out=sys.argv[2], force=True)
print(json.dumps({"import_seconds": t_import, "steps": r.steps,
                  "objective": r.solved.objective, "status": r.solved.status,
                  "hubs": [r.candidates.names[k] for k in r.solved.hubs],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def one_run(case: str, cache: Path) -> dict[str, object]:
    """Run the case in a fresh process with ``cache`` as HUBOPT_CACHE; return its figures."""
    env = dict(os.environ, HUBOPT_CACHE=str(cache))
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _CHILD, case, str(Path(out) / "o")],
                              capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        msg = f"run of {case} failed with status {proc.returncode}"
        raise SystemExit(msg)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall_seconds"] = wall
    return data


def summary_markdown(results: dict[str, object]) -> str:
    """The Markdown summary of ``results``."""
    runs = results["runs"]
    assert isinstance(runs, list)
    warm = [r for r in runs if r["kind"] == "warm"]
    lines = [
        "# Benchmark: `hubopt run` on the default case",
        "",
        f"Machine: {results['machine']}. Case `{results['case']}`; each run is a fresh "
        "process (`python benchmarks/bench_run.py`). Wall time is the whole process "
        "(imports included); steps come from the pipeline's own log; memory is the "
        "process's peak resident set size after each step.",
        "",
        "| run | wall (s) | imports (s) | " + " | ".join(
            f"{s['step']} (s)" for s in runs[0]["steps"]) + " | peak RSS (MB) |",
        "|---" * (4 + len(runs[0]["steps"])) + "|",
    ]
    for r in runs:
        lines.append(f"| {r['kind']} | {r['wall_seconds']:.1f} | {r['import_seconds']:.1f} | "
                     + " | ".join(f"{s['seconds']:.2f}" for s in r["steps"])
                     + f" | {r['peak_rss_mb']:.0f} |")
    lines += ["", "Peak memory (MB) after each step, last warm run:", "",
              "| " + " | ".join(s["step"] for s in runs[-1]["steps"]) + " |",
              "|---" * len(runs[-1]["steps"]) + "|",
              "| " + " | ".join(f"{s['peak_rss_mb']:.0f}" for s in runs[-1]["steps"]) + " |",
              ""]
    if warm:
        med = statistics.median(r["wall_seconds"] for r in warm)
        verdict = "meets" if med < TARGET_SECONDS else "misses"
        lines.append(f"Median warm wall time {med:.1f} s: {verdict} the target of "
                     f"{TARGET_SECONDS:.0f} s on a 2-core machine once caches are built.")
    lines += ["", f"Solution: {runs[-1]['status']}, hubs {', '.join(runs[-1]['hubs'])}, "
              f"objective {runs[-1]['objective']:,.2f}.", ""]
    others = results.get("others") or []
    assert isinstance(others, list)
    if others:
        lines += ["Other built-in cases (one warm run each):", "",
                  "| case | wall (s) | network (s) | model (s) | outputs (s) | peak RSS (MB) "
                  "| hubs |", "|---|---|---|---|---|---|---|"]
        for o in others:
            step = {s["step"]: s["seconds"] for s in o["steps"]}
            lines.append(f"| {o['case']} | {o['wall_seconds']:.1f} | {step['network']:.2f} | "
                         f"{step['model']:.2f} | {step['outputs']:.2f} | {o['peak_rss_mb']:.0f} "
                         f"| {', '.join(o['hubs'])} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="default")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-cache run")
    parser.add_argument("--other", nargs="*", default=["gulf-of-finland", "helsinki"],
                        help="other cases to time once each (warm)")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as cold_cache:
        if not args.no_cold:
            runs.append({"kind": "cold", **one_run(args.case, Path(cold_cache))})
            print(f"cold: {runs[-1]['wall_seconds']:.1f} s", file=sys.stderr)
        warm_cache = Path(cold_cache) if not args.no_cold else Path(
            os.environ.get("HUBOPT_CACHE", Path.home() / ".cache" / "hubopt"))
        for i in range(args.repeat):
            runs.append({"kind": "warm", **one_run(args.case, warm_cache)})
            print(f"warm {i + 1}: {runs[-1]['wall_seconds']:.1f} s", file=sys.stderr)
        others = [{"case": name, **one_run(name, warm_cache)} for name in args.other]
    results = {
        "case": args.case,
        "others": others,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, {platform.system()}",
        "runs": runs,
    }
    (HERE / "run_results.json").write_text(json.dumps(results, indent=2) + "\n",
                                           encoding="utf-8")
    (HERE / "run.md").write_text(summary_markdown(results), encoding="utf-8")
    print(summary_markdown(results))


if __name__ == "__main__":
    main()
