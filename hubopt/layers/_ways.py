"""A simplified directed graph from a :class:`~hubopt.layers._pbf.WaySet`, in numpy.

The graph is the one osmnx builds from the same ways (``graph_from_xml`` with
``simplify=True, retain_all=True``), without networkx, XML or Python objects per node:

* Direction: a way is one-way when ``oneway`` is ``yes``, ``true``, ``1``, ``-1``,
  ``reverse``, ``T`` or ``F`` or ``junction=roundabout``, reversed for ``-1``, ``reverse``
  and ``T``; other ways give an edge each way.
* Endpoints (kept nodes): a node with no incoming or no outgoing segment, or whose
  neighbours are not exactly two, or whose degree (with parallel segments) is not 2 or 4;
  every other node is interior and its segments merge into the edge running through it.
  Segments between two endpoints stay as they are, parallel ones included; a chain of
  merged segments takes the tags of the first way (in id order) that holds each segment.
* Rings with no endpoint at all (a lone roundabout) are dropped, as osmnx does.
* Length: the sum of the segments' great-circle lengths; geometry: the chain of nodes.
* A merged edge's tag is the set of its segments' values; :meth:`WayGraph.text` joins them
  sorted with ``;`` (as :func:`hubopt.layers._osm.text` flattens an osmnx list).

One deliberate difference: osmnx follows a chain through an interior node whose next
segment is missing (a rare pattern of duplicated one-way segments) and logs a warning;
here that node becomes an endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hubopt._errors import LayerExtractionError
from hubopt.layers._geo import haversine_m
from hubopt.layers._layer import CRS
from hubopt.layers._pbf import TagColumn, WaySet
from hubopt.modes import Mode

ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})


@dataclass(frozen=True)
class WayGraph:
    """The simplified graph: kept nodes and directed edges with the ways they came from.

    ``node_id``/``lon``/``lat`` describe the kept nodes (sorted by id); ``u``, ``v`` are
    node ids; ``seg_edge``/``seg_way`` list, for every segment of every edge, the edge and
    the way (an index into ``way_tags``' columns) whose tags it carries. ``way_tags`` holds
    :data:`~hubopt.layers._pbf.WAY_TAGS`, plus ``osmid`` (the way id) and ``oneway``
    (``"True"``/``"False"``, osmnx's flag after the direction rules).
    """

    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    geometry: np.ndarray
    seg_edge: np.ndarray
    seg_way: np.ndarray
    way_tags: Mapping[str, TagColumn]
    way_id: np.ndarray | None = None

    def __len__(self) -> int:
        """Number of directed edges."""
        return len(self.u)

    def column(self, key: str) -> TagColumn | None:
        """The per-way column of ``key`` (``osmid`` made from the way ids on demand)."""
        if key in self.way_tags:
            return self.way_tags[key]
        if key == "osmid" and self.way_id is not None:
            text = self.way_id.astype(str)
            order = np.argsort(text, kind="stable")
            codes = np.empty(len(text), dtype="int32")
            codes[order] = np.arange(len(text), dtype="int32")
            return TagColumn(codes, text[order].astype(object))
        return None

    def values(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Distinct ``(edge, value)`` pairs of ``key``, sorted by edge then value."""
        column = self.column(key)
        if column is None or len(self.seg_way) == 0:
            return np.zeros(0, "int64"), np.zeros(0, dtype=object)
        seg_code = column.codes[self.seg_way]
        keep = seg_code >= 0
        if not keep.any():
            return np.zeros(0, "int64"), np.zeros(0, dtype=object)
        width = len(column.vocab) + 1
        pairs = sorted_unique(self.seg_edge[keep].astype("int64") * width + seg_code[keep])
        return pairs // width, column.vocab[pairs % width]

    def text(self, key: str) -> np.ndarray:
        """Each edge's values of ``key`` joined sorted with ``;`` (``None`` if none)."""
        edge, value = self.values(key)
        out = np.full(len(self), None, dtype=object)
        if len(edge) == 0:
            return out
        first = np.ones(len(edge), dtype=bool)
        first[1:] = edge[1:] != edge[:-1]
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(edge)))
        single = counts == 1
        out[edge[starts[single]]] = value[starts[single]]
        for s, c in zip(starts[~single].tolist(), counts[~single].tolist(), strict=True):
            out[edge[s]] = ";".join(str(x) for x in value[s:s + c])
        return out

    def _nodes_of_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node ids used by the edges, and the positions of ``u`` and ``v`` among them."""
        ids, inv = np.unique(np.concatenate([self.u, self.v]), return_inverse=True)
        return ids, inv[:len(self)], inv[len(self):]

    def node_degree(self) -> pd.Series:
        """Undirected simple-graph degree per node id (a self-loop counts two).

        The degree networkx gives on ``nx.Graph`` of the directed multigraph.
        """
        ids, a, b = self._nodes_of_edges()
        n = len(ids)
        und = sorted_unique(np.minimum(a, b) * n + np.maximum(a, b))
        lo, hi = und // n, und % n
        return pd.Series(np.bincount(lo, minlength=n) + np.bincount(hi, minlength=n),
                         index=ids, dtype="int64")

    def keep_components(self, min_nodes: float) -> np.ndarray:
        """Edge mask of the weakly connected components kept: the largest one and every
        other one of at least ``min_nodes`` nodes."""
        if len(self) == 0:
            return np.zeros(0, dtype=bool)
        ids, a, b = self._nodes_of_edges()
        n = len(ids)
        _, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)),
                                       directed=False)
        size = np.bincount(comp)
        keep = size >= min_nodes
        keep[int(np.argmax(size))] = True
        return np.asarray(keep[comp[a]])

    def frames(self, mode: Mode, columns: tuple[str, ...] = (),
               keep: np.ndarray | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """Nodes and directed edges in the layer schema (cost not yet set).

        ``kind`` is the way's ``highway``, ``railway`` or ``route``; ``columns`` are tags
        joined as :meth:`text` does. ``keep`` (a boolean mask over the edges) selects edges;
        the nodes are those the kept edges use.
        """
        sel = np.ones(len(self), dtype=bool) if keep is None else np.asarray(keep, bool)
        kind_key = next((k for k in ("highway", "railway", "route")
                         if k in self.way_tags and (self.way_tags[k].codes >= 0).any()), None)
        kind = self.text(kind_key) if kind_key else np.full(len(self), mode.value, object)
        edges = gpd.GeoDataFrame({
            "u": self.u[sel].astype("int64"),
            "v": self.v[sel].astype("int64"),
            "mode": mode.value,
            "kind": kind[sel],
            "name": self.text("name")[sel],
            "length_m": self.length_m[sel].astype("float64"),
        }, geometry=self.geometry[sel], crs=CRS)
        for col in columns:
            edges[col] = self.text(col)[sel]
        used = np.isin(self.node_id, np.concatenate([edges["u"].to_numpy(),
                                                     edges["v"].to_numpy()]))
        lon, lat = self.lon[used], self.lat[used]
        nodes = gpd.GeoDataFrame({"x": lon.astype("float64"), "y": lat.astype("float64")},
                                 geometry=gpd.points_from_xy(lon, lat), crs=CRS,
                                 index=pd.Index(self.node_id[used].astype("int64"),
                                                name="node_id"))
        return nodes, edges


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (by sorting: numpy's hash-based unique
    is much slower on tens of millions of keys)."""
    if len(values) == 0:
        return np.asarray(values)
    v = np.sort(values)
    keep = np.ones(len(v), dtype=bool)
    keep[1:] = v[1:] != v[:-1]
    return v[keep]


