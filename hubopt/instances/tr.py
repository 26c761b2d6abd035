"""Turkish 81-province (TR) instance (Tan & Kara 2007; secondary copy, unverified).

``TR/TurkishNetworkFlow.csv``: 81 rows of 81 comma-separated flows (no header).
``TR/TurkishNetworkDist.csv``: 81 rows of 81 **semicolon**-separated distances in km.
Rows are in provincial plate-code order (1 Adana, 2 Adiyaman, 3 Afyon, ...).
Flows and distances are used as given: ``flow_scale = 1``, chi = alpha = delta = 1.
"""

from __future__ import annotations

from pathlib import Path

from hubopt.instances._instance import HubInstance, resolve_hub_dir
from hubopt.instances._parse import check_nonnegative, read_delimited_matrix

__all__ = ["TR_DIST_FILE", "TR_FLOW_FILE", "TR_NODES", "load_tr"]

TR_NODES = 81
TR_FLOW_FILE = "TurkishNetworkFlow.csv"
TR_DIST_FILE = "TurkishNetworkDist.csv"


def load_tr(*, data_dir: Path | str | None = None) -> HubInstance:
    """Load the 81-node TR instance (flows and km distances as given, no scaling).

    ``data_dir`` is the ``hub-instances`` folder.  chi = alpha = delta = 1 are
    placeholders (no TR parameters ship with the data): set the study's values with
    ``dataclasses.replace``.
    """
    folder = resolve_hub_dir(data_dir) / "TR"
    flow_path = folder / TR_FLOW_FILE
    dist_path = folder / TR_DIST_FILE
    flows = read_delimited_matrix(flow_path, sep=",", n=TR_NODES)
    dist = read_delimited_matrix(dist_path, sep=";", n=TR_NODES)
    check_nonnegative(flow_path, "flows", flows)
    check_nonnegative(dist_path, "distances", dist)
    return HubInstance(
        name=f"TR{TR_NODES}",
        suite="tr",
        n=TR_NODES,
        costs=dist,
        flows=flows,
        flow_scale=1.0,
        chi=1.0,
        alpha=1.0,
        delta=1.0,
        p=None,
        coords=None,
        source=dist_path,
    )
