"""``hubopt network``: build the four-mode network of a region and write a GeoPackage."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hubopt._errors import HuboptError


def _source(pbf: Path | None, osm: Path | None, place: str | None,
            bbox: str | None) -> object:
    from hubopt.layers import Source

    given = [(n, v) for n, v in (("--pbf", pbf), ("--osm", osm), ("--place", place),
                                  ("--bbox", bbox)) if v is not None]
    if len(given) != 1:
        names = ", ".join(n for n, _ in given) or "none"
        msg = f"give exactly one of --pbf, --osm, --place, --bbox (got: {names})"
        raise click.UsageError(msg)
    if pbf is not None:
        return Source.pbf(pbf)
    if osm is not None:
        return Source.xml(osm)
    if place is not None:
        return Source.from_place(place)
    assert bbox is not None
    return Source.from_bbox(bbox)


@click.command("network")
@click.option("--pbf", type=click.Path(path_type=Path, dir_okay=False),
              help="Local .osm.pbf extract.")
@click.option("--osm", type=click.Path(path_type=Path, dir_okay=False),
              help="Local .osm XML file.")
@click.option("--place", help="Place name, downloaded with osmnx (needs internet).")
@click.option("--bbox", help="Bounding box W,S,E,N in degrees (online, or --world).")
@click.option("--world", is_flag=True,
              help="Use the world-scale layers (scgraph-data, searoute, airportsdata) "
                   "over --bbox; no download.")
@click.option("--modes", default="road,rail,sea,air", show_default=True,
              help="Comma-separated modes.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Output folder; network.gpkg is written there.")
@click.option("--geojson", is_flag=True, help="Also write one GeoJSON file per layer.")
@click.option("--force", is_flag=True, help="Overwrite an existing network.gpkg.")
def network(
    pbf: Path | None, osm: Path | None, place: str | None, bbox: str | None,
    world: bool, modes: str, out: Path, geojson: bool, force: bool,
) -> None:
    """Build road, rail, sea and air layers joined at terminals; write DIR/network.gpkg.

    Map data © OpenStreetMap contributors (ODbL).
    """
    run_guarded("network", _run, pbf, osm, place, bbox, world, modes, out, geojson, force)


def run_guarded(label: str, body: Callable[..., None], *args: Any) -> None:
    """Run a command's body: a hubopt error exits with status 2 and its message; any other
    failure is one line (the traceback only in the -vv log), never a traceback."""
    try:
        body(*args)
    except HuboptError as exc:
        raise _InputError(str(exc)) from exc
    except (click.ClickException, click.exceptions.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # never a traceback on the command line
        logging.getLogger(__name__).debug("%s failed", label, exc_info=True)
        msg = f"unexpected failure ({type(exc).__name__}: {exc}); run with -vv for details"
        raise click.ClickException(msg) from exc


class _InputError(click.ClickException):
    """Bad input or an existing output: exit status 2, as the other commands."""

    exit_code = 2


def _run(
    pbf: Path | None, osm: Path | None, place: str | None, bbox: str | None,
    world: bool, modes: str, out: Path, geojson: bool, force: bool,
) -> None:
    from hubopt._errors import OutputExistsError
    from hubopt.export import save_network_geojson, save_network_geopackage
    from hubopt.layers import EmptyLayerWarning, Source, TerminalEvidenceWarning, parse_modes
    from hubopt.network import build_network

    source = _source(pbf, osm, place, bbox)
    assert isinstance(source, Source)
    wanted = parse_modes(modes)
    if world and bbox is None:
        msg = "--world needs --bbox W,S,E,N"
        raise click.UsageError(msg)
    target = out / "network.gpkg"
    if target.exists() and not force:
        msg = f"{target}: exists; pass --force to replace it"
        raise OutputExistsError(msg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EmptyLayerWarning)
        warnings.simplefilter("always", TerminalEvidenceWarning)
        net = build_network(source=source, modes=wanted, world=world)
    for w in caught:
        if issubclass(w.category, EmptyLayerWarning | TerminalEvidenceWarning):
            click.echo(f"Warning: {w.message}", err=True)
    save_network_geopackage(net, target, overwrite=True)
    click.echo(f"Network of {net.source}{' (world-scale layers)' if world else ''}:")
    table = net.summary()
    click.echo(f"{'mode':<6} {'nodes':>8} {'edges':>8} {'terminals':>9} {'transfers':>9} "
               f"{'length_km':>11}")
    for row in table.itertuples(index=False):
        note = "  (empty: nothing in the region)" if row.empty else ""
        click.echo(f"{row.mode:<6} {row.nodes:>8} {row.edges:>8} {row.terminals:>9} "
                   f"{row.transfer_links:>9} {row.length_km:>11.1f}{note}")
    click.echo(f"transfer links: {len(net.transfers)}; wrote {target}")
    if geojson:
        paths = save_network_geojson(net, out / "geojson", overwrite=True)
        click.echo(f"wrote {len(paths)} GeoJSON files to {out / 'geojson'}")
    click.echo(net.attribution)
