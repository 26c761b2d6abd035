"""A large ``.osm.pbf`` for the ``pbf`` suite: a real extract tiled side by side.

    python benchmarks/tiled_extract.py [--mb 100] [--source FILE]

Copies the nodes and ways of a real extract (default: the largest in
``$HUBOPT_DATA/osm``) onto a grid of tiles, each shifted east/north by the extract's own
width/height and with ids shifted by ``tile * 10**10``, until the file holds about
``--mb`` megabytes. Relations are left out (the layers do not read them). The file is made
once under ``settings.cache_folder/bench/`` (never committed) and reused; its name carries
the source's content digest and the tile count. Derived from OpenStreetMap data:
© OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

ID_SHIFT = 10**10


def largest_extract() -> Path:
    """The largest ``.osm.pbf`` in the data folder's ``osm`` directory."""
    from hubopt.settings import resolve_data_folder

    files = sorted((resolve_data_folder() / "osm").glob("*.osm.pbf"),
                   key=lambda p: (p.stat().st_size, p.name))
    if not files:
        msg = f"no .osm.pbf in {resolve_data_folder() / 'osm'}"
        raise FileNotFoundError(msg)
    return files[-1]


def tiled_path(source: Path, tiles: int) -> Path:
    """Where the tiled file of ``source`` with ``tiles`` tiles is kept."""
    from hubopt import settings
    from hubopt.layers._pbf import file_digest

    stem = source.name.removesuffix(".osm.pbf")
    return (Path(settings.cache_folder) / "bench"
            / f"tiled-{stem}-{file_digest(source)}-x{tiles}.osm.pbf")


def ensure(mb: float = 100.0, source: Path | None = None) -> Path:
    """Path of the tiled file (about ``mb`` MB), made first when missing."""
    source = source or largest_extract()
    one = tiled_path(source, 1)
    if not one.is_file():  # one tile first: its size sets the tile count
        _write(source, one, 1)
    tiles = max(1, math.ceil(mb * 1e6 / one.stat().st_size))
    target = tiled_path(source, tiles)
    if not target.is_file():
        _write(source, target, tiles)
    return target


def _write(source: Path, target: Path, tiles: int) -> None:
    import osmium

    from hubopt._io import atomic_path

    box = _header_box(source)
    width, height = box[2] - box[0], box[3] - box[1]
    cols = math.ceil(math.sqrt(tiles))
    shifts = [((k % cols) * width, (k // cols) * height) for k in range(tiles)]
    nodes = [(n.id, n.location.lon, n.location.lat, dict(n.tags))
             for n in osmium.FileProcessor(str(source), osmium.osm.NODE)
             if n.location.valid()]
    ways = [(w.id, [r.ref for r in w.nodes], dict(w.tags))
            for w in osmium.FileProcessor(str(source), osmium.osm.WAY)]
    header = osmium.io.Header()
    rows = math.ceil(tiles / cols)
    header.add_box(osmium.osm.Box(box[0], box[1], box[0] + cols * width,
                                  min(89.9, box[1] + rows * height)))
    with atomic_path(target) as tmp:
        writer = osmium.SimpleWriter(str(tmp), header=header)
        try:
            for k, (dx, dy) in enumerate(shifts):
                shift = k * ID_SHIFT
                for nid, lon, lat, tags in nodes:
                    writer.add_node(osmium.osm.mutable.Node(
                        id=nid + shift, location=(lon + dx, min(89.9, lat + dy)), tags=tags))
            for k in range(tiles):
                shift = k * ID_SHIFT
                for wid, refs, tags in ways:
                    writer.add_way(osmium.osm.mutable.Way(
                        id=wid + shift, nodes=[r + shift for r in refs], tags=tags))
        finally:
            writer.close()


def _header_box(path: Path) -> tuple[float, float, float, float]:
    from hubopt.layers._pbf import _header_bbox, _node_bbox

    box = _header_bbox(path) or _node_bbox(path)
    if box is None:
        msg = f"{path}: no nodes"
        raise ValueError(msg)
    return box.as_tuple()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--source", type=Path, default=None)
    args = parser.parse_args(argv)
    path = ensure(args.mb, args.source)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
