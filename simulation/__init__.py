"""Simulations on the twin grid: flood, heat, lighting, energy, with shared sun and shadow code."""
