"""map.png of a run: a map a planner can print.

Drawn with matplotlib's Agg backend (no display needed), on land and lakes from shipped
shoreline data (:mod:`hubopt.land`): the network by mode (air links only where a route
flies, drawn as that route), the routes coloured by mode and wide in proportion to the
square root of their flow, the demand points sized by weight (named when there are at most
:data:`LABEL_DEMAND_MAX`), the candidate sites and the proposed hubs. The legend, the
scale bar (km, true at the map's mean latitude) and the north arrow sit outside the map
frame, so they cover no data; names are placed where they overlap no marker and no other
name. The same run gives the same PNG bytes.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt.qgis_styles import DEMAND_COLOR, HUB_COLOR, MODE_COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from hubopt.pipeline import RunResult

LABEL_DEMAND_MAX = 30
"""Demand points are named on the map when there are at most this many."""
LAND_MIN_SPAN = 0.5
"""Maps less than this many degrees across get no shoreline (too coarse at that scale)."""
LAND_COLOR = "#f1eee6"
WATER_COLOR = "#d6e6f2"
COAST_COLOR = "#9fb3c8"
_NETWORK_WIDTH = {"road": 0.5, "rail": 0.8, "sea": 0.8, "transfer": 0.6}
_NETWORK_ALPHA = {"road": 0.55, "rail": 0.6, "sea": 0.6, "transfer": 0.7}
# label positions around a point (points), the near ring first, then a farther one for
# crowded places such as a hub beside its suburbs
_OFFSETS = ((6, 6), (6, -12), (-6, 6), (-6, -12), (9, -3), (-9, -3), (0, 10), (0, -16),
            (14, 14), (14, -22), (-14, 14), (-14, -22), (20, -3), (-20, -3), (0, 20),
            (0, -28))


def _extent(r: RunResult) -> tuple[float, float, float, float]:
    d, c = r.demand, r.candidates
    xs = np.concatenate([d.lon, c.lon])
    ys = np.concatenate([d.lat, c.lat])
    if r.external is not None:  # [external]: the corridors' gateways are on the map too
        from hubopt.market_outputs import corridor_extent_points

        g = corridor_extent_points(r)
        xs, ys = np.concatenate([xs, g[:, 0]]), np.concatenate([ys, g[:, 1]])
    pad_x = max(0.06 * float(np.ptp(xs)), 0.004)
    pad_y = max(0.06 * float(np.ptp(ys)), 0.002)
    return (float(xs.min()) - pad_x, float(ys.min()) - pad_y,
            float(xs.max()) + pad_x, float(ys.max()) + pad_y)


def _draw_land(ax: Axes, box: tuple[float, float, float, float]) -> tuple[list[Any], str]:
    """Land and lakes under everything; the legend handles and the source's attribution."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    from hubopt.land import land_polygons

    handles: list[Any] = []
    if max(box[2] - box[0], box[3] - box[1]) < LAND_MIN_SPAN:
        ax.set_facecolor("#f4f4f4")
        return handles, ("no shoreline drawn: the map is finer than the shipped shoreline "
                         "data")
    ax.set_facecolor(WATER_COLOR)
    land = land_polygons(*box)
    if land.land:
        ax.add_collection(PolyCollection(land.land, facecolors=LAND_COLOR,
                                         edgecolors=COAST_COLOR, linewidths=0.5, zorder=0))
        handles.append(Patch(facecolor=LAND_COLOR, edgecolor=COAST_COLOR, label="land"))
    if land.lakes:
        ax.add_collection(PolyCollection(land.lakes, facecolors=WATER_COLOR,
                                         edgecolors=COAST_COLOR, linewidths=0.4, zorder=0.1))
    handles.append(Patch(facecolor=WATER_COLOR, edgecolor=COAST_COLOR,
                         label="sea and lakes" if land.land else "background"))
    return handles, land.attribution


