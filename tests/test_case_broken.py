"""The broken-case corpus: every broken case exits with status 2 and names the field at fault."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hubopt.cli import cli

CORPUS = Path(__file__).parent / "broken_cases"
CASES = sorted(CORPUS.glob("*.toml"))


def _expected(path: Path) -> list[str]:
    return re.findall(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), flags=re.M)


def _output(result: object) -> str:
    out = getattr(result, "output", "") or ""
    try:
        err = getattr(result, "stderr", "") or ""
    except ValueError:  # older click: stderr not captured separately
        err = ""
    return out + err


def test_corpus_has_at_least_twenty_cases_each_with_an_expectation() -> None:
    assert len(CASES) >= 20
    for path in CASES:
        assert _expected(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_case_exits_with_status_2_naming_the_field(path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(path)])
    text = _output(result)
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    for field in _expected(path):
        assert field in text, f"{path.name}: {field!r} not in message:\n{text}"


def test_many_problems_are_all_listed_in_one_message() -> None:
    result = CliRunner().invoke(cli, ["validate", str(CORPUS / "many_problems_at_once.toml")])
    text = _output(result)
    assert result.exit_code == 2
    assert re.search(r"\b[5-9] problems\b", text), text
    # every problem line names the case file
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("- ")]
    assert len(lines) >= 5
    assert all("many_problems_at_once.toml" in ln for ln in lines)


def test_console_script_prints_no_traceback_for_a_broken_case() -> None:
    path = CORPUS / "unknown_key_in_model.toml"
    proc = subprocess.run(
        [sys.executable, "-c", "from hubopt.cli import main; main()", "validate", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "model.alpah" in proc.stderr
    assert "did you mean 'alpha'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_run_of_a_broken_case_stops_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(CORPUS / "p_larger_than_candidates.toml"),
                                      "--out", str(out)])
    assert result.exit_code == 2
    assert "infeasible" in _output(result)
    assert not out.exists() or not any(out.iterdir())
