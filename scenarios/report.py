"""A one-page report per run, for elected officials: ``report.html``.

Self-contained (pictures embedded as base64, no script, no web font, opens offline in
any browser and prints on A4), in English or French. It holds, in this order: the
scenario's name and description, the key pictures, five to ten headline numbers in
plain words ("Buildings flooded by more than 10 cm: 312 (today: 340, 28 fewer)"),
what the scenario changes, the assumptions (forcing, parameters, defaults the models
applied), the models with their references, the data sources of the twin, and where
the result files are.

Everything comes from the run directory (``run.json``, ``indicators.json``, the
pictures), so a report can be written again later without recomputing
(:func:`write_report`).

No PDF is written: the libraries that turn HTML into PDF offline either need system
libraries (WeasyPrint: Pango, HarfBuzz) or lay out poorly; the HTML page prints to PDF
from any browser.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

from twin.errors import TwinFileNotFoundError, TwinFormatError
from twin.io import atomic_output

__all__ = ["write_report", "headline", "format_number", "MAX_HEADLINES"]

MAX_HEADLINES = 10

_T = {
    "en": {
        "today": "today",
        "fewer": "fewer",
        "more": "more",
        "less": "less",
        "unchanged": "unchanged",
        "headlines": "Key figures",
        "pictures": "Pictures",
        "changes": "What the scenario changes",
        "no_change": "Nothing is changed in the town: the scenario only changes the conditions (forcing).",
        "assumptions": "Assumptions",
        "forcing": "Conditions simulated",
        "parameters": "Model parameters",
        "defaults": "Defaults and assumptions applied by the models",
        "models": "Models and references",
        "sources": "Data sources",
        "files": "Result files",
        "made": "Made with jumeau {version} on {date}.",
        "twin": "Territory",
        "kind": {"flood": "Flooding", "heat": "Heat", "lighting": "Public lighting", "energy": "Building energy"},
        "none": "none",
        "better": "better",
        "worse": "worse",
        "intervention": "Intervention",
        "folder": "Results folder",
        "no_numbers": "This run produced no headline figures.",
        "legend": "Green: better than today; red: worse; grey: unchanged or neutral.",
    },
    "fr": {
        "today": "aujourd'hui",
        "fewer": "de moins",
        "more": "de plus",
        "less": "de moins",
        "unchanged": "inchangé",
        "headlines": "Chiffres clés",
        "pictures": "Images",
        "changes": "Ce que change le scénario",
        "no_change": "Rien n'est modifié dans la ville : le scénario ne change que les conditions (forçage).",
        "assumptions": "Hypothèses",
        "forcing": "Conditions simulées",
        "parameters": "Paramètres des modèles",
        "defaults": "Valeurs par défaut et hypothèses appliquées par les modèles",
        "models": "Modèles et références",
        "sources": "Sources des données",
        "files": "Fichiers de résultats",
        "made": "Réalisé avec jumeau {version} le {date}.",
        "twin": "Territoire",
        "kind": {
            "flood": "Inondation",
            "heat": "Chaleur",
            "lighting": "Éclairage public",
            "energy": "Énergie des bâtiments",
        },
        "none": "aucun",
        "better": "mieux",
        "worse": "moins bien",
        "intervention": "Intervention",
        "folder": "Dossier des résultats",
        "no_numbers": "Ce calcul ne donne pas de chiffres clés.",
        "legend": "Vert : mieux qu'aujourd'hui ; rouge : moins bien ; gris : inchangé ou neutre.",
    },
}

_UNITS = {
    "en": {
        "1": "",
        "degree": "°",
        "deg": "°",
        "m2": "m²",
        "m3": "m³",
        "degC": "°C",
        "C": "°C",
        "K": "K",
        "%": "%",
        "kWh/yr": "kWh/yr",
        "MWh/yr": "MWh/yr",
        "EUR/yr": "€/yr",
        "EUR": "€",
        "tCO2e/yr": "t CO₂e/yr",
        "kgCO2e/yr": "kg CO₂e/yr",
        "tCO2e": "t CO₂e",
        "kgCO2e": "kg CO₂e",
    },
    "fr": {
        "1": "",
        "degree": "°",
        "deg": "°",
        "m2": "m²",
        "m3": "m³",
        "degC": "°C",
        "C": "°C",
        "K": "K",
        "%": "%",
        "kWh/yr": "kWh/an",
        "MWh/yr": "MWh/an",
        "GWh/yr": "GWh/an",
        "EUR/yr": "€/an",
        "EUR": "€",
        "h": "h",
        "tCO2e/yr": "t CO₂e/an",
        "kgCO2e/yr": "kg CO₂e/an",
        "tCO2e": "t CO₂e",
        "kgCO2e": "kg CO₂e",
    },
}


def _unit(unit: str, lang: str) -> str:
    u = _UNITS[lang].get(unit, _UNITS["en"].get(unit, unit))
    if lang == "fr" and u.endswith("/yr"):
        u = u[:-3] + "/an"
    return u


#: Unit ladders: values at least as large as the threshold are shown in the bigger unit.
_LADDERS = {
    "Wh": [(1e3, "kWh"), (1e6, "MWh"), (1e9, "GWh")],
    "kWh": [(1e4, "MWh"), (1e7, "GWh")],
    "MWh": [(1e4, "GWh")],
    "W": [(1e4, "kW"), (1e7, "MW")],
    "kW": [(1e4, "MW")],
    "kgCO2e": [(1e4, "tCO2e")],
}
_FACTORS = {
    ("Wh", "kWh"): 1e3,
    ("Wh", "MWh"): 1e6,
    ("Wh", "GWh"): 1e9,
    ("kWh", "MWh"): 1e3,
    ("kWh", "GWh"): 1e6,
    ("MWh", "GWh"): 1e3,
    ("W", "kW"): 1e3,
    ("W", "MW"): 1e6,
    ("kW", "MW"): 1e3,
    ("kgCO2e", "tCO2e"): 1e3,
}


def _scaled(ind: dict) -> dict:
    """The indicator in a unit that keeps its numbers short (7,195,299 kWh/yr -> 7.2 GWh/yr)."""
    unit = ind.get("unit", "")
    base, _, per = unit.partition("/")
    ladder = _LADDERS.get(base)
    if not ladder:
        return ind
    big = max(abs(v) for v in (ind.get("scenario"), ind.get("baseline"), 0.0) if v is not None)
    target = None
    for threshold, name in ladder:
        if big >= threshold:
            target = name
    if target is None:
        return ind
    f = _FACTORS[(base, target)]
    out = dict(ind)
    for k in ("scenario", "baseline", "difference"):
        if out.get(k) is not None:
            out[k] = out[k] / f
    out["unit"] = target + (f"/{per}" if per else "")
    return out


def format_number(value: float, lang: str = "en", *, count: bool = False) -> str:
    """A number for people: integers grouped by thousands, others with three significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    v = float(value)
    if count or (abs(v) >= 100 and abs(v - round(v)) < 1e-9) or abs(v) >= 1000:
        text = f"{round(v):,}"
    elif v == 0:
        text = "0"
    else:
        digits = max(0, 2 - int(math.floor(math.log10(abs(v)))))
        text = f"{v:,.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text.replace("-", "−")


