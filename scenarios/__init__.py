"""Scenarios: TOML scenario files -> baseline and intervention runs -> indicators, comparisons, pictures.

Also the home of the ``twin`` command line (:mod:`scenarios.cli`), which stands on top of everything else.
"""
