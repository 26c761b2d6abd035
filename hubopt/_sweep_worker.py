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

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot
import PIL.PngImagePlugin  # noqa: F401
import pyogrio  # noqa: F401

import hubopt.case
import hubopt.export
import hubopt.external
import hubopt.land
import hubopt.layers.air
import hubopt.layers.rail
import hubopt.layers.road
import hubopt.layers.sea
import hubopt.layers.world
import hubopt.map_figure
import hubopt.models
import hubopt.outputs
import hubopt.pipeline
import hubopt.report_html
import hubopt.sweep  # noqa: F401

# the first text drawn builds matplotlib's font lookup: once here, not in every worker
matplotlib.font_manager.findfont(matplotlib.font_manager.FontProperties())

# What is loaded now lives as long as the forkserver and the workers forked from it: the
# collector need not walk it again, neither in a worker's collections (which would also
# copy the shared pages) nor when the forkserver exits (it holds the sweep's stdout and
# stderr, so whoever reads them waits for that exit).
gc.freeze()
