"""Scenarios side by side: one case, the product of some keys' values, each a full run.

``hubopt sweep CASE --set model.p=2,3,4,5 --set model.alpha=0.5,0.75 --out DIR`` runs
every combination (:func:`scenarios`) as a full ``hubopt run`` with those overrides
(:func:`run_scenario`: pure, inputs in and one result row out, writing only its own
folder ``DIR/<scenario>/``), on Dask distributed (:func:`run_sweep`: a ``LocalCluster``
with N single-threaded worker processes by default, or an existing cluster given by its
scheduler address) or one after another in this process (``workers=0``). The same
scenario gives the same row either way: the solvers are deterministic for a seed.

``DIR/scenarios.csv`` has one row per scenario: one column per swept key, named as the
key, then :data:`RESULT_COLUMNS`. A scenario that fails is reported in its ``error``
column and the others go on. Each scenario's folder appears whole or not at all
(:func:`hubopt.outputs.write_outputs`), so ``resume`` skips the finished ones by their
``run.json`` and their row is read back from it.
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hubopt._errors import CaseValidationError, HuboptError
from hubopt._io import write_text_atomic
from hubopt.sweep_records import RESULT_COLUMNS, Scenario, SweepResult


def split_values(text: str) -> list[str]:
    """Split ``"2,3,[1, 2],'a,b'"`` on the commas that are outside brackets and quotes."""
    out: list[str] = []
    depth, quote, cur = 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def scenarios(settings: Sequence[str]) -> list[Scenario]:
    """The product of ``KEY=V1,V2,...`` settings, in order (the last key varies fastest)."""
    problems: list[str] = []
    axes: list[tuple[str, list[str]]] = []
    for item in settings:
        key, sep, text = item.partition("=")
        values = split_values(text) if sep else []
        if not sep or not key.strip() or not all(values):
            problems.append(f"--set: expected KEY=V1,V2,... such as model.p=2,3,4; "
                            f"found {item!r}")
            continue
        if key.strip() in {k for k, _ in axes}:
            problems.append(f"--set {key.strip()}: given twice; list its values once")
            continue
        axes.append((key.strip(), values))
    if problems:
        raise CaseValidationError(problems, source="hubopt sweep")
    out = []
    for combo in itertools.product(*(vals for _, vals in axes)):
        chosen = tuple((k, v) for (k, _), v in zip(axes, combo, strict=True))
        out.append(Scenario(_folder_name(chosen), chosen))
    return out


def _folder_name(values: tuple[tuple[str, str], ...]) -> str:
    if not values:
        return "base"
    parts = [f"{k.rsplit('.', 1)[-1]}-{v}" for k, v in values]
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", "_".join(parts)).strip("_")[:120]


def run_scenario(case: str, scenario: Scenario, out: str) -> dict[str, Any]:
    """Run one scenario into ``out/<name>`` and return its result row (pure, no globals).

    A typed hubopt error (an invalid or infeasible scenario) is returned in the row's
    ``error`` column; any other exception propagates.
    """
    from hubopt.case import load_case
    from hubopt.outputs import write_outputs
    from hubopt.pipeline import run_case

    start = time.perf_counter()
    row: dict[str, Any] = dict(scenario.values)
    row["scenario"] = scenario.name
    folder = Path(out) / scenario.name
    try:
        result = run_case(load_case(case, overrides=scenario.overrides))
        write_outputs(result, folder, force=True, options={"set": list(scenario.overrides),
                                                          "scenario": scenario.name})
    except HuboptError as exc:
        row.update({k: "" for k in RESULT_COLUMNS if k not in row})
        row["status"] = "error"
        row["error"] = " ".join(str(exc).split())
        row["seconds"] = round(time.perf_counter() - start, 3)
        return row
    row.update(result_row(folder))
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def result_row(folder: Path) -> dict[str, Any]:
    """A finished scenario's figures, read back from its ``scorecard.json``/``run.json``."""
    score = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    hubs = score.get("hubs", [])
    targets = score.get("targets", [])
    pop = [h.get("failure_population_lost_share") for h in hubs]
    cost = [h.get("failure_cost_increase_share") for h in hubs]
    sol = run["solution"]
    return {
        "objective": sol["objective"], "bound": sol["bound"], "gap": sol["gap"],
        "status": sol["status"], "hubs": ";".join(sol["hubs"]), "n_hubs": len(sol["hubs"]),
        "targets_met": sum(1 for t in targets if t.get("passed")),
        "targets_total": len(targets),
        "n1_population_share": _max(pop), "n1_cost_share": _max(cost), "error": "",
    }


