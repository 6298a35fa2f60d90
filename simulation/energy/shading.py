"""Shading of facades and roofs by neighbouring buildings and trees (the shared shadow engine)."""

from __future__ import annotations


def shading_available() -> bool:
    """Whether the shared shadow engine :mod:`simulation.shadows` is installed."""
    try:
        import simulation.shadows  # noqa: F401
    except ImportError:
        return False
    return True