def headline(ind: dict, lang: str = "en") -> tuple[str, str]:
    """A plain-words sentence for one indicator row of ``indicators.json``, and its change class.

    Examples
    --------
    >>> headline({"name": "n", "label": {"en": "Buildings flooded by more than 10 cm"}, "unit": "1",
    ...           "baseline": 340, "scenario": 312, "difference": -28, "better": "lower", "change": "better"})[0]
    'Buildings flooded by more than 10 cm: 312 (today: 340, 28 fewer, −8 %)'
    """
    t = _T[lang]
    ind = _scaled(ind)
    label = (ind.get("label") or {}).get(lang) or (ind.get("label") or {}).get("en") or ind["name"]
    unit = ind.get("unit", "")
    count = unit == "1"
    u = _unit(unit, lang)
    sp = "\u00a0" if lang == "fr" else ""
    colon = f"{sp}:"
    s, b, d = ind.get("scenario"), ind.get("baseline"), ind.get("difference")

    def q(v):
        num = format_number(v, lang, count=count and v is not None and abs(v - round(v)) < 1e-9)
        if not u:
            return num
        if u == "%":
            return f"{num}{sp or ' '}%"
        if u == "°":
            return f"{num}°"
        return f"{num} {u}"

    if s is None:
        return f"{label}{colon} {q(b)} ({t['today']})", ""
    text = f"{label}{colon} {q(s)}"
    if b is not None and d is not None:
        if ind.get("change") == "unchanged" or d == 0:
            text += f" ({t['today']}{colon} {q(b)}, {t['unchanged']})"
        else:
            if count:
                delta = f"{format_number(abs(d), lang, count=True)} {t['fewer'] if d < 0 else t['more']}"
            else:
                delta = f"{'−' if d < 0 else '+'}{q(abs(d))}"
            pct = ""
            if b:
                p = 100.0 * d / abs(b)
                pct = f", {'−' if p < 0 else '+'}{format_number(abs(p), lang)}{sp or ' '}%"
            text += f" ({t['today']}{colon} {q(b)}, {delta}{pct})"
    return text, ind.get("change", "")


