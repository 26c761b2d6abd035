"""Run benchmark suites and write one results table per suite.

    python benchmarks/run.py SUITE [SUITE ...] [--out-dir benchmarks/results] [--jobs N]
                             [--only PATTERN] [--max-time SECONDS] [--reuse-process]
                             [--force]

The suites are defined in ``benchmarks/suites.py``; ``python benchmarks/run.py --list``
names them.  Each suite writes ``<out-dir>/<suite>.csv``, rewritten atomically after every
instance.  A run is resumable: an instance whose row was made by the same commit (and the
same time limit) is skipped, any other row of it is replaced.  Every engine instance is
solved in a fresh Python process (``--jobs N`` runs N such processes side by side; each
then gets its share of numba's threads), so its peak memory is its own; with
``--reuse-process`` one long-lived worker per job solves its instances one after the
other (no imports per instance; the peak memory is reset before each on Linux), which
the ``process`` column records.

Rows carry the stamp of the run: ``commit`` (``git rev-parse --short HEAD`` of the
checkout that ``import hubopt`` resolves to, plus ``-dirty`` when that checkout has
uncommitted changes under ``hubopt/``), ``machine``, ``date`` (UTC, when the row was
made) and ``load_at_start`` (1-minute load average when the instance started: on a
shared machine the times are only as good as that number).

``--only`` keeps the instances whose name matches a regular expression (``re.search``),
e.g. ``--only '^CAB10 USApHMP p=2 alpha=0.2$'``.  ``--max-time`` caps each instance's
time limit (the cap is recorded in ``time_limit``).  To run an older engine, put its
checkout first on the path: ``PYTHONPATH=/tmp/hubopt-old python benchmarks/run.py ...``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from suites import SUITES, Case  # noqa: E402

STAMP = ("commit", "machine", "date", "load_at_start")
ENGINE_COLUMNS = (
    "suite", "instance", "problem", "n", "p", "alpha", "fixed_cost", "capacity",
    "time_limit", "objective", "bound", "gap", "status", "method", "seconds",
    "peak_rss_mb", "reference", "matches_reference", "hubs", *STAMP, "process",
)  # fmt: skip
RESILIENCE_COLUMNS = (
    *ENGINE_COLUMNS[:10], "resilience", "failure_probability", "attacks",
    "nominal_objective", *ENGINE_COLUMNS[10:],
)  # fmt: skip
NETWORK_COLUMNS = (
    "suite", "phase", "item", "seconds", "seconds_warm", "nodes", "edges", "terminals",
    "length_km", "sources", "per_second", "value", "peak_rss_mb", *STAMP,
)  # fmt: skip
RUN_COLUMNS = (
    "suite", "case", "run", "step", "seconds", "peak_rss_mb", "objective", "status", "hubs",
    *STAMP,
)  # fmt: skip
SWEEP_COLUMNS = (
    "suite", "mode", "scenarios", "seconds", "speedup", "speedup_vs_separate_runs",
    "identical_rows", "runs", *STAMP,
)  # fmt: skip
COVERAGE_COLUMNS = (
    "suite", "instance", "n", "m", "p", "minutes", "seed", "solver", "time_limit",
    "objective", "proven", "seconds", "method", "hubs", *STAMP,
)  # fmt: skip
ROAD_EVIDENCE_COLUMNS = (
    "suite", "layer", "origin", "destination", "real_km", "hubopt_km", "km_ratio", "car_h",
    "car_time_kind", "hubopt_truck_h", "time_ratio", "access_km", "egress_km",
    "connector_km", "source", "role", "layer_seconds", *STAMP,
)  # fmt: skip
PBF_COLUMNS = (
    "suite", "file", "file_mb", "tool", "item", "seconds", "cpu_seconds",
    "seconds_incl_imports", "nodes",
    "edges", "length_km", "peak_rss_mb", "note", *STAMP,
)  # fmt: skip
MATRIX_SCALE_COLUMNS = (
    "suite", "item", "seconds", "cpu_seconds", "preprocess_seconds", "query_seconds",
    "measured_seconds",
    "nodes", "edges", "sources", "targets", "value", "max_rel_diff", "base_rss_mb",
    "peak_rss_mb", "note", *STAMP,
)  # fmt: skip
COLUMNS = {"engine": ENGINE_COLUMNS, "pbf": PBF_COLUMNS,
           "matrix-scale": MATRIX_SCALE_COLUMNS, "network": NETWORK_COLUMNS, "run": RUN_COLUMNS,
           "sweep": SWEEP_COLUMNS, "coverage": COVERAGE_COLUMNS,
           "road-evidence": ROAD_EVIDENCE_COLUMNS}


# ---------------------------------------------------------------- stamp of a run


def hubopt_location(env: dict[str, str] | None = None) -> Path:
    """Folder of the ``hubopt`` package a fresh process imports (with ``env``)."""
    out = subprocess.run(
        [sys.executable, "-c", "import hubopt, sys; sys.stdout.write(hubopt.__file__)"],
        capture_output=True, text=True, check=True, env=env, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    return Path(out.stdout.strip()).resolve().parent


def code_commit(package: Path) -> str:
    """Short commit of the checkout holding ``package``, ``-dirty`` if it has changes."""

    def git(*args: str) -> str:
        res = subprocess.run(["git", "-C", str(package), *args],
                             capture_output=True, text=True, check=False)  # fmt: skip
        return res.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no", "--", "."):
        commit += "-dirty"
    return commit


def machine() -> str:
    """Platform, CPU count and CPU model."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {model}, "
            f"Python {platform.python_version()}")  # fmt: skip


