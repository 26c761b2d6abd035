"""``hubopt run``, ``hubopt validate`` and ``hubopt cases``: thin wrappers over the pipeline.

Bad input raises a typed :class:`~hubopt._errors.HuboptError`; the group's entry point
turns it into exit status 2 with the message and no traceback. The commands below do the
same themselves so that they behave alike under click's test runner.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from hubopt._errors import HuboptError

CASE_HELP = "A case file (.toml) or the name of a built-in case (see `hubopt cases`)."


def _typed_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a hubopt error without traceback and exit with status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HuboptError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def _echo(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@click.argument("case", required=False)
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: the case's [output] folder, else out/NAME).")
@click.option("--force", is_flag=True, help="Overwrite an existing, non-empty output folder.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Set a case key, e.g. --set model.p=4 (repeatable; validated as the file).")
@_typed_errors
def run(case: str | None, out: str | None, force: bool, overrides: tuple[str, ...]) -> None:
    """Run CASE end to end: layers, network, matrices, model, scorecard, outputs.

    Without CASE, runs the built-in default case (offline, on data the dependencies ship).
    """
    from hubopt.case import load_case
    from hubopt.outputs import prepare_output, write_outputs
    from hubopt.pipeline import run_case

    case_obj = load_case(case, overrides=overrides)
    prepare_output(case_obj, out, force=force)  # refuse a non-empty folder before the work
    result = run_case(case_obj, progress=_echo)
    folder = write_outputs(result, out, force=force, options={"set": list(overrides)})
    s = result.solved
    names = ", ".join(result.candidates.names[k] for k in s.hubs)
    passed = sum(r.passed for r in result.results)
    click.echo(f"case {result.case.name}: {s.status}, hubs {names}; objective "
               f"{s.objective:,.2f}; targets met {passed}/{len(result.results)}")
    click.echo(f"outputs in {folder}")
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)


@click.command()
@click.argument("case", required=False)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Set a case key, e.g. --set model.p=4 (repeatable).")
@click.option("--no-network", is_flag=True,
              help="Skip building the network (schema, files and flows only).")
@_typed_errors
def validate(case: str | None, overrides: tuple[str, ...], no_network: bool) -> None:
    """Check CASE without solving: schema, files it names, then the network.

    Builds the network and reports every problem that `run` would stop on (candidate
    sites, p, existing sites, connectors, unreachable points, empty road layer).
    """
    from hubopt.case import load_case
    from hubopt.pipeline import check_with_network, load_inputs

    inputs = load_inputs(load_case(case, overrides=overrides))
    notes = [] if no_network else check_with_network(inputs.case, inputs)
    c = inputs.case
    sites = "from the network's terminals" if inputs.candidates is None else str(
        len(inputs.candidates))
    click.echo(f"{c.path}: valid case {c.name!r}: {len(inputs.demand)} demand points, "
               f"total flow {inputs.flows.sum():,.0f} {c.flows.unit}, candidate sites {sites}, "
               f"model {c.model.problem.value}, {len(c.targets)} targets"
               + ("" if no_network or inputs.skims is not None else "; network checked"))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    if inputs.skims is not None:
        for note in (f"matrix {inputs.skims.file}: every pair a hub route needs, checked",
                     *inputs.skims.notes):
            click.echo(f"  {note}")


@click.command()
@_typed_errors
def cases() -> None:
    """List the built-in cases."""
    from hubopt.case import DEFAULT_CASE, builtin_cases, load_case

    for name, path in builtin_cases().items():
        case = load_case(path)
        mark = " (default)" if name == DEFAULT_CASE else ""
        click.echo(f"{name}{mark}: {case.title or case.description.strip()[:70]}")
        click.echo(f"    {path}")


__all__ = ["cases", "run", "validate"]
