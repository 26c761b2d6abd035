"""Build the real (case-derived) hub instances of the ``real`` suite as ``instance.npz``.

Each instance is a built-in case run through the case pipeline's steps up to the model
(``hubopt.case.load_case`` with ``overrides``, then ``load_inputs``,
``network_for_case``, the candidate sites, ``compute_matrices`` and ``model_from_case``,
exactly as ``hubopt run`` builds the model it solves), saved with
``hubopt.instance_file.save_instance`` -- the same arrays as the ``instance.npz`` of a
run, without the run's own solve.  The regions use the world-scale layers (road, rail,
sea, air; offline), GeoNames cities as demand points and terminal clusters as
candidate sites.

The files are generated, not committed: they go to ``$HUBOPT_REAL_INSTANCES`` (default
``<HUBOPT_CACHE>/real-instances``); an existing file is kept (delete it to rebuild)::

    python benchmarks/real_instances.py            # build every missing instance
    python benchmarks/real_instances.py --list     # names, sizes and overrides
    python benchmarks/real_instances.py --only 'eurus'

These instances are a *reported* set (``docs/benchmarks.md``): the engine is not tuned
on them (its training instances are the random ones of ``hubopt/instances/random.py``
and ``hubopt/instances/random_case.py``, and real regions at sizes not published).
Derived from OpenStreetMap data: © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass(frozen=True)
class RealSpec:
    """One real instance: a region of the world layers at one size."""

    region: str
    bbox: tuple[float, float, float, float]
    countries: tuple[str, ...]
    points: int
    sites: int
    min_population: int = 15000
    min_separation_km: float = 10.0
    cluster_km: float = 20.0
    min_modes: int = 2

    @property
    def name(self) -> str:
        """File stem, e.g. ``eurus-250x150``."""
        return f"{self.region}-{self.points}x{self.sites}"

    def overrides(self) -> list[str]:
        """``KEY=VALUE`` settings on the built-in default case."""
        countries = "[" + ", ".join(f'"{c}"' for c in self.countries) + "]"
        return [
            f"case.name={self.name}",
            f"region.bbox=[{', '.join(f'{v:g}' for v in self.bbox)}]",
            f"demand.countries={countries}",
            f"demand.min_population={self.min_population}",
            f"demand.min_separation_km={self.min_separation_km:g}",
            f"demand.max_points={self.points}",
            f"candidates.min_modes={self.min_modes}",
            f"candidates.cluster_km={self.cluster_km:g}",
            f"candidates.max_candidates={self.sites}",
            # remote airports and towns (Leshukonskoye: 208 km from a road joining the
            # network) stay in: the connector's cost is part of the instance
            "network.max_connector_km=300",
            "model.p=5",
        ]


_EURUS = ((27.0, 41.0, 60.0, 68.0), ("RU",))
_BALTIC = ((9.0, 53.0, 31.0, 61.5), ("DE", "PL", "LT", "LV", "EE", "FI", "SE", "DK", "RU"))
_CENTRAL = ((5.0, 45.5, 24.0, 55.0), ("DE", "PL", "CZ", "SK", "AT", "HU", "CH"))
_PRIMORYE = ((129.0, 42.0, 139.0, 48.5), ("RU",))

SPECS: tuple[RealSpec, ...] = (
    RealSpec("eurus", *_EURUS, points=100, sites=50),
    RealSpec("eurus", *_EURUS, points=250, sites=150),
    RealSpec("eurus", *_EURUS, points=300, sites=150),
    RealSpec("eurus", *_EURUS, points=575, sites=248),
    RealSpec("eurus", *_EURUS, points=1000, sites=300, min_population=5000),
    RealSpec("baltic", *_BALTIC, points=200, sites=100),
    RealSpec("baltic", *_BALTIC, points=400, sites=200),
    RealSpec("central", *_CENTRAL, points=300, sites=150),
    RealSpec("central", *_CENTRAL, points=700, sites=300),
    RealSpec("primorye", *_PRIMORYE, points=100, sites=50, min_population=2000,
             min_separation_km=5.0, cluster_km=10.0),
)


def instance_folder() -> Path:
    """Where the files go (outside git)."""
    from hubopt import settings

    env = os.environ.get("HUBOPT_REAL_INSTANCES")
    return Path(env) if env else Path(settings.cache_folder) / "real-instances"


def instance_path(spec: RealSpec) -> Path:
    """The file of one instance."""
    return instance_folder() / f"{spec.name}.npz"


def build(spec: RealSpec) -> Path:
    """Build one instance (the pipeline's steps up to the model) and save it."""
    import numpy as np

    from hubopt.case import load_case
    from hubopt.case_model import check_feasible, model_from_case
    from hubopt.instance_file import InstanceFile, save_instance
    from hubopt.matrices import compute_matrices
    from hubopt.pipeline import candidates_from_case, load_inputs, network_for_case

    case = load_case("default", overrides=spec.overrides())
    inputs = load_inputs(case)
    net = network_for_case(case)
    cands = inputs.candidates or candidates_from_case(case, inputs.demand, net.terminals)
    check_feasible(case, inputs.demand, inputs.flows, cands)
    mx = compute_matrices(case, net, inputs.demand, cands)
    cm = model_from_case(case, inputs.demand, inputs.flows, cands, mx)
    data = cm.model.data
    d = inputs.demand
    m = data.n
    candidate = np.zeros(m, dtype=bool)
    candidate[list(data.candidates)] = True
    names = [*d.names, *cands.names] if cm.offset else list(d.names)
    lon = np.concatenate([d.lon, cands.lon]) if cm.offset else d.lon
    lat = np.concatenate([d.lat, cands.lat]) if cm.offset else d.lat
    inst = InstanceFile(
        C=data.costs, W=data.flows, candidate=candidate, fixed_cost=np.zeros(m),
        capacity=np.full(m, np.inf), name=np.asarray(names, dtype=str),
        lonlat=np.column_stack([lon, lat]), chi=data.chi, alpha=data.alpha,
        delta=data.delta, p=int(case.model.p or 0), problem="usaphmp",
        source=f"default case with {' '.join(spec.overrides())}")  # fmt: skip
    return save_instance(instance_path(spec), inst)


def ensure(specs: tuple[RealSpec, ...] = SPECS, *, log: bool = True) -> list[Path]:
    """Build the missing files among ``specs``; return all their paths."""
    paths = []
    for spec in specs:
        path = instance_path(spec)
        if not path.exists():
            t0 = time.perf_counter()
            build(spec)
            if log:
                print(f"{spec.name}: built in {time.perf_counter() - t0:.1f} s -> {path}",
                      file=sys.stderr)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: build the missing instances (or list them)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="regex on the instance names")
    ap.add_argument("--list", action="store_true", help="list the instances and exit")
    args = ap.parse_args(argv)
    specs = tuple(s for s in SPECS if re.search(args.only, s.name))
    if args.list:
        for s in specs:
            print(f"{s.name}\t{instance_path(s)}\t{' '.join(s.overrides())}")
        return 0
    for path in ensure(specs):
        from hubopt.instance_file import load_instance_file

        inst = load_instance_file(path)
        print(f"{path.name}: m = {inst.m}, {int(inst.candidate.sum())} candidate sites, "
              f"{int((inst.W > 0).sum())} OD pairs with flow")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
