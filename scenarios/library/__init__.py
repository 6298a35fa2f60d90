"""Ready scenarios shipped with jumeau, runnable on the demo town (``twin demo`` runs them all).

>>> from scenarios import library
>>> "thunderstorm" in library.list()          # doctest: +SKIP
True
>>> library.path("thunderstorm").name         # doctest: +SKIP
'thunderstorm.toml'
"""

from __future__ import annotations

import builtins
from importlib import resources
from pathlib import Path

from twin.errors import TwinValueError

__all__ = ["list", "path", "load"]


def _folder() -> Path:
    return Path(str(resources.files(__name__)))


def list() -> builtins.list[str]:  # noqa: A001 - the library's natural verb
    """Names of the ready scenarios (file stems), sorted."""
    return sorted(p.stem for p in _folder().glob("*.toml"))


def path(name: str) -> Path:
    """The file of the ready scenario ``name`` (with or without ``.toml``).

    Raises
    ------
    TwinValueError
        If there is no such scenario (the message lists those there are).
    """
    stem = name[:-5] if name.endswith(".toml") else name
    p = _folder() / f"{stem}.toml"
    if not p.is_file():
        import difflib

        names = list()
        close = difflib.get_close_matches(stem, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TwinValueError(f"no ready scenario {name!r}{hint}; there are: {', '.join(names) or 'none yet'}")
    return p


def load(name: str):
    """The ready scenario ``name``, parsed (:class:`scenarios.scenario.Scenario`)."""
    from scenarios.scenario import load_scenario

    return load_scenario(path(name))