def _max(values: list[Any]) -> float | str:
    nums = [float(v) for v in values if v is not None]
    return max(nums) if nums else ""


def run_sweep(case: str, settings: Sequence[str], out: str | Path, *, workers: int = 2,
              scheduler: str | None = None, resume: bool = False,
              progress: Callable[[str], None] | None = None) -> SweepResult:
    """Run every scenario of ``settings`` (see :func:`scenarios`) and write the summary.

    ``workers`` single-threaded worker processes on a ``LocalCluster`` (0: one after
    another in this process), or the cluster at ``scheduler`` (``tcp://host:port``).
    ``resume`` keeps the scenarios whose folder is complete. Writes ``scenarios.csv``,
    ``sweep.md`` and ``sweep.png`` into ``out``.
    """
    from hubopt.case import load_case

    say = progress or (lambda _: None)
    todo = scenarios(settings)
    keys = tuple(k for k, _ in todo[0].values) if todo else ()
    folder = Path(out)
    pending = [sc for sc in todo if not (resume and (folder / sc.name / "run.json").is_file())]
    # The local cluster's worker processes start (imports, about 2 s) while this process
    # validates the scenarios; a failed validation closes it again.
    starting = _ClusterStart(workers) if pending and workers > 0 and not scheduler else None
    if pending and (starting is not None or scheduler):
        # this process waits for the workers: it imports what the summary draws with
        # meanwhile (about 0.5 s of CPU), before they start rather than beside them
        threading.Thread(target=_import_summary_modules, daemon=True,
                         name="hubopt-sweep-imports").start()
    try:
        for sc in todo:  # every scenario is validated before any is run
            load_case(case, overrides=sc.overrides)
    except BaseException:
        if starting is not None:
            starting.close()
        raise
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}
    pages: dict[str, dict[str, Any] | None] = {}
    for sc in todo:
        if sc not in pending:
            rows[sc.name] = {**dict(sc.values), "scenario": sc.name,
                             **result_row(folder / sc.name), "seconds": ""}
            say(f"{sc.name}: done before (resume)")
    try:
        if pending and (starting is not None or scheduler):
            _run_on_dask(case, pending, folder, starting, scheduler, rows, pages, say)
        elif pending:
            _run_here(case, pending, folder, rows, say)
        if starting is not None:  # the workers exit while the summary is written
            starting.close(wait=False)
        result = SweepResult(keys, tuple(rows[sc.name] for sc in todo), folder,
                             time.perf_counter() - start)
        write_text_atomic(folder / "scenarios.csv", result.to_csv())
        write_comparison(result, pages)
    finally:
        if starting is not None:
            starting.close()
    return result


#: Dask settings of the local cluster: no statistical profiler in the workers (it samples
#: every thread's stack every 10 ms, which costs a pure-Python task time), no dashboard.
_DASK_CONFIG = {"distributed.worker.profile.enabled": False,
                # the event loops' health check (every 20 ms), the system monitor (every
                # 500 ms) and the nannies' memory check (every 100 ms) wake the processes
                # that run the scenarios: at these rates they still warn and guard
                "distributed.admin.tick.interval": "500ms",
                "distributed.admin.system-monitor.interval": "5s",
                "distributed.worker.memory.monitor-interval": "1s"}


