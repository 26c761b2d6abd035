"""Silence what native solver code prints on the process's standard output.

HiGHS (1.x, through MathOpt) prints a debugging line
("HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();") with
``printf`` during some MIP solves, whatever its output options say.  Python's
``sys.stdout`` redirection does not reach C ``printf``, so :func:`native_stdout_silenced`
points file descriptor 1 at the null device for the duration of a solve and restores
it afterwards.  Python-level output is flushed first, so nothing written before the
solve is lost; output that other threads write to descriptor 1 during the solve is
dropped, which is why the solver calls use it only when solver output is off.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stdout_silenced(enabled: bool = True) -> Iterator[None]:
    """Send file descriptor 1 to the null device inside the block (when ``enabled``)."""
    if not enabled:
        yield
        return
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):  # no real descriptor (embedded, closed)
        fd = 1
    for stream in (sys.stdout, sys.__stdout__):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if stream is not None:
                stream.flush()
    try:
        saved = os.dup(fd)
    except OSError:  # descriptor 1 is not open: nothing to silence
        yield
        return
    libc_flush()
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        libc_flush()
        os.dup2(saved, fd)
        os.close(saved)


def libc_flush() -> None:
    """Flush C stdio buffers, so that text ``printf``-ed inside the block goes to null."""
    import ctypes

    with contextlib.suppress(Exception):  # no C library to load (some platforms)
        ctypes.CDLL(None).fflush(None)


__all__ = ["native_stdout_silenced"]
