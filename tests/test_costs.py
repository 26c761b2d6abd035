"""Cost matrices: equal to networkx on a real small network; chunks, cutoff, chains."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from test_network_helpers import network_of

from hubopt._errors import ModelSpecificationError
from hubopt.costs import Weights, shortest_path, travel_costs
from hubopt.network import network_to_networkx, snap_points

WEIGHTS = Weights(time=1.0, money=0.5, co2=2.0)


def _nx_weight(weights: Weights):
    def weight(u, v, data):
        return min(weights.time * d["time_h"] + weights.money * d["cost"]
                   + weights.co2 * d["co2_kg"] for d in data.values())
    return weight


@pytest.fixture(scope="module")
def kiel():
    return network_of("kiel")


@pytest.fixture(scope="module")
def kiel_nx(kiel):
    return network_to_networkx(kiel)


def test_matrix_equals_networkx_on_the_kiel_network(kiel, kiel_nx) -> None:
    n = kiel.n_nodes
    rng = np.random.default_rng(7)
    origins = np.concatenate([kiel.terminals["node"].to_numpy(), rng.choice(n, 15, replace=False)])
    dests = np.arange(n)
    m = travel_costs(kiel, origins, dests, weights=WEIGHTS)
    assert m.values.dtype == np.float32
    assert m.shape == (len(origins), n)
    expected = np.full((len(origins), n), np.inf)
    for r, o in enumerate(origins):
        for node, dist in nx.single_source_dijkstra_path_length(
                kiel_nx, int(o), weight=_nx_weight(WEIGHTS)).items():
            expected[r, node] = dist
    np.testing.assert_array_equal(np.isinf(m.values), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(m.values[finite], expected[finite], rtol=1e-5, atol=1e-6)


def test_chunks_and_repeated_origins_do_not_change_the_matrix(kiel) -> None:
    nodes = np.array([0, 5, 5, 17, kiel.n_nodes - 1, 0])
    a = travel_costs(kiel, nodes, weights=WEIGHTS)
    b = travel_costs(kiel, nodes, weights=WEIGHTS, chunk_size=1)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.values[0], a.values[5])
    assert a.origins == tuple(nodes.tolist())


def test_cutoff_turns_costs_beyond_it_into_inf(kiel) -> None:
    nodes = np.arange(0, kiel.n_nodes, 7)
    full = travel_costs(kiel, nodes, weights=WEIGHTS)
    finite = full.values[np.isfinite(full.values)]
    cut = float(np.median(finite))
    part = travel_costs(kiel, nodes, weights=WEIGHTS, cutoff=cut)
    keep = full.values <= cut * (1 - 1e-6)  # float32 values: stay clear of rounding
    np.testing.assert_array_equal(part.values[keep], full.values[keep])
    assert np.isinf(part.values[full.values > cut * 1.0001]).all()


def test_chains_match_the_modes_of_the_least_cost_paths(kiel) -> None:
    weights = Weights(time=0.0, money=1.0)
    terms = kiel.terminals["node"].to_numpy()
    road = np.flatnonzero(kiel.nodes["mode"].to_numpy() == "road")[:10]
    m = travel_costs(kiel, terms, road, weights=weights, chains=True)
    assert m.chains is not None
    for r, o in enumerate(terms):
        for c, d in enumerate(road):
            path = shortest_path(kiel, int(o), int(d), weights=weights)
            if path is None:
                assert m.chains[r][c] is None
                continue
            assert m.chains[r][c] == path.modes
            assert m.values[r, c] == pytest.approx(path.cost, rel=1e-5)
            assert path.modes[0] == kiel.nodes.at[int(o), "mode"]
            assert path.modes[-1] == "road"
    frame = m.to_frame()
    assert len(frame) == len(terms) * len(road)
    assert {"from_id", "to_id", "cost", "chain"} <= set(frame.columns)


def test_snapped_points_add_their_connector_costs(kiel) -> None:
    pts = gpd.GeoDataFrame({"id": ["a", "b", "c"]},
                           geometry=gpd.points_from_xy([10.13, 10.16, 10.19],
                                                       [54.35, 54.36, 54.37]), crs=4326)
    s = snap_points(kiel, pts, id_column="id")
    m = travel_costs(kiel, s, weights=WEIGHTS)
    base = travel_costs(kiel, s.node, weights=WEIGHTS).values.astype("float64")
    extra = WEIGHTS.combine(s.time_h, s.cost, s.co2_kg)
    np.testing.assert_allclose(m.values, base + extra[:, None] + extra[None, :], rtol=1e-5)
    assert m.origins == ("a", "b", "c")
    assert np.all(np.diag(m.values) == pytest.approx(2 * extra, rel=1e-5))


@pytest.mark.parametrize("kwargs", [{"time": -1.0}, {"time": 0.0}, {"money": float("nan")}])
def test_bad_weights_raise_a_typed_error(kwargs) -> None:
    with pytest.raises(ModelSpecificationError, match="weights"):
        Weights(**kwargs)


def test_node_positions_out_of_range_raise_a_typed_error(kiel) -> None:
    with pytest.raises(ModelSpecificationError, match="origins"):
        travel_costs(kiel, [kiel.n_nodes + 3])


@pytest.mark.parametrize("name", ["baltimore", "world"])
def test_reduced_graph_gives_the_same_matrix_as_the_full_graph(name) -> None:
    from test_network_helpers import world_network

    net = world_network() if name == "world" else network_of(name)
    n = net.n_nodes
    sources = np.random.default_rng(3).choice(n, size=min(n, 150), replace=False)
    for cutoff in (None, 5.0):
        a = travel_costs(net, sources, weights=WEIGHTS, cutoff=cutoff, reduce=False).values
        b = travel_costs(net, sources, weights=WEIGHTS, cutoff=cutoff, reduce=True).values
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
        np.testing.assert_allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("max_neighbours", [2, 8])
@pytest.mark.parametrize("seed", range(6))
def test_reduction_is_exact_on_random_directed_graphs(seed, max_neighbours) -> None:
    """Brute force: trees, chains, one-way edges, zero weights and parallel paths."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    from hubopt.costs import _reduce, _reduced_columns

    rng = np.random.default_rng(seed)
    n = 60
    parent = [int(rng.integers(0, i)) for i in range(1, n)]  # a random tree ...
    u = list(range(1, n)) + parent
    v = parent + list(range(1, n))
    extra = rng.integers(0, n, size=(25, 2))  # ... plus random one-way edges
    u += extra[:, 0].tolist()
    v += extra[:, 1].tolist()
    w = rng.choice([0.0, 0.5, 1.0, 2.5], size=len(u))
    keep = np.asarray(u) != np.asarray(v)
    pairs = {}
    for a, b, c in zip(np.asarray(u)[keep], np.asarray(v)[keep], w[keep], strict=True):
        pairs[(a, b)] = min(c, pairs.get((a, b), np.inf))
    r, c = np.array(list(pairs)).T
    csr = sp.csr_matrix((list(pairs.values()), (r, c)), shape=(n, n))
    red = _reduce(csr, max_neighbours=max_neighbours)
    assert red.n_core < n
    expected = dijkstra(csr, indices=np.arange(n))
    got = _reduced_columns(red, np.arange(n), np.inf).T
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    np.testing.assert_allclose(got[np.isfinite(got)], expected[np.isfinite(expected)])


