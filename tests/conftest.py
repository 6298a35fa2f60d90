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
