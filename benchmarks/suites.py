"""The benchmark suites, defined once: ``python benchmarks/run.py SUITE`` runs them.

Engine suites (``engine-small``, ``ap-large-60``, ``ap-large-600``, ``fixed-cost``,
``growth``, ``real``) are lists of :class:`Case`, one hub-location instance each, solved by the
engine's own method choice (``SolveParameters(time_limit=...)``).  The ``network`` and
``run`` suites measure the network builder and ``hubopt run``, ``sweep`` the scenarios
of ``hubopt sweep`` on Dask, and ``coverage`` the covering model against spopt + CBC;
their rows come from ``benchmarks/bench_network.py``, ``benchmarks/bench_run.py``,
``benchmarks/bench_sweep.py`` and ``benchmarks/bench_coverage.py``; ``road-evidence``
compares road distances and times with cited pairs (``benchmarks/bench_road_evidence.py``),
``pbf`` reading extracts against pyrosm (``benchmarks/bench_pbf.py``).

Time limits are those of the runs the old pages reported (tag ``benchmarks-history``):
300 s per p-hub median instance of ``hubopt bench`` (its default, used by
``engine_report.py``), 900 s for the fixed-cost problems at n <= 50, 60 s, 600 s and
120 s for the AP 100/200 passes of ``large.md``, 60 s for ``growth.py --time-limit 60``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

P_HUB_MEDIANS = ("usaphmp", "umaphmp")
FIXED_COST = (("usahlp", "L", None), ("usahlp", "T", None), ("umahlp", "L", None),
              ("umahlp", "T", None), ("csahlp", "L", "L"), ("csahlp", "L", "T"),
              ("csahlp", "T", "L"), ("csahlp", "T", "T"))  # fmt: skip
LABELS = {"usaphmp": "USApHMP", "umaphmp": "UMApHMP", "usahlp": "USAHLP",
          "umahlp": "UMAHLP", "csahlp": "CSAHLP", "usaphcp": "USApHCP", "umaphcp": "UMApHCP",
          "usahcp": "USAHCP", "umahcp": "UMAHCP"}  # fmt: skip
P_HUB_CENTERS = ("usaphcp", "umaphcp")
HUB_COVERING = ("usahcp", "umahcp")
# hub covering bounds, in each family's route-cost units (CAB: miles; AP: the file's
# distances with chi = 3 and delta = 2 on the legs), around the 2- to 4-hub center
# values; CAB at alpha 0.2 and 0.6 only, as with alpha = 1 no route beats the longest
# direct distance (2,726 miles at CAB 25)
CAB_MAX_COST = (1800.0, 2200.0, 2600.0)
AP_MAX_COST = (100_000.0, 120_000.0, 140_000.0)
COVERING_ALPHA = (0.2, 0.6)

CAB_N = (10, 15, 20, 25)
CAB_P = (1, 2, 3, 4)
CAB_ALPHA = (0.2, 0.4, 0.6, 0.8, 1.0)
AP_SMALL_N = (10, 20, 25, 40, 50)
AP_P = (2, 3, 4, 5)
TR_P = (2, 3, 4, 5)
TR_ALPHA = (0.2, 0.5, 0.8)
AP_LARGE_N = (100, 200)
AP_LARGE_P = (2, 3, 4, 5, 10, 15, 20)
GROWTH_AP_N = (10, 20, 25, 40, 50, 100, 200)
GROWTH_RANDOM_N = (50, 100, 200, 300, 500, 700, 1000)
GROWTH_P = (3, 5)
# real instances (``benchmarks/real_instances.py``: file stem, model nodes m as last
# built on the world layers, 124f093 where measured: demand points plus the terminal sites
# the region has, at most the stem's second number; a row records its file's own m) in
# the growth table, p = 5 as the random rows
GROWTH_REAL = (("eurus-100x50", 150), ("eurus-250x150", 389), ("eurus-575x248", 714),
               ("eurus-1000x300", 1139))  # fmt: skip
# the real suite: each instance with p = 5, 8 and 10 (both p-hub medians), 120 s
# (primorye-100x50 is built too, but has 7 terminal sites: fewer than 8 hubs)
REAL_INSTANCES = (("eurus-250x150", 389), ("eurus-300x150", 439), ("eurus-575x248", 714),
                  ("baltic-200x100", 300), ("baltic-400x200", 503), ("central-300x150", 450),
                  ("central-700x300", 877))  # fmt: skip
REAL_P = (5, 8, 10)
# issue 27's national cases (250-300 demand points, 150 candidate sites): the ten-minute
# proof target
REAL_NATIONAL = tuple(r for r in REAL_INSTANCES
                      if r[0] in ("eurus-250x150", "eurus-300x150", "central-300x150"))


@dataclass(frozen=True)
class Case:
    """One engine benchmark instance.

    ``family`` is ``cab``, ``ap``, ``tr`` (``hubopt.instances.load_instance``),
    ``random`` (``random_euclidean(n, seed=0)``) or ``real`` (the ``instance.npz`` named
    ``name`` of ``benchmarks/real_instances.py``, ``n`` its nodes); ``alpha`` None means
    the file's value (AP: 0.75); ``p`` None for the fixed-cost problems (the solver
    chooses it).
    """

    family: str
    problem: str
    n: int
    p: int | None
    alpha: float | None
    fixed_cost: str | None
    capacity: str | None
    time_limit: float
    max_cost: float | None = None  # hub covering: the bound on every route
    resilience: str = "none"  # none, expected or worst (hubopt.models.resilience)
    failure_probability: float = 0.05
    attacks: int = 1
    name: str | None = None  # real: the file stem of ``benchmarks/real_instances.py``

    @property
    def instance(self) -> str:
        """Stable name of the instance, e.g. ``AP25 USApHMP p=3`` or ``REAL
        eurus-250x150 UMApHMP p=8`` (the table's key)."""
        head = f"REAL {self.name}" if self.family == "real" else f"{self.family.upper()}{self.n}"
        parts = [head, LABELS[self.problem]]
        if self.p is not None:
            parts.append(f"p={self.p}")
        if self.alpha is not None:
            parts.append(f"alpha={self.alpha:g}")
        if self.fixed_cost is not None:
            parts.append(f"F={self.fixed_cost}{self.capacity or ''}")
        if self.max_cost is not None:
            parts.append(f"max_cost={self.max_cost:g}")
        if self.resilience == "expected":
            parts.append(f"expected q={self.failure_probability:g}")
        elif self.resilience == "worst":
            parts.append(f"worst r={self.attacks}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, for the worker process."""
        return asdict(self)


@dataclass(frozen=True)
class Suite:
    """A named suite: engine cases, or a measurement of its own (``kind``)."""

    name: str
    kind: str  # "engine", "network", "run", "sweep", "coverage", "pbf", "road-evidence"
    # or "matrix-scale"
    description: str
    cases: Callable[[], list[Case]] | None = None


def _p_hub(family: str, sizes: Iterable[int], ps: Iterable[int],
           alphas: Iterable[float | None], limit: float) -> list[Case]:  # fmt: skip
    return [
        Case(family, prob, n, p, a, None, None, limit)
        for prob, n, p, a in itertools.product(P_HUB_MEDIANS, sizes, ps, alphas)
    ]


def _fixed(sizes: Iterable[int], limit: float) -> list[Case]:
    return [
        Case("ap", prob, n, None, None, fc, cap, limit)
        for n, (prob, fc, cap) in itertools.product(sizes, FIXED_COST)
    ]


def engine_small() -> list[Case]:
    """CAB, AP n <= 50 and TR 81: the grid of ``engine_report.py`` up to AP 50."""
    return [
        *_p_hub("cab", CAB_N, CAB_P, CAB_ALPHA, 300.0),
        *_p_hub("ap", AP_SMALL_N, AP_P, (None,), 300.0),
        *_fixed(AP_SMALL_N, 900.0),
        *_p_hub("tr", (81,), TR_P, TR_ALPHA, 300.0),
    ]


def ap_large(limit: float, sizes: tuple[int, ...] = AP_LARGE_N) -> Callable[[], list[Case]]:
    """USApHMP/UMApHMP on AP 100/200 with p in {2, 3, 4, 5, 10, 15, 20}."""
    return lambda: _p_hub("ap", sizes, AP_LARGE_P, (None,), limit)


def fixed_cost() -> list[Case]:
    """USAHLP/UMAHLP L/T and CSAHLP LL/LT/TL/TT on AP 100/200 with 120 s."""
    return _fixed(AP_LARGE_N, 120.0)


def growth() -> list[Case]:
    """Solve time against n: AP, TR 81 (alpha 0.5) and random Euclidean, p = 3 and 5."""
    plan = [("ap", n) for n in GROWTH_AP_N] + [("random", n) for n in GROWTH_RANDOM_N]
    plan.append(("tr", 81))
    order = {"ap": 0, "tr": 1, "random": 2}
    plan.sort(key=lambda fn: (fn[1], order[fn[0]]))
    rows = [
        Case(fam, prob, n, p, 0.5 if fam == "tr" else None, None, None, 60.0)
        for (fam, n), prob, p in itertools.product(plan, P_HUB_MEDIANS, GROWTH_P)
    ]
    rows += [
        Case("real", prob, m, 5, None, None, None, 60.0, name=name)
        for (name, m), prob in itertools.product(GROWTH_REAL, P_HUB_MEDIANS)
    ]
    return rows


def large_600() -> list[Case]:
    """Random Euclidean 500 and 1,000 nodes, both p-hub medians, p = 5; 600 s."""
    return [
        Case("random", prob, n, 5, None, None, None, 600.0)
        for n, prob in itertools.product((500, 1000), P_HUB_MEDIANS)
    ]


def real() -> list[Case]:
    """The real (case-derived) instances, both p-hub medians, p = 5, 8, 10; 120 s."""
    return [
        Case("real", prob, m, p, None, None, None, 120.0, name=name)
        for (name, m), prob, p in itertools.product(REAL_INSTANCES, P_HUB_MEDIANS, REAL_P)
    ]


def real_600() -> list[Case]:
    """The national real instances (250-300 points, 150 sites), both p-hub medians,
    p = 5, 8, 10; 600 s."""
    return [
        Case("real", prob, m, p, None, None, None, 600.0, name=name)
        for (name, m), prob, p in itertools.product(REAL_NATIONAL, P_HUB_MEDIANS, REAL_P)
    ]


def hub_center() -> list[Case]:
    """p-hub center on CAB n 10-25 (p 2-4, alpha 0.2-1.0) and AP n 10-50 (p 2-5), and hub
    covering on them at three bounds each (CAB alpha 0.2 and 0.6); 300 s per instance."""
    return [
        *(Case("cab", prob, n, p, a, None, None, 300.0)
          for prob, n, p, a in itertools.product(P_HUB_CENTERS, CAB_N, (2, 3, 4), CAB_ALPHA)),
        *(Case("ap", prob, n, p, None, None, None, 300.0)
          for prob, n, p in itertools.product(P_HUB_CENTERS, AP_SMALL_N, AP_P)),
        *(Case("cab", prob, n, None, a, None, None, 300.0, r)
          for prob, n, a, r in itertools.product(HUB_COVERING, CAB_N, COVERING_ALPHA,
                                                 CAB_MAX_COST)),
        *(Case("ap", prob, n, None, None, None, None, 300.0, r)
          for prob, n, r in itertools.product(HUB_COVERING, AP_SMALL_N, AP_MAX_COST)),
    ]


RESILIENCE_CAB_N = (10, 15, 20, 25)
RESILIENCE_CAB_P = (2, 3, 4)
RESILIENCE_CAB_ALPHA = (0.2, 0.8)
RESILIENCE_AP_P = (3, 5)
RESILIENCE_FIXED_N = (10, 25, 50)
RESILIENCE_FIXED = (("usahlp", "L"), ("usahlp", "T"), ("umahlp", "L"), ("umahlp", "T"))


def resilience() -> list[Case]:
    """Resilient p-hub medians: expected cost (q = 0.05) and worst case (one attack) on
    CAB 10-25 (p 2-4, alpha 0.2/0.8, 60 s), AP 50 (p 3/5, 60 s) and AP 100/200 (p 3/5,
    300 s, a bound and a gap); resilient fixed-cost USAHLP/UMAHLP (L and T opening costs,
    hub count free) on AP 10, 25 and 50 (60 s)."""
    objectives = (("expected", 0.05, 1), ("worst", 0.05, 1))
    cases = [
        Case("cab", prob, n, p, a, None, None, 60.0, None, kind, q, r)
        for (kind, q, r), prob, n, p, a in itertools.product(
            objectives, P_HUB_MEDIANS, RESILIENCE_CAB_N, RESILIENCE_CAB_P,
            RESILIENCE_CAB_ALPHA)
    ]
    for n, limit in ((50, 60.0), (100, 300.0), (200, 300.0)):
        cases += [
            Case("ap", prob, n, p, None, None, None, limit, None, kind, q, r)
            for (kind, q, r), prob, p in itertools.product(
                objectives, P_HUB_MEDIANS, RESILIENCE_AP_P)
        ]
    cases += [
        Case("ap", prob, n, None, None, fc, None, 60.0, None, kind, q, r)
        for (kind, q, r), (prob, fc), n in itertools.product(
            objectives, RESILIENCE_FIXED, RESILIENCE_FIXED_N)
    ]
    return cases


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("engine-small", "engine",
              "CAB n 10-25 (p 1-4, alpha 0.2-1.0), AP n 10-50 (all five problems), TR 81 "
              "(p 2-5, alpha 0.2/0.5/0.8); 300 s per instance, 900 s for the fixed-cost "
              "problems", engine_small),
        Suite("ap-large-60", "engine",
              "AP 100 and 200, USApHMP/UMApHMP, p in 2, 3, 4, 5, 10, 15, 20; 60 s",
              ap_large(60.0)),
        Suite("ap-large-600", "engine",
              "AP 200, USApHMP/UMApHMP, p in 2, 3, 4, 5, 10, 15, 20; 600 s",
              ap_large(600.0, (200,))),
        Suite("fixed-cost", "engine",
              "AP 100 and 200, USAHLP/UMAHLP L/T and CSAHLP LL/LT/TL/TT; 120 s", fixed_cost),
        Suite("resilience", "engine",
              "resilient USApHMP/UMApHMP: expected cost under single-hub failures "
              "(q = 0.05) and worst case under one attack; CAB 10-25 (p 2-4, alpha 0.2/0.8) "
              "and AP 50 (p 3/5) with 60 s, AP 100/200 (p 3/5) with 300 s; fixed-cost "
              "USAHLP/UMAHLP (L/T, hub count free) on AP 10/25/50 with 60 s", resilience),
        Suite("growth", "engine",
              "time against n: AP 10-200, TR 81 (alpha 0.5), random Euclidean 50-1000 "
              "(seed 0), USApHMP/UMApHMP p = 3 and 5; real European Russia instances of "
              "150-1,139 nodes, p = 5; 60 s", growth),
        Suite("large-600", "engine",
              "random Euclidean 500 and 1,000 nodes (seed 0, every node a site), "
              "USApHMP/UMApHMP p = 5; 600 s (issue 27's ten-minute targets)", large_600),
        Suite("real", "engine",
              "real instances built from the world layers by benchmarks/real_instances.py "
              "(European Russia, Baltic rim, Central Europe; 200-700 demand points, "
              "100-177 terminal sites as last built), USApHMP/UMApHMP p = 5, 8, 10; 120 s", real),
        Suite("real-600", "engine",
              "the national real instances (eurus-250x150, eurus-300x150, central-300x150: "
              "250-300 demand points, 150 candidate sites), USApHMP/UMApHMP p = 5, 8, 10; "
              "600 s (issue 27's ten-minute proof target)", real_600),
        Suite("network", "network",
              "layer build times (Malta extract, Baltic world-scale layers), travel-cost "
              "matrix throughput against networkx and raw scipy, peak memory"),
        Suite("pbf", "pbf",
              "reading .osm.pbf extracts (Malta, and Malta tiled to about 100 MB by "
              "benchmarks/tiled_extract.py): hubopt's four layers against pyrosm's driving "
              "network, side by side in one run, each in a fresh process, three times each "
              "interleaved (the run of median time reported, the three times in its note), "
              "with peak memory"),
        Suite("matrix-scale", "matrix-scale",
              "a 1,000 x 1,000 road matrix on the Malta road network tiled 7 x 7 (about "
              "1.06 million nodes): `hubopt matrix` end to end against raw scipy dijkstra, "
              "pandana's contraction hierarchies and networkx, each in a fresh process, "
              "seconds and peak memory (target: under 60 s)"),
        Suite("road-evidence", "road-evidence",
              "hubopt's road distance and truck time against cited real city pairs "
              "(tests/data/road_pairs.csv: world road layer, Malta extract), with the "
              "connector length at each end"),
        Suite("run", "run",
              "`hubopt run` of the built-in cases in a fresh process: wall time and peak "
              "memory per step (cold cache, then warm)"),
        Suite("coverage", "coverage",
              "maximal covering on random instances (issue 29), 1,000 x 100 to 20,000 x "
              "2,000: hubopt against spopt MCLP + CBC (PuLP) on the same matrices, side by "
              "side in one run; 300 s for hubopt and 1,200 s for CBC per instance (its time to the "
              "proof measured, not cut at hubopt's limit)"),
        Suite("sweep", "sweep",
              "`hubopt sweep` of the default case over p = 2-5 x alpha = 0.5/0.75 "
              "(8 scenarios): one after another against a Dask LocalCluster of 2 workers "
              "(target: 1.6x faster, the same rows)"),
        Suite("hub-center", "engine",
              "p-hub center (USApHCP/UMApHCP) on CAB n 10-25 (p 2-4, alpha 0.2-1.0) and AP "
              "n 10-50 (p 2-5), hub covering (USAHCP/UMAHCP) at three bounds each (CAB "
              "alpha 0.2/0.6); 300 s",
              hub_center),
    )
}
