"""``hubopt matrix``: the travel-cost table between named points, on the network `run` uses."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from hubopt.cli.network import _source, run_guarded


@click.command("matrix")
@click.argument("points", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--pbf", type=click.Path(path_type=Path, dir_okay=False),
              help="Local .osm.pbf extract.")
@click.option("--osm", type=click.Path(path_type=Path, dir_okay=False),
              help="Local .osm XML file.")
@click.option("--place", help="Place name, downloaded with osmnx (needs internet).")
@click.option("--bbox", help="Bounding box W,S,E,N (online, or --world; default with "
                             "--world: the points' box grown by 50 km).")
@click.option("--world", is_flag=True, help="Use the world-scale layers (no download).")
@click.option("--modes", default="road,rail,sea,air", show_default=True,
              help="Comma-separated modes.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Output file, .csv or .parquet.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def matrix(points: Path, pbf: Path | None, osm: Path | None, place: str | None,
           bbox: str | None, world: bool, modes: str, out: Path, force: bool) -> None:
    """Write one row per ordered pair of POINTS: distance_km, time_h, cost, modes.

    POINTS is a CSV or GeoJSON with name, lon, lat. Points are snapped onto the nearest
    road edge and routed by least money cost, as `hubopt run` does; access_km and
    egress_km are the connectors at each end. Unreachable pairs have empty values and
    are listed in a warning.

    Map data © OpenStreetMap contributors (ODbL).
    """
    run_guarded("matrix", _run, points, pbf, osm, place, bbox, world, modes, out, force)


def _run(points: Path, pbf: Path | None, osm: Path | None, place: str | None,
         bbox: str | None, world: bool, modes: str, out: Path, force: bool) -> None:
    from hubopt._errors import OutputExistsError
    from hubopt.candidates import candidates_from_file
    from hubopt.layers import BBox, EmptyLayerWarning, TerminalEvidenceWarning, parse_modes
    from hubopt.network import build_network
    from hubopt.od_matrix import od_table, write_od_table

    if out.exists() and not force:
        msg = f"{out}: exists; pass --force to replace it"
        raise OutputExistsError(msg)
    pts = candidates_from_file(points)
    if world and bbox is None:
        box = BBox(float(pts.lon.min()), float(pts.lat.min()), float(pts.lon.max()),
                   float(pts.lat.max())).buffered(50.0)
        bbox = ",".join(f"{v:.4f}" for v in box.as_tuple())
    if world and bbox is None:
        msg = "--world needs --bbox W,S,E,N"
        raise click.UsageError(msg)
    source = _source(pbf, osm, place, bbox)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EmptyLayerWarning)
        warnings.simplefilter("always", TerminalEvidenceWarning)
        net = build_network(source=source, modes=parse_modes(modes),  # type: ignore[arg-type]
                            world=world)
    for w in caught:
        if issubclass(w.category, EmptyLayerWarning | TerminalEvidenceWarning):
            click.echo(f"Warning: {w.message}", err=True)
    table = od_table(net, pts.names, pts.lon, pts.lat)
    write_od_table(table, out, overwrite=True)
    n = len(pts.names)
    click.echo(f"{n} points, {len(table.frame)} ordered pairs; wrote {out}")
    if table.unreachable:
        shown = "; ".join(f"{a} -> {b}" for a, b in table.unreachable[:20])
        more = "" if len(table.unreachable) <= 20 else f" (+{len(table.unreachable) - 20} more)"
        click.echo(f"Warning: {len(table.unreachable)} pair(s) unreachable: {shown}{more}",
                   err=True)
    click.echo(net.attribution)


__all__ = ["matrix"]
