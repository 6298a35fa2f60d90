"""Shared test fixtures.

``shared_data`` is the read-only folder of real open data beside the project
(``../shared/data``, or ``$JUMEAU_SHARED_DATA``); tests that need it skip with a
reason when it is absent. CI always has it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("JUMEAU_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (set JUMEAU_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_town_small():
    """The demo town at 300 m x 300 m, 1 m cells, seed 2023 (built once per session; do not modify it: copy())."""
    from importers.demo import build_demo_town

    return build_demo_town(seed=2023, cell_size=1.0, size=300.0)


@pytest.fixture(scope="session")
def demo_town():
    """The full demo town, 1 km x 1 km, 1 m cells, seed 2023 (built once per session; do not modify it: copy())."""
    from importers.demo import build_demo_town

    return build_demo_town(seed=2023, cell_size=1.0, size=1000.0)
