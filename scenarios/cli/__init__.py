"""The ``twin`` command line: one module per command, shared options in :mod:`scenarios.cli.options`."""
