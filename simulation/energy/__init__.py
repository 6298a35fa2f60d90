"""Building energy: hourly heating and cooling needs of every building (ISO 13790 5R1C), labels, retrofits."""