def test_mode_restricted_matrix_equals_networkx_on_that_modes_edges(kiel, kiel_nx) -> None:
    road = nx.MultiDiGraph()
    road.add_nodes_from(kiel_nx.nodes)
    road.add_edges_from((u, v, d) for u, v, d in kiel_nx.edges(data=True) if d["mode"] == "road")
    rng = np.random.default_rng(3)
    origins = rng.choice(kiel.n_nodes, 12, replace=False)
    hours = Weights(time=1.0)
    m = travel_costs(kiel, origins, np.arange(kiel.n_nodes), weights=hours, modes=("road",),
                     dtype="float64")
    assert m.values.dtype == np.float64
    for r, o in enumerate(origins):
        want = np.full(kiel.n_nodes, np.inf)
        for node, dist in nx.single_source_dijkstra_path_length(
                road, int(o), weight=_nx_weight(hours)).items():
            want[node] = dist
        np.testing.assert_array_equal(np.isinf(m.values[r]), np.isinf(want))
        ok = np.isfinite(want)
        np.testing.assert_allclose(m.values[r][ok], want[ok], rtol=1e-12, atol=1e-12)


def test_paths_from_one_origin_equal_the_single_paths_and_the_matrix(kiel) -> None:
    from hubopt.costs import shortest_paths

    origin = int(kiel.terminals["node"].iloc[0])
    dests = np.random.default_rng(5).choice(kiel.n_nodes, 20, replace=False)
    many = shortest_paths(kiel, origin, dests, weights=WEIGHTS)
    row = travel_costs(kiel, [origin], dests, weights=WEIGHTS, dtype="float64").values[0]
    edges = kiel.edges
    gen = WEIGHTS.combine(edges["time_h"], edges["cost"], edges["co2_kg"])
    for d, path, cost in zip(dests, many, row, strict=True):
        one = shortest_path(kiel, origin, int(d), weights=WEIGHTS)
        if path is None:
            assert one is None
            assert np.isinf(cost)
            continue
        assert one is not None
        assert path.edges == one.edges
        assert path.cost == pytest.approx(cost, rel=1e-9)
        assert float(gen[list(path.edges)].sum()) == pytest.approx(cost, rel=1e-9, abs=1e-12)
        # the edges chain from the origin to the destination
        u = edges["u"].to_numpy()[list(path.edges)]
        v = edges["v"].to_numpy()[list(path.edges)]
        assert (len(path.edges) == 0) or (u[0] == origin and v[-1] == d and (u[1:] == v[:-1]).all())
