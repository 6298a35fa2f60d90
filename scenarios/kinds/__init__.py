"""The registry of scenario kinds: one entry per physics, looked up by name.

Adding a kind is one line here and one module that defines ``KIND``, an instance
of :class:`scenarios.kinds.base.Kind`.
"""

from __future__ import annotations

import importlib

from twin.errors import TwinValueError

#: kind name -> module defining ``KIND``
REGISTRY: dict[str, str] = {
    "flood": "scenarios.kinds.flood",
    "heat": "scenarios.kinds.heat",
    "lighting": "scenarios.kinds.lighting",
    "energy": "scenarios.kinds.energy",
}


def get_kind(name: str):
    """The :class:`~scenarios.kinds.base.Kind` registered under ``name``."""
    try:
        modname = REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none yet"
        raise TwinValueError(f"unknown scenario kind {name!r} (known: {known})") from None
    try:
        module = importlib.import_module(modname)
    except ModuleNotFoundError as err:
        if err.name != modname:
            raise
        raise TwinValueError(f"scenario kind {name!r} is not available in this version of jumeau") from None
    return module.KIND


def kind_names() -> list[str]:
    return sorted(REGISTRY)
