"""Scenario files: TOML in, a validated, typed :class:`Scenario` out, or an error with its line.

A scenario file says what to simulate on which twin, and what to change::

    name = "Thunderstorm, 60 mm in 1 h"
    description = "A short summer storm on the town centre"
    kind = "flood"                 # flood | heat | lighting | energy
    twin = "demo"                  # "demo", or a saved twin (path relative to this file)
    [forcing]                      # the kind's forcing, with explicit units
    rain = "60 mm/h"
    duration = "1h"
    [parameters]                   # the kind's model parameters (documented defaults otherwise)
    [[interventions]]              # applied to a copy of the twin for the scenario run only
    type = "dike"
    [outputs]                      # optional: layers = [...], pictures = true, report = true

This module checks the common keys and the key names of every section against the
kind's :attr:`~scenarios.kinds.base.Kind.sections`; the kind's :meth:`~scenarios.kinds.base.Kind.parse`
checks the values (units, ranges, files). Every error is a :class:`~twin.errors.TwinValueError`
whose message starts with ``file:line:``, e.g.
``thunderstorm.toml:12: unknown key 'rainn' in [forcing] (did you mean 'rain'?)``.

The kind is parsed twice: with the interventions (the scenario) and without them (the
baseline), so that operational interventions (a switch-off schedule, a retrofit) that a
kind reads from its configuration never reach the baseline run.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.kinds import REGISTRY, get_kind, kind_names
from scenarios.tomlpos import key_lines, line_of
from twin.errors import TwinError, TwinFileNotFoundError, TwinValueError

__all__ = [
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "kind_available",
    "KindUnavailableError",
    "COMMON_KEYS",
    "OUTPUT_KEYS",
    "SECTIONS",
]

#: Top-level keys every scenario file may hold, with what they mean.
COMMON_KEYS: dict[str, str] = {
    "name": "short title shown on pictures and reports (required)",
    "description": "a sentence or two for the report",
    "kind": "the physics: " + ", ".join(sorted(REGISTRY)) + " (required)",
    "twin": '"demo" (the generated demo town) or the path of a saved twin, relative to the file',
    "forcing": "table: the kind's forcing (rain, levels, weather...), with explicit units",
    "parameters": "table: the kind's model parameters",
    "interventions": "array of tables ([[interventions]]), each with a type: changes applied to a copy of the twin",
    "outputs": "table: which layers and pictures to write",
}

#: The sections a kind declares keys for.
SECTIONS = ("forcing", "parameters", "interventions", "outputs")

#: Keys of ``[outputs]`` the runner understands for every kind.
OUTPUT_KEYS: dict[str, str] = {
    "layers": "array of result layer names to write (default: every layer the kind produces)",
    "pictures": "false to skip the pictures, or the names of the kind's pictures to draw (default: true, all)",
    "report": "false to skip report.html (default: true)",
}

_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "a table",
}


class KindUnavailableError(TwinValueError):
    """The scenario's kind is known but not installed in this version."""


