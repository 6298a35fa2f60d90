"""CityGML 1.0, 2.0 and 3.0 buildings, streamed: memory independent of the file size.

:func:`read_citygml` returns the buildings (2D footprints with heights and attributes) and
their semantic surfaces (3D polygons with area, slope and azimuth); :class:`CityGMLStream`
yields the buildings one by one for files of any size.

Streaming
---------
The file is parsed with :func:`lxml.etree.iterparse`, asking only for the end of each
``Building`` and of each top-level member; a building is read when its element is complete,
then the member is cleared and dropped from the tree. Peak memory is one building plus the
output tables (footprints only with ``surfaces=False``).

What is read
------------
* ``Building`` and its ``BuildingPart`` s (``consistsOfBuildingPart`` in 2.0, ``buildingPart``
  in 3.0, nested parts too); each one carrying geometry becomes a row; a building whose only
  geometry is in its single part (Lyon) becomes one row with the building's id.
* Geometry at the best level of detail present, in the order LoD2, LoD3 (read as LoD2:
  openings are skipped, walls keep their holes), LoD4, LoD1, LoD0: ``lodXSolid``,
  ``lodXMultiSurface``, ``lodXGeometry``, ``lod0FootPrint``/``lod0RoofEdge`` (2.0) and the
  semantic surfaces of ``boundedBy`` (2.0) / ``boundary`` (3.0): RoofSurface, WallSurface,
  GroundSurface, ClosureSurface, OuterFloorSurface, OuterCeilingSurface. Interior rooms,
  storeys, units, installations and addresses are skipped.
* GML: Polygon, Triangle, Rectangle, PolygonPatch, Surface, MultiSurface, CompositeSurface,
  TriangulatedSurface/Tin, Solid, Shell, CompositeSolid, MultiSolid, OrientableSurface
  (orientation ``-`` reverses rings); coordinates in ``posList``, ``pos`` or ``coordinates``
  with ``srsDimension`` 2 or 3 (2D gives NaN altitudes); ``xlink:href="#id"`` references
  resolved within the building (an unresolved one is counted).
* ``measuredHeight`` (2.0), ``con:height`` (3.0, its highReference says whether it measures the
  top or the eaves), ``storeysAboveGround``, ``yearOfConstruction`` / ``dateOfConstruction``,
  ``function``, ``gml:name``.
* The CRS from ``srsName`` in any spelling (:func:`importers._common.parse_crs_name`), a local
  engineering CRS defined in the file with an anchor point in a known CRS, or ``crs``/``default_crs``.
  A file that names none (Lyon Métropole's) is refused unless a CRS is given.

Security
--------
The parser never loads a DTD, resolves no entity and uses no network (``load_dtd=False``,
``resolve_entities=False``, ``no_network=True``, ``huge_tree=False``). Before parsing, the
prolog is read: a DOCTYPE that declares entities (entity-expansion "billion laughs") or
names an external DTD or entity (``SYSTEM``/``PUBLIC``, e.g. ``file:///etc/passwd``) is refused
with :class:`~twin.errors.TwinFormatError`. Nothing is ever fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
from lxml import etree

from importers._city3d import FUNCTION_TO_USE, SURFACE_TYPES, CityTables, Piece, Polygons, _gather
from importers._common import Notes, check_file, crs_hint, horizontal_crs, parse_crs_name, same_crs
from importers._kernels import parse_rings, powers_of_ten_128, shape_rings
from twin.errors import TwinCRSError, TwinFormatError

__all__ = ["CityGMLStream", "CityModel", "check_xml_prolog", "read_citygml"]

_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_GML_IDS = ("{http://www.opengis.net/gml}id", "{http://www.opengis.net/gml/3.2}id")
_LOD_PROP = re.compile(r"^lod([0-4])(Solid|MultiSurface|Geometry|FootPrint|RoofEdge)$")
_LOD_ORDER = (2, 3, 4, 1, 0)
_MEMBERS = ("cityObjectMember", "featureMember", "member")
_PART_PROPS = ("consistsOfBuildingPart", "buildingPart")
_BOUNDARY_PROPS = ("boundedBy", "boundary")
_VERSIONS = {
    "http://www.opengis.net/citygml/1.0": "1.0",
    "http://www.opengis.net/citygml/2.0": "2.0",
    "http://www.opengis.net/citygml/3.0": "3.0",
}
_PROLOG_LIMIT = 1 << 20
#: What each element is to the geometry walk (:func:`_kind`). The walk visits every element under a
#: geometry property: lxml's tag filter tests every pattern on every node, which costs more than a
#: dictionary lookup in Python once there are more than a few patterns.
_K_OTHER, _K_ORIENTABLE, _K_MEMBER, _K_POLYGON, _K_EXTERIOR, _K_INTERIOR, _K_COORD, _K_COORDINATES = range(8)
_KIND_OF = {"Polygon": _K_POLYGON, "Triangle": _K_POLYGON, "Rectangle": _K_POLYGON, "PolygonPatch": _K_POLYGON,
            "surfaceMember": _K_MEMBER, "baseSurface": _K_MEMBER, "solidMember": _K_MEMBER, "polygonPatches": _K_MEMBER,
            "patches": _K_MEMBER, "trianglePatches": _K_MEMBER, "exterior": _K_EXTERIOR, "outerBoundaryIs": _K_EXTERIOR,
            "interior": _K_INTERIOR, "innerBoundaryIs": _K_INTERIOR, "posList": _K_COORD, "pos": _K_COORD,
            "coordinates": _K_COORDINATES, "OrientableSurface": _K_ORIENTABLE}
_KINDS: dict = {}
_ID_TAGS = ("{*}Polygon", "{*}Triangle", "{*}Rectangle", "{*}PolygonPatch", "{*}CompositeSurface", "{*}MultiSurface",
            "{*}Surface", "{*}OrientableSurface", "{*}Solid", "{*}Shell", "{*}TriangulatedSurface", "{*}Tin",
            "{*}CompositeSolid", "{*}MultiSolid", "{*}BuildingPart")
#: The children of a Building/BuildingPart worth reading (filtered in C: generic attributes, addresses,
#: rooms and installations are never visited).
_CHILD_TAGS = tuple(f"{{*}}lod{n}{k}" for n in range(5) for k in ("Solid", "MultiSurface", "Geometry", "FootPrint", "RoofEdge")) + (
    "{*}boundedBy", "{*}boundary", "{*}consistsOfBuildingPart", "{*}buildingPart", "{*}measuredHeight", "{*}height",
    "{*}storeysAboveGround", "{*}yearOfConstruction", "{*}dateOfConstruction", "{*}function", "{*}usage", "{*}name",
)


_DIMS_3 = np.array([3], np.int64)   # every ring of the building in 3D (one value for all)
_NO_FLIP = np.zeros(1, np.uint8)    # no ring reversed
_LN_CACHE: dict = {}
_LOD_CACHE: dict = {}
_LOD_PROPS: dict = {}   # namespaced tag -> (lod, kind) of a geometry property, or False
_SURFACES: dict = {}    # namespaced tag -> surface type of a semantic boundary surface


def _lod_of(tag):
    """``(lod, kind)`` of a geometry property by its namespaced tag, else False (cached)."""
    v = _lod_prop(_ln(tag)) or False
    if isinstance(tag, str):
        _LOD_PROPS[tag] = v
    return v


def _surface_type(tag):
    """The surface type of a semantic boundary surface by its namespaced tag, else "" (cached)."""
    v = SURFACE_TYPES.get(_ln(tag), "")
    if isinstance(tag, str):
        _SURFACES[tag] = v
    return v


def _lod_prop(ln: str):
    """``(lod, kind)`` of a geometry property name such as ``lod2MultiSurface``, else None (cached)."""
    try:
        return _LOD_CACHE[ln]
    except KeyError:
        m = _LOD_PROP.match(ln)
        v = (int(m.group(1)), m.group(2)) if m else None
        _LOD_CACHE[ln] = v
        return v


def _kind(tag) -> int:
    """What an element is to the geometry walk, by its namespaced tag (cached)."""
    k = _KIND_OF.get(_ln(tag), _K_OTHER)
    if isinstance(tag, str):
        _KINDS[tag] = k
    return k


def _ln(tag) -> str:
    """Local name of a tag (cached: a file has few distinct tags)."""
    try:
        return _LN_CACHE[tag]
    except (KeyError, TypeError):
        if not isinstance(tag, str):
            return ""
        ln = tag[tag.rfind("}") + 1:]
        _LN_CACHE[tag] = ln
        return ln


# -- security: read the prolog before the parser sees anything ----------------------------------------
def check_xml_prolog(path) -> tuple[str, str]:
    """Read the XML prolog of ``path`` and refuse DTDs that declare entities or point outside.

    Returns the root element's start tag (text) and its local name.

    Raises
    ------
    TwinFormatError
        If the file is not XML, declares entities (entity-expansion attack), names an external
        DTD or entity, or its prolog is longer than 1 MB.
    """
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(_PROLOG_LIMIT)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("latin-1")
    i = 0
    n = len(text)
    if text.startswith("\ufeff"):
        i = 1
    while True:
        while i < n and text[i] in " \t\r\n\ufeff":
            i += 1
        if i >= n:
            raise TwinFormatError(f"{p}: not an XML file (no root element in the first MB)")
        if text.startswith("<?", i):
            j = text.find("?>", i)
            if j < 0:
                raise TwinFormatError(f"{p}: not an XML file (unterminated declaration)")
            i = j + 2
        elif text.startswith("<!--", i):
            j = text.find("-->", i)
            if j < 0:
                raise TwinFormatError(f"{p}: not an XML file (unterminated comment before the root element)")
            i = j + 3
        elif text.startswith("<!DOCTYPE", i) or text.startswith("<!doctype", i):
            j = text.find("]>", i)
            k = text.find(">", i)
            end = j + 2 if (j >= 0 and "[" in text[i:k + 1]) else k + 1
            doctype = text[i:end] if end > i else text[i:]
            if "<!ENTITY" in doctype.upper():
                raise TwinFormatError(f"{p}: the XML declares entities in a DTD (possible entity-expansion attack); refused")
            if re.search(r"\b(SYSTEM|PUBLIC)\b", doctype):
                raise TwinFormatError(f"{p}: the XML names an external DTD or entity; refused (nothing is fetched)")
            if end <= i:
                raise TwinFormatError(f"{p}: not an XML file (unterminated DOCTYPE)")
            i = end
        elif text.startswith("<", i) and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] == "_"):
            j = text.find(">", i)
            start_tag = text[i:j + 1] if j >= 0 else text[i:i + 4096]
            m = re.match(r"<([^\s>/]+)", start_tag)
            name = m.group(1) if m else ""
            return start_tag, name.split(":")[-1]
        else:
            raise TwinFormatError(f"{p}: not an XML file (it starts with {text[i:i + 20]!r})")


# -- the stream ---------------------------------------------------------------------------------------
@dataclass
class _Raw:
    """What one Building/BuildingPart element holds, before choosing a LoD."""

    oid: str
    semantic: dict = field(default_factory=dict)   # lod -> [(type, property element)]
    plain: dict = field(default_factory=dict)      # lod -> [property elements] (solids, multi-surfaces)
    footprint: list = field(default_factory=list)  # lod0FootPrint property elements
    roofedge: list = field(default_factory=list)   # lod0RoofEdge property elements
    parts: list = field(default_factory=list)
    name: str = ""
    measured: float = float("nan")
    height_ref: str = "top"
    height_attr: str = ""
    floors: int = 0
    year: int = 0
    function: str = ""


class CityGMLStream:
    """Iterate over the buildings of a CityGML file without loading it.

    Parameters
    ----------
    path : str or Path
    crs : optional
        CRS of the coordinates, overriding the file's srsName.
    default_crs : optional
        CRS assumed when the file names none.
    to_crs : optional
        Transform every coordinate to this CRS (altitudes unchanged).

    Iterating yields :class:`importers._city3d.Piece` objects (one per building or building part
    with geometry). After iteration, ``crs``, ``version``, ``counts`` and ``notes`` describe the file.

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        Not XML, not CityGML, truncated, malformed, or an entity/DTD attack (while iterating).
    TwinCRSError
        If no CRS is named or given.
    """

    def __init__(self, path, *, crs=None, default_crs=None, to_crs=None):
        self.path = check_file(path, what="CityGML file")
        start_tag, root_name = check_xml_prolog(self.path)
        if root_name != "CityModel":
            raise TwinFormatError(f"{self.path}: not a CityGML file (root element {root_name!r}, expected CityModel)")
        self.version = next((v for ns, v in _VERSIONS.items() if ns in start_tag), "")
        self.notes = Notes()
        self.counts = {"buildings": 0, "parts": 0, "pieces": 0, "without_geometry": 0, "unresolved_xlinks": 0,
                       "skipped_polygons": 0}
        self._override = horizontal_crs(crs, where=str(self.path)) if crs is not None else None
        self._default = horizontal_crs(default_crs, where=str(self.path)) if default_crs is not None else None
        self.to_crs = horizontal_crs(to_crs, where=str(self.path)) if to_crs is not None else None
        self.file_crs: str | None = None
        self.srs_name: str | None = None
        self.dim = 3
        self.crs: str | None = self._override
        self._engineering: dict[str, tuple[str, np.ndarray]] = {}
        self._offset = np.zeros(3)
        self._has_offset = False
        self._transformer = None
        self._crs_settled = False
        self._ids = None
        self._bel = None
        self.bounds = None

    # -- CRS -----------------------------------------------------------------------------------
    def _settle_crs(self, building) -> None:
        if self._crs_settled:
            return
        name = self.srs_name
        if name is None:
            for el in building.iter():
                if isinstance(el.tag, str) and el.get("srsName"):
                    name = el.get("srsName")
                    break
        where = str(self.path)
        if name and name.startswith("#") and name[1:] in self._engineering:
            base, anchor = self._engineering[name[1:]]
            self.file_crs = base
            self._offset = anchor
            self._has_offset = bool(anchor.any())
            self.notes.add(f"{self.path.name}: local engineering CRS {name} anchored at ({', '.join(f'{v:.2f}' for v in anchor)}) in {base}")
        elif name and not name.startswith("#"):
            self.file_crs = parse_crs_name(name, where=where)
        elif name:
            self.notes.add(f"{self.path.name}: srsName {name!r} refers to no CRS defined in the file")
        if self._override is not None:
            self.crs = self._override
            if self.file_crs and not same_crs(self.file_crs, self._override):
                self.notes.add(f"{self.path.name}: CRS set to {self._override} by the caller (the file says {self.file_crs})")
        elif self.file_crs is not None:
            self.crs = self.file_crs
        elif self._default is not None:
            self.crs = self._default
            self.notes.add(f"{self.path.name}: the file names no CRS (no srsName); assumed {self._default}")
        else:
            hint = ""
            if self.bounds is not None:
                h = crs_hint(self.bounds[0], self.bounds[1])
                hint = f" ({h})" if h else ""
            raise TwinCRSError(
                f"{self.path}: the file names no CRS (no srsName){hint}; give it with --source-crs or --crs "
                f"(Python: crs=...)"
            )
        if self.to_crs is not None and not same_crs(self.crs, self.to_crs):
            from pyproj import CRS, Transformer

            src = CRS.from_user_input(self.crs)
            authority_order = src.is_geographic and bool(name) and (name.startswith("urn:") or name.startswith("http"))
            self._transformer = Transformer.from_crs(src, self.to_crs, always_xy=not authority_order)
            self.notes.add(f"{self.path.name}: coordinates transformed from {self.crs} to {self.to_crs}")
        elif CRS_is_geographic(self.crs):
            raise TwinCRSError(f"{self.path}: coordinates are in a geographic CRS ({self.crs}); give a projected to_crs")
        self._crs_settled = True

    # -- iteration -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Piece]:
        tags = ["{*}Building", "{*}Envelope", "{*}EngineeringCRS"] + [f"{{*}}{m}" for m in _MEMBERS]
        # lxml given a file name leaves the file open until garbage collection when parsing stops early
        # (an error, or a caller that stops iterating): it gets an open file, closed in the finally clause
        fh = open(self.path, "rb")  # noqa: SIM115
        context = etree.iterparse(
            fh, events=("end",), tag=tags, resolve_entities=False, no_network=True, load_dtd=False,
            huge_tree=False, remove_comments=True, remove_pis=True,
        )
        root = None
        try:
            for _, el in context:
                if root is None:
                    root = el.getroottree().getroot()
                ln = _ln(el.tag)
                if ln == "Building":
                    parent = el.getparent()
                    if parent is not None and _ln(parent.tag) in _MEMBERS or parent is root:
                        yield from self._building(el)
                        el.clear()
                elif ln in _MEMBERS and el.getparent() is root:
                    el.clear()
                    while el.getprevious() is not None:
                        del root[0]
                elif ln == "Envelope":
                    bb = el.getparent()
                    if bb is not None and bb.getparent() is root:
                        self._file_envelope(el)
                elif ln == "EngineeringCRS":
                    self._engineering_crs(el)
        except etree.XMLSyntaxError as err:
            msg = str(err).splitlines()[0]
            raise TwinFormatError(f"{self.path}: malformed or truncated XML ({msg})") from err
        finally:
            del context
            fh.close()
        if self.counts["buildings"] == 0:
            self.notes.add(f"{self.path.name}: no Building in the file")

    def _file_envelope(self, env) -> None:
        if env.get("srsName"):
            self.srs_name = env.get("srsName")
        dim = env.get("srsDimension")
        if dim and dim.isdigit():
            self.dim = int(dim)
        lower = upper = None
        for c in env:
            ln = _ln(c.tag)
            if ln in ("lowerCorner", "pos") and lower is None:
                lower = c.text
            elif ln in ("upperCorner", "pos"):
                upper = c.text
        try:
            lo = [float(v) for v in lower.split()]
            hi = [float(v) for v in upper.split()]
            self.bounds = (lo[0], lo[1], hi[0], hi[1])
        except (AttributeError, ValueError, IndexError):
            pass

    def _engineering_crs(self, el) -> None:
        oid = next((el.get(k) for k in _GML_IDS if el.get(k)), None)
        for a in el.iter("{*}anchorPoint", "{*}anchorDefinition"):
            cs = a.get("codeSpace")
            try:
                vals = np.array([float(v) for v in (a.text or "").split()])
            except ValueError:
                continue
            if oid and cs and vals.size >= 2:
                try:
                    base = parse_crs_name(cs, where=str(self.path))
                except TwinCRSError:
                    continue
                anchor = np.zeros(3)
                anchor[: min(3, vals.size)] = vals[:3]
                self._engineering[oid] = (base, anchor)

    # -- one building ------------------------------------------------------------------------------
    def _building(self, bel) -> Iterator[Piece]:
        self.counts["buildings"] += 1
        self._settle_crs(bel)
        self._ids = None
        self._bel = bel
        self._rt, self._rd, self._rr = [], [], []
        top = self._read_object(bel)
        bid = top.oid or f"building-{self.counts['buildings']}"
        parts = []
        stack = list(top.parts)
        while stack:
            praw = self._read_object(stack.pop(0))
            parts.append(praw)
            stack.extend(praw.parts)
        self.counts["parts"] += len(parts)
        pieces = []
        top_piece = self._piece(top, bid, bid, None)
        part_pieces = [self._piece(p, p.oid or f"{bid}-part{i + 1}", bid, top) for i, p in enumerate(parts)]
        part_pieces = [pp for pp in part_pieces if pp is not None]
        if top_piece is None and len(part_pieces) == 1:
            only = part_pieces[0]
            only.external_id = bid
            if not (only.measured_height > 0) and top.measured > 0:
                only.measured_height, only.height_reference, only.height_attribute = top.measured, top.height_ref, top.height_attr
            pieces = [only]
        else:
            pieces = ([top_piece] if top_piece is not None else []) + part_pieces
        pieces = self._materialize(pieces)
        if not pieces:
            self.counts["without_geometry"] += 1
            return
        self.counts["pieces"] += len(pieces)
        self._ids = None
        self._bel = None
        yield from pieces

    def _piece(self, raw: _Raw, pid: str, bid: str, parent: _Raw | None) -> Piece | None:
        """Choose the level of detail and walk only its geometry (solids referencing listed surfaces are skipped).

        The piece's ``polygons`` and ``footprint`` hold ring ids until :meth:`_materialize` turns them into
        :class:`~importers._city3d.Polygons`.
        """
        lod = None
        polys: list = []
        footprint: list = []
        for L in _LOD_ORDER:
            if L == 0:
                footprint = [r for el in raw.footprint + raw.plain.get(0, []) for _, r in self._polygons_of(el)]
                polys = [("roof", r) for el in raw.roofedge for _, r in self._polygons_of(el)]
                polys += [(t, r) for t, el in raw.semantic.get(0, []) for _, r in self._polygons_of(el)]
                if footprint or polys:
                    lod = 0
                    break
                continue
            if raw.semantic.get(L):
                polys = [(t, r) for t, el in raw.semantic[L] for _, r in self._polygons_of(el)]
            if not polys and raw.plain.get(L):
                polys = [("", r) for el in raw.plain[L] for _, r in self._polygons_of(el)]
            if polys:
                lod = L
                break
        if lod is None:
            return None
        name = raw.name or (parent.name if parent else "")
        year = raw.year or (parent.year if parent else 0)
        function = raw.function or (parent.function if parent else "")
        floors = raw.floors or (parent.floors if parent and not parent.parts[1:] else 0)
        code = function.split("_")[-1] if function else ""
        use = FUNCTION_TO_USE.get(code.lower(), FUNCTION_TO_USE.get(function.lower(), "unknown")) if function else "unknown"
        return Piece(
            external_id=pid, building=bid, lod=min(lod, 2) if lod != 1 and lod != 0 else lod, polygons=polys,
            footprint=footprint, name=name, measured_height=raw.measured, height_reference=raw.height_ref,
            height_attribute=raw.height_attr, floors=floors, year=year, use=use,
            use_source="citygml:function" if use != "unknown" else "", function=function,
        )

    def _read_object(self, el) -> _Raw:
        raw = _Raw(oid=el.get(_GML_IDS[0]) or el.get(_GML_IDS[1]) or "")
        lods = _LOD_PROPS
        for child in el.iterchildren(*_CHILD_TAGS):
            tag = child.tag
            m = lods.get(tag)
            if m is None:
                m = _lod_of(tag)
            if m:
                lod, kind = m
                if kind == "FootPrint":
                    raw.footprint.append(child)
                elif kind == "RoofEdge":
                    raw.roofedge.append(child)
                else:
                    raw.plain.setdefault(lod, []).append(child)
                continue
            ln = _ln(tag)
            if ln in _BOUNDARY_PROPS:
                for surf in child:
                    stype = _SURFACES.get(surf.tag)
                    if stype is None:
                        stype = _surface_type(surf.tag)
                    if not stype:
                        continue
                    for prop in surf:
                        m2 = lods.get(prop.tag)
                        if m2 is None:
                            m2 = _lod_of(prop.tag)
                        if m2:
                            raw.semantic.setdefault(m2[0], []).append((stype, prop))
            elif ln in _PART_PROPS:
                for part in child:
                    if _ln(part.tag) == "BuildingPart":
                        raw.parts.append(part)
                if child.get(_XLINK_HREF):
                    target = self._resolve(child.get(_XLINK_HREF))
                    if target is not None and _ln(target.tag) == "BuildingPart":
                        raw.parts.append(target)
            elif ln == "measuredHeight":
                v = _float(child.text)
                if v is not None:
                    raw.measured, raw.height_ref, raw.height_attr = _to_metres(v, child.get("uom")), "top", "measuredHeight"
            elif ln == "height":  # CityGML 3.0 con:height/con:Height
                self._read_height3(child, raw)
            elif ln == "storeysAboveGround":
                v = _float(child.text)
                if v is not None and v > 0:
                    raw.floors = int(v)
            elif ln == "yearOfConstruction":
                v = _float(child.text)
                if v is not None and 1000 <= v <= 2100:
                    raw.year = int(v)
            elif ln == "dateOfConstruction":
                m3 = re.match(r"^\s*(\d{4})", child.text or "")
                if m3 and 1000 <= int(m3.group(1)) <= 2100:
                    raw.year = int(m3.group(1))
            elif ln in ("function", "usage") and not raw.function:
                raw.function = (child.text or "").strip()
            elif ln == "name" and not raw.name:
                t = (child.text or "").strip()
                if t and t.lower() not in ("inconnu", "unknown") and t != raw.oid:
                    raw.name = t
        return raw

    def _read_height3(self, el, raw: _Raw) -> None:
        high = ""
        value = None
        uom = None
        for h in el.iter("{*}highReference", "{*}value"):
            if _ln(h.tag) == "highReference":
                high = (h.text or "").strip()
            else:
                value = _float(h.text)
                uom = h.get("uom")
        if value is None or value <= 0:
            return
        ref = "eaves" if high in ("lowestRoofEdge", "lowestEaves", "highestEaves") else "top"
        # prefer a top-referenced height when several are given
        if np.isnan(raw.measured) or (ref == "top" and raw.height_ref != "top"):
            raw.measured, raw.height_ref, raw.height_attr = _to_metres(value, uom), ref, f"height({high or 'unspecified'})"

    # -- geometry ------------------------------------------------------------------------------------
    def _resolve(self, href: str):
        if not href.startswith("#"):
            self.counts["unresolved_xlinks"] += 1
            return None
        if self._ids is None:
            self._ids = {}
            for e in self._bel.iter(*_ID_TAGS):
                for k in _GML_IDS:
                    v = e.get(k)
                    if v:
                        self._ids[v] = e
        target = self._ids.get(href[1:])
        if target is None:
            self.counts["unresolved_xlinks"] += 1
        return target

    def _polygons_of(self, prop, depth: int = 0, reverse: bool = False) -> list:
        """All polygons under a geometry property (inline or by xlink): a list of ('', [ring ids]).

        One pass over the polygons, their boundaries, the coordinate elements and the members that may
        hold an xlink, in document order: a polygon's rings are the coordinate elements under its
        ``exterior``/``interior`` (grouped by their parent, the ring), exterior first. The numbers are
        parsed later, once per building (:meth:`_materialize`).
        """
        out: list = []
        if depth > 8:
            return out
        dim = self.dim
        d = prop.get("srsDimension")
        if d is None and len(prop):
            d = prop[0].get("srsDimension")
        if d and d.isdigit():
            dim = int(d)
        kinds = _KINDS
        rt, rd, rr = self._rt, self._rd, self._rr
        poly = None       # the polygon being read, its ring ids, the reversal of its rings
        rings: list = []
        rev = reverse
        bnd = None        # its latest boundary element and whether it is the exterior
        bnd_ext = False
        ring = None       # the parent of the coordinate elements being gathered, their texts, ...
        texts: list = []
        r_ext = False
        r_dim = dim
        orientable = False  # an OrientableSurface seen: polygons below it may be reversed
        for e in prop.iter():
            k = kinds.get(e.tag)
            if k is None:
                k = _kind(e.tag)
            if k == _K_OTHER:
                continue
            if k >= _K_COORD:
                if poly is None:
                    continue
                t = e.text
                if not t:
                    continue
                p = e.getparent()
                if p is not ring:
                    if texts:
                        rid = len(rt)
                        rt.append(texts[0] if len(texts) == 1 else " ".join(texts))
                        rd.append(r_dim)
                        rr.append(rev)
                        if r_ext:
                            rings.insert(0, rid)
                        else:
                            rings.append(rid)
                        texts = []
                    ring = None
                    b = p.getparent()
                    if bnd is not None and b is bnd:
                        r_ext = bnd_ext
                    else:  # not LinearRing/posList: climb to the boundary (gml:Ring, curves...)
                        b = p
                        while b is not None and b is not poly and b is not prop:
                            kb = kinds.get(b.tag)
                            if kb is None:
                                kb = _kind(b.tag)
                            if kb == _K_EXTERIOR or kb == _K_INTERIOR:
                                break
                            b = b.getparent()
                        if b is None or b is poly or b is prop:
                            continue
                        r_ext = kinds[b.tag] == _K_EXTERIOR
                    ring = p
                    r_dim = dim
                cd = e.get("srsDimension")
                if cd:
                    r_dim = int(cd) if cd.isdigit() else r_dim
                if k == _K_COORDINATES:
                    t = t.replace(",", " ")
                texts.append(t)
            elif k == _K_EXTERIOR or k == _K_INTERIOR:
                bnd = e
                bnd_ext = k == _K_EXTERIOR
            elif k == _K_ORIENTABLE:
                orientable = True
            else:
                if poly is not None:  # the previous polygon is complete
                    if texts:
                        rid = len(rt)
                        rt.append(texts[0] if len(texts) == 1 else " ".join(texts))
                        rd.append(r_dim)
                        rr.append(rev)
                        if r_ext:
                            rings.insert(0, rid)
                        else:
                            rings.append(rid)
                        texts = []
                    if rings:
                        out.append(("", rings))
                    elif poly is not prop:
                        self.counts["skipped_polygons"] += 1
                    poly = None
                    ring = None
                    bnd = None
                if k == _K_POLYGON:
                    poly = e
                    rings = []
                    rev = reverse ^ (orientable and self._reversed(e, prop))
                elif len(e) == 0:
                    href = e.get(_XLINK_HREF)
                    if href is None:
                        continue
                    target = self._resolve(href)
                    if target is not None:
                        frev = reverse ^ (orientable and self._reversed(e, prop))
                        out.extend(self._polygons_of(target, depth + 1, frev))
        if poly is not None:
            if texts:
                rid = len(rt)
                rt.append(texts[0] if len(texts) == 1 else " ".join(texts))
                rd.append(r_dim)
                rr.append(rev)
                if r_ext:
                    rings.insert(0, rid)
                else:
                    rings.append(rid)
            if rings:
                out.append(("", rings))
            elif poly is not prop:
                self.counts["skipped_polygons"] += 1
        return out

    @staticmethod
    def _reversed(e, stop) -> bool:
        """Whether an odd number of OrientableSurface orientation="-" lie between ``e`` and ``stop``."""
        flip = False
        p = e.getparent()
        while p is not None and p is not stop:
            if _ln(p.tag) == "OrientableSurface" and p.get("orientation") == "-":
                flip = not flip
            p = p.getparent()
        return flip

    def _parse_rings(self) -> tuple:
        """Coordinates of every ring recorded for the building: ``(coords, starts, flags)``.

        Ring ``r`` is ``coords[starts[r]:starts[r + 1]]``, closed; unusable when ``flags[r]`` is not 0.

        One kernel call parses all the building's numbers (exactly as Python's ``float``) and cuts them
        into closed rings; Python's ``float`` is used only for what the kernel cannot decide.
        """
        texts = self._rt
        n = len(texts)
        rd, rr = self._rd, self._rr
        dims = _DIMS_3 if rd.count(3) == n else np.array(rd, np.int64)
        flip = np.array(rr, np.uint8) if True in rr else _NO_FLIP
        joined = "|".join(texts)
        status = 1
        if joined.isascii():
            coords, starts, flags, status = parse_rings(np.frombuffer(joined.encode("ascii"), np.uint8), dims, flip,
                                                        *powers_of_ten_128())
            if status == 0 and len(starts) != n + 1:
                status = 2  # a '|' in the text
        if status != 0:
            try:
                arrays = [np.array(t.split(), dtype=np.float64) for t in texts]
            except ValueError:
                raise TwinFormatError(f"{self.path}: non-numeric coordinates in building {self._bel_id()}") from None
            ends = np.cumsum([a.size for a in arrays], dtype=np.int64)
            vals = np.concatenate(arrays) if arrays else np.zeros(0)
            coords, starts, flags = shape_rings(vals, ends, dims, flip)
        self._rings_complete = np.count_nonzero(flags) == 0
        if not self._rings_complete:
            self.counts["skipped_polygons"] += int((flags == 1).sum())
        return coords, starts, flags

    def _materialize(self, pieces: list[Piece]) -> list[Piece]:
        """Parse the coordinates the chosen polygons need (one pass per building) and place them.

        Each piece's polygons (lists of ring ids until now) become one :class:`Polygons`: a slice of
        the building's coordinates when its rings are in order (the usual case), else a gather.
        """
        if not self._rt:
            return []
        coords, starts, flags = self._parse_rings()
        complete = self._rings_complete
        out = []
        skipped = 0
        for p in pieces:
            polys = p.polygons
            if not complete:
                kept = []
                for t, poly in polys:
                    if flags[poly[0]]:
                        skipped += 1
                    else:
                        kept.append((t, [i for i in poly if not flags[i]]))
                polys = kept
            p.polygons = self._ragged(coords, starts, [r for _, poly in polys for r in poly],
                                      [len(poly) for _, poly in polys], [t for t, _ in polys])
            if p.footprint:
                fps = p.footprint
                if not complete:
                    n0 = len(fps)
                    fps = [[i for i in poly if not flags[i]] for poly in fps if not flags[poly[0]]]
                    skipped += n0 - len(fps)
                p.footprint = self._ragged(coords, starts, [r for poly in fps for r in poly], [len(poly) for poly in fps],
                                           [""] * len(fps))
            else:
                p.footprint = None
            if len(p.polygons) or (p.footprint is not None and len(p.footprint)):
                out.append(p)
        if skipped:
            self.counts["skipped_polygons"] += skipped
        return out

    def _ragged(self, coords, starts, ring_ids: list, poly_rings: list, types: list) -> Polygons:
        """The polygons made of rings ``ring_ids`` of the building (``poly_rings`` rings each), placed."""
        nr = len(ring_ids)
        if nr == 0:
            return Polygons(np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0, np.int64), [])
        a = ring_ids[0]
        if ring_ids[-1] == a + nr - 1 and ring_ids == list(range(a, a + nr)):  # in order: a slice
            ring_len = starts[a + 1:a + nr + 1] - starts[a:a + nr]
            c = coords[starts[a]:starts[a + nr]]
        else:
            ids = np.array(ring_ids, np.int64)
            ring_len = starts[ids + 1] - starts[ids]
            c = coords[_gather(starts[ids], ring_len)]
        if self._has_offset:
            c = c + self._offset
        if self._transformer is not None and len(c):
            x, y = self._transformer.transform(c[:, 0], c[:, 1])
            c = np.column_stack([x, y, c[:, 2]])
        return Polygons(c, ring_len, np.array(poly_rings, np.int64), types)

    def _bel_id(self) -> str:
        if self._bel is None:
            return "?"
        return next((self._bel.get(k) for k in _GML_IDS if self._bel.get(k)), "?")


def CRS_is_geographic(crs) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs).is_geographic
    except (CRSError, TypeError):
        return False


def _float(text):
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def _to_metres(value: float, uom: str | None) -> float:
    if not uom or uom[-1] not in "tT":  # "m", "#m", "urn:...:metre": no regular expression needed
        return value
    if re.search(r"(^|[#:/])(ft|foot|feet)$", uom.strip(), re.I):
        return value * 0.3048
    return value


@dataclass
class CityModel:
    """Buildings and their surfaces from a 3D city model file.

    Attributes
    ----------
    path : Path
    crs : str
        CRS of the tables (``to_crs`` when given).
    version : str
        ``"2.0"``, ``"3.0"``... (CityGML) or the CityJSON version.
    buildings : GeoDataFrame
        One row per building (or building part with its own geometry): 2D footprint, ``external_id``,
        ``building`` (the top-level id), ``height`` (NaN when unknown), ``roof_height``, ``ground_z``,
        ``floors``, ``use``, ``year``, ``lod``, ``*_source``, ``measured_height``, ``function``.
    surfaces : GeoDataFrame
        Semantic surfaces: ``external_id`` of the row they bound, ``surface`` (roof, wall, ground,
        closure), ``area`` [m2], ``slope`` [degree], ``azimuth`` [degree], 3D polygon.
    counts : dict
    notes : list of str
    """

    path: Path
    crs: str
    version: str
    buildings: gpd.GeoDataFrame
    surfaces: gpd.GeoDataFrame
    counts: dict
    notes: Notes
    kind: str = "citygml"


def read_citygml(path, *, crs=None, default_crs=None, to_crs=None, surfaces: bool = True) -> CityModel:
    """Read the buildings of a CityGML 1.0/2.0/3.0 file (streamed).

    Parameters
    ----------
    path : str or Path
    crs : optional
        CRS of the coordinates, overriding the file's srsName.
    default_crs : optional
        CRS assumed when the file names none (Lyon Métropole: EPSG:3946).
    to_crs : optional
        CRS of the returned tables (coordinates transformed; altitudes kept).
    surfaces : bool
        Also return the semantic surfaces (3D polygons). Without them, memory stays flat whatever
        the file size.

    Returns
    -------
    CityModel

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is empty, not XML, not CityGML, truncated or malformed, or declares entities or
        an external DTD (refused for security).
    TwinCRSError
        If the file names no CRS and none is given.

    Examples
    --------
    >>> model = read_citygml("LYON_1ER_BATI_2015.gml", default_crs="EPSG:3946")  # doctest: +SKIP
    >>> model.buildings[["external_id", "height", "roof_height"]]  # doctest: +SKIP
    """
    stream = CityGMLStream(path, crs=crs, default_crs=default_crs, to_crs=to_crs)
    tables = CityTables(keep_surfaces=surfaces, source="citygml")
    for piece in stream:
        tables.add(piece)
    out_crs = stream.to_crs or stream.crs or stream._override or stream._default
    if out_crs is None:
        # no building at all: nothing needed a CRS
        out_crs = "EPSG:2154"
    tables.flush()  # the last batch: its rows and repair counts belong in the counts
    counts = dict(stream.counts)
    counts.update({k: v for k, v in tables.counts.items() if k != "pieces"})
    counts["rows"] = len(tables.footprints)
    return CityModel(
        path=stream.path, crs=out_crs, version=stream.version, buildings=tables.buildings(out_crs),
        surfaces=tables.surfaces(out_crs), counts=counts, notes=stream.notes,
    )