#: How the local cluster starts its worker processes: from a forkserver that has imported
#: :mod:`hubopt._sweep_worker` (Linux, macOS), else as fresh interpreters.
_START = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _start_forkserver() -> None:
    """Start this process's forkserver, which imports distributed and a scenario's modules
    (:mod:`hubopt._sweep_worker`) while this process imports distributed itself.

    Nothing happens when the forkserver already runs (a second sweep in one process): the
    preload list is read only when it starts, and distributed's own list (set when it
    first needs a process) comes too late to replace ours.
    """
    if _START != "forkserver":
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["distributed", "hubopt._sweep_worker"])
    forkserver.ensure_running()


class _ClusterStart:
    """A ``LocalCluster`` of single-threaded worker processes, started in the background.

    The caller validates the scenarios meanwhile; :meth:`client` waits for the cluster.
    """

    def __init__(self, workers: int) -> None:
        self.cluster: Any = None
        self.error: BaseException | None = None
        _start_forkserver()
        self._thread = threading.Thread(target=self._start, args=(workers,), daemon=True,
                                        name="hubopt-sweep-cluster")
        self._thread.start()

    def _start(self, workers: int) -> None:
        import logging

        import dask
        from distributed import LocalCluster

        try:
            with dask.config.set({**_DASK_CONFIG,
                                  "distributed.worker.multiprocessing-method": _START}):
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR)
        except BaseException as exc:  # re-raised in the caller's thread by client()
            self.error = exc

    def client(self) -> Any:
        from distributed import Client

        self._thread.join()
        if self.error is not None:
            raise self.error
        return Client(self.cluster)

    def close(self, *, wait: bool = True) -> None:
        """Shut the cluster down; ``wait=False`` does it in the background (a later
        ``close()`` waits for it)."""
        self._thread.join()
        if self._thread.name != "hubopt-sweep-cluster-close":
            self._thread = threading.Thread(target=self._close, daemon=True,
                                            name="hubopt-sweep-cluster-close")
            self._thread.start()
        if wait:
            self._thread.join()

    def _close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()


def _run_on_dask(case: str, pending: list[Scenario], folder: Path,
                 starting: _ClusterStart | None, scheduler: str | None,
                 rows: dict[str, dict[str, Any]], pages: dict[str, dict[str, Any] | None],
                 say: Callable[[str], None]) -> None:
    import logging

    from distributed import Client, as_completed

    # the scheduler and the nannies of a local cluster run in this process: keep their
    # INFO lines and shutdown notices quiet
    logging.getLogger("distributed").setLevel(logging.ERROR if starting else logging.WARNING)
    client = Client(scheduler) if scheduler else starting.client()  # type: ignore[union-attr]
    try:
        # the longest first, so that the workers finish together: the last scenario to
        # start is then a short one (Dask starts higher priorities first)
        order = longest_first(pending)
        futures = [client.submit(run_scenario, case, sc, str(folder), pure=False,
                                 priority=len(order) - rank)
                   for rank, sc in enumerate(order)]  # fmt: skip
        from hubopt.report_html import read_page_data

        by_key = {f.key: sc for f, sc in zip(futures, order, strict=True)}
        for fut in as_completed(futures):
            sc = by_key[fut.key]
            rows[sc.name] = fut.result()
            say(f"{sc.name}: {rows[sc.name]['status']}")
            # read its page now, while the workers still run: the summary needs it
            pages[sc.name] = read_page_data(folder / sc.name / "report.html")
        if starting is not None:
            # the workers of our own cluster exit next: without walking their heaps in
            # the interpreter's last collections (seconds each, see hubopt.cli.main)
            client.run(gc.freeze)
    finally:
        client.close()


def longest_first(pending: Sequence[Scenario]) -> list[Scenario]:
    """The scenarios in the order a sweep starts them on several workers: more hubs first
    (``model.p``: a larger p takes longer to solve, allocate and draw), else as given.

    Greedy list scheduling finishes within the longest task of the best schedule; with the
    long tasks first the last ones to start are short, and the workers end close together
    (on the default case's 8 scenarios the last worker waited 0.5-0.9 s for the other in
    the product's order).
    """
    def hubs(sc: Scenario) -> int:
        value = dict(sc.values).get("model.p", "")
        return int(value) if value.strip().isdigit() else 0

    return sorted(pending, key=hubs, reverse=True)  # stable: ties keep the given order