def _img(path: Path) -> str:
    mime = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(
        path.suffix.lower()
    )
    if mime is None:
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:{mime};base64,{data}" alt="{html.escape(path.stem)}">'


def _kv(d: dict) -> str:
    if not d:
        return ""
    items = []
    for k, v in d.items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk} = {vv}" for kk, vv in v.items())
        elif isinstance(v, list) and len(v) > 6:
            v = f"[{len(v)} values]"
        items.append(f"<li><code>{html.escape(str(k))}</code> = {html.escape(str(v))}</li>")
    return "<ul>" + "".join(items) + "</ul>"


_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:62em;margin:1.5em auto;padding:0 1em;color:#222;
line-height:1.35}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc}
.sub{color:#555;margin:0 0 1em}.pics{display:grid;grid-template-columns:1fr 1fr;gap:.6em}
.pics img{width:100%;border:1px solid #ddd}.pics figure{margin:0}.pics figcaption{font-size:.8em;color:#666}
ul.head{list-style:none;padding:0}ul.head li{margin:.3em 0;padding:.35em .6em;border-left:.35em solid #aaa;
background:#f6f6f6}ul.head li.better{border-color:#2a9d4b}ul.head li.worse{border-color:#c0392b}
.small{font-size:.85em;color:#555}code{font-size:.9em}
@media print{body{margin:0;max-width:none;font-size:10pt}.pics{grid-template-columns:1fr 1fr 1fr}}
"""


def write_report(run_dir, *, lang: str = "en", max_pictures: int = 6) -> Path:
    """Write ``run_dir/report.html`` (French with ``lang="fr"``) from the saved run; return its path.

    Raises
    ------
    TwinFileNotFoundError
        If ``run_dir`` holds no ``run.json``.
    """
    run_dir = Path(run_dir)
    rpath = run_dir / "run.json"
    if not rpath.is_file():
        raise TwinFileNotFoundError(f"{run_dir}: not a run directory (no run.json)")
    try:
        record = json.loads(rpath.read_text(encoding="utf-8"))
        inds = json.loads((run_dir / "indicators.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise TwinFormatError(f"{run_dir}: damaged run record ({err})") from err
    t = _T[lang]
    name = html.escape(record.get("name", ""))
    kind = record.get("kind", "")
    date = (record.get("finished") or record.get("started") or "")[:10]
    twin = record.get("twin", {})
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{name}</title>'
        f"<style>{_CSS}</style></head><body>"
    ]
    parts.append(f"<h1>{name}</h1>")
    parts.append(
        f'<p class="sub">{html.escape(t["kind"].get(kind, kind))} · {html.escape(t["twin"])}: '
        f"{html.escape(str(twin.get('name', '')))} · {html.escape(date)}</p>"
    )
    if record.get("description"):
        parts.append(f"<p>{html.escape(record['description'])}</p>")

    # headline numbers
    parts.append(f"<h2>{t['headlines']}</h2>")
    if inds:
        parts.append('<ul class="head">')
        for ind in inds[:MAX_HEADLINES]:
            text, change = headline(ind, lang)
            parts.append(f'<li class="{html.escape(change)}">{html.escape(text)}</li>')
        parts.append("</ul>")
        parts.append(f'<p class="small">{t["legend"]}</p>')
    else:
        parts.append(f"<p>{t['no_numbers']}</p>")

    # pictures
    pics = [run_dir / p for p in record.get("pictures", [])]
    pics = [p for p in pics if p.suffix.lower() in (".png", ".gif", ".jpg", ".jpeg") and p.is_file()][:max_pictures]
    if pics:
        parts.append(f'<h2>{t["pictures"]}</h2><div class="pics">')
        for p in pics:
            parts.append(f"<figure>{_img(p)}<figcaption>{html.escape(p.name)}</figcaption></figure>")
        parts.append("</div>")

    # what changes
    parts.append(f"<h2>{t['changes']}</h2>")
    interventions = record.get("interventions") or []
    if interventions:
        parts.append("<ul>")
        for n, item in enumerate(interventions, 1):
            rest = {k: v for k, v in item.items() if k != "type"}
            parts.append(
                f"<li>{t['intervention']} {n}: <b>{html.escape(str(item.get('type', '')))}</b>{_kv(rest)}</li>"
            )
        parts.append("</ul>")
    else:
        parts.append(f"<p>{t['no_change']}</p>")

    # assumptions
    parts.append(f"<h2>{t['assumptions']}</h2>")
    if record.get("forcing"):
        parts.append(f"<p><b>{t['forcing']}</b></p>{_kv(record['forcing'])}")
    if record.get("parameters"):
        parts.append(f"<p><b>{t['parameters']}</b></p>{_kv(record['parameters'])}")
    if record.get("assumptions"):
        parts.append(
            f"<p><b>{t['defaults']}</b></p><ul>"
            + "".join(f"<li>{html.escape(str(a))}</li>" for a in record["assumptions"])
            + "</ul>"
        )

    # models
    models = record.get("models") or []
    if models:
        parts.append(f"<h2>{t['models']}</h2><ul>")
        for m in models:
            if isinstance(m, dict):
                label = m.get("name") or m.get("model") or ""
                ref = m.get("reference") or m.get("references") or m.get("doi") or ""
                refs = ref if isinstance(ref, list) else [ref] if ref else []
                head = f"<b>{html.escape(str(label))}</b>" if label else ""
                if len(refs) <= 1:
                    parts.append(
                        f"<li>{head}{' — ' if head and refs else ''}{html.escape(str(refs[0])) if refs else ''}</li>"
                    )
                else:
                    parts.append(
                        f"<li>{head}<ul>" + "".join(f"<li>{html.escape(str(r))}</li>" for r in refs) + "</ul></li>"
                    )
            else:
                parts.append(f"<li>{html.escape(str(m))}</li>")
        parts.append("</ul>")

    # data sources
    prov = record.get("provenance") or []
    parts.append(f"<h2>{t['sources']}</h2>")
    if prov:
        parts.append("<ul>")
        for p in prov:
            if not isinstance(p, dict):
                continue
            src = p.get("source") or p.get("sources") or p.get("file") or p.get("files") or ""
            if isinstance(src, list):
                src = ", ".join(map(str, src[:5])) + (" …" if len(src) > 5 else "")
            parts.append(f"<li>{html.escape(str(p.get('step', '')))}{': ' + html.escape(str(src)) if src else ''}</li>")
        parts.append("</ul>")
    else:
        parts.append(f"<p>{t['none']}</p>")

    # files and footer
    files = ["indicators.csv", "indicators.json", "buildings.gpkg", "run.json"]
    files = [f for f in files if (run_dir / f).exists()]
    parts.append(
        f'<h2>{t["files"]}</h2><p class="small">'
        + " · ".join(f'<a href="{f}">{f}</a>' for f in files)
        + " · baseline/*.tif · scenario/*.tif · difference/*.tif</p>"
    )
    version = (record.get("versions") or {}).get("jumeau", "")
    parts.append(f'<p class="small">{html.escape(t["made"].format(version=version, date=date))}</p>')
    parts.append("</body></html>\n")
    out = run_dir / "report.html"
    with atomic_output(out) as tmp:
        Path(tmp).write_text("\n".join(parts), encoding="utf-8")
    return out


_INDEX_T = {
    "en": {
        "title": "jumeau demo: the ready scenarios",
        "town": "The demo town",
        "report": "report",
        "skipped": "skipped",
        "failed": "failed",
        "scenario": "Scenario",
        "kind": "Kind",
        "key": "Key figure",
        "made": "Made with jumeau {version} on {date}.",
        "size": "{rows} × {cols} cells of {cs:g} m, {b} buildings, {l} luminaires, {t} trees",
    },
    "fr": {
        "title": "Démonstration jumeau : les scénarios prêts",
        "town": "La ville de démonstration",
        "report": "rapport",
        "skipped": "non disponible",
        "failed": "échec",
        "scenario": "Scénario",
        "kind": "Domaine",
        "key": "Chiffre clé",
        "made": "Réalisé avec jumeau {version} le {date}.",
        "size": "{rows} × {cols} cellules de {cs:g} m, {b} bâtiments, {l} luminaires, {t} arbres",
    },
}


def write_index(
    out_dir, entries: list[dict], *, lang: str = "en", overview=None, town=None, timings: dict | None = None
) -> Path:
    """Write ``out_dir/index.html``: the demo town and one line per scenario linking its report.

    ``entries`` are dicts with ``name``, ``title``, ``kind``, ``status`` (ok, skipped,
    failed), ``message``, ``report`` (relative link) and ``indicators`` (rows of
    ``indicators.json``). Also writes ``index.json`` with the same content.
    """
    from scenarios.results import write_json
    from scenarios.runner import versions
    from twin.io import now_iso

    out_dir = Path(out_dir)
    t, tk = _INDEX_T[lang], _T[lang]
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{t["title"]}</title>'
        f"<style>{_CSS}table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;"
        f"padding:.4em;text-align:left;vertical-align:top}}</style></head><body><h1>{t['title']}</h1>"
    ]
    if town is not None:
        g = town.grid
        parts.append(
            f'<p class="sub">{html.escape(t["town"])}: '
            + html.escape(
                t["size"].format(
                    rows=g.nrows,
                    cols=g.ncols,
                    cs=g.cell_size,
                    b=len(town.buildings),
                    l=len(town.luminaires),
                    t=len(town.trees),
                )
            )
            + "</p>"
        )
    if overview is not None and Path(overview).is_file():
        parts.append(f'<p><img style="width:100%" src="{html.escape(Path(overview).name)}" alt="overview"></p>')
    parts.append(f"<table><tr><th>{t['scenario']}</th><th>{t['kind']}</th><th>{t['key']}</th></tr>")
    for e in entries:
        title = html.escape(e.get("title") or e["name"])
        link = f'<a href="{html.escape(e["report"])}">{title}</a>' if e.get("report") else title
        kind = html.escape(tk["kind"].get(e.get("kind", ""), e.get("kind", "")))
        if e.get("status") == "ok":
            key = "<br>".join(html.escape(headline(i, lang)[0]) for i in e.get("indicators", [])[:2])
        else:
            key = f"<i>{t[e.get('status', 'failed')]}</i>: {html.escape(e.get('message', ''))}"
        parts.append(f"<tr><td>{link}</td><td>{kind}</td><td>{key}</td></tr>")
    parts.append("</table>")
    parts.append(
        f'<p class="small">{html.escape(t["made"].format(version=versions()["jumeau"], date=now_iso()[:10]))}'
        "</p></body></html>\n"
    )
    path = out_dir / "index.html"
    with atomic_output(path) as tmp:
        Path(tmp).write_text("\n".join(parts), encoding="utf-8")
    write_json(out_dir / "index.json", {"scenarios": entries, "timings": timings or {}})
    return path