def kind_available(name: str) -> bool:
    """Whether the kind ``name`` is registered and its module can be imported."""
    modname = REGISTRY.get(name)
    if modname is None:
        return False
    try:
        return importlib.util.find_spec(modname) is not None
    except ModuleNotFoundError:
        return False


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario.

    Attributes
    ----------
    name, description, kind : str
    twin : str, Path or None
        ``"demo"``, the resolved path of a saved twin, or None when the file names no
        twin (the runner must then be given one).
    forcing, parameters, outputs : dict
        The sections as written (values still as text with units; the kind's ``config``
        holds them converted).
    interventions : tuple of dict
    config, baseline_config
        What the kind's ``parse`` returned with and without the interventions.
    path : Path or None
        The file read (None for text parsed in memory).
    text : str
        The source, kept verbatim in ``run.json``.
    """

    name: str
    kind: str
    twin: str | Path | None
    description: str = ""
    forcing: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    interventions: tuple[dict, ...] = ()
    outputs: dict = field(default_factory=dict)
    config: Any = None
    baseline_config: Any = None
    path: Path | None = None
    text: str = ""
    lines: dict = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        return str(self.path) if self.path else "<scenario>"

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def slug(self) -> str:
        """A file-name-safe identifier: the file's stem, else the name simplified."""
        if self.path:
            return self.path.stem
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name).strip("_").lower() or "scenario"

    def data(self) -> dict:
        """The scenario as the dict a TOML parser gives (what kinds parse)."""
        d: dict = {"name": self.name, "kind": self.kind}
        if self.description:
            d["description"] = self.description
        if self.twin is not None:
            d["twin"] = str(self.twin)
        for key in ("forcing", "parameters", "outputs"):
            if getattr(self, key):
                d[key] = _plain(getattr(self, key))
        if self.interventions:
            d["interventions"] = [_plain(i) for i in self.interventions]
        return d

    @property
    def kind_object(self):
        return get_kind(self.kind)

    def updated(self, **sections) -> Scenario:
        """A new scenario with sections changed, validated again (handy in notebooks).

        Tables are merged key by key (``forcing={"rain": "80 mm/h"}`` keeps the duration);
        ``interventions=[...]`` replaces the list; ``name``/``description``/``twin`` replace.

        Examples
        --------
        >>> s2 = s.updated(forcing={"rain": "80 mm/h"}, name="Thunderstorm, 80 mm/h")  # doctest: +SKIP
        """
        data = self.data()
        for key, value in sections.items():
            if key not in COMMON_KEYS:
                raise TwinValueError(f"unknown scenario key {key!r}{_suggest(key, COMMON_KEYS)}")
            if key in ("forcing", "parameters", "outputs"):
                merged = dict(data.get(key, {}))
                merged.update(value)
                data[key] = merged
            elif key == "interventions":
                data[key] = [dict(i) for i in value]
            else:
                data[key] = value
        if isinstance(data.get("twin"), Path):
            data["twin"] = str(data["twin"])
        source = f"{self.source} (modified)"
        return _from_data(data, source=source, base_dir=self.base_dir, path=None, text="", lines={})


def _plain(obj):
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file.

    Raises
    ------
    TwinFileNotFoundError
        If the file does not exist.
    TwinValueError
        On a TOML syntax error, an unknown key, a wrong unit, a missing file or an
        impossible value; the message starts with ``file:line:``.
    """
    path = Path(path)
    if not path.is_file():
        raise TwinFileNotFoundError(f"{path}: no such scenario file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise TwinValueError(f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    return parse_scenario(text, source=str(path), base_dir=path.parent, path=path)


def parse_scenario(text: str, *, source: str = "<scenario>", base_dir=None, path: Path | None = None) -> Scenario:
    """Validate the TOML text of a scenario; relative paths are resolved against ``base_dir``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TwinValueError(_toml_error(source, text, err)) from None
    lines = key_lines(text)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    return _from_data(data, source=source, base_dir=base, path=path, text=text, lines=lines)


def _toml_error(source: str, text: str, err: Exception) -> str:
    msg = str(err)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", msg)
    if m:
        return f"{source}:{m.group(1)}: invalid TOML: {msg[: m.start()]} (column {m.group(2)})"
    m = re.search(r"\s*\(at end of document\)\s*$", msg)
    if m:
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        return f"{source}:{max(last, 1)}: invalid TOML: {msg[: m.start()]} (at the end of the file)"
    return f"{source}: invalid TOML: {msg}"


class _Where:
    """Formats ``file:line:`` prefixes from key paths."""

    def __init__(self, source: str, lines: dict):
        self.source = source
        self.lines = lines

    def __call__(self, path: tuple = ()) -> str:
        line = line_of(self.lines, path) if path else None
        return f"{self.source}:{line}:" if line else f"{self.source}:"

    def error(self, path: tuple, message: str) -> TwinValueError:
        return TwinValueError(f"{self(path)} {message}")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value) -> str:
    for t, name in _TYPE_NAMES.items():
        if type(value) is t:
            return name
    return type(value).__name__


