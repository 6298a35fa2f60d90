"""Importers: each turns a source format into twin layers and tables; the demo town is one more source."""