def _run_here(case: str, pending: list[Scenario], folder: Path,
              rows: dict[str, dict[str, Any]], say: Callable[[str], None]) -> None:
    """The scenarios one after another in this process, set up as a worker is: the
    modules of a run imported first and the collector told to leave what is loaded by
    then alone (``gc.freeze``, undone at the end); a collection would otherwise walk
    every object of every imported module again, about 2 s over the default case's
    8 scenarios."""
    import hubopt._sweep_worker  # noqa: F401

    gc.freeze()
    try:
        for sc in pending:
            rows[sc.name] = run_scenario(case, sc, str(folder))
            say(f"{sc.name}: {rows[sc.name]['status']}")
    finally:
        gc.unfreeze()


def _import_summary_modules() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    import hubopt.report_html  # noqa: F401


def write_comparison(result: SweepResult,
                     pages: Mapping[str, dict[str, Any] | None] | None = None) -> None:
    """``sweep.md`` (the table, and which hubs recur), ``sweep.png`` (cost and N-1) and
    ``report.html`` (:func:`hubopt.report_html.write_sweep_html`; ``pages``: the
    scenarios' page data already read, by name)."""
    from hubopt._io import atomic_path

    ok = [r for r in result.rows if not r.get("error")]
    lines = [f"# Sweep: {len(result.rows)} scenarios", "",
             "| scenario | " + " | ".join(result.keys) + " | objective | gap | hubs | "
             "targets met | N-1 population share | N-1 cost share | error |",
             "|---" * (len(result.keys) + 8) + "|"]
    for r in result.rows:
        cells = [r["scenario"], *(str(r[k]) for k in result.keys), _fmt(r.get("objective")),
                 _fmt(r.get("gap")), str(r.get("hubs", "")).replace(";", ", "),
                 f"{r.get('targets_met', '')}/{r.get('targets_total', '')}",
                 _fmt(r.get("n1_population_share")), _fmt(r.get("n1_cost_share")),
                 str(r.get("error", ""))]
        lines.append("| " + " | ".join(cells) + " |")
    counts: dict[str, int] = {}
    for r in ok:
        for h in str(r["hubs"]).split(";"):
            if h:
                counts[h] = counts.get(h, 0) + 1
    lines += ["", "## Hubs across scenarios", "", "| hub | scenarios with it open |",
              "|---|---|"]
    lines += [f"| {h} | {c} of {len(ok)} |" for h, c in
              sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines += ["", "![cost and resilience against the number of hubs](sweep.png)", ""]
    write_text_atomic(result.folder / "sweep.md", "\n".join(lines))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    if ok:
        xs = [int(r["n_hubs"]) for r in ok]
        ax.scatter(xs, [float(r["objective"]) for r in ok], color="#1565c0", label="objective")
        for r, x in zip(ok, xs, strict=True):
            ax.annotate(r["scenario"], (x, float(r["objective"])), fontsize=6,
                        xytext=(3, 3), textcoords="offset points")
        ax2 = ax.twinx()
        pop = [(x, r["n1_population_share"]) for r, x in zip(ok, xs, strict=True)
               if r["n1_population_share"] != ""]
        if pop:
            ax2.scatter([p[0] for p in pop], [float(p[1]) for p in pop], marker="x",
                        color="#c62828", label="N-1 population share lost")
        ax2.set_ylabel("largest population share losing hub access (N-1)")
        ax2.set_ylim(0, 1)
    ax.set_xlabel("number of hubs")
    ax.set_ylabel("objective")
    ax.set_title("Cost and resilience across scenarios")
    fig.tight_layout()
    with atomic_path(result.folder / "sweep.png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    from hubopt.report_html import write_sweep_html

    write_sweep_html(result, pages)


def _fmt(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


__all__ = ["RESULT_COLUMNS", "Scenario", "SweepResult", "result_row", "run_scenario",
           "run_sweep", "scenarios", "split_values", "write_comparison"]