def _from_data(data: dict, *, source: str, base_dir: Path, path: Path | None, text: str, lines: dict) -> Scenario:
    where = _Where(source, lines)

    for key in data:
        if key not in COMMON_KEYS:
            raise where.error((key,), f"unknown key {key!r} at the top level{_suggest(key, COMMON_KEYS)}")

    def string(key, *, required):
        if key not in data:
            if required:
                hint = (
                    f"one of {', '.join(kind_names())}" if key == "kind" else "a short title for pictures and reports"
                )
                raise TwinValueError(f"{source}: missing required key {key!r} ({hint})")
            return ""
        value = data[key]
        if not isinstance(value, str):
            raise where.error((key,), f"{key!r} must be a string, not {_type_name(value)}")
        return value

    name = string("name", required=True).strip()
    if not name:
        raise where.error(("name",), "'name' must not be empty")
    description = string("description", required=False).strip()
    kind_name = string("kind", required=True)
    if kind_name not in REGISTRY:
        raise where.error(
            ("kind",), f"unknown kind {kind_name!r}{_suggest(kind_name, REGISTRY)} (known: {', '.join(kind_names())})"
        )
    if not kind_available(kind_name):
        raise KindUnavailableError(f"{where(('kind',))} kind {kind_name!r} is not available in this version of jumeau")
    try:
        kind = get_kind(kind_name)
    except TwinValueError as err:
        raise KindUnavailableError(f"{where(('kind',))} {err}") from None

    twin: str | Path | None = None
    if "twin" in data:
        value = string("twin", required=False)
        if value == "demo":
            twin = "demo"
        elif not value.strip():
            raise where.error(("twin",), "'twin' must not be empty (write \"demo\" or the path of a saved twin)")
        else:
            p = Path(value).expanduser()
            if not p.is_absolute():
                p = base_dir / p
            if not p.exists():
                raise TwinValueError(f"{where(('twin',))} twin {value!r} not found (looked for {p})")
            twin = p

    sections: dict[str, Any] = {}
    for sec in ("forcing", "parameters", "outputs"):
        value = data.get(sec, {})
        if not isinstance(value, dict):
            raise where.error((sec,), f"{sec!r} must be a table ([{sec}]), not {_type_name(value)}")
        allowed = tuple(kind.sections.get(sec, ()))
        if sec == "outputs":
            allowed = tuple(OUTPUT_KEYS) + allowed
        if value and not allowed:
            first = next(iter(value))
            raise where.error((sec, first), f"kind {kind_name!r} takes no [{sec}] section")
        for key in value:
            if key not in allowed:
                raise where.error((sec, key), f"unknown key {key!r} in [{sec}]{_suggest(key, allowed)}")
        sections[sec] = value
    _check_outputs(sections["outputs"], where)

    interventions = data.get("interventions", [])
    if (
        isinstance(interventions, dict)
        or not isinstance(interventions, list)
        or not all(isinstance(i, dict) for i in interventions)
    ):
        raise where.error(("interventions",), "'interventions' must be an array of tables ([[interventions]])")
    spec = kind.sections.get("interventions", ())
    if interventions and not spec:
        raise where.error(("interventions",), f"kind {kind_name!r} takes no interventions")
    for n, item in enumerate(interventions):
        label = f"[[interventions]] #{n + 1}"
        if "type" not in item:
            raise where.error(("interventions", n), f"{label} has no 'type'")
        itype = item["type"]
        if not isinstance(itype, str):
            raise where.error(
                ("interventions", n, "type"), f"'type' of {label} must be a string, not {_type_name(itype)}"
            )
        if isinstance(spec, Mapping):
            if itype not in spec:
                raise where.error(
                    ("interventions", n, "type"),
                    f"unknown intervention type {itype!r} for kind {kind_name!r}{_suggest(itype, spec)}"
                    f" (known: {', '.join(spec)})",
                )
            allowed = ("type",) + tuple(spec[itype])
        else:
            allowed = ("type",) + tuple(spec)
        for key in item:
            if key not in allowed:
                raise where.error(
                    ("interventions", n, key),
                    f"unknown key {key!r} in {label} (type {itype!r}){_suggest(key, allowed)}",
                )

    clean = {"name": name, "kind": kind_name}
    if description:
        clean["description"] = description
    if twin is not None:
        clean["twin"] = str(twin)
    for sec in ("forcing", "parameters", "outputs"):
        clean[sec] = sections[sec]
    config = _kind_parse(kind, {**clean, "interventions": interventions}, base_dir, where, lines)
    baseline_config = _kind_parse(kind, {**clean, "interventions": []}, base_dir, where, lines)
    return Scenario(
        name=name,
        kind=kind_name,
        twin=twin,
        description=description,
        forcing=sections["forcing"],
        parameters=sections["parameters"],
        interventions=tuple(interventions),
        outputs=sections["outputs"],
        config=config,
        baseline_config=baseline_config,
        path=path,
        text=text,
        lines=lines,
    )


