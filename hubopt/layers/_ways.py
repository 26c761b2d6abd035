"""A simplified directed graph from a :class:`~hubopt.layers._pbf.WaySet`, in numpy and
compiled loops (:mod:`hubopt.layers._ways_kernels`, numba).

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

import functools
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hubopt._errors import LayerExtractionError
from hubopt.layers import _ways_kernels as kernels
from hubopt.layers._geo import EARTH_RADIUS_M
from hubopt.layers._layer import CRS
from hubopt.layers._pbf import TagColumn, WaySet
from hubopt.layers._pbf_arrays import spans
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
    (``"True"``/``"False"``, osmnx's flag after the direction rules). ``u_index`` and
    ``v_index``, when given, are the positions of ``u`` and ``v`` in ``node_id``, which
    then lists exactly the nodes the edges use.
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
    u_index: np.ndarray | None = None
    v_index: np.ndarray | None = None
    _memo: dict[tuple[str, str], tuple[np.ndarray, ...]] = field(
        default_factory=dict, repr=False, compare=False)

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

    def _sets(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Each edge's distinct codes of ``key`` (CSR: offsets, codes sorted) and the vocab."""
        if ("sets", key) in self._memo:
            off, codes, vocab = self._memo["sets", key]
            return off, codes, vocab
        column = self.column(key)
        if column is None or len(self.seg_way) == 0:
            return None
        seg_code = column.codes.astype("int64")[self.seg_way]
        seg_edge = np.asarray(self.seg_edge, dtype="int64")
        off, codes = kernels.edge_sets(len(self), seg_edge, seg_code)
        if len(off) == 0:  # segments not grouped by edge (a hand-made graph)
            order = np.argsort(seg_edge, kind="stable")
            off, codes = kernels.edge_sets(len(self), seg_edge[order], seg_code[order])
        self._memo["sets", key] = (off, codes, column.vocab)
        return off, codes, column.vocab

    def value_codes(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``(edge, code)`` pairs of ``key``, sorted by edge then code, and the
        vocabulary the codes index (sorted values)."""
        sets = self._sets(key)
        if sets is None:
            z = np.zeros(0, "int64")
            return z, z, np.zeros(0, dtype=object)
        off, codes, vocab = sets
        return np.repeat(np.arange(len(self), dtype="int64"), np.diff(off)), codes, vocab

    def values(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Distinct ``(edge, value)`` pairs of ``key``, sorted by edge then value."""
        edge, codes, vocab = self.value_codes(key)
        if len(edge) == 0:
            return np.zeros(0, "int64"), np.zeros(0, dtype=object)
        return edge, vocab[codes]

    def edge_codes(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Each edge's text of ``key`` as a code (-1 if none) into labels: the values, then
        the distinct sets of several values joined sorted with ``;``."""
        if ("text", key) in self._memo:
            out, labels = self._memo["text", key]
            return out, labels
        sets = self._sets(key)
        out = np.full(len(self), -1, dtype="int64")
        if sets is None:
            labels = np.zeros(0, dtype=object)
        else:
            off, codes, vocab = sets
            count = np.diff(off)
            one = count == 1
            out[one] = codes[off[:-1][one]]
            multi = np.flatnonzero(count > 1)
            combos = np.zeros((0, 0), dtype="int64")
            if len(multi):  # the distinct sets of several values, as padded rows
                width = int(count[multi].max())
                pad = np.full((len(multi), width), -1, dtype="int64")
                row = np.repeat(np.arange(len(multi)), count[multi])
                pos = np.asarray(spans(off[:-1][multi], count[multi]))
                pad[row, pos - np.repeat(off[:-1][multi], count[multi])] = codes[pos]
                combos, combo = np.unique(pad, axis=0, return_inverse=True)
                out[multi] = len(vocab) + combo.reshape(-1)
            labels = np.empty(len(vocab) + len(combos), dtype=object)
            labels[:len(vocab)] = vocab
            texts = [str(x) for x in vocab.tolist()] if len(combos) else []
            for i, members in enumerate(combos.tolist()):
                labels[len(vocab) + i] = ";".join(texts[c] for c in members if c >= 0)
        self._memo["text", key] = (out, labels)
        return out, labels

    def text(self, key: str) -> np.ndarray:
        """Each edge's values of ``key`` joined sorted with ``;`` (``None`` if none)."""
        codes, labels = self.edge_codes(key)
        return np.append(labels, np.array([None], dtype=object))[codes]

    def _nodes_of_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node ids used by the edges, and the positions of ``u`` and ``v`` among them."""
        if self.u_index is not None and self.v_index is not None:
            return self.node_id, self.u_index, self.v_index
        ids, inv = np.unique(np.concatenate([self.u, self.v]), return_inverse=True)
        return ids, inv[:len(self)], inv[len(self):]

    def edge_starts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Longitude and latitude of the nodes the edges use, and the position of each
        edge's start node ``u`` among them."""
        ids, a, _ = self._nodes_of_edges()
        if self.u_index is not None and self.v_index is not None:
            return self.lon, self.lat, a
        pos = np.searchsorted(self.node_id, ids)
        return self.lon[pos], self.lat[pos], a

    def node_degree(self) -> pd.Series:
        """Undirected simple-graph degree per node id (a self-loop counts two).

        The degree networkx gives on ``nx.Graph`` of the directed multigraph.
        """
        ids, a, b = self._nodes_of_edges()
        return pd.Series(kernels.simple_degree(len(ids), a, b), index=ids, dtype="int64")

    def end_degree(self) -> np.ndarray:
        """:meth:`node_degree` of each edge's end node ``v``."""
        ids, a, b = self._nodes_of_edges()
        return np.asarray(kernels.simple_degree(len(ids), a, b)[b])

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
        if kind_key:
            kind: np.ndarray | pd.api.extensions.ExtensionArray = self._strings(kind_key, sel)
        else:
            kind = np.full(int(sel.sum()), mode.value, object)
        edges = gpd.GeoDataFrame({
            "u": self.u[sel].astype("int64"),
            "v": self.v[sel].astype("int64"),
            "mode": _constant(mode.value, int(sel.sum())),
            "kind": kind,
            "name": self._strings("name", sel),
            "length_m": self.length_m[sel].astype("float64"),
        }, geometry=self.geometry[sel], crs=CRS)
        for col in columns:
            edges[col] = self._strings(col, sel)
        if self.u_index is not None and self.v_index is not None:
            used = np.zeros(len(self.node_id), dtype=bool)
            used[self.u_index[sel]] = True
            used[self.v_index[sel]] = True
        else:
            used = np.isin(self.node_id, np.concatenate([edges["u"].to_numpy(),
                                                         edges["v"].to_numpy()]))
        lon, lat = self.lon[used], self.lat[used]
        nodes = gpd.GeoDataFrame({"x": lon.astype("float64"), "y": lat.astype("float64")},
                                 geometry=gpd.points_from_xy(lon, lat), crs=CRS,
                                 index=pd.Index(self.node_id[used].astype("int64"),
                                                name="node_id"))
        return nodes, edges

    def _strings(self, key: str, sel: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
        codes, labels = self.edge_codes(key)
        return string_array(codes[sel], labels)


@functools.cache
def _arrow_strings() -> pd.StringDtype | None:
    """pandas' default dtype for text (``str``), if it is stored by pyarrow."""
    dtype = pd.Series(np.array(["a"], dtype=object)).dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return dtype
    return None


def _constant(text: str, n: int) -> str | pd.api.extensions.ExtensionArray:
    """A column of ``n`` times ``text`` (what pandas makes of the scalar, built faster)."""
    if _arrow_strings() is None:
        return text
    return string_array(np.zeros(n, dtype="int64"), np.array([text], dtype=object))


def string_array(codes: np.ndarray,
                 labels: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """The texts ``labels[codes]`` (missing where -1) as pandas would store them from an
    object array of ``str`` and ``None``, built from the codes without a Python object
    per row when pandas keeps text in pyarrow."""
    dtype = _arrow_strings()
    if dtype is None or len(codes) == 0 or (codes < 0).all():
        return np.append(labels, np.array([None], dtype=object))[codes]
    import pyarrow as pa
    import pyarrow.compute as pc

    # from the C heap that the layer build keeps (:mod:`hubopt.layers._heap`), not
    # pyarrow's own pool, which takes fresh pages from the system for every column
    pool = pa.system_memory_pool()
    dictionary = pa.array([str(x) for x in labels.tolist()], type=pa.large_string(),
                          memory_pool=pool)
    taken = pc.take(dictionary, pa.array(codes, mask=codes < 0, memory_pool=pool),
                    memory_pool=pool)
    return pd.arrays.ArrowStringArray(taken, dtype=dtype)


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


def build_way_graph(ways: WaySet) -> WayGraph:
    """Simplify ``ways`` into a :class:`WayGraph` (see the module docstring)."""
    if len(ways.refs) < 2:
        return _empty(ways)
    if ways.node is not None and len(ways.node) == len(ways.refs):
        from hubopt.layers._pbf_arrays import dense_unique

        node_id, node = dense_unique(np.asarray(ways.node, "int64"), ways.refs)
    else:
        node_id, node = np.unique(ways.refs, return_inverse=True)
    n = len(node_id)
    lon = np.zeros(n)
    lat = np.zeros(n)
    lon[node] = ways.lon
    lat[node] = ways.lat
    oneway, backwards = _direction(ways)
    tail, head, way = kernels.segments(np.asarray(ways.offsets, "int64"),
                                       node.astype("int64"), oneway, backwards)
    tags = {**ways.tags, "oneway": TagColumn(oneway.astype("int32"),
                                             np.array(["False", "True"], dtype=object))}
    keys = [k for k in TEXT_KEYS if k in tags]
    # compiled loops that hold no interpreter lock run on a second thread beside the
    # main one: the segment lengths beside the chains, the tag sets beside shapely
    with ThreadPoolExecutor(max_workers=1) as pool:
        lengths = pool.submit(kernels.segment_lengths, tail, head, lon, lat, EARTH_RADIUS_M)
        try:
            chain_u, chain_v, chain_off, chain_seg, single = kernels.chains(n, tail, head)
        except ValueError as exc:
            msg = f"road/rail/ferry ways: {exc}"
            raise LayerExtractionError(msg) from exc
        seg_len = lengths.result()
        n_chain = len(chain_u)
        if n_chain + len(single) == 0:
            return _empty(ways)
        u = np.concatenate([chain_u, tail[single]])
        v = np.concatenate([chain_v, head[single]])
        length, coords, geom_off, seg_edge, seg_of = kernels.assemble(
            tail, head, lon, lat, seg_len, chain_u, chain_off, chain_seg, single)
        seg_way = way[seg_of]
        started = threading.Event()
        sets = pool.submit(_tag_sets, started, len(u), seg_edge, seg_way,
                           np.array([tags[k].codes for k in keys], dtype="int64"))
        started.wait()
        geometry = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, coords,
                                             (geom_off,))
        offs, codes, starts = sets.result()
    used = np.zeros(n, dtype=bool)
    used[u] = True
    used[v] = True
    kept = np.flatnonzero(used)
    position = np.cumsum(used) - 1
    graph = WayGraph(node_id[kept], lon[kept], lat[kept], node_id[u], node_id[v], length,
                     np.asarray(geometry, dtype=object), seg_edge, seg_way, tags,
                     ways.way_id, u_index=position[u], v_index=position[v])
    if offs.shape[1] == len(u) + 1:  # else the segments were out of edge order
        for r, key in enumerate(keys):
            graph._memo["sets", key] = (offs[r], codes[starts[r]:starts[r + 1]],
                                        tags[key].vocab)
    return graph


# the tags whose per-edge sets the layers read (kind, text columns, speeds)
TEXT_KEYS = ("highway", "railway", "route", "name", "maxspeed", "oneway", "ref")


def _tag_sets(started: threading.Event, n_edges: int, seg_edge: np.ndarray,
              seg_way: np.ndarray, way_codes: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    started.set()  # the caller starts shapely (which holds the lock) once this runs
    offs, codes, starts = kernels.edge_sets_many(n_edges, seg_edge, seg_way, way_codes)
    return offs, codes, starts


def _empty(ways: WaySet) -> WayGraph:
    z = np.zeros(0, "int64")
    return WayGraph(z, np.zeros(0), np.zeros(0), z, z, np.zeros(0), np.zeros(0, dtype=object),
                    z, z, dict(ways.tags), ways.way_id)
