"""Command-line interface: a thin click group over the library.

Subcommands live one per module in this package and are imported only when
invoked, so that ``hubopt --help`` stays fast.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys

import click

from hubopt import __version__
from hubopt._errors import HuboptError

# name -> "module:attribute"; each module defines one click command.
_COMMANDS: dict[str, str] = {
    "bench": "hubopt.cli.bench:bench",
    "matrix": "hubopt.cli.matrix:matrix",
    "network": "hubopt.cli.network:network",
    "run": "hubopt.cli.run:run",
    "validate": "hubopt.cli.run:validate",
    "cases": "hubopt.cli.run:cases",
    "sweep": "hubopt.cli.sweep:sweep",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # command not built yet in this checkout
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="hubopt")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(verbose: int, quiet: bool) -> None:
    """hubopt: where should a region's multimodal hubs be, and how far is it from world class?"""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(format="%(message)s", stream=sys.stderr)
    # debug output is hubopt's own: numba's debug log (compiler IR, megabytes per kernel)
    # would bury it and slow every first solve by minutes
    logging.getLogger().setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger("hubopt").setLevel(level)
    # numexpr (pulled in by PyTables for OMX files) logs its thread count at INFO
    logging.getLogger("numexpr").setLevel(logging.WARNING)


def main() -> None:
    """Console entry point: run the group; typed hubopt errors exit with status 2, no traceback.

    On the way out the heap is frozen (``gc.freeze``): the interpreter's last collections
    would otherwise walk every object of the world layers again, seconds after the work is
    done; ``atexit`` handlers still run.
    """
    try:
        _run_group()
    finally:
        gc.freeze()


def _run_group() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HuboptError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


__all__ = ["cli", "main"]
