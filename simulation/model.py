"""The base of every simulation model: declared fields, validated parameters.

A model declares, in one table, the twin layers it reads and writes with dtype,
units and meaning (after landlab's components). The base class checks at
construction that the twin has every required input with the declared units,
so that a model never runs on a layer it misreads. Inputs, outputs and units
are derived from that table, never written twice.

Kernels live in each physics' ``_kernels.py``: private ``@njit`` functions that
take arrays and plain numbers, keyword-only for physical quantities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from twin.core import Twin
from twin.errors import TwinValueError
from twin.layers import layer_spec

__all__ = ["Field", "Model", "require_positive", "require_nonnegative", "require_range", "require_finite"]


@dataclass(frozen=True)
class Field:
    """A field a model reads or writes.

    Attributes
    ----------
    name : str
        Twin layer name (a glossary name from :mod:`twin.layers` for shared inputs).
    intent : str
        ``"in"``, ``"out"`` or ``"inout"``.
    units : str
        Units; must match the glossary for glossary layers.
    dtype : str
        NumPy dtype of the array the model uses.
    optional : bool
        Whether an input may be absent.
    doc : str
        Meaning.
    """

    name: str
    intent: str
    units: str
    dtype: str = "float32"
    optional: bool = False
    doc: str = ""

    def __post_init__(self):
        if self.intent not in ("in", "out", "inout"):
            raise ValueError(f"invalid intent {self.intent!r} for field {self.name!r}")
        spec = layer_spec(self.name)
        if spec is not None and spec.units != self.units:
            raise ValueError(f"field {self.name!r}: units {self.units!r} contradict the glossary ({spec.units!r})")


class Model:
    """Base class: ``Model(twin, **parameters)`` checks the twin against ``fields``.

    Subclasses set ``fields`` (a tuple of :class:`Field`) and ``references``
    (the papers, with DOIs).
    """

    fields: ClassVar[tuple[Field, ...]] = ()
    references: ClassVar[tuple[str, ...]] = ()

    def __init__(self, twin: Twin):
        if not isinstance(twin, Twin):
            raise TwinValueError(f"{type(self).__name__} needs a Twin, got {type(twin).__name__}")
        self.twin = twin
        self.grid = twin.grid
        for f in self.input_fields():
            if f.name not in twin:
                if f.optional:
                    continue
                raise TwinValueError(f"{type(self).__name__} needs the layer {f.name!r} [{f.units}], which the twin lacks")
            units = twin[f.name].attrs.get("units", "")
            if units != f.units:
                raise TwinValueError(
                    f"{type(self).__name__}: layer {f.name!r} is in {units!r}, the model expects {f.units!r}"
                )

    @classmethod
    def input_fields(cls) -> tuple[Field, ...]:
        return tuple(f for f in cls.fields if f.intent in ("in", "inout"))

    @classmethod
    def output_fields(cls) -> tuple[Field, ...]:
        return tuple(f for f in cls.fields if f.intent in ("out", "inout"))

    @classmethod
    def input_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls.input_fields())

    @classmethod
    def output_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls.output_fields())

    @classmethod
    def units(cls, name: str) -> str:
        for f in cls.fields:
            if f.name == name:
                return f.units
        raise KeyError(name)

    def read(self, name: str, dtype: str | None = None) -> np.ndarray:
        """A twin layer as a C-contiguous array of the declared (or given) dtype."""
        f = next((f for f in self.fields if f.name == name), None)
        dt = dtype or (f.dtype if f else None)
        arr = self.twin.array(name)
        return np.ascontiguousarray(arr, dtype=dt)


def require_finite(value, *, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TwinValueError(f"invalid {name}: {value!r} (not a number)") from None
    if not math.isfinite(v):
        raise TwinValueError(f"invalid {name}: {value!r} (not finite)")
    return v


def require_positive(value, *, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    v = require_finite(value, name=name)
    if v <= 0:
        raise TwinValueError(f"invalid {name}: {value!r} (must be > 0)")
    return v


def require_nonnegative(value, *, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number >= 0."""
    v = require_finite(value, name=name)
    if v < 0:
        raise TwinValueError(f"invalid {name}: {value!r} (must be >= 0)")
    return v


def require_range(value, lo: float, hi: float, *, name: str) -> float:
    """Return ``value`` as a float, or raise if it is outside ``[lo, hi]``."""
    v = require_finite(value, name=name)
    if not lo <= v <= hi:
        raise TwinValueError(f"invalid {name}: {value!r} (must be within {lo:g}..{hi:g})")
    return v
