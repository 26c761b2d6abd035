"""``hubopt matrix``: one row per ordered pair, the same routing as ``hubopt run``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from hubopt.cli import cli as main
from hubopt.costs import Weights, travel_costs
from hubopt.layers import Source
from hubopt.layers._geo import haversine_m
from hubopt.network import build_network
from hubopt.od_matrix import COLUMNS
from hubopt.snapping import snap_to_edges

POINTS = {
    "Helsinki": (24.9384, 60.1699),
    "Kotka": (26.9458, 60.4664),
    "Tallinn": (24.7536, 59.4370),
}


def _points_csv(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    rows = ["name,lon,lat"] + [f"{n},{x},{y}" for n, (x, y) in POINTS.items()]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_matrix_writes_every_ordered_pair_with_the_run_costs(tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    box = "22,59,30.5,61"
    res = CliRunner().invoke(main, ["matrix", str(_points_csv(tmp_path)), "--world",
                                    "--bbox", box, "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert tuple(table.columns) == COLUMNS
    assert len(table) == 3 * 2
    # the costs are those of the least-cost matrix on the same snapped network
    net = build_network(source=Source.from_bbox(box), world=True)
    names = list(POINTS)
    snap = snap_to_edges(net, [p[0] for p in POINTS.values()], [p[1] for p in POINTS.values()])
    m = travel_costs(snap.network, snap.points, weights=Weights(time=0.0, money=1.0),
                     dtype="float64").values
    for row in table.itertuples(index=False):
        i, j = names.index(row.origin), names.index(row.destination)
        assert row.cost == pytest.approx(m[i, j], rel=1e-4)
        straight = haversine_m(*POINTS[row.origin], *POINTS[row.destination])[()] / 1000.0
        assert row.distance_km >= straight * 0.999
    hk = table[(table["origin"] == "Helsinki") & (table["destination"] == "Kotka")].iloc[0]
    assert hk["modes"] == "road"
    assert hk["egress_km"] == pytest.approx(
        snap.points.distance_m[1] / 1000.0 * net.profiles["road"].param("connector_detour"),
        rel=1e-4)


def test_matrix_refuses_to_overwrite_and_other_suffixes(tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    out.write_text("keep", encoding="utf-8")
    res = CliRunner().invoke(main, ["matrix", str(_points_csv(tmp_path)), "--world",
                                    "--out", str(out)])
    assert res.exit_code == 2
    assert out.read_text(encoding="utf-8") == "keep"
    res = CliRunner().invoke(main, ["matrix", str(_points_csv(tmp_path)), "--world",
                                    "--out", str(tmp_path / "m.xlsx")])
    assert res.exit_code == 2
    assert not (tmp_path / "m.xlsx").exists()
    assert np.isfinite(1.0)
