"""User-facing words of pictures, in English and French.

Every label drawn on a picture goes through :func:`text`, so that ``lang="fr"``
gives a French picture. Code, docs and names stay in English.
"""

from __future__ import annotations

from twin.errors import TwinValueError

__all__ = ["LANGS", "TEXT", "text", "check_lang"]

LANGS = ("en", "fr")

TEXT: dict[str, dict[str, str]] = {
    "overview": {"en": "Overview", "fr": "Vue d'ensemble"},
    "street": {"en": "Street view", "fr": "Vue de la rue"},
    "top": {"en": "Map view", "fr": "Vue en plan"},
    "buildings": {"en": "Buildings", "fr": "Bâtiments"},
    "homes_shops": {"en": "Homes, shops, offices", "fr": "Logements, commerces, bureaux"},
    "public_buildings": {"en": "Public buildings", "fr": "Équipements publics"},
    "industry": {"en": "Industry, farms, annexes", "fr": "Industrie, agriculture, annexes"},
    "trees": {"en": "Trees", "fr": "Arbres"},
    "vegetation": {"en": "Vegetation", "fr": "Végétation"},
    "water": {"en": "Water", "fr": "Eau"},
    "no_data": {"en": "no value", "fr": "sans valeur"},
    "other_buildings": {"en": "Other buildings", "fr": "Autres bâtiments"},
    "north": {"en": "N", "fr": "N"},
    "scale_centre": {"en": "at the centre", "fr": "au centre"},
    "rendered": {"en": "rendered", "fr": "rendu le"},
    "cells": {"en": "cells", "fr": "mailles"},
    "before": {"en": "Today", "fr": "Aujourd'hui"},
    "after": {"en": "With the scenario", "fr": "Avec le scénario"},
    "time": {"en": "time", "fr": "temps"},
    "luminaires": {"en": "Luminaires", "fr": "Luminaires"},
    "yes": {"en": "yes", "fr": "oui"},
    "no": {"en": "no", "fr": "non"},
    "exposed": {"en": "Exposed", "fr": "Exposé"},
    "not_exposed": {"en": "Not exposed", "fr": "Non exposé"},
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise a one-line error."""
    if lang not in LANGS:
        raise TwinValueError(f"invalid lang: {lang!r} (expected one of {', '.join(LANGS)})")
    return lang


def text(key: str, lang: str = "en") -> str:
    """The label ``key`` in ``lang`` (English when the key has no such translation)."""
    entry = TEXT[key]
    return entry.get(lang) or entry["en"]


def pick(label, lang: str) -> str:
    """A label given as a plain string or as ``{"en": ..., "fr": ...}``, in ``lang``."""
    if label is None:
        return ""
    if isinstance(label, dict):
        return label.get(lang) or label.get("en") or next(iter(label.values()), "")
    return str(label)