def load_now() -> str:
    """1-minute load average, e.g. ``2.31``."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return ""


def utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


# ---------------------------------------------------------------- results table


class Table:
    """One suite's CSV, kept in memory and rewritten atomically after every change."""

    def __init__(self, path: Path, columns: Sequence[str], key: Callable[[dict], tuple]):
        self.path = path
        self.columns = tuple(columns)
        self.key = key
        self.rows: dict[tuple, dict[str, str]] = {}
        self.lock = threading.Lock()
        if path.exists():
            with path.open(newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    self.rows[key(row)] = row

    def get(self, key: tuple) -> dict[str, str] | None:
        return self.rows.get(key)

    def put(self, rows: Iterable[dict[str, Any]], order: Sequence[tuple] = ()) -> None:
        """Add or replace ``rows``; write the file in ``order`` (then the others)."""
        with self.lock:
            for row in rows:
                self.rows[self.key(row)] = {c: _cell(row.get(c)) for c in self.columns}
            rank = {k: i for i, k in enumerate(order)}
            keys = sorted(self.rows, key=lambda k: rank.get(k, len(rank)))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=self.columns, lineterminator="\n")
                writer.writeheader()
                for k in keys:
                    writer.writerow(self.rows[k])
            os.replace(tmp, self.path)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- engine suites


