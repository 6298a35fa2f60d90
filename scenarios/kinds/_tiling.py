"""The ``[parameters]`` keys of a tile-by-tile run, shared by the kinds that have one (heat, lighting).

.. code-block:: toml

    [parameters]
    tile_size = "500 m"      # run tile by tile on dask (twin.tiling.map_tiles)
    halo = "100 m"           # neighbourhood read around each tile (see docs/tiling.md for each model's rule)
    scheduler = "processes"  # threads (default) | processes | synchronous
"""

from __future__ import annotations

from scenarios.units import parse_quantity
from twin.errors import TwinValueError

__all__ = ["TILING_KEYS", "parse_tiling"]

TILING_KEYS = ("tile_size", "halo", "scheduler")
_SCHEDULERS = ("threads", "processes", "synchronous")


def parse_tiling(params: dict) -> dict:
    """Remove the tiling keys from a ``[parameters]`` table; the model keywords they make.

    Raises
    ------
    TwinValueError
        On a length without unit, a halo or scheduler without ``tile_size``, an unknown scheduler.
    """
    out = {}
    if "tile_size" in params:
        out["tile_size"] = parse_quantity(params.pop("tile_size"), "length", name="parameters.tile_size")
    if "halo" in params:
        out["halo"] = parse_quantity(params.pop("halo"), "length", name="parameters.halo")
    if "scheduler" in params:
        s = params.pop("scheduler")
        if s not in _SCHEDULERS:
            raise TwinValueError(f"invalid parameters.scheduler: {s!r} (use {', '.join(_SCHEDULERS)})")
        out["scheduler"] = s
    if out and "tile_size" not in out:
        raise TwinValueError(f"parameters.{next(iter(out))} needs parameters.tile_size (e.g. \"500 m\")")
    return out
