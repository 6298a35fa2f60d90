"""CityJSON 1.0/1.1/2.0 and CityJSONSeq (``.jsonl``) buildings -> buildings and building_surfaces tables.

* Vertices are integers scaled by ``transform`` (scale, translate), or plain numbers (1.0 without transform).
* Each Building / BuildingPart with geometry becomes a row (a building whose only geometry is its
  single part becomes one row with the building's id), as for CityGML.
* Of the level-of-detail variants an object carries (``"1.2"``, ``"1.3"``, ``"2.2"``...), the most
  detailed one below LoD3 is used; LoD3 only when nothing else exists (read as LoD2).
* Semantics (``RoofSurface``, ``WallSurface``, ``GroundSurface``...) are kept per surface; faces
  without semantics are classified by orientation.
* Heights from the geometry (eaves - ground); attributes ``measuredHeight``, ``RelativeRidgeHeight``
  (top) and ``RelativeEavesHeight`` (eaves) when there is no usable geometry; construction year from
  ``yearOfConstruction`` or the Dutch BAG ``oorspronkelijk_bouwjaar``.
* The CRS from ``metadata.referenceSystem`` (any spelling, compound codes split: 7415 -> 28992);
  a file without one needs ``crs``/``default_crs``.
* CityJSONSeq is streamed line by line: the first line holds the transform and metadata, each
  following line one feature with its own vertices.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from importers._city3d import FUNCTION_TO_USE, SURFACE_TYPES, CityTables, Piece, Polygons
from importers._common import Notes, check_file, crs_hint, horizontal_crs, parse_crs_name, same_crs
from importers.citygml import CityModel
from twin.errors import TwinCRSError, TwinFormatError

__all__ = ["read_cityjson"]

_BUILDING_TYPES = ("Building", "BuildingPart")
_TOP_HEIGHT_ATTRS = ("measuredHeight", "RelativeRidgeHeight", "height")
_EAVES_HEIGHT_ATTRS = ("RelativeEavesHeight",)
_YEAR_ATTRS = ("yearOfConstruction", "oorspronkelijk_bouwjaar", "construction_year")
_GROUND_ATTRS = ("h_maaiveld", "b3_h_maaiveld", "TerrainHeight")


def _lod_value(lod) -> float:
    try:
        return float(lod)
    except (TypeError, ValueError):
        return -1.0


def _lod_rank(lod: float) -> tuple:
    """Sort key: the most detailed below 3 first, then 3 and above."""
    return (0, -lod) if lod < 3 else (1, lod)


class _Reader:
    def __init__(self, path: Path, header: dict, *, crs, default_crs, to_crs, notes: Notes):
        self.path = path
        self.notes = notes
        t = header.get("transform")
        if t is not None:
            try:
                self.scale = np.asarray(t["scale"], dtype=np.float64)
                self.translate = np.asarray(t["translate"], dtype=np.float64)
            except (KeyError, TypeError, ValueError) as err:
                raise TwinFormatError(f"{path}: invalid transform ({err})") from err
        else:
            self.scale = self.translate = None
        ref = (header.get("metadata") or {}).get("referenceSystem")
        file_crs = parse_crs_name(ref, where=str(path)) if ref else None
        if crs is not None:
            self.crs = horizontal_crs(crs, where=str(path))
        elif file_crs is not None:
            self.crs = file_crs
        elif default_crs is not None:
            self.crs = horizontal_crs(default_crs, where=str(path))
            notes.add(f"{path.name}: no metadata.referenceSystem; assumed {self.crs}")
        else:
            self.crs = None
        self.to_crs = horizontal_crs(to_crs, where=str(path)) if to_crs is not None else None
        self.transformer = None
        self.counts = {"buildings": 0, "parts": 0, "pieces": 0, "without_geometry": 0, "templates": 0}

    def need_crs(self, sample_xy) -> None:
        if self.crs is None:
            hint = crs_hint(*sample_xy) if sample_xy is not None else ""
            raise TwinCRSError(f"{self.path}: no metadata.referenceSystem{f' ({hint})' if hint else ''}; "
                               f"give the CRS with --source-crs or --crs (Python: crs=...)")
        if self.to_crs is not None and self.transformer is None and not same_crs(self.crs, self.to_crs):
            from pyproj import Transformer

            self.transformer = Transformer.from_crs(self.crs, self.to_crs, always_xy=True)
            self.notes.add(f"{self.path.name}: coordinates transformed from {self.crs} to {self.to_crs}")

    def vertices(self, raw) -> np.ndarray:
        try:
            v = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TwinFormatError(f"{self.path}: invalid vertices ({err})") from err
        if v.size == 0:
            return np.zeros((0, 3))
        if v.ndim != 2 or v.shape[1] != 3:
            raise TwinFormatError(f"{self.path}: vertices must be [x, y, z] triples")
        if self.scale is not None:
            v = v * self.scale + self.translate
        if self.transformer is not None:
            x, y = self.transformer.transform(v[:, 0], v[:, 1])
            v = np.column_stack([x, y, v[:, 2]])
        return v

    # -- objects -----------------------------------------------------------------------------------
    def pieces(self, objects: dict, verts: np.ndarray):
        """Pieces of the buildings among ``objects`` (a dict id -> CityObject)."""
        for oid, obj in objects.items():
            if not isinstance(obj, dict) or obj.get("type") != "Building":
                continue
            if obj.get("parents"):
                continue  # a building inside another is handled through its parent
            self.counts["buildings"] += 1
            parts_ids = [c for c in obj.get("children", []) if objects.get(c, {}).get("type") == "BuildingPart"]
            self.counts["parts"] += len(parts_ids)
            top = self._piece(oid, oid, obj, None, verts)
            parts = [self._piece(pid, oid, objects[pid], obj, verts) for pid in parts_ids]
            parts = [p for p in parts if p is not None]
            if top is None and len(parts) == 1:
                only = parts[0]
                only.external_id = oid
                if not (only.measured_height > 0):
                    h, ref, name = _height_attr(obj.get("attributes") or {})
                    only.measured_height, only.height_reference, only.height_attribute = h, ref, name
                out = [only]
            else:
                out = ([top] if top is not None else []) + parts
            if not out:
                self.counts["without_geometry"] += 1
                continue
            self.counts["pieces"] += len(out)
            yield from out

    def _piece(self, pid, bid, obj, parent, verts) -> Piece | None:
        geoms = [g for g in obj.get("geometry", []) if isinstance(g, dict)]
        usable = []
        for g in geoms:
            if g.get("type") == "GeometryInstance":
                self.counts["templates"] += 1
                continue
            if g.get("type") in ("MultiSurface", "CompositeSurface", "Solid", "MultiSolid", "CompositeSolid"):
                usable.append(g)
        if not usable:
            return None
        best = min(usable, key=lambda g: _lod_rank(_lod_value(g.get("lod"))))
        lod = _lod_value(best.get("lod"))
        polys = self._polygons(best, verts)
        if not polys:
            return None
        attrs = obj.get("attributes") or {}
        pattrs = (parent.get("attributes") or {}) if parent else {}
        h, ref, name = _height_attr(attrs)
        year = _year(attrs) or _year(pattrs)
        function = str(attrs.get("function", pattrs.get("function", "")) or "")
        use = FUNCTION_TO_USE.get(function.lower(), "unknown") if function else "unknown"
        floors = attrs.get("storeysAboveGround") or 0
        try:
            floors = int(floors)
        except (TypeError, ValueError):
            floors = 0
        gz = next((attrs[k] for k in _GROUND_ATTRS if isinstance(attrs.get(k), (int, float))), None)
        L = int(lod) if lod >= 0 else 2
        return Piece(
            external_id=pid, building=bid, lod=min(L, 2), polygons=Polygons.from_lists(polys), name=str(attrs.get("name", "") or ""),
            measured_height=h, height_reference=ref, height_attribute=name, floors=floors, year=year, use=use,
            use_source="cityjson:function" if use != "unknown" else "", function=function,
            ground_z_attribute=float(gz) if gz is not None else np.nan, source="cityjson",
        )

    def _polygons(self, g: dict, verts: np.ndarray) -> list:
        t = g["type"]
        b = g.get("boundaries", [])
        sem = g.get("semantics") or {}
        surfaces = sem.get("surfaces", [])
        values = sem.get("values")
        out = []

        def surface_type(idx):
            if idx is None or not isinstance(idx, int) or idx < 0 or idx >= len(surfaces):
                return ""
            return SURFACE_TYPES.get(surfaces[idx].get("type", ""), None)

        def add(surface, idx):
            st = surface_type(idx)
            if st is None:  # Window, Door...: not envelope surfaces
                return
            rings = []
            for ring in surface:
                try:
                    r = verts[np.asarray(ring, dtype=np.int64)]
                except (IndexError, ValueError, TypeError):
                    raise TwinFormatError(f"{self.path}: a ring refers to vertices that do not exist") from None
                if len(r) and not np.array_equal(r[0], r[-1]):
                    r = np.vstack([r, r[:1]])
                rings.append(r)
            if rings and len(rings[0]) >= 4:
                out.append((st, rings))

        def vals(path):
            v = values
            for k in path:
                if v is None:
                    return None
                try:
                    v = v[k]
                except (IndexError, TypeError):
                    return None
            return v

        if t in ("MultiSurface", "CompositeSurface"):
            for i, s in enumerate(b):
                add(s, vals([i]))
        elif t == "Solid":
            for si, shell in enumerate(b):
                for i, s in enumerate(shell):
                    add(s, vals([si, i]))
        else:  # MultiSolid, CompositeSolid
            for di, solid in enumerate(b):
                for si, shell in enumerate(solid):
                    for i, s in enumerate(shell):
                        add(s, vals([di, si, i]))
        return out


def _height_attr(attrs: dict):
    for k in _TOP_HEIGHT_ATTRS:
        v = attrs.get(k)
        if isinstance(v, (int, float)) and v > 0:
            return float(v), "top", k
    for k in _EAVES_HEIGHT_ATTRS:
        v = attrs.get(k)
        if isinstance(v, (int, float)) and v > 0:
            return float(v), "eaves", k
    return float("nan"), "top", ""


def _year(attrs: dict) -> int:
    for k in _YEAR_ATTRS:
        v = attrs.get(k)
        try:
            y = int(str(v)[:4]) if v is not None else 0
        except ValueError:
            continue
        if 1000 <= y <= 2100:
            return y
    return 0


def read_cityjson(path, *, crs=None, default_crs=None, to_crs=None, surfaces: bool = True) -> CityModel:
    """Read the buildings of a CityJSON file (``.json``, ``.city.json``) or CityJSONSeq (``.jsonl``).

    Parameters
    ----------
    path : str or Path
    crs : optional
        CRS of the coordinates, overriding ``metadata.referenceSystem``.
    default_crs : optional
        CRS assumed when the file names none.
    to_crs : optional
        CRS of the returned tables.
    surfaces : bool
        Also return the surfaces table.

    Returns
    -------
    CityModel

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is empty, not JSON, not CityJSON, or refers to missing vertices.
    TwinCRSError
        If it names no CRS and none is given.
    """
    p = check_file(path, what="CityJSON file")
    notes = Notes()
    tables = CityTables(keep_surfaces=surfaces, source="cityjson")
    with open(p, "rb") as f:
        first = f.readline()
        rest_is_seq = False
        try:
            head = json.loads(first)
            rest_is_seq = isinstance(head, dict) and head.get("type") == "CityJSON" and bool(f.readline().strip())
        except (json.JSONDecodeError, UnicodeDecodeError):
            head = None
    if rest_is_seq:
        reader = _Reader(p, head, crs=crs, default_crs=default_crs, to_crs=to_crs, notes=notes)
        version = str(head.get("version", ""))
        with open(p, "rb") as f:
            f.readline()
            for lineno, line in enumerate(f, start=2):
                if not line.strip():
                    continue
                try:
                    feat = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    raise TwinFormatError(f"{p}: line {lineno} is not valid JSON ({err.msg if hasattr(err, 'msg') else err})") from err
                if not isinstance(feat, dict) or feat.get("type") != "CityJSONFeature":
                    raise TwinFormatError(f"{p}: line {lineno} is not a CityJSONFeature")
                raw = feat.get("vertices", [])
                if reader.crs is None or reader.to_crs is not None:
                    reader.need_crs(_sample(raw, reader))
                verts = reader.vertices(raw)
                for piece in reader.pieces(feat.get("CityObjects", {}), verts):
                    tables.add(piece)
    else:
        try:
            with open(p, "rb") as f:
                doc = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise TwinFormatError(f"{p}: not valid JSON ({getattr(err, 'msg', err)})") from err
        if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
            raise TwinFormatError(f"{p}: not a CityJSON file (no \"type\": \"CityJSON\")")
        version = str(doc.get("version", ""))
        reader = _Reader(p, doc, crs=crs, default_crs=default_crs, to_crs=to_crs, notes=notes)
        objects = doc.get("CityObjects", {})
        if not isinstance(objects, dict):
            raise TwinFormatError(f"{p}: CityObjects must be an object")
        if any(isinstance(o, dict) and o.get("type") == "Building" for o in objects.values()):
            reader.need_crs(_sample(doc.get("vertices", []), reader))
        verts = reader.vertices(doc.get("vertices", []))
        for piece in reader.pieces(objects, verts):
            tables.add(piece)
    out_crs = reader.to_crs or reader.crs or "EPSG:2154"
    tables.flush()  # the last batch: its rows and repair counts belong in the counts
    counts = dict(reader.counts)
    counts.update({k: v for k, v in tables.counts.items() if k != "pieces"})
    counts["rows"] = len(tables.footprints)
    if counts["buildings"] == 0:
        notes.add(f"{p.name}: no Building in the file")
    return CityModel(path=p, crs=out_crs, version=version, buildings=tables.buildings(out_crs),
                     surfaces=tables.surfaces(out_crs), counts=counts, notes=notes, kind="cityjson")


def _sample(raw, reader: _Reader):
    try:
        v = np.asarray(raw[0], dtype=np.float64)
    except (IndexError, TypeError, ValueError):
        return None
    if reader.scale is not None:
        v = v * reader.scale + reader.translate
    return (float(v[0]), float(v[1]))