def solve_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Solve one case in this process (the worker's body); return the result fields."""
    import resource

    from hubopt.bench import BenchCase, run_case
    from hubopt.instances import load_optima, random_euclidean
    from hubopt.models import Problem, SolveParameters

    case = Case(**spec)
    if case.family == "real":
        return _solve_real(case)
    inst = random_euclidean(case.n, seed=0) if case.family == "random" else None
    bench_case = BenchCase(case.family, Problem.parse(case.problem), case.n, case.p,
                           case.alpha, case.fixed_cost, case.capacity,
                           case.max_cost, case.resilience, case.failure_probability,
                           case.attacks)  # fmt: skip
    params = SolveParameters(time_limit=case.time_limit, seed=0)
    reset = _reset_peak_rss()
    record = run_case(bench_case, params, instance=inst, optima=load_optima())
    peak = _peak_rss_kb() if reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record["peak_rss_mb"] = round(peak / 1024, 1)
    return record


def _solve_real(case: Case) -> dict[str, Any]:
    """Solve a real instance (built first when its file is missing)."""
    import resource

    from real_instances import SPECS, ensure

    from hubopt.bench import run_instance_file
    from hubopt.models import SolveParameters

    spec = next(s for s in SPECS if s.name == case.name)
    (path,) = ensure((spec,))
    params = SolveParameters(time_limit=case.time_limit, seed=0)
    reset = _reset_peak_rss()
    record = run_instance_file(path, params, problem=case.problem, p=case.p)
    record.pop("allocation", None)
    record["suite"] = "real"
    peak = _peak_rss_kb() if reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record["peak_rss_mb"] = round(peak / 1024, 1)
    return record


def _reset_peak_rss() -> bool:
    """Reset this process's peak resident set size (Linux >= 4.0); True if it worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def _peak_rss_kb() -> int | None:
    """VmHWM of this process (peak resident set size since the last reset), in kB."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def serve() -> None:
    """Worker loop of ``--reuse-process``: one case (JSON) per line in, one record out.

    The records go to the original standard output; anything the solvers print goes to
    standard error.
    """
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin:
        try:
            record = solve_case(json.loads(line))
        except Exception as exc:
            record = {"status": "error", "method": f"{type(exc).__name__}: {exc}"[:200]}
        out.write(json.dumps(record) + "\n")
        out.flush()


class Worker:
    """A long-lived worker process (``--reuse-process``), restarted if it dies."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.proc: subprocess.Popen[str] | None = None

    def solve(self, case: Case) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=self.env,
            )  # fmt: skip
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(case.to_dict()) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc = None
            return {"status": "error", "method": "worker process died"}
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.wait()


def _worker_env(jobs: int) -> dict[str, str]:
    env = dict(os.environ)
    if jobs > 1:
        env["NUMBA_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    return env


def run_in_subprocess(case: Case, env: dict[str, str]) -> dict[str, Any]:
    """Solve ``case`` in a fresh process; a crash or a hang gives an ``error`` row."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(case.to_dict())]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False,
                              timeout=2 * case.time_limit + 300)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"status": "error", "method": "worker timed out"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "method": f"worker failed: {tail[:200]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def engine_row(suite: str, case: Case, rec: dict[str, Any], stamp: dict[str, str]) -> dict:
    """The table row of ``case`` from the worker's record."""
    row: dict[str, Any] = {
        "suite": suite,
        "instance": case.instance,
        "problem": case.problem,
        # a real instance's size is that of the file as built (the layers may change it)
        "n": rec.get("n", case.n) if case.family == "real" else case.n,
        "p": rec.get("p", case.p),
        "alpha": rec.get("alpha", case.alpha),
        "fixed_cost": case.fixed_cost,
        "capacity": case.capacity,
        "time_limit": case.time_limit,
        **{k: rec.get(k) for k in ("objective", "bound", "gap", "status", "method",
                                   "seconds", "peak_rss_mb", "reference",
                                   "matches_reference", "hubs")},
        **({k: rec.get(k) for k in ("resilience", "failure_probability", "attacks",
                                    "nominal_objective")}
           if case.resilience != "none" else {}),
        **stamp,
    }  # fmt: skip
    return row


