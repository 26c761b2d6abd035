"""What a sweep's scenario imports, loaded once before the Dask workers start.

The local cluster of :func:`hubopt.sweep.run_sweep` starts its worker processes from a
``forkserver`` (where the platform has one) that imports this module first: the modules
of a full run are then imported once, in the forkserver, while the sweep's own process
validates the scenarios, and every worker forked from it starts with them loaded. With
``spawn`` each worker would import them again at its first scenario (about 1 s of CPU
each), one after the other on a small machine. Importing this module
imports, fills matplotlib's font lookup and freezes the collector's view of what is
loaded (``gc.freeze``); it reads no case data.
"""

from __future__ import annotations

import gc
import importlib

import matplotlib

matplotlib.use("Agg")

#: the modules a scenario of a world or OSM case imports (``import hubopt.sweep`` is left
#: to the workers: it imports this module)
MODULES = ("matplotlib.pyplot", "PIL.PngImagePlugin", "pyogrio", "hubopt.case",
           "hubopt.export", "hubopt.external", "hubopt.land", "hubopt.layers.air",
           "hubopt.layers.rail", "hubopt.layers.road", "hubopt.layers.sea",
           "hubopt.layers.world", "hubopt.map_figure", "hubopt.models", "hubopt.outputs",
           "hubopt.pipeline", "hubopt.report_html")
for _name in MODULES:
    importlib.import_module(_name)

# the first text drawn builds matplotlib's font lookup: once here, not in every worker
import matplotlib.font_manager  # noqa: E402

matplotlib.font_manager.findfont(matplotlib.font_manager.FontProperties())

# What is loaded now lives as long as the forkserver and the workers forked from it: the
# collector need not walk it again, neither in a worker's collections (which would also
# copy the shared pages) nor when the forkserver exits (it holds the sweep's stdout and
# stderr, so whoever reads them waits for that exit).
gc.freeze()
