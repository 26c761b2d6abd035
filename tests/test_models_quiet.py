"""Native solver output on descriptor 1 is silenced during solves, nothing else is lost."""

from __future__ import annotations

import ctypes
import sys

import pytest

from hubopt.models._quiet import native_stdout_silenced

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs the C library by name")


def _c_print(text: str) -> None:
    libc = ctypes.CDLL(None)
    libc.printf(text.encode())


def test_c_printf_inside_the_block_is_dropped_and_output_around_it_is_kept(
    capfd: pytest.CaptureFixture[str],
) -> None:
    print("before", flush=True)
    _c_print("c-before\n")
    with native_stdout_silenced():
        _c_print("HighsMipSolverData::transformNewIntegerFeasibleSolution\n")
    _c_print("c-after\n")
    ctypes.CDLL(None).fflush(None)
    print("after", flush=True)
    out = capfd.readouterr().out
    assert "Highs" not in out
    for kept in ("before", "c-before", "c-after", "after"):
        assert kept in out.split()


def test_disabled_silencing_keeps_native_output(capfd: pytest.CaptureFixture[str]) -> None:
    with native_stdout_silenced(enabled=False):
        _c_print("solver-log-line\n")
        ctypes.CDLL(None).fflush(None)
    assert "solver-log-line" in capfd.readouterr().out


def test_descriptor_is_restored_after_an_exception(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), native_stdout_silenced():
        raise RuntimeError("solver failed")
    print("still-visible", flush=True)
    assert "still-visible" in capfd.readouterr().out
