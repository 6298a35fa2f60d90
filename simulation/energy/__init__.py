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
    "EnergyModel", "EnergyParameters", "EnergyResult", "simulate_energy", "building_network", "COUPLINGS",
    "MASS_CLASSES", "RESULT_UNITS", "building_geometry", "BuildingGeometry", "archetype_table", "load_table",
    "resolve_buildings", "read_building_data", "period_of", "PERIODS", "PARAMETERS", "dpe_class", "DPE_SCALES",
    "conversion_factors", "tertiary_targets", "TERTIARY_TARGETS", "select_buildings", "apply_retrofit",
    "retrofit_costs", "building_facts", "typical_year", "climate_sites", "prepare_forcing", "facade_irradiance",
    "plane_irradiance", "TRANSPOSITION_MODELS",
]
