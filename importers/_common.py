"""Shared helpers of the importers: file checks, CRS names, notes.

Every importer checks its input up front (exists, not empty, readable) and says
what went wrong in one line that names the file. CRS names as they appear in
CityGML, CityJSON, GeoJSON and shapefiles are read by :func:`parse_crs_name`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pyproj import CRS
from pyproj.exceptions import CRSError

from twin.errors import TwinCRSError, TwinFileNotFoundError, TwinFormatError

__all__ = ["Notes", "as_paths", "check_file", "crs_hint", "horizontal_crs", "parse_crs_name", "same_crs"]


def check_file(path, *, what: str = "file", suffixes: Iterable[str] | None = None) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` after checking it exists, is a file and is not empty.

    Raises
    ------
    TwinFileNotFoundError
        If the file does not exist.
    TwinFormatError
        If it is a directory, is empty, or (when ``suffixes`` is given) has another suffix.
    """
    p = Path(path)
    if not p.exists():
        raise TwinFileNotFoundError(f"{p}: no such {what}")
    if p.is_dir():
        raise TwinFormatError(f"{p}: is a directory, not a {what}")
    if p.stat().st_size == 0:
        raise TwinFormatError(f"{p}: empty file")
    if suffixes is not None:
        name = p.name.lower()
        if not any(name.endswith(s) for s in suffixes):
            raise TwinFormatError(f"{p}: not a {what} (expected {', '.join(suffixes)})")
    return p


def as_paths(items) -> list:
    """A list from ``items``: one path or object, or a list/tuple/set/generator of them.

    Strings, paths and tables (a GeoDataFrame is iterable, but is one input) are never iterated.
    """
    if items is None:
        return []
    if isinstance(items, (list, tuple, set, frozenset)) or isinstance(items, Iterator):
        return list(items)
    return [items]


# -- CRS names ---------------------------------------------------------------------------------------
#: AdV (German surveying authorities) CRS names seen in CityGML files -> EPSG codes.
_ADV = {
    "ETRS89_UTM32": 25832,
    "ETRS89_UTM33": 25833,
    "DE_DHDN_3GK2": 31466,
    "DE_DHDN_3GK3": 31467,
    "DE_DHDN_3GK4": 31468,
    "DE_DHDN_3GK5": 31469,
    "ETRS89_3GK3": 5677,
}

_EPSG_PATTERNS = [
    re.compile(r"^(?:EPSG|epsg):(\d+)$"),
    re.compile(r"^urn:(?:x-)?ogc:def:crs:EPSG:[\d.]*:(\d+)$", re.I),
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[\d.]+/(\d+)$", re.I),
    re.compile(r"^https?://www\.opengis\.net/gml/srs/epsg\.xml#(\d+)$", re.I),
]


def _epsg_of_single(text: str) -> int | None:
    t = text.strip()
    for pat in _EPSG_PATTERNS:
        m = pat.match(t)
        if m:
            return int(m.group(1))
    m = re.match(r"^crs:EPSG:[\d.]*:(\d+)$", t, re.I)
    if m:
        return int(m.group(1))
    return None


def parse_crs_name(text: str | None, *, where: str = "") -> str | None:
    """The horizontal CRS (``"EPSG:<code>"`` or WKT) named by a CRS string from a data file.

    Understands ``EPSG:2154``, ``urn:ogc:def:crs:EPSG::2154``, ``urn:ogc:def:crs:EPSG:6.12:2154``,
    ``http://www.opengis.net/def/crs/EPSG/0/2154``, ``http://www.opengis.net/gml/srs/epsg.xml#2154``,
    compound names (``urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783``,
    ``http://www.opengis.net/def/crs-compound?1=...&2=...``), the AdV names used in German
    CityGML (``urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH``), and anything PROJ understands.
    A compound CRS gives its horizontal part; compound EPSG codes (e.g. 7415 = RD New + NAP)
    are split by PROJ.

    Returns None for an empty name.

    Raises
    ------
    TwinCRSError
        If the name is not understood (``where`` prefixes the message).
    """
    if text is None or not str(text).strip():
        return None
    t = str(text).strip()
    prefix = f"{where}: " if where else ""
    code = _epsg_of_single(t)
    if code is None and t.lower().startswith("urn:ogc:def:crs,"):
        parts = t.split(",")[1:]
        codes = [_epsg_of_single(p) for p in parts]
        code = codes[0] if codes and codes[0] is not None else None
    if code is None and "crs-compound?" in t:
        m = re.search(r"[?&]1=([^&]+)", t)
        if m:
            code = _epsg_of_single(m.group(1))
    if code is None and t.lower().startswith("urn:adv:crs:"):
        horizontal = t[len("urn:adv:crs:"):].split("*")[0]
        code = _ADV.get(horizontal)
        if code is None:
            raise TwinCRSError(f"{prefix}unknown AdV CRS name {t!r}; give the CRS explicitly")
    if code is not None:
        return horizontal_crs(f"EPSG:{code}", where=where)
    try:
        crs = CRS.from_user_input(t)
    except CRSError:
        raise TwinCRSError(f"{prefix}CRS name {t!r} is not understood; give the CRS explicitly") from None
    return horizontal_crs(crs, where=where)


def horizontal_crs(crs, *, where: str = "") -> str:
    """The horizontal part of ``crs`` as ``"EPSG:<code>"`` (or WKT when it has no code).

    Raises
    ------
    TwinCRSError
        If ``crs`` cannot be understood.
    """
    prefix = f"{where}: " if where else ""
    try:
        c = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    except CRSError:
        raise TwinCRSError(f"{prefix}invalid CRS: {crs!r}") from None
    if c.is_compound:
        subs = [s for s in c.sub_crs_list if not s.is_vertical]
        if subs:
            c = subs[0]
    code = c.to_epsg(min_confidence=70)
    if code is not None:
        return f"EPSG:{code}"
    return c.to_wkt()


def same_crs(a, b) -> bool:
    """Whether two CRS inputs are the same horizontal CRS (EPSG match first, then PROJ equality)."""
    if a is None or b is None:
        return False
    try:
        ha, hb = horizontal_crs(a), horizontal_crs(b)
    except TwinCRSError:
        return False
    if ha == hb:
        return True
    return CRS.from_user_input(ha).equals(CRS.from_user_input(hb), ignore_axis_order=True)


def crs_hint(x: float, y: float) -> str:
    """A guess at a French projected CRS from one coordinate, for error messages ('' if none fits)."""
    if 0 < x < 1_300_000 and 6_000_000 < y < 7_200_000:
        return "coordinates look like Lambert-93 (EPSG:2154)"
    if 1_000_000 < x < 2_400_000 and 1_000_000 < y < 10_000_000:
        zone = int(round((y - 200_000) / 1_000_000)) + 41
        if 42 <= zone <= 50:
            lyon = ", Lyon Metropole's CRS" if zone == 46 else ""
            return f"coordinates look like RGF93 CC{zone} (EPSG:{3900 + zone}){lyon}"
    return ""


class Notes(list):
    """Notes an importer records about what it assumed, repaired or skipped (one line each)."""

    def add(self, message: str) -> None:
        if message not in self:
            self.append(message)