def _draw_network(ax: Axes, r: RunResult) -> list[Any]:
    """The network by mode, thin, under the routes. Air links are left out: the mesh of
    every airport pair would hide the map, and the links that a route flies are drawn as
    routes."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    e = r.network.edges
    handles: list[Any] = []
    for mode in ("road", "rail", "sea", "transfer"):
        sel = e[e["mode"] == mode]
        segs = [np.asarray(g.coords) for g in sel.geometry if g is not None and not g.is_empty]
        if not segs:
            continue
        dashed = mode == "transfer"
        ax.add_collection(LineCollection(
            segs, colors=MODE_COLORS[mode], linewidths=_NETWORK_WIDTH[mode],
            alpha=_NETWORK_ALPHA[mode], linestyles=(0, (3, 2)) if dashed else "solid",
            zorder=1))
        label = "transfer between modes" if dashed else f"{mode} network"
        handles.append(Line2D([], [], color=MODE_COLORS[mode], lw=_NETWORK_WIDTH[mode] * 1.5,
                              alpha=_NETWORK_ALPHA[mode], ls=(0, (3, 2)) if dashed else "-",
                              label=label))
    if (e["mode"] == "air").any():
        used = any(seg["mode"] == "air" and not seg["connector"] for seg in r.routes)
        handles.append(Line2D([], [], ls="", label="(air links: only those flown, as routes)"
                              if used else "(air links: none flown, not drawn)"))
    return handles


def _nice(v: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``v`` (v > 0)."""
    p = 10.0 ** math.floor(math.log10(v))
    return max(m * p for m in (1.0, 2.0, 5.0) if m * p <= v * (1 + 1e-9))


def _width(flow: float, top: float) -> float:
    return 1.0 + 5.0 * math.sqrt(flow / top) if top > 0 else 1.5


def _draw_routes(ax: Axes, r: RunResult) -> list[Any]:
    """Routes by mode, wide in proportion to the square root of their flow."""
    from matplotlib.lines import Line2D

    unit = r.case.flows.unit
    trunk = [seg for seg in r.routes if not seg["connector"]]
    top = max((float(seg["flow"]) for seg in trunk), default=0.0)
    # widest first, so that thin routes stay visible on top of wide ones
    order = sorted(range(len(r.routes)), key=lambda n: (-float(r.routes[n]["flow"]), n))
    modes: list[str] = []
    for n in order:
        seg = r.routes[n]
        xy = np.asarray(seg["coords"], dtype=float)
        if seg["connector"]:
            ax.plot(xy[:, 0], xy[:, 1], color="#555555", lw=0.7, ls=(0, (1, 1.5)), zorder=3)
            continue
        mode = seg["mode"]
        if mode not in modes:
            modes.append(mode)
        ax.plot(xy[:, 0], xy[:, 1], color=MODE_COLORS.get(mode, "black"), alpha=0.9,
                lw=_width(float(seg["flow"]), top), solid_capstyle="round", zorder=3)
    handles: list[Any] = [
        Line2D([], [], color=MODE_COLORS.get(m, "black"), lw=3,
               label="straight line (the case's own matrix)" if m == "matrix" else f"route by {m}")
        for m in ("road", "rail", "sea", "air", "transfer", "matrix") if m in modes]
    if any(seg["connector"] for seg in r.routes):
        handles.append(Line2D([], [], color="#555555", lw=0.7, ls=(0, (1, 1.5)),
                              label="access to the network"))
    if top > 0:
        nice = _nice(top)
        for v in (nice, nice / 4):
            text = f"{v:,.0f}" if v >= 10 else f"{v:g}"
            handles.append(Line2D([], [], color="#444444", lw=_width(v, top),
                                  label=f"flow {text} {unit}"))
    return handles


