"""``hubopt bench``: run the standard hub-location suites and compare with published optima."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from hubopt._errors import OutputExistsError

_MULTI = ("--n", "--p", "--alpha", "--fixed-cost", "--capacity", "--max-cost")


def expand_multi_values(args: Sequence[str], options: Sequence[str] = _MULTI) -> list[str]:
    """Let ``--n 10 20 25`` mean ``--n 10 --n 20 --n 25`` (also ``--n 10,20``)."""
    out: list[str] = []
    current: str | None = None
    for arg in args:
        if arg in options:
            current = arg
            continue
        if current is not None and not arg.startswith("--"):
            for part in arg.split(","):
                if part:
                    out.extend([current, part])
            continue
        if current is not None:
            current = None
        out.append(arg)
    return out


def _key(
    suite: str,
    problem: str,
    n: int,
    p: int | None,
    alpha: float | None,
    fixed_cost: str | None,
    capacity: str | None,
    max_cost: float | None = None,
) -> tuple[Any, ...]:
    """Identity of a benchmark instance; AP runs at the file's alpha (key ``None``)."""
    a = None if suite == "ap" else (round(alpha, 9) if alpha is not None else None)
    covering = problem in ("usahcp", "umahcp")
    return (suite, problem, n, p if fixed_cost is None and not covering else None, a,
            fixed_cost, capacity, max_cost)


def _resilience_key(resilience: str, q: float, r: int) -> tuple[Any, ...]:
    """The resilience fields of a record solved with these options."""
    return (
        resilience,
        q if resilience == "expected" else None,
        r if resilience == "worst" else None,
    )


class _MultiValueCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_multi_values(args))


@click.command(cls=_MultiValueCommand)
@click.option("--suite", type=click.Choice(["cab", "ap", "tr"]), default=None,
              help="A standard suite (required unless --instance is given).")
@click.option(
    "--instance", "instances", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    multiple=True,
    help="Solve instance.npz files (written by every hubopt run) instead of a suite.",
)
@click.option(
    "--problem",
    type=click.Choice(["usaphmp", "umaphmp", "usahlp", "umahlp", "csahlp", "usaphcp",
                       "umaphcp", "usahcp", "umahcp", "mclp", "lscp"]),
    default=None,
    help="The problem (required with --suite; with --instance, default: the file's). "
    "usaphcp/umaphcp: p-hub center; usahcp/umahcp: hub covering (with --max-cost). "
    "mclp (maximal covering, --p, --minutes) and lscp (fewest hubs covering --share of "
    "the weight within --minutes) read the file's C as travel minutes.",
)
@click.option("--n", "sizes", type=int, multiple=True, help="Instance sizes (default: suite grid).")
@click.option("--p", "ps", type=int, multiple=True, help="Numbers of hubs (p-hub medians).")
@click.option("--alpha", "alphas", type=float, multiple=True, help="Inter-hub factors.")
@click.option("--minutes", type=click.FloatRange(min=0), default=None,
              help="Travel-time target of mclp/lscp (in the units of the file's C).")
@click.option("--share", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="lscp: share of the weight to cover (default: all that some site reaches).")
@click.option("--fixed-cost", "fixed_costs", type=click.Choice(["L", "T"]), multiple=True)
@click.option("--capacity", "capacities", type=click.Choice(["L", "T"]), multiple=True)
@click.option("--max-cost", "max_costs", type=click.FloatRange(min=0), multiple=True,
              help="Hub covering: the bound on every OD pair's route cost (in the "
              "instance's cost units, before the chi/alpha/delta factors are applied "
              "to the legs).")