def run_engine_suite(name: str, table: Table, cases: list[Case], *, jobs: int, package: Path,
                     commit: str, mach: str, force: bool, reuse: bool) -> int:  # fmt: skip
    """Solve the cases not yet in ``table`` for this commit; return how many ran."""
    order = [(c.instance,) for c in cases]
    todo = []
    for c in cases:
        old = table.get((c.instance,))
        same = (old is not None and old["commit"] == commit
                and float(old["time_limit"] or 0) == c.time_limit
                and old["status"] != "error")  # fmt: skip
        if force or not same:
            todo.append(c)
    print(f"{name}: {len(cases)} instance(s), {len(cases) - len(todo)} already done "
          f"for {commit}; results -> {table.path}", flush=True)  # fmt: skip
    worker_env = _worker_env(jobs)
    workers: dict[int, Worker] = {}

    def one(case: Case) -> None:
        # the commit of each row: the checkout may change while a suite runs
        stamp = {"commit": code_commit(package), "machine": mach, "load_at_start": load_now()}
        if reuse:
            worker = workers.get(threading.get_ident())
            if worker is None:
                worker = workers[threading.get_ident()] = Worker(worker_env)
            rec = worker.solve(case)
        else:
            rec = run_in_subprocess(case, worker_env)
        stamp["process"] = "reused" if reuse else "fresh"
        stamp["date"] = utc_now()
        row = engine_row(name, case, rec, stamp)
        table.put([row], order)
        obj = row["objective"]
        print(f"  {case.instance:32s} {row['status']:9s} "
              f"{'-' if obj is None else format(obj, ',.2f'):>16s} "
              f"{row['seconds'] or 0:8.2f} s  ref {row['reference']}  "
              f"match {row['matches_reference']}", flush=True)  # fmt: skip

    if jobs > 1:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, todo))
    else:
        for c in todo:
            one(c)
    for w in workers.values():
        w.close()
    return len(todo)


# ---------------------------------------------------------------- network and run


def run_network_suite(table: Table, stamp: dict[str, str]) -> None:
    """Layer build times and matrix throughput (``bench_network.py``)."""
    import bench_network

    table.put([{"suite": "network", **row, **stamp, "date": utc_now()}
               for row in bench_network.measure()])  # fmt: skip


def run_pbf_suite(table: Table, stamp: dict[str, str]) -> None:
    """Reading extracts: hubopt's four layers against pyrosm (``bench_pbf.py``); each row
    carries the load when it was written."""
    import bench_pbf

    table.put([{"suite": "pbf", **row, **stamp, "date": utc_now(),
                "load_at_start": stamp["load_at_start"]} for row in bench_pbf.measure()])


def run_matrix_scale_suite(table: Table, stamp: dict[str, str]) -> None:
    """A 1,000 x 1,000 matrix on a million-node tiled road graph (``bench_matrix_scale.py``);
    each row carries the load when its engine started."""
    import bench_matrix_scale

    table.put([{"suite": "matrix-scale", **stamp, **row, "date": utc_now()}
               for row in bench_matrix_scale.measure()])  # fmt: skip


def run_road_evidence_suite(table: Table, stamp: dict[str, str]) -> None:
    """Road distances and times against cited pairs (``bench_road_evidence.py``)."""
    import bench_road_evidence

    table.put([{"suite": "road-evidence", **row, **stamp, "date": utc_now()}
               for row in bench_road_evidence.measure()])  # fmt: skip


def run_run_suite(table: Table, stamp: dict[str, str], only: str | None) -> None:
    """``hubopt run`` of the built-in cases (``bench_run.py``)."""
    import bench_run

    for row in bench_run.measure(only=only):
        table.put([{"suite": "run", **row, **stamp, "date": utc_now()}])


def run_sweep_suite(table: Table, stamp: dict[str, str]) -> None:
    """``hubopt sweep`` serially and on Dask (``bench_sweep.py``)."""
    import bench_sweep

    for row in bench_sweep.measure():
        table.put([{"suite": "sweep", **row, **stamp, "date": utc_now()}])


