"""Road evidence: hubopt's road distance and truck time against cited city pairs.

The ``road-evidence`` suite of ``benchmarks/run.py`` (``python benchmarks/run.py
road-evidence``) calls :func:`measure`; its rows go to
``benchmarks/results/road-evidence.csv``. The pairs and their sources are
``tests/data/road_pairs.csv`` (the table ``tests/test_road_evidence.py`` checks); each is
routed by :func:`hubopt.road_evidence.compare` (the code of ``hubopt matrix --modes
road``) on the world road layer or a shared OSM extract. Rows of ``role = training``
chose the world road speed and are kept apart on the page.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAIRS = REPO / "tests" / "data" / "road_pairs.csv"


def measure() -> list[dict[str, Any]]:
    """One row per cited pair."""
    from hubopt.road_evidence import compare, read_pairs, road_network

    pairs = read_pairs(PAIRS)
    rows: list[dict[str, Any]] = []
    for layer in pairs["layer"].unique():
        t0 = time.perf_counter()
        out = compare(pairs[pairs["layer"] == layer], road_network(layer, pairs))
        seconds = round(time.perf_counter() - t0, 3)
        for r in out.to_dict("records"):
            car = None if math.isnan(r["car_time_h"]) else r["car_time_h"]
            rows.append({
                "layer": layer, "origin": r["origin"], "destination": r["destination"],
                "real_km": r["distance_km"], "hubopt_km": round(r["hubopt_km"], 2),
                "km_ratio": round(r["km_ratio"], 4),
                "car_h": car,
                "car_time_kind": r["car_time_kind"] if car is not None else None,
                "hubopt_truck_h": round(r["hubopt_h"], 3),
                "time_ratio": None if car is None else round(r["time_ratio"], 4),
                "access_km": round(r["access_km"], 3), "egress_km": round(r["egress_km"], 3),
                "connector_km": round(max(r["access_km"], r["egress_km"]), 3),
                "source": r["source"], "role": r["role"], "layer_seconds": seconds,
            })  # fmt: skip
    return rows
