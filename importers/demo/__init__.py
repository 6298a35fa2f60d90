"""The embedded demo town: a deterministic, generated small French town that needs no download.

``build_demo_town(seed=2023, cell_size=1.0, size=1000.0)`` returns a :class:`twin.Twin`
of "Jumeau-sur-Rhône", about 1 km x 1 km at round Lambert-93 coordinates near Lyon:
a river with its floodplain, a hillside, a closed depression, a pond, a historic
centre of terraces around a market square and a church, suburbs, an industrial
zone, parks, street trees and 300+ luminaires on cabinets. ``landmarks(size)``
says where things are (the same for every seed). See ``docs/demo-town.md``.
"""

from importers.demo._lighting import SCHEMES
from importers.demo._plan import MAX_SIZE, MIN_SIZE, STYLES
from importers.demo._town import DEMO_VERSION, INSEE, ORIGIN, TOWN_NAME, build_demo_town, landmarks

__all__ = ["build_demo_town", "landmarks", "DEMO_VERSION", "ORIGIN", "TOWN_NAME", "INSEE", "STYLES", "SCHEMES",
           "MIN_SIZE", "MAX_SIZE"]