def _direction(ways: WaySet) -> tuple[np.ndarray, np.ndarray]:
    oneway_tag = ways.tags["oneway"]
    oneway = oneway_tag.mask(lambda v: v in ONEWAY_VALUES) | ways.tags["junction"].mask(
        lambda v: v == "roundabout")
    backwards = oneway_tag.mask(lambda v: v in REVERSED_VALUES) & oneway
    return oneway, backwards


def _segments(ways: WaySet, node: np.ndarray, oneway: np.ndarray,
              backwards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed segments (tail, head, way) in osmnx's order of insertion."""
    n_ref = len(ways.refs)
    lengths = np.diff(ways.offsets)
    last = np.zeros(n_ref, dtype=bool)
    last[ways.offsets[1:] - 1] = True
    start = np.flatnonzero(~last[:-1]) if n_ref > 1 else np.zeros(0, "int64")
    way = np.repeat(np.arange(len(lengths)), np.maximum(lengths - 1, 0))
    a, b = node[start], node[start + 1]
    back = backwards[way]
    tail = np.where(back, b, a)
    head = np.where(back, a, b)
    two = ~oneway[way]
    # per way: its forward segments, then (two-way ways) the same segments reversed
    tails = np.concatenate([tail, head[two]])
    heads = np.concatenate([head, tail[two]])
    ways_of = np.concatenate([way, way[two]])
    # a stable sort by way keeps each way's forward block before its reverse block
    order = np.argsort(ways_of, kind="stable")
    return tails[order], heads[order], ways_of[order]


def _endpoints(n: int, tail: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """osmnx's endpoint rule per node, and the two neighbours of every node (or -1)."""
    indeg = np.bincount(head, minlength=n)
    outdeg = np.bincount(tail, minlength=n)
    lo, hi = np.minimum(tail, head), np.maximum(tail, head)
    und = sorted_unique(lo * n + hi)
    a, b = und // n, und % n
    ends = np.concatenate([a, b])
    other = np.concatenate([b, a])
    n_nb = np.bincount(ends, minlength=n)
    deg = indeg + outdeg
    endpoint = (indeg == 0) | (outdeg == 0) | ~((n_nb == 2) & ((deg == 2) | (deg == 4)))
    # an interior node has exactly two neighbours: the smaller and the larger one
    low = np.full(n, np.iinfo(np.int64).max, dtype="int64")
    high = np.full(n, -1, dtype="int64")
    np.minimum.at(low, ends, other)
    np.maximum.at(high, ends, other)
    nb = np.full((n, 2), -1, dtype="int64")
    two = ~endpoint
    nb[two, 0] = low[two]
    nb[two, 1] = high[two]
    return endpoint, nb


def _next_pair(n: int, pair_key: np.ndarray, ptail: np.ndarray, phead: np.ndarray,
               nb: np.ndarray, endpoint: np.ndarray) -> np.ndarray:
    """For each unique pair into an interior node, the pair that continues it (or -1)."""
    nxt = np.full(len(ptail), -1, dtype="int64")
    into = ~endpoint[phead]
    mid = phead[into]
    beyond = np.where(nb[mid, 0] == ptail[into], nb[mid, 1], nb[mid, 0])
    key = mid * n + beyond
    pos = np.searchsorted(pair_key, key)
    pos = np.minimum(pos, len(pair_key) - 1)
    found = pair_key[pos] == key
    nxt[np.flatnonzero(into)[found]] = pos[found]
    return nxt


def build_way_graph(ways: WaySet) -> WayGraph:
    """Simplify ``ways`` into a :class:`WayGraph` (see the module docstring)."""
    if len(ways.refs) < 2:
        return _empty(ways)
    node_id, node = np.unique(ways.refs, return_inverse=True)
    n = len(node_id)
    lon = np.zeros(n)
    lat = np.zeros(n)
    lon[node] = ways.lon
    lat[node] = ways.lat
    oneway, backwards = _direction(ways)
    tail, head, way = _segments(ways, node.astype("int64"), oneway, backwards)
    seg_len = haversine_m(lon[tail], lat[tail], lon[head], lat[head])
    endpoint, nb = _endpoints(n, tail, head)
    # unique directed pairs, each with its first segment (osmnx keeps key 0's data)
    key_all = tail * n + head
    pair_key, first = np.unique(key_all, return_index=True)
    ptail, phead = tail[first], head[first]
    for _ in range(n + 1):
        nxt = _next_pair(n, pair_key, ptail, phead, nb, endpoint)
        stuck = ~endpoint[phead] & (nxt < 0)
        if not stuck.any():
            break
        endpoint[phead[stuck]] = True
    # rings without any endpoint are dropped (osmnx's remove_rings)
    n_comp, comp = connected_components(
        coo_matrix((np.ones(len(tail)), (tail, head)), shape=(n, n)), directed=False)
    has_end = np.bincount(comp[endpoint], minlength=n_comp) > 0
    alive = has_end[comp]
    # chains: pointer jumping along the continuation pairs from each pair's start
    prev = np.full(len(ptail), -1, dtype="int64")
    has_next = (nxt >= 0) & alive[ptail]
    prev[nxt[has_next]] = np.flatnonzero(has_next)
    idx = np.arange(len(ptail))
    anc = np.where(prev >= 0, prev, idx)
    depth = (prev >= 0).astype("int64")
    for _ in range(64):
        nxt_anc = anc[anc]
        if np.array_equal(nxt_anc, anc):
            break
        depth = depth + depth[anc]
        anc = nxt_anc
    else:
        msg = "road/rail/ferry ways: cannot follow the chains of segments (a cycle)"
        raise LayerExtractionError(msg)
    # a chain starts with a pair from an endpoint into an interior node
    sel = np.flatnonzero(endpoint[ptail[anc]] & ~endpoint[phead[anc]] & alive[ptail])
    sel = sel[np.lexsort((depth[sel], anc[sel]))]
    roots = anc[sel]
    new_chain = np.ones(len(sel), dtype=bool)
    new_chain[1:] = roots[1:] != roots[:-1]
    chain_of = np.cumsum(new_chain) - 1
    n_chain = int(new_chain.sum())
    # segments between two endpoints stay (parallel ones too)
    single = np.flatnonzero(endpoint[tail] & endpoint[head] & alive[tail])
    n_edges = n_chain + len(single)
    starts = np.flatnonzero(new_chain)
    u = np.concatenate([ptail[sel[starts]], tail[single]])
    last = np.append(starts[1:], len(sel)) - 1
    v = np.concatenate([phead[sel[last]], head[single]])
    pair_seg = first[sel]
    length = np.bincount(chain_of, weights=seg_len[pair_seg], minlength=n_chain)
    length = np.concatenate([length, seg_len[single]])
    # geometry: the start node of each chain, then the head of every pair in order
    pts = np.insert(phead[sel], starts, ptail[sel[starts]])
    pts_edge = np.insert(chain_of, starts, chain_of[starts])
    pts = np.concatenate([pts, np.column_stack([tail[single], head[single]]).ravel()])
    pts_edge = np.concatenate([pts_edge, np.repeat(n_chain + np.arange(len(single)), 2)])
    geometry = shapely.linestrings(lon[pts], lat[pts], indices=pts_edge)
    seg_edge = np.concatenate([chain_of, n_chain + np.arange(len(single))])
    seg_way = np.concatenate([way[pair_seg], way[single]])
    kept = sorted_unique(np.concatenate([u, v]))
    tags = {**ways.tags, "oneway": TagColumn(oneway.astype("int32"),
                                             np.array(["False", "True"], dtype=object))}
    if n_edges == 0:
        return _empty(ways)
    return WayGraph(node_id[kept], lon[kept], lat[kept], node_id[u], node_id[v], length,
                    np.asarray(geometry, dtype=object), seg_edge, seg_way, tags, ways.way_id)


def _empty(ways: WaySet) -> WayGraph:
    z = np.zeros(0, "int64")
    return WayGraph(z, np.zeros(0), np.zeros(0), z, z, np.zeros(0), np.zeros(0, dtype=object),
                    z, z, dict(ways.tags), ways.way_id)
