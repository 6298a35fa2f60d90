"""Building energy: hourly heating and cooling needs of every building of a twin (ISO 13790 5R1C),
French archetypes, party walls, shading by neighbours and trees, DPE labels, décret tertiaire targets,
retrofits with costs and paybacks, rooftop solar potential. See docs/energy.md.

>>> from simulation.energy import EnergyModel, typical_year       # doctest: +SKIP
>>> res = EnergyModel(twin, weather=typical_year("lyon")).run()   # doctest: +SKIP
>>> res.buildings[["heating_need_m2", "dpe_class"]]               # doctest: +SKIP
"""

from simulation.energy.archetypes import (
    PARAMETERS,
    PERIODS,
    archetype_table,
    load_table,
    period_of,
    read_building_data,
    resolve_buildings,
)
from simulation.energy.climate import climate_sites, typical_year
from simulation.energy.geometry import BuildingGeometry, building_geometry
from simulation.energy.labels import DPE_SCALES, TERTIARY_TARGETS, conversion_factors, dpe_class, tertiary_targets
from simulation.energy.model import (
    COUPLINGS,
    MASS_CLASSES,
    RESULT_UNITS,
    EnergyModel,
    EnergyParameters,
    EnergyResult,
    building_network,
    simulate_energy,
)
from simulation.energy.retrofit import apply_retrofit, building_facts, retrofit_costs, select_buildings
from simulation.energy.solar import TRANSPOSITION_MODELS, facade_irradiance, plane_irradiance
from simulation.energy.weather import prepare_forcing

__all__ = [
    "COUPLINGS",
    "DPE_SCALES",
    "MASS_CLASSES",
    "PARAMETERS",
    "PERIODS",
    "RESULT_UNITS",
    "TERTIARY_TARGETS",
    "TRANSPOSITION_MODELS",
    "BuildingGeometry",
    "EnergyModel",
    "EnergyParameters",
    "EnergyResult",
    "apply_retrofit",
    "archetype_table",
    "building_facts",
    "building_geometry",
    "building_network",
    "climate_sites",
    "conversion_factors",
    "dpe_class",
    "facade_irradiance",
    "load_table",
    "period_of",
    "plane_irradiance",
    "prepare_forcing",
    "read_building_data",
    "resolve_buildings",
    "retrofit_costs",
    "select_buildings",
    "simulate_energy",
    "tertiary_targets",
    "typical_year",
]
