"""The contract between the scenario runner and each physics.

A kind (``flood``, ``heat``, ``lighting``, ``energy``) turns a scenario section into a
validated configuration, applies interventions to a *copy* of the twin, runs its
simulation and returns a :class:`KindResult`: result layers with units, per-building
results, extra tables, indicators. The runner does the rest (files, comparison,
reports), identically for every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import xarray as xr

from twin.core import Twin

__all__ = ["Indicator", "KindResult", "Kind"]


@dataclass(frozen=True)
class Indicator:
    """One headline number.

    Attributes
    ----------
    name : str
        Stable machine name, e.g. ``"buildings_flooded"``.
    value : float
    unit : str
        e.g. ``"kWh/yr"``, ``"EUR/yr"``, ``"m"``, ``"1"`` for counts.
    label : dict
        Human labels by language, at least ``{"en": ..., "fr": ...}``.
    better : str
        ``"lower"``, ``"higher"`` or ``""`` (neutral): how a comparison should colour a change.
    """

    name: str
    value: float
    unit: str
    label: dict[str, str]
    better: str = ""

    def text(self, lang: str = "en") -> str:
        return self.label.get(lang) or self.label.get("en") or self.name


@dataclass
class KindResult:
    """What one run of a kind produces.

    Attributes
    ----------
    layers : dict of str to DataArray
        Result rasters on the twin grid, each with ``units`` and ``long_name`` attributes;
        written as Cloud-Optimised GeoTIFFs named ``<name>.tif``.
    buildings : DataFrame, optional
        Per-building results indexed by building id (the buildings table's ``id``);
        joined to the footprints and written to ``buildings.gpkg``.
    tables : dict of str to GeoDataFrame
        Other per-object results (road segments, luminaires, gauges...), written to
        GeoPackage or CSV.
    indicators : list of Indicator
    frames : list of (float, ndarray)
        Optional ``(time [s], field)`` snapshots for animations (e.g. flood depth).
    meta : dict
        Models that ran with their references, parameters, timings, checks
        (e.g. the flood volume error); JSON-ready.
    """

    layers: dict[str, xr.DataArray] = field(default_factory=dict)
    buildings: pd.DataFrame | None = None
    tables: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    indicators: list[Indicator] = field(default_factory=list)
    frames: list[tuple[float, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def indicator(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)


class Kind:
    """Base class of a scenario kind. Subclasses override every method below.

    Attributes
    ----------
    name : str
        The ``kind = "..."`` value of scenario files.
    title : dict
        Human titles by language.
    views : tuple of str
        The cameras ``render`` accepts for ``twin render --view`` (e.g. ``("overview", "street", "top")``).
    sections : dict
        The scenario-file tables the kind accepts (``"forcing"``, ``"parameters"``,
        ``"interventions"``, ``"outputs"``) with, for each, the allowed keys; the runner
        refuses unknown keys with the line where they stand.
    """

    name: str = ""
    title: dict[str, str] = {}
    sections: dict[str, tuple[str, ...]] = {}
    #: the cameras ``render(view=...)`` accepts (``twin render --view``); empty: the kind's usual pictures only
    views: tuple[str, ...] = ()

    def parse(self, scenario: dict, *, base_dir: Path) -> Any:
        """Validate the kind's sections of a scenario (a dict from TOML) and return a config object.

        Raise :class:`twin.errors.TwinValueError` with a precise message on bad input;
        relative file names are resolved against ``base_dir``.
        """
        raise NotImplementedError

    def apply_interventions(self, twin: Twin, config: Any) -> Twin:
        """Return a *copy* of ``twin`` with the scenario's interventions applied (never modify ``twin``)."""
        raise NotImplementedError

    def simulate(self, twin: Twin, config: Any) -> KindResult:
        """Run the physics on ``twin`` and return its results."""
        raise NotImplementedError

    def render(self, twin: Twin, result: KindResult, out_dir: Path, *, baseline: KindResult | None = None,
               baseline_twin: Twin | None = None, view: str | None = None, lang: str = "en",
               size: tuple[int, int] = (1600, 1000), title: str = "") -> list[Path]:
        """Write the kind's pictures into ``out_dir``; return their paths.

        Parameters
        ----------
        twin, result
            The scenario twin (interventions applied) and its result.
        baseline : KindResult, optional
            The baseline result, for before/after pictures.
        baseline_twin : Twin, optional
            The twin without the interventions, on which ``baseline`` was computed (trees,
            buildings... differ from ``twin``); draw the baseline on ``twin`` when it is absent.
        view : str, optional
            The camera asked for by ``twin render --view`` (``None``: the kind's usual pictures),
            one of the kind's ``views``; the runner refuses any other with a one-line error.
        lang, size, title
            Label language, picture size [pixels] and title.
        """
        return []
