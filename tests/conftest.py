"""Shared test fixtures: the data folder and the online marker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubopt.settings import resolve_data_folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``online`` unless HUBOPT_ONLINE=1 (CI has no internet)."""
    if os.environ.get("HUBOPT_ONLINE") == "1":
        return
    skip = pytest.mark.skip(reason="needs internet; set HUBOPT_ONLINE=1 to run")
    for item in items:
        if "online" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder (``$HUBOPT_DATA`` or ``../shared/data``)."""
    folder = resolve_data_folder()
    if not folder.is_dir():
        pytest.fail(f"data folder {folder} not found; set HUBOPT_DATA")
    return folder


@pytest.fixture(scope="session")
def hub_data_dir(data_dir: Path) -> Path:
    """``hub-instances/`` inside the data folder."""
    return data_dir / "hub-instances"


@pytest.fixture(scope="session")
def osm_data_dir(data_dir: Path) -> Path:
    """``osm/`` inside the data folder."""
    return data_dir / "osm"
