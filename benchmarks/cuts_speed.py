"""Benders cut separation: the numpy ``_CutGenerator.separate`` beside the numba kernel.

AP 100 and AP 200 (chi 3, alpha 0.75, delta 2, flows scaled to published units, as in
``benchmarks/heuristics.py``).  Separation points: a random fractional point on ``s``
sites (``s`` in 20, 40, 60; capacities ``min(1, p * Dirichlet(1))`` with total ``p``
in 5, 10, rescaled to at least 1), and one integer point (5 hubs).  For each point:

* ``numpy``: the vectorised numpy separation of :mod:`hubopt.models.benders`
  (``_CutGenerator._separate_numpy``, formerly ``separate``; AP 100 only: it takes
  minutes at AP 200), one run;
* ``numba``: :func:`hubopt.models._cuts.origin_cuts` after a warm-up call (JIT
  compilation excluded), best of 3, with the optimality check of every pair's duals
  (the default) and without it.

The cut values at the point, ``const - coef . point`` (the routing LP value of every
origin, unique), are compared between the two; where they differ, the origin with
the largest difference is solved pair by pair with HiGHS (``disagreement``).  Seed 0.

    python benchmarks/cuts_speed.py            # ~2 min on 2 cores

Output: ``benchmarks/results/cuts_speed.json``; a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from functools import partial
from pathlib import Path
from typing import Any

import numba
import numpy as np
from scipy.optimize import linprog

from hubopt._io import write_json_atomic
from hubopt.bench import machine_description
from hubopt.instances import load_ap
from hubopt.models._cuts import origin_cuts
from hubopt.models.base import HubData, make_hub_data
from hubopt.models.benders import _CutGenerator

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cuts_speed.json"
SIZES = (100, 200)
NUMPY_SIZES = (100,)
SUPPORTS = (20, 40, 60)
TOTALS = (5.0, 10.0)
REPEATS = 3


def _data(n: int) -> HubData:
    inst = load_ap(n)
    return make_hub_data(
        inst.costs,
        inst.scaled_flows(),
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
        p=5,
        need_p=True,
        need_fixed_costs=False,
        need_capacities=False,
    )


def _points(n: int, rng: np.random.Generator) -> list[tuple[str, int, float, np.ndarray]]:
    points = []
    for s in SUPPORTS:
        for total in TOTALS:
            y = np.zeros(n)
            sites = rng.choice(n, s, replace=False)
            y[sites] = np.minimum(1.0, total * rng.dirichlet(np.ones(s)))
            if y.sum() < 1.0:
                y[sites] /= y.sum()
            points.append(("fractional", s, total, y))
    y = np.zeros(n)
    y[rng.choice(n, 5, replace=False)] = 1.0
    points.append(("integer", 5, 5.0, y))
    return points


def _numba_cuts(gen: _CutGenerator, point: np.ndarray, check: bool) -> tuple[Any, Any]:
    S = np.nonzero(point > 1e-9)[0]
    cap = np.minimum(point[S], 1.0)
    return origin_cuts(gen.chiC, gen.aC, gen.dC, gen.W, gen.G, S, cap, check=check)


def _highs_origin_value(gen: _CutGenerator, point: np.ndarray, i: int) -> float:
    """``sum_j W_ij`` times the routing LP of ``(i, j)`` at ``point``, solved by HiGHS."""
    S = np.nonzero(point > 1e-9)[0]
    cap = np.minimum(point[S], 1.0)
    s = len(S)
    rows = np.zeros((2 * s, s * s))
    for k in range(s):
        rows[k].reshape(s, s)[k, :] = 1.0
        rows[s + k].reshape(s, s)[:, k] = 1.0
    total = 0.0
    for j in range(len(point)):
        if gen.W[i, j] == 0.0:
            continue
        c = gen.chiC[i, S][:, None] + gen.aC[np.ix_(S, S)] + gen.dC[S, j][None, :]
        res = linprog(
            c.ravel(),
            A_ub=rows,
            b_ub=np.concatenate([cap, cap]),
            A_eq=np.ones((1, s * s)),
            b_eq=[1.0],
            method="highs",
        )
        total += gen.W[i, j] * float(res.fun)
    return total


def _best_time(fn: Any, repeats: int) -> tuple[float, Any]:
    best = np.inf
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run() -> dict[str, Any]:
    load_at_start = os.getloadavg()  # other jobs on the machine slow the timings
    rng = np.random.default_rng(0)
    rows: list[dict[str, Any]] = []
    for n in SIZES:
        data = _data(n)
        gen = _CutGenerator(data)
        for kind, s, total, point in _points(n, rng):
            _numba_cuts(gen, point, check=True)  # warm-up (compilation, caches)
            t_nb, (const, coef) = _best_time(partial(_numba_cuts, gen, point, True), REPEATS)
            t_nc, _ = _best_time(partial(_numba_cuts, gen, point, False), REPEATS)
            value = const - coef @ point
            row: dict[str, Any] = {
                "n": n,
                "point": kind,
                "support": s,
                "total": float(point.sum()),
                "target_total": total,
                "numba_seconds": round(t_nb, 4),
                "numba_nocheck_seconds": round(t_nc, 4),
                "numpy_seconds": None,
                "speedup": None,
                "max_rel_value_diff": None,
                "routing_lp_value": float(value.sum()),
            }
            if n in NUMPY_SIZES:
                t0 = time.perf_counter()
                # the numpy code: ``separate`` itself before it delegated to this kernel
                numpy_separate = getattr(gen, "_separate_numpy", gen.separate)
                ref_const, ref_coef = numpy_separate(point)
                t_np = time.perf_counter() - t0
                ref = ref_const - ref_coef @ point
                row["numpy_seconds"] = round(t_np, 3)
                row["speedup"] = round(t_np / t_nb, 1)
                row["max_rel_value_diff"] = float(
                    np.max(np.abs(value - ref)) / max(1.0, float(np.max(np.abs(ref))))
                )
                if row["max_rel_value_diff"] > 1e-9:  # who is right: HiGHS on that origin
                    i = int(np.argmax(np.abs(value - ref)))
                    row["disagreement"] = {
                        "origin": i,
                        "numba": float(value[i]),
                        "numpy": float(ref[i]),
                        "highs": _highs_origin_value(gen, point, i),
                    }
            rows.append(row)
            print(_line(row), flush=True)
    return {
        "benchmark": "Benders cut separation, numpy vs numba (hubopt.models._cuts)",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "numba": numba.__version__,
        "threads": numba.get_num_threads(),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "instances": "AP, chi 3, alpha 0.75, delta 2, scaled flows",
        "rows": rows,
    }


HEADER = (
    "| n | point | s | sum y | numpy s | numba s | numba s (no check) | speedup | rel. diff |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def _line(row: dict[str, Any]) -> str:
    def fmt(v: Any, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    return (
        f"| {row['n']} | {row['point']} | {row['support']} | {row['total']:.2f} | "
        f"{fmt(row['numpy_seconds'], '.2f')} | {row['numba_seconds']:.3f} | "
        f"{row['numba_nocheck_seconds']:.3f} | {fmt(row['speedup'], '.0f')} | "
        f"{fmt(row['max_rel_value_diff'], '.1e')} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    print(HEADER, flush=True)
    result = run()
    write_json_atomic(args.output, result)
    print(f"\nwritten {args.output}")


if __name__ == "__main__":
    main()
