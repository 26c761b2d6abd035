"""Benchmark of ``hubopt run``: wall time and peak memory of a case, step by step.

Each run is a fresh Python process (so imports and caches count as they would for a
user): a *cold* run with an empty cache folder (the world-scale layers are read from
the dependencies' data and cached), then *warm* runs that reuse the cache. Every run
reports the pipeline's own step log (seconds and the process's peak resident memory
after each step) and the parent measures the whole process's wall time.

The ``run`` suite of ``benchmarks/run.py`` (``python benchmarks/run.py run``) calls
:func:`measure`; its rows go to ``benchmarks/results/run.csv``.  Target: a warm run of
the default case within 60 s on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TARGET_SECONDS = 60.0

_CHILD = r"""
import json, resource, sys, time
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
from hubopt.pipeline import run_case
try:
    from hubopt.outputs import write_outputs
except ImportError:  # older pipelines: run_case writes the outputs itself
    write_outputs = None
t_import = time.perf_counter() - t0
if write_outputs is None:
    r = run_case(sys.argv[1], out=sys.argv[2], force=True)
    steps = list(r.steps)
else:
    r = run_case(sys.argv[1])
    steps = list(r.steps)
    t1 = time.perf_counter()
    write_outputs(r, sys.argv[2], force=True)
    steps.append({"step": "outputs", "seconds": round(time.perf_counter() - t1, 3),
                  "peak_rss_mb": round(peak(), 1)})
print(json.dumps({"import_seconds": t_import, "steps": steps,
                  "objective": r.solved.objective, "status": str(r.solved.status),
                  "hubs": [r.candidates.names[k] for k in r.solved.hubs],
                  "peak_rss_mb": peak()}))
"""


def one_run(case: str, cache: Path) -> dict[str, Any]:
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


def measure(case: str = "default", *, repeat: int = 3, cold: bool = True,
            others: tuple[str, ...] = ("gulf-of-finland", "helsinki"),
            only: str | None = None) -> Iterator[dict[str, object]]:  # fmt: skip
    """Time the runs, yielding the rows of the ``run`` table (one per step and run).

    ``only``: a regular expression on the case names (the others are skipped).
    """
    plan: list[tuple[str, str]] = []
    if cold:
        plan.append((case, "cold"))
    plan += [(case, f"warm {i + 1}") for i in range(repeat)]
    plan += [(name, "warm") for name in others]
    if only:
        plan = [(c, k) for c, k in plan if re.search(only, c)]
    with tempfile.TemporaryDirectory() as cold_cache:
        cache = Path(cold_cache) if cold else Path(
            os.environ.get("HUBOPT_CACHE", Path.home() / ".cache" / "hubopt"))
        for name, kind in plan:
            r = one_run(name, cache)
            common = {"case": name, "run": kind, "objective": r["objective"],
                      "status": r["status"], "hubs": ", ".join(map(str, r["hubs"]))}
            yield {**common, "step": "imports", "seconds": round(r["import_seconds"], 3)}
            for s in r["steps"]:
                yield {**common, "step": s["step"], "seconds": s["seconds"],
                       "peak_rss_mb": round(s["peak_rss_mb"], 1)}
            yield {**common, "step": "total (wall)", "seconds": round(r["wall_seconds"], 3),
                   "peak_rss_mb": round(r["peak_rss_mb"], 1)}
            print(f"{name} {kind}: {r['wall_seconds']:.1f} s", file=sys.stderr, flush=True)