def _check_outputs(outputs: dict, where: _Where) -> None:
    if "layers" in outputs:
        v = outputs["layers"]
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise where.error(("outputs", "layers"), "'layers' in [outputs] must be an array of layer names")
    if "report" in outputs and not isinstance(outputs["report"], bool):
        raise where.error(
            ("outputs", "report"), f"'report' in [outputs] must be true or false, not {_type_name(outputs['report'])}"
        )
    if "pictures" in outputs:
        v = outputs["pictures"]
        if not isinstance(v, bool) and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            raise where.error(
                ("outputs", "pictures"),
                f"'pictures' in [outputs] must be true, false or an array of picture names, not {_type_name(v)}",
            )


# -- the kind's own validation, with the line of the key it complains about ----------------------------
class _Tracked(dict):
    """A dict that records which keys the kind reads, so that its errors can be given a line."""

    def __init__(self, data, path: tuple, log: list):
        super().__init__()
        self._path = path
        self._log = log
        for k, v in data.items():
            super().__setitem__(k, _track(v, path + (k,), log))

    def __getitem__(self, key):
        self._log.append(self._path + (key,))
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._log.append(self._path + (key,))
        return super().get(key, default)

    def __reduce__(self):  # pickles and deep-copies as a plain dict
        return (dict, (dict(self),))

    def __deepcopy__(self, memo):
        import copy

        return {copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in dict.items(self)}


def _track(value, path, log):
    if isinstance(value, dict):
        return _Tracked(value, path, log)
    if isinstance(value, list):
        return [_track(v, path + (i,), log) for i, v in enumerate(value)]
    return value


def _kind_parse(kind, scenario: dict, base_dir: Path, where: _Where, lines: dict):
    log: list = []
    tracked = _track(scenario, (), log)
    try:
        return kind.parse(tracked, base_dir=base_dir)
    except TwinError as err:
        if not isinstance(err, TwinValueError) and not isinstance(err, TwinFileNotFoundError):
            raise
        raise type(err)(f"{where(_blame(str(err), lines, log))} {err}") from None
    except (ValueError, TypeError, KeyError) as err:
        raise TwinValueError(
            f"{where(_blame(str(err), lines, log))} invalid scenario for kind {kind.name!r}: "
            f"{type(err).__name__}: {err}"
        ) from err


def _blame(message: str, lines: dict, log: list) -> tuple:
    """The key path an error message is most likely about.

    A dotted path written in the message (``forcing.rain``, ``interventions[2].height``)
    wins; else a key name written as a word (``rain``), the most recently read of those
    if several sections hold it; else nothing.
    """
    paths = [p for p in lines if p and p[0] in SECTIONS and isinstance(p[-1], str)]
    dotted = []
    for p in paths:
        names = [k for k in p if isinstance(k, str)]
        if len(names) < 2:
            continue
        forms = {".".join(names)}
        if p[0] == "interventions" and len(p) > 2 and isinstance(p[1], int):
            rest = ".".join(str(k) for k in p[2:])
            forms |= {
                f"interventions[{p[1]}].{rest}",
                f"interventions[{p[1] + 1}].{rest}",
                f"intervention #{p[1] + 1}: {rest}",
                f"[[interventions]] #{p[1] + 1}",
            }
        for form in forms:
            if re.search(rf"(?<![\w.]){re.escape(form)}(?![\w])", message):
                dotted.append((len(form), p))
    if dotted:
        return max(dotted, key=lambda t: t[0])[1]
    words = [p for p in paths if re.search(rf"(?<![\w.]){re.escape(p[-1])}(?![\w])", message)]
    if not words:
        return ()
    if len(words) == 1:
        return words[0]
    for p in reversed(log):
        if p in words:
            return p
    return words[0]