@click.option(
    "--time-limit", type=float, default=300.0, show_default=True, help="Seconds per instance."
)
@click.option(
    "--method",
    type=click.Choice(["auto", "search", "mip", "heuristic", "benders"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--solver",
    type=click.Choice(["highs", "scip", "cpsat"]),
    default="highs",
    show_default=True,
    help="OR-Tools MathOpt backend for MIPs.",
)
@click.option(
    "--resilience",
    type=click.Choice(["none", "expected", "worst"]),
    default="none",
    show_default=True,
    help="Resilient p-hub median: expected cost under single-hub failures, or worst case "
    "under an attack on --attacks hubs.",
)
@click.option(
    "--failure-probability",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.05,
    show_default=True,
    help="Probability q that a hub is down (--resilience expected).",
)
@click.option(
    "--attacks",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Number r of hubs attacked (--resilience worst).",
)
@click.option(
    "--n1-access",
    type=click.FloatRange(min=0),
    default=None,
    help="N-1 access: every node keeps two open hubs within this cost (units of the "
    "instance's costs), so one is left after any single hub failure (p-hub medians).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--memory-gb",
    type=click.FloatRange(min=0),
    default=4.0,
    show_default=True,
    help="Memory (GB) the waiting nodes of the single-allocation branch and bound may keep.",
)
@click.option(
    "--jobs",
    type=int,
    default=1,
    show_default=True,
    help="Instances solved in parallel (processes).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Results JSON (one object per instance).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing results file.")
@click.option("--resume", is_flag=True, help="Keep the results already in --out, skip them.")
def bench(
    suite: str | None,
    instances: tuple[Path, ...],
    problem: str | None,
    sizes: tuple[int, ...],
    ps: tuple[int, ...],
    alphas: tuple[float, ...],
    minutes: float | None,
    share: float | None,
    fixed_costs: tuple[str, ...],
    capacities: tuple[str, ...],
    max_costs: tuple[float, ...],
    time_limit: float,
    method: str,
    solver: str,
    resilience: str,
    failure_probability: float,
    attacks: int,
    n1_access: float | None,
    seed: int,
    memory_gb: float,
    jobs: int,
    out: Path,
    force: bool,
    resume: bool,
) -> None:
    """Solve a standard suite (CAB, AP, TR) and print a table against the published optima,
    or solve instance.npz files (--instance)."""
    from hubopt.bench import grid, run_grid, table_header, table_row
    from hubopt.instances import load_optima
    from hubopt.models import SolveParameters

    previous: list[dict[str, Any]] = []
    if out.exists() and not (force or resume):
        msg = f"{out}: exists; pass --force to overwrite it or --resume to continue it"
        raise OutputExistsError(msg)
    if instances:
        if suite is not None:
            raise click.UsageError("give --suite or --instance, not both")
        if resilience != "none" or n1_access is not None:
            raise click.UsageError(
                "--resilience and --n1-access apply to the suites (--suite), not --instance")
        _bench_files(instances, problem, ps, alphas, max_costs, out,
                     SolveParameters(time_limit=time_limit, method=method, solver=solver,
                                     seed=seed, memory_budget=memory_gb * 1e9),
                     minutes=minutes, share=share)  # fmt: skip
        return
    if problem in ("mclp", "lscp"):
        raise click.UsageError(f"--problem {problem} runs on instance files (--instance)")
    if suite is None or problem is None:
        raise click.UsageError("--suite and --problem are required (or give --instance)")
    if resume and out.exists():
        try:
            previous = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            msg = f"{out}: cannot resume, not a results file ({exc})"
            raise click.UsageError(msg) from exc
    cases = grid(
        suite,
        problem,
        n=sizes or None,
        p=ps or None,
        alpha=alphas or None,
        fixed_cost=fixed_costs or None,
        capacity=capacities or None,
        max_cost=max_costs or None,
        resilience=resilience,
        failure_probability=failure_probability,
        attacks=attacks,
        n1_access=n1_access,
    )
    done = {
        _key(r["suite"], r["problem"], r["n"], r["p"], r["alpha"], r["fixed_cost"], r["capacity"],
             r.get("max_cost"))
        for r in previous
        if (r.get("resilience") or "none", r.get("failure_probability"), r.get("attacks"),
            r.get("n1_access"))
        == (*_resilience_key(resilience, failure_probability, attacks), n1_access)
    }
    params = SolveParameters(
        time_limit=time_limit,
        method=method,
        solver=solver,
        seed=seed,
        memory_budget=memory_gb * 1e9,
    )
    optima = load_optima()
    click.echo(f"{len(cases)} instance(s) of {problem} on {suite.upper()}; results -> {out}")
    click.echo(table_header())

    def show(record: dict[str, Any]) -> None:
        click.echo(table_row(record))

    todo = [
        c
        for c in cases
        if _key(c.suite, c.problem.value, c.n, c.p, c.alpha, c.fixed_cost, c.capacity,
                c.max_cost) not in done
        and _key(c.suite, c.problem.value, c.n, c.p, None, c.fixed_cost, c.capacity,
                 c.max_cost) not in done
    ]
    results = run_grid(
        todo, params, out=out, optima=optima, on_result=show, previous=previous, jobs=max(1, jobs)
    )
    n_ref = sum(1 for r in results if r["relative_difference"] is not None)
    n_match = sum(1 for r in results if r.get("matches_reference"))
    n_opt = sum(1 for r in results if r["status"] == "optimal")
    click.echo(
        f"{len(results)} solved, {n_opt} proven optimal; "
        f"{n_match}/{n_ref} equal to the reference value "
        "(to its printed 2 decimals, or within 1e-6 relative)"
    )


def _bench_files(files: Sequence[Path], problem: str | None, ps: Sequence[int],
                 alphas: Sequence[float], max_costs: Sequence[float], out: Path,
                 params: Any, *, minutes: float | None = None,
                 share: float | None = None) -> None:  # fmt: skip
    """Solve every file x p x alpha (x max_cost); write the records to ``out`` after each."""
    from hubopt._io import write_json_atomic
    from hubopt.bench import run_instance_file, table_header, table_row
    from hubopt.bench_cover import run_coverage_file

    if problem in ("mclp", "lscp"):
        records: list[dict[str, Any]] = []
        click.echo(f"{len(files)} instance file(s), {problem}; results -> {out}")
        click.echo(table_header())
        for path in files:
            for p in ps or (None,):
                rec = run_coverage_file(path, params, problem=problem, p=p, minutes=minutes,
                                        share=share)  # fmt: skip
                records.append(rec)
                write_json_atomic(out, records)
                click.echo(table_row(rec))
        n_opt = sum(1 for r in records if r["status"] == "optimal")
        click.echo(f"{len(records)} solved, {n_opt} proven optimal")
        return
    if minutes is not None or share is not None:
        raise click.UsageError("--minutes and --share apply to --problem mclp or lscp")
    click.echo(f"{len(files)} instance file(s); results -> {out}")
    click.echo(table_header())
    records = []
    for path in files:
        for p in ps or (None,):
            for alpha in alphas or (None,):
                for max_cost in max_costs or (None,):
                    rec = run_instance_file(path, params, problem=problem, p=p, alpha=alpha,
                                            max_cost=max_cost)
                    records.append(rec)
                    write_json_atomic(out, records)
                    click.echo(table_row(rec))
    n_opt = sum(1 for r in records if r["status"] == "optimal")
    click.echo(f"{len(records)} solved, {n_opt} proven optimal")
