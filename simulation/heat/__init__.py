"""Street-level heat: sky views, radiation, mean radiant temperature, UTCI (see docs/heat.md)."""
