"""Fixtures of the scenario tests: a small real twin and the test kind "slope" registered."""

from __future__ import annotations

import pytest

from scenarios.kinds import REGISTRY
from tests.scenarios.helpers import SLOPE_MODULE, SLOPE_TOML, make_hill_twin
from twin import Twin


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own baseline cache (never the user's)."""
    monkeypatch.setenv("JUMEAU_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def slope_kind(monkeypatch):
    """Register the test kind "slope" for the duration of a test."""
    monkeypatch.setitem(REGISTRY, "slope", SLOPE_MODULE)
    import importlib

    return importlib.import_module(SLOPE_MODULE).KIND


@pytest.fixture
def hill_twin() -> Twin:
    return make_hill_twin()


@pytest.fixture
def saved_hill(tmp_path, hill_twin):
    path = tmp_path / "hill.twin"
    hill_twin.save(path)
    return path


@pytest.fixture
def slope_file(tmp_path, saved_hill, slope_kind):
    path = tmp_path / "raise.toml"
    path.write_text(SLOPE_TOML, encoding="utf-8")
    return path
