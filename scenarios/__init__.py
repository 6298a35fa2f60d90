"""Scenarios: TOML scenario files -> baseline and intervention runs -> indicators, comparisons, pictures.

>>> from scenarios import library, load_scenario, run_scenario, open_run, compare_runs   # doctest: +SKIP
>>> run = run_scenario(library.path("thunderstorm"), out_dir="out/storm")                  # doctest: +SKIP

Also the home of the ``twin`` command line (:mod:`scenarios.cli`), which stands on top of everything else.
The names below are imported lazily, so that ``import scenarios.units`` stays light.
"""

from __future__ import annotations

import importlib

__all__ = ["Scenario", "load_scenario", "parse_scenario", "run_scenario", "RunResult", "open_run", "render_run",
           "compare_runs", "write_report"]

_WHERE = {
    "Scenario": "scenarios.scenario", "load_scenario": "scenarios.scenario", "parse_scenario": "scenarios.scenario",
    "run_scenario": "scenarios.runner", "RunResult": "scenarios.runner",
    "open_run": "scenarios.saved", "render_run": "scenarios.saved", "compare_runs": "scenarios.saved",
    "write_report": "scenarios.report",
}


def __getattr__(name: str):
    if name == "library":
        return importlib.import_module("scenarios.library")
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
