"""``hubopt sweep``: scenarios of one case side by side, on Dask distributed."""

from __future__ import annotations

import click

from hubopt.cli.run import _echo, _typed_errors


@click.command()
@click.argument("case", required=False)
@click.option("--set", "settings", multiple=True, metavar="KEY=V1,V2,...",
              help="A case key and the values to sweep, e.g. --set model.p=2,3,4,5 "
                   "(repeatable: the scenarios are the product).")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True,
              help="Folder of the sweep: one subfolder per scenario, scenarios.csv, sweep.md.")
@click.option("--workers", type=click.IntRange(min=0), default=2, show_default=True,
              help="Worker processes of a local Dask cluster (0: one after another, no Dask).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on an existing Dask cluster (e.g. tcp://127.0.0.1:8786).")
@click.option("--resume", is_flag=True, help="Keep the scenarios already finished in --out.")
@_typed_errors
def sweep(case: str | None, settings: tuple[str, ...], out: str, workers: int,
          scheduler: str | None, resume: bool) -> None:
    """Run CASE once per combination of the --set values; compare the scenarios.

    CASE is a case file (.toml) or the name of a built-in case (default: the default case).
    """
    from pathlib import Path

    from hubopt._errors import OutputExistsError
    from hubopt.case import resolve_case_path
    from hubopt.sweep import run_sweep

    folder = Path(out)
    if folder.is_dir() and any(folder.iterdir()) and not resume:
        msg = f"{folder}: sweep folder exists and is not empty; pass --resume to continue it"
        raise OutputExistsError(msg)
    result = run_sweep(str(resolve_case_path(case)), settings, folder, workers=workers,
                       scheduler=scheduler, resume=resume, progress=_echo)
    failed = sum(1 for r in result.rows if r.get("error"))
    click.echo(f"{len(result.rows)} scenarios ({failed} failed) in {result.seconds:.1f} s; "
               f"table in {folder / 'scenarios.csv'}, comparison in {folder / 'sweep.md'}")


__all__ = ["sweep"]