def run_coverage_suite(table: Table, stamp: dict[str, str], limit: float | None,
                       only: str | None = None) -> None:  # fmt: skip
    """Covering models: hubopt against spopt + CBC (``bench_coverage.py``), the
    instances whose name matches ``only`` (all by default); each row carries the load
    when its solve started."""
    import bench_coverage

    kwargs: dict[str, Any] = {} if limit is None else {
        "limit": min(limit, bench_coverage.TIME_LIMIT),
        "peer_limit": min(limit, bench_coverage.PEER_TIME_LIMIT)}
    if only:
        kwargs["instances"] = tuple(i for i in bench_coverage.INSTANCES
                                    if re.search(only, i.name))  # fmt: skip
    for row in bench_coverage.measure(**kwargs):
        table.put([{"suite": "coverage", **row, **stamp, "date": utc_now(),
                    "load_at_start": row["load_at_start"]}])  # fmt: skip


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("suites", nargs="*", metavar="SUITE", help=", ".join(SUITES))
    parser.add_argument("--out-dir", type=Path, default=HERE / "results")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", default=None, help="regular expression on instance names")
    parser.add_argument("--max-time", type=float, default=None,
                        help="cap on each instance's time limit (seconds)")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="re-run rows already done")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    parser.add_argument("--reuse-process", action="store_true",
                        help="solve one instance after the other in one long-lived process "
                        "per job (saves the imports, ~5 s an instance; peak memory is "
                        "reset per instance on Linux)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if args.worker:
        sys.stdout.write(json.dumps(solve_case(json.loads(args.worker))) + "\n")
        return 0
    if args.list or not args.suites:
        for s in SUITES.values():
            n = f" ({len(s.cases())} instances)" if s.cases else ""
            print(f"{s.name:14s} {s.description}{n}")
        return 0
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {unknown}; expected some of {list(SUITES)}")
    env = dict(os.environ)
    package = hubopt_location(env)
    commit = code_commit(package)
    mach = machine()
    print(f"hubopt from {package} at {commit}; {mach}; load {load_now()}", flush=True)
    for name in args.suites:
        suite = SUITES[name]
        path = args.out_dir / f"{name}.csv"
        t0 = time.perf_counter()
        if suite.kind == "engine":
            assert suite.cases is not None
            cases = suite.cases()
            if args.only:
                cases = [c for c in cases if re.search(args.only, c.instance)]
            if args.max_time:
                cases = [_capped(c, args.max_time) for c in cases]
            columns = RESILIENCE_COLUMNS if name == "resilience" else ENGINE_COLUMNS
            table = Table(path, columns, lambda r: (r["instance"],))
            run_engine_suite(name, table, cases, jobs=max(1, args.jobs), package=package,
                             commit=commit, mach=mach, force=args.force,
                             reuse=args.reuse_process)  # fmt: skip
        else:
            stamp = {"commit": commit, "machine": mach, "load_at_start": load_now()}
            if suite.kind == "network":
                table = Table(path, NETWORK_COLUMNS, lambda r: (r["phase"], r["item"]))
            elif suite.kind == "sweep":
                table = Table(path, SWEEP_COLUMNS, lambda r: (r["mode"],))
            elif suite.kind == "coverage":
                table = Table(path, COVERAGE_COLUMNS, lambda r: (r["instance"], r["solver"]))
            elif suite.kind == "pbf":
                table = Table(path, PBF_COLUMNS, lambda r: (r["file"], r["tool"], r["item"]))
            elif suite.kind == "matrix-scale":
                table = Table(path, MATRIX_SCALE_COLUMNS, lambda r: (r["item"],))
            elif suite.kind == "road-evidence":
                table = Table(path, ROAD_EVIDENCE_COLUMNS,
                              lambda r: (r["layer"], r["origin"], r["destination"]))
            else:
                table = Table(path, RUN_COLUMNS, lambda r: (r["case"], r["run"], r["step"]))
            if not args.force and any(r["commit"] == commit for r in table.rows.values()):
                print(f"{name}: rows for {commit} already in {path}; --force to re-run")
                continue
            print(f"{name}: results -> {path}", flush=True)
            if suite.kind == "network":
                run_network_suite(table, stamp)
            elif suite.kind == "sweep":
                run_sweep_suite(table, stamp)
            elif suite.kind == "coverage":
                run_coverage_suite(table, stamp, args.max_time, args.only)
            elif suite.kind == "road-evidence":
                run_road_evidence_suite(table, stamp)
            elif suite.kind == "pbf":
                run_pbf_suite(table, stamp)
            elif suite.kind == "matrix-scale":
                run_matrix_scale_suite(table, stamp)
            else:
                run_run_suite(table, stamp, args.only)
        print(f"{name}: done in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


def _capped(case: Case, limit: float) -> Case:
    from dataclasses import replace

    return replace(case, time_limit=min(case.time_limit, limit))


if __name__ == "__main__":
    raise SystemExit(main())