def _draw_points(ax: Axes, r: RunResult) -> tuple[list[Any], list[tuple[float, float, float]]]:
    """Demand points, candidate sites and hubs; legend handles and (x, y, radius pt)."""
    from matplotlib.lines import Line2D

    d, c = r.demand, r.candidates
    handles: list[Any] = []
    marks: list[tuple[float, float, float]] = []
    size = 12 + 250 * np.sqrt(d.weight / max(float(d.weight.max()), 1e-12))
    ax.scatter(d.lon, d.lat, s=size, c=DEMAND_COLOR, alpha=0.65, edgecolors="white",
               linewidths=0.6, zorder=4)
    marks += [(float(x), float(y), math.sqrt(float(s)) / 2)
              for x, y, s in zip(d.lon, d.lat, size, strict=True)]
    handles.append(Line2D([], [], ls="", marker="o", ms=8, color=DEMAND_COLOR, alpha=0.65,
                          mec="white", label="demand point (area: weight)"))
    hubs = [int(k) for k in r.solved.hubs]
    excluded = set(c.excluded)
    others = [k for k in range(len(c)) if k not in set(hubs) and k not in excluded]
    if others:
        ax.scatter(c.lon[others], c.lat[others], marker="s", s=30, facecolors="white",
                   edgecolors="black", linewidths=0.8, zorder=5)
        handles.append(Line2D([], [], ls="", marker="s", ms=6, mfc="white", mec="black",
                              label="candidate site"))
    ex = sorted(excluded)
    if ex:
        ax.scatter(c.lon[ex], c.lat[ex], marker="x", s=30, c="#777777", linewidths=1.0,
                   zorder=5)
        handles.append(Line2D([], [], ls="", marker="x", ms=6, color="#777777",
                              label="excluded site"))
    marks += [(float(c.lon[k]), float(c.lat[k]), 4.0) for k in range(len(c))]
    ax.scatter(c.lon[hubs], c.lat[hubs], marker="*", s=420, c=HUB_COLOR, edgecolors="black",
               linewidths=0.8, zorder=6)
    marks += [(float(c.lon[k]), float(c.lat[k]), 11.0) for k in hubs]
    handles.append(Line2D([], [], ls="", marker="*", ms=15, mfc=HUB_COLOR, mec="black",
                          label="proposed hub"))
    return handles, marks


def _place_labels(fig: Figure, ax: Axes, labels: list[tuple[float, float, str, bool]],
                  marks: list[tuple[float, float, float]]) -> None:
    """Name points where the text overlaps no marker and no other name (first fit, else
    the position with the least overlap); hubs first, in bold."""
    import matplotlib.patheffects as pe
    from matplotlib.transforms import Bbox

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    to_px = ax.transData.transform
    scale = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    taken: list[Bbox] = []
    for x, y, rad in marks:
        px, py = to_px((x, y))
        half = rad * scale
        taken.append(Bbox.from_extents(px - half, py - half, px + half, py + half))
    for x, y, text, bold in labels:
        best: tuple[float, Any] | None = None
        for dx, dy in _OFFSETS:
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                            fontsize=8.5 if bold else 6.5,
                            weight="bold" if bold else "normal",
                            ha="left" if dx > 0 else "right" if dx < 0 else "center",
                            zorder=8 if bold else 7, annotation_clip=True,
                            path_effects=[pe.withStroke(linewidth=2.2, foreground="white")])
            box = t.get_window_extent(renderer)
            overlap = sum(_area(box, other) for other in taken)
            outside = not (frame.x0 <= box.x0 and box.x1 <= frame.x1
                           and frame.y0 <= box.y0 and box.y1 <= frame.y1)
            score = overlap + (1e6 if outside else 0.0)
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, t)
            else:
                t.remove()
            if score == 0:
                break
        if best is not None:
            taken.append(best[1].get_window_extent(renderer))


