"""Benchmark of ``hubopt sweep``: scenarios side by side on Dask against one after another.

The default case over ``model.p = 2, 3, 4, 5`` x ``model.alpha = 0.5, 0.75`` (8 scenarios),
each a full run: once with ``--workers 0`` (one after another, no Dask) and once on a
local Dask cluster of 2 worker processes, each in a fresh ``hubopt`` process after a
warm-up run that fills the layer cache; for reference also as 8 separate ``hubopt run
--set ...`` processes one after another (what a planner would do without ``sweep``).
Rows: wall time of each (for the two sweeps the median of 3 alternating runs, every run
listed), the speed-up of the Dask sweep over ``--workers 0`` (and over the separate
runs), and whether the two ``scenarios.csv`` tables agree row for row (all but the
``seconds`` column). Target: at least 1.6x faster on 2 workers than
``--workers 0``.

The ``sweep`` suite of ``benchmarks/run.py`` calls :func:`measure`; its rows go to
``benchmarks/results/sweep.csv``.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TARGET_SPEEDUP = 1.6
SETTINGS = ("model.p=2,3,4,5", "model.alpha=0.5,0.75")
REPEAT = 3  # alternating runs of each sweep; the median is reported


def _hubopt() -> list[str]:
    return [sys.executable, "-c", "from hubopt.cli import main; main()"]


def _sweep(out: Path, workers: int) -> float:
    args = [*_hubopt(), "sweep", "default", "--workers", str(workers), "--out", str(out)]
    for s in SETTINGS:
        args += ["--set", s]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def _separate_runs(out: Path) -> tuple[float, int]:
    """Each scenario as its own ``hubopt run --set ...`` process, one after another."""
    import itertools

    axes = [[(k, v) for v in vals.split(",")] for k, vals in (s.split("=", 1) for s in SETTINGS)]
    start = time.perf_counter()
    count = 0
    for combo in itertools.product(*axes):
        args = [*_hubopt(), "run", "--out", str(out / str(count))]
        for k, v in combo:
            args += ["--set", f"{k}={v}"]
        subprocess.run(args, check=True, capture_output=True, text=True)
        count += 1
    return time.perf_counter() - start, count


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(fh)]


def measure(repeat: int = REPEAT) -> Iterator[dict[str, Any]]:
    """Rows: separate runs, the serial and the Dask sweep (medians), then the speed-ups.

    The two sweeps run ``repeat`` times, alternating, each in a fresh process; a row's
    ``seconds`` is the median, ``runs`` lists every time (a shared virtual machine
    varies by about 10 % from one run to the next).
    """
    import statistics

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        subprocess.run([*_hubopt(), "run", "--out", str(base / "warm-up")], check=True,
                       capture_output=True, text=True)
        separate, count = _separate_runs(base / "separate")
        yield {"mode": "separate `hubopt run` processes, one after another",
               "scenarios": count, "seconds": round(separate, 2), "speedup": "",
               "speedup_vs_separate_runs": "", "identical_rows": "", "runs": ""}
        times: dict[int, list[float]] = {0: [], 2: []}
        rows: dict[int, list[dict[str, str]]] = {}
        for k in range(repeat):
            for workers in (0, 2):
                out = base / f"sweep-{workers}-{k}"
                times[workers].append(_sweep(out, workers))
                got = _rows(out / "scenarios.csv")
                if rows.setdefault(workers, got) != got:
                    msg = f"--workers {workers}: run {k + 1} gave other rows than run 1"
                    raise RuntimeError(msg)
        serial, dask = statistics.median(times[0]), statistics.median(times[2])
        yield {"mode": "one after another (--workers 0)", "scenarios": len(rows[0]),
               "seconds": round(serial, 2), "speedup": "",
               "speedup_vs_separate_runs": round(separate / serial, 3), "identical_rows": "",
               "runs": " ".join(f"{t:.2f}" for t in times[0])}
        yield {"mode": "Dask LocalCluster, 2 workers", "scenarios": len(rows[2]),
               "seconds": round(dask, 2), "speedup": round(serial / dask, 3),
               "speedup_vs_separate_runs": round(separate / dask, 3),
               "identical_rows": rows[2] == rows[0],
               "runs": " ".join(f"{t:.2f}" for t in times[2])}


if __name__ == "__main__":
    for row in measure():
        print(row)
