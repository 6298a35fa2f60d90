"""Retrofits: measures on chosen buildings, a small rule language to choose them, costs and paybacks.

Measures (``data/retrofit.csv``) set a parameter (``walls``: ``u_wall = 0.25``), scale it
(``airtightness``: ``infiltration_ach x 0.5``) or replace the heating system (``heat_pump``). They are
written on a copy of the buildings table as ``retrofit_<parameter>`` / ``retrofit_scale_<parameter>``
columns (and ``retrofit_measures``, the list), which the model applies after the archetypes and the
buildings' own data; the model run without them (``use_retrofit=False``) is the state before.

Rules choose buildings without ever evaluating code: a tiny grammar parsed by recursive descent into
vectorised pandas comparisons::

    rule    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | atom
    atom    := "(" rule ")" | "all" | COLUMN | COLUMN OP VALUE | COLUMN ["not"] "in" "(" VALUE ("," VALUE)* ")"
    OP      := "<" | "<=" | ">" | ">=" | "==" | "=" | "!="
    VALUE   := number | 'text' | "text" | word

e.g. ``"use == school and year < 1975"``, ``"public and year < 1975"``,
``"use in (school, town_hall) and area >= 1000"``. Columns: see :data:`RULE_COLUMNS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.energy.archetypes import PARAMETERS, archetype_table, load_table, resolve_buildings
from twin.errors import TwinValueError

__all__ = [
    "COST_BASES",
    "RULE_COLUMNS",
    "apply_retrofit",
    "building_facts",
    "measures",
    "parse_rule",
    "retrofit_costs",
    "select_buildings",
]

#: Columns a rule can test (see :func:`building_facts`).
RULE_COLUMNS = ("id", "use", "year", "period", "floors", "height", "area", "footprint", "dwellings", "public",
                "tertiary", "conditioned", "name")

_TOKEN = re.compile(r"\s*(?:(<=|>=|==|!=|<|>|=)|([(),])|'([^']*)'|\"([^\"]*)\"|([-+]?\d+(?:\.\d+)?)|([A-Za-z_][\w\-]*))")


def _tokens(text: str):
    pos = 0
    out = []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise TwinValueError(f"rule {text!r}: cannot read {text[pos:]!r}")
        op, punct, sq, dq, num, word = m.groups()
        if op:
            out.append(("op", "==" if op == "=" else op))
        elif punct:
            out.append((punct, punct))
        elif sq is not None or dq is not None:
            out.append(("str", sq if sq is not None else dq))
        elif num is not None:
            out.append(("num", float(num)))
        else:
            low = word.lower()
            out.append(("kw", low) if low in ("and", "or", "not", "in", "all") else ("word", word))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, *kinds):
        if self.i < len(self.toks):
            kind, val = self.toks[self.i]
            if kind in kinds or (kind == "kw" and val in kinds):
                return self.toks[self.i]
        return None

    def take(self, *kinds, what="a value"):
        t = self.peek(*kinds)
        if t is None:
            got = repr(self.toks[self.i][1]) if self.i < len(self.toks) else "the end"
            raise TwinValueError(f"rule {self.text!r}: expected {what}, found {got}")
        self.i += 1
        return t

    def parse(self):
        if not self.toks:
            raise TwinValueError("rule '': empty")
        node = self.or_()
        if self.i != len(self.toks):
            raise TwinValueError(f"rule {self.text!r}: unexpected {self.toks[self.i][1]!r}")
        return node

    def or_(self):
        node = self.and_()
        while self.peek("or"):
            self.i += 1
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.peek("and"):
            self.i += 1
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.peek("not"):
            self.i += 1
            return ("not", self.not_())
        return self.atom()

    def value(self):
        _, val = self.take("num", "str", "word", what="a value")
        return val

    def atom(self):
        if self.peek("("):
            self.i += 1
            node = self.or_()
            self.take(")", what="')'")
            return node
        if self.peek("all"):
            self.i += 1
            return ("all",)
        _, col = self.take("word", what="a column name")
        if col not in RULE_COLUMNS:
            raise TwinValueError(f"rule {self.text!r}: unknown column {col!r}; expected one of {', '.join(RULE_COLUMNS)}")
        negate = False
        if self.peek("not"):
            self.i += 1
            negate = True
            if not self.peek("in"):
                raise TwinValueError(f"rule {self.text!r}: expected 'in' after 'not'")
        if self.peek("in"):
            self.i += 1
            self.take("(", what="'('")
            vals = [self.value()]
            while self.peek(","):
                self.i += 1
                vals.append(self.value())
            self.take(")", what="')'")
            node = ("in", col, tuple(vals))
            return ("not", node) if negate else node
        if self.peek("op"):
            _, op = self.take("op")
            return ("cmp", col, op, self.value())
        return ("bool", col)


def parse_rule(text: str):
    """The syntax tree of a rule (nested tuples); raises :class:`TwinValueError` on bad syntax."""
    if not isinstance(text, str):
        raise TwinValueError(f"invalid rule: {text!r} (a text such as \"use == school and year < 1975\")")
    return _Parser(text).parse()


_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "!=": np.not_equal}


def _eval(node, facts: pd.DataFrame, text: str) -> np.ndarray:
    kind = node[0]
    if kind == "all":
        return np.ones(len(facts), dtype=bool)
    if kind == "or":
        return _eval(node[1], facts, text) | _eval(node[2], facts, text)
    if kind == "and":
        return _eval(node[1], facts, text) & _eval(node[2], facts, text)
    if kind == "not":
        return ~_eval(node[1], facts, text)
    col = node[1]
    series = facts[col]
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if kind == "bool":
        if not pd.api.types.is_bool_dtype(series):
            raise TwinValueError(f"rule {text!r}: {col!r} is not a yes/no column; compare it (e.g. {col} > 0)")
        return series.to_numpy(dtype=bool)

    def conv(v):
        if numeric:
            if isinstance(v, str):
                raise TwinValueError(f"rule {text!r}: {col!r} is a number, {v!r} is not")
            return float(v)
        if pd.api.types.is_bool_dtype(series):
            s = str(v).lower()
            if s not in ("true", "false", "yes", "no", "1", "0", "1.0", "0.0"):
                raise TwinValueError(f"rule {text!r}: {col!r} is yes/no, {v!r} is not")
            return s in ("true", "yes", "1", "1.0")
        return str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))

    if kind == "in":
        vals = [conv(v) for v in node[2]]
        return series.isin(vals).to_numpy()
    op, val = node[2], conv(node[3])
    if not numeric and op not in ("==", "!="):
        raise TwinValueError(f"rule {text!r}: {col!r} is text; use ==, != or in (...)")
    arr = series.to_numpy(dtype=float) if numeric else series.to_numpy()
    return np.asarray(_OPS[op](arr, val), dtype=bool)


def select_buildings(facts: pd.DataFrame, rule: str) -> np.ndarray:
    """Boolean mask of the buildings (rows of ``facts``) a rule selects.

    Examples
    --------
    >>> facts = pd.DataFrame({"id": [1, 2], "use": ["school", "housing"], "year": [1960, 1900]})
    >>> select_buildings(facts, "use == school and year < 1975").tolist()
    [True, False]
    """
    tree = parse_rule(rule)
    missing = [c for c in _columns(tree) if c not in facts.columns]
    if missing:
        raise TwinValueError(f"rule {rule!r}: the buildings have no {missing[0]!r} column")
    return _eval(tree, facts, rule)


def _columns(node):
    if node[0] in ("and", "or"):
        return _columns(node[1]) + _columns(node[2])
    if node[0] == "not":
        return _columns(node[1])
    if node[0] == "all":
        return []
    return [node[1]]


def building_facts(buildings, *, archetypes=None, building_data=None, net_floor_ratio: float = 0.82,
                   default_use: str = "housing", default_period: str = "1948_1974") -> pd.DataFrame:
    """The columns rules test, one row per building (in table order).

    ``area`` is the gross floor area (footprint x floors, floors from the height when unknown) [m2],
    ``footprint`` [m2]; ``public`` and ``tertiary`` come from the use (uses.csv), unless the buildings
    table has a ``public`` column.
    """
    from simulation.energy.geometry import building_geometry

    arch = archetype_table() if archetypes is None else archetypes
    res = resolve_buildings(buildings, archetypes=arch, building_data=building_data, default_use=default_use,
                            default_period=default_period)
    p = res.params
    g = building_geometry(buildings, storey_height=p["storey_height"].to_numpy(float),
                          conditioned=p["conditioned"].to_numpy(bool))
    public = p["public"].to_numpy(bool)
    if "public" in buildings.columns:
        public = buildings["public"].fillna(False).astype(bool).to_numpy()
    return pd.DataFrame({
        "id": buildings["id"].to_numpy(np.int64),
        "use": p["use"].astype(str).to_numpy(),
        "year": buildings["year"].to_numpy(float) if "year" in buildings else np.zeros(len(p)),
        "period": p["period"].astype(str).to_numpy(),
        "floors": g.table["floors"].to_numpy(float),
        "height": g.table["height"].to_numpy(float),
        "area": g.table["gross_floor_area"].to_numpy(float),
        "footprint": g.table["footprint_area"].to_numpy(float),
        "dwellings": buildings["dwellings"].to_numpy(float) if "dwellings" in buildings else np.zeros(len(p)),
        "public": public,
        "tertiary": p["tertiary"].to_numpy(bool),
        "conditioned": p["conditioned"].to_numpy(bool),
        "name": buildings["name"].astype(str).to_numpy() if "name" in buildings else np.full(len(p), ""),
    }, index=buildings.index)


def measures() -> pd.DataFrame:
    """The retrofit measures table (``data/retrofit.csv``), indexed by measure name."""
    return load_table("retrofit").set_index("measure")


#: What each measure's cost is per: a column of the model's per-building results.
COST_BASES = {"EUR/m2 wall": "opaque_wall_area", "EUR/m2 roof": "roof_area", "EUR/m2 floor": "ground_area",
              "EUR/m2 window": "window_area", "EUR/m2 floor area": "floor_area", "EUR/kW": "peak_heating"}


def apply_retrofit(buildings, chosen, packages, *, table: pd.DataFrame | None = None):
    """A copy of the buildings table with the retrofit of ``packages`` on the ``chosen`` buildings.

    Parameters
    ----------
    buildings : GeoDataFrame
    chosen : array of bool
        Buildings to retrofit (rows of ``buildings``).
    packages : sequence of str
        Measure names (``walls``, ``roof``, ``floor``, ``windows``, ``airtightness``, ``ventilation``,
        ``heat_pump``).
    table : DataFrame, optional
        Measures table (default :func:`measures`), e.g. with user-overridden target values.

    Returns
    -------
    GeoDataFrame with ``retrofit_<parameter>``, ``retrofit_scale_<parameter>`` and ``retrofit_measures`` columns.
    """
    tab = measures() if table is None else table
    unknown = [m for m in packages if m not in tab.index]
    if unknown:
        raise TwinValueError(f"unknown retrofit measure {unknown[0]!r}; expected one of {', '.join(tab.index)}")
    if not packages:
        raise TwinValueError("a retrofit needs at least one measure")
    out = buildings.copy()
    chosen = np.asarray(chosen, dtype=bool)
    for m in packages:
        row = tab.loc[m]
        param, action, value = str(row["parameter"]), str(row["action"]), row["value"]
        if param not in PARAMETERS:
            raise TwinValueError(f"retrofit measure {m!r}: unknown parameter {param!r}")
        if action == "scale":
            col = f"retrofit_scale_{param}"
            cur = out[col].to_numpy(dtype=float) if col in out else np.full(len(out), np.nan)
            out[col] = np.where(chosen, np.where(np.isfinite(cur), cur, 1.0) * float(value), cur)
        else:
            col = f"retrofit_{param}"
            v = value if action == "system" else float(value)
            if action == "system":
                cur = out[col].astype(object).to_numpy() if col in out else np.full(len(out), "", dtype=object)
                out[col] = np.where(chosen, v, cur)
            else:
                cur = out[col].to_numpy(dtype=float) if col in out else np.full(len(out), np.nan)
                out[col] = np.where(chosen, v, cur)
            if m == "windows" and pd.notna(row.get("g_window", np.nan)):
                g = out["retrofit_g_window"].to_numpy(dtype=float) if "retrofit_g_window" in out else np.full(len(out), np.nan)
                out["retrofit_g_window"] = np.where(chosen, float(row["g_window"]), g)
    prev = out["retrofit_measures"].astype(str).to_numpy() if "retrofit_measures" in out else np.full(len(out), "", object)
    added = " ".join(packages)
    out["retrofit_measures"] = np.where(chosen, np.where(prev == "", added, np.char.add(np.char.add(prev.astype(str), " "), added)), prev)
    return out


@dataclass
class RetrofitCosts:
    """Per-building investment by measure and in total [EUR], and the totals."""

    by_measure: pd.DataFrame
    investment: pd.Series


def retrofit_costs(measures_per_building: pd.Series, quantities: pd.DataFrame, *, costs: dict | None = None,
                   table: pd.DataFrame | None = None) -> RetrofitCosts:
    """Investment per building: each measure's unit cost times its quantity.

    Parameters
    ----------
    measures_per_building : Series of str
        Space-separated measure names by building id (``retrofit_measures``).
    quantities : DataFrame
        By building id, the columns of :data:`COST_BASES` (from the model results after retrofit).
    costs : dict, optional
        Unit-cost overrides by measure name [EUR per unit of its ``cost_unit``].
    """
    tab = measures() if table is None else table
    costs = dict(costs or {})
    bad = [k for k in costs if k not in tab.index]
    if bad:
        raise TwinValueError(f"costs: unknown measure {bad[0]!r}; expected one of {', '.join(tab.index)}")
    ids = measures_per_building.index
    out = pd.DataFrame(0.0, index=ids, columns=list(tab.index))
    for bid, text in measures_per_building.items():
        for m in str(text).split():
            unit = tab.loc[m, "cost_unit"]
            base = COST_BASES[unit]
            q = float(quantities.loc[bid, base])
            out.loc[bid, m] = float(costs.get(m, tab.loc[m, "cost"])) * (q if np.isfinite(q) else 0.0)
    return RetrofitCosts(by_measure=out, investment=out.sum(axis=1))