def _area(a: Any, b: Any) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _scale_bar(ax: Axes, lat: float) -> None:
    """A scale bar in km below the map frame (true at latitude ``lat``)."""
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    x0, x1 = ax.get_xlim()
    km_per_deg = 111.32 * math.cos(math.radians(lat))
    km = _nice((x1 - x0) * km_per_deg / 4)
    deg = km / km_per_deg
    tr = blended_transform_factory(ax.transData, ax.transAxes)
    y, h = -0.085, 0.012
    for i in range(4):
        ax.add_patch(Rectangle((x0 + i * deg / 4, y), deg / 4, h, transform=tr,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, clip_on=False))
    for frac in (0.0, 0.5, 1.0):
        ax.text(x0 + frac * deg, y - 0.008, f"{frac * km:g}", transform=tr, ha="center",
                va="top", fontsize=7)
    ax.text(x0 + deg + 0.015 * (x1 - x0), y + h / 2,
            f"km (true at {abs(lat):.1f}°{'N' if lat >= 0 else 'S'})", transform=tr,
            va="center", fontsize=7)


def _north_arrow(ax: Axes) -> None:
    """A north arrow outside the map frame, at its lower right corner."""
    ax.annotate("N", xy=(1.035, 0.13), xytext=(1.035, 0.01), xycoords="axes fraction",
                ha="center", va="center", fontsize=11, weight="bold", annotation_clip=False,
                arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.35",
                            "color": "black", "lw": 1.6})


def _degrees(v: float, pos: str, neg: str) -> str:
    return f"{abs(v):g}°{pos if v >= 0 else neg}"


def make_map(r: RunResult) -> Figure:
    """The map figure of a run (see module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    box = _extent(r)
    lat = (box[1] + box[3]) / 2
    fig, ax = plt.subplots(figsize=(12.0, 8.0), dpi=150)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect(1.0 / max(math.cos(math.radians(lat)), 0.1))
    land_handles, land_source = _draw_land(ax, box)
    handles = [*land_handles, *_draw_network(ax, r), *_draw_routes(ax, r)]
    if r.external is not None:  # [external]: the typical corridors to the markets
        from hubopt.market_outputs import draw_corridors

        handles += draw_corridors(ax, r, box)
    point_handles, marks = _draw_points(ax, r)
    handles += point_handles
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _degrees(v, "E", "W")))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _degrees(v, "N", "S")))
    ax.tick_params(labelsize=7, direction="in", top=True, right=True)
    ax.set_title(r.case.title or r.case.name, fontsize=12, pad=10)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.015, 1.0),
              borderaxespad=0.0, fontsize=7.5, frameon=False, title="Legend",
              title_fontsize=8.5, alignment="left", labelspacing=0.7, handlelength=2.6)
    _scale_bar(ax, lat)
    _north_arrow(ax)
    d, c = r.demand, r.candidates
    labels = [(float(c.lon[k]), float(c.lat[k]), c.names[k], True) for k in r.solved.hubs]
    hub_names = {c.names[k] for k in r.solved.hubs}
    if len(d) <= LABEL_DEMAND_MAX:
        labels += [(float(d.lon[i]), float(d.lat[i]), d.names[i], False) for i in range(len(d))
                   if d.names[i] not in hub_names]
    fig.subplots_adjust(left=0.06, right=0.78, top=0.93, bottom=0.14)
    _place_labels(fig, ax, labels, marks)
    credits = "\n".join(textwrap.wrap(
        "; ".join(t for t in (r.network.attribution, land_source) if t), 150))
    ax.text(0.0, -0.15, credits, transform=ax.transAxes, fontsize=6, color="#555555",
            va="top")
    return fig


def save_map(r: RunResult, path: Any) -> None:
    """Write the map of a run as PNG to ``path`` (a path or a binary file)."""
    import matplotlib.pyplot as plt

    fig = make_map(r)
    try:
        fig.savefig(path, format="png", metadata={"Software": None}, bbox_inches="tight",
                    pad_inches=0.25)
    finally:
        plt.close(fig)


__all__ = ["LABEL_DEMAND_MAX", "make_map", "save_map"]
