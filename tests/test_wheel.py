"""The wheel works: built from the sources, installed in a fresh environment, run elsewhere.

The wheel is built offline from a copy of the sources (no ``build/`` left in the checkout),
installed with ``--no-deps`` into a new virtual environment, and the dependencies already
installed here are made visible through a ``.pth`` file that lists this environment's
site-packages. Python appends such a folder to ``sys.path`` without processing the ``.pth``
files inside it, so the editable hubopt of this checkout stays out: the fresh environment
imports the wheel's hubopt. The console script then runs from an unrelated folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
BBOX = "24.5,59.9,25.5,60.4"  # Helsinki and its port, world-scale layers (offline)


@dataclass(frozen=True)
class Installed:
    """A fresh environment with the wheel installed, and an unrelated working folder."""

    wheel: Path
    bin: Path
    site_packages: Path
    work: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run ``args`` in the working folder with the fresh environment first on PATH."""
        return subprocess.run(args, cwd=self.work, env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "hubopt", src / "hubopt",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "-w", str(dist), str(src)],
                   check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = dist.glob("hubopt-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel, install it into a fresh venv, and pick an unrelated working folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    site = Path(subprocess.run([str(python), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_hubopt_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    work = tmp / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Installed(wheel, venv / "bin", site, work, env)


def test_wheel_ships_the_profiles_and_the_cases(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for mode in ("road", "rail", "sea", "air", "transfers"):
        assert f"hubopt/data/profiles/{mode}.toml" in names
    for case in ("default.toml", "gulf-of-finland.toml", "helsinki.toml", "helsinki_demand.csv"):
        assert f"hubopt/data/cases/{case}" in names
    assert "hubopt/py.typed" in names
    data = {p.relative_to(REPO).as_posix() for p in (REPO / "hubopt" / "data").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}
    assert data <= names, sorted(data - names)


def test_fresh_environment_imports_the_wheel_not_the_checkout(installed: Installed) -> None:
    code = ("import json, hubopt, hubopt.profiles as p, hubopt.case as c; "
            "print(json.dumps([hubopt.__file__, str(p.PROFILE_FOLDER), str(c.BUILTIN_FOLDER)]))")
    done = installed.run(str(installed.bin / "python"), "-c", code)
    assert done.returncode == 0, done.stderr
    for path in json.loads(done.stdout):
        assert Path(path).is_relative_to(installed.site_packages), path
        assert not Path(path).is_relative_to(REPO), path


def test_run_default_case_from_another_folder(installed: Installed) -> None:
    done = installed.run(str(installed.bin / "hubopt"), "run", "--out", "out")
    assert done.returncode == 0, done.stderr[-3000:]
    out = installed.work / "out"
    for name in ("hubs.geojson", "scorecard.json", "report.md", "network.gpkg", "run.json"):
        assert (out / name).is_file(), name
    case = installed.site_packages / "hubopt" / "data" / "cases" / "default.toml"
    p = tomllib.loads(case.read_text(encoding="utf-8"))["model"]["p"]

    import geopandas as gpd

    hubs = gpd.read_file(out / "hubs.geojson")
    assert len(hubs) == p
    assert hubs.geometry.notna().all()
    scorecard = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))
    assert isinstance(scorecard, dict)
    assert scorecard


def test_validate_and_world_network_from_another_folder(installed: Installed) -> None:
    hubopt = str(installed.bin / "hubopt")
    done = installed.run(hubopt, "validate")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "valid case 'default'" in done.stdout
    done = installed.run(hubopt, "cases")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "helsinki" in done.stdout
    done = installed.run(hubopt, "network", "--world", "--bbox", BBOX, "--out", "net")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (installed.work / "net" / "network.gpkg").is_file()
