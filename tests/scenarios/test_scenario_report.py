"""The one-page report: plain-words headline numbers, self-contained HTML, English and French."""

from __future__ import annotations

import re

import pytest

from scenarios.report import format_number, headline, write_report
from scenarios.runner import run_scenario


def _ind(**kw):
    base = {
        "name": "n",
        "label": {"en": "Buildings flooded by more than 10 cm", "fr": "Bâtiments inondés de plus de 10 cm"},
        "unit": "1",
        "baseline": 340.0,
        "scenario": 312.0,
        "difference": -28.0,
        "better": "lower",
        "change": "better",
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    "value,lang,text",
    [
        (312, "en", "312"),
        (1234567, "en", "1,234,567"),
        (1234567, "fr", "1\u202f234\u202f567"),
        (0.012345, "en", "0.0123"),
        (3.14159, "fr", "3,14"),
        (-2.5, "en", "−2.5"),
        (0, "en", "0"),
        (12.0, "en", "12"),
        (float("nan"), "en", "–"),
    ],
)
def test_format_number(value, lang, text):
    assert format_number(value, lang) == text


def test_headlines_in_plain_words():
    assert headline(_ind())[0] == "Buildings flooded by more than 10 cm: 312 (today: 340, 28 fewer, −8.24 %)"
    assert headline(_ind(), "fr")[0] == (
        "Bâtiments inondés de plus de 10 cm\u00a0: 312 (aujourd'hui\u00a0: 340, 28 de moins, −8,24\u00a0%)"
    )
    energy = _ind(label={"en": "Energy use"}, unit="MWh/yr", baseline=1500.0, scenario=1200.0, difference=-300.0)
    assert headline(energy)[0] == "Energy use: 1,200 MWh/yr (today: 1,500 MWh/yr, −300 MWh/yr, −20 %)"
    assert (
        headline(energy, "fr")[0] == "Energy use\u00a0: 1\u202f200 MWh/an (aujourd'hui\u00a0: 1\u202f500 MWh/an, "
        "−300 MWh/an, −20\u00a0%)"
    )
    same = _ind(scenario=340.0, difference=0.0, change="unchanged")
    assert headline(same) == ("Buildings flooded by more than 10 cm: 340 (today: 340, unchanged)", "unchanged")
    assert headline(_ind(scenario=None, difference=None))[0] == "Buildings flooded by more than 10 cm: 340 (today)"
    assert headline(_ind(baseline=0.0, scenario=3.0, difference=3.0, change="worse")) == (
        "Buildings flooded by more than 10 cm: 3 (today: 0, 3 more)",
        "worse",
    )


def test_report_from_a_run(slope_file, tmp_path):
    run_scenario(slope_file, out_dir=tmp_path / "r", size=(320, 200), lang="fr")
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<h1>Raised ground on the west side</h1>" in html
    assert "Chiffres clés" in html and "Hypothèses" in html
    items = re.findall(r'<li class="(\w*)">([^<]*)</li>', html)
    assert [c for c, _ in items] == ["", "worse", "worse"]
    assert items[2][1] == "Bâtiments sur terrain pentu\u00a0: 3 (aujourd&#x27;hui\u00a0: 2, 1 de plus, +50\u00a0%)"
    # self-contained: pictures embedded, nothing fetched
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 2
    assert not re.search(r'src="(?!data:)', html) and "<script" not in html
    assert "doi:10.1109/PROC.1981.11918" in html  # the model and its reference
    assert "method = horn (Horn 1981)" in html  # the default the model applied
    assert "threshold</code> = 10 deg" in html and "test fixture: synthetic hill" in html
    # written again in English from the saved files
    write_report(tmp_path / "r", lang="en")
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Key figures" in html and "Buildings on steep ground: 3 (today: 2, 1 more, +50 %)" in html


def test_report_caps_headlines_at_ten(slope_file, tmp_path, slope_kind, monkeypatch):
    from scenarios.kinds.base import Indicator

    original = slope_kind.simulate

    def many(twin, config):
        res = original(twin, config)
        res.indicators = [Indicator(f"i{k}", float(k), "m", {"en": f"Number {k}"}) for k in range(14)]
        return res

    monkeypatch.setattr(slope_kind, "simulate", many)
    run_scenario(slope_file, out_dir=tmp_path / "r", render=False)
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<li class="\w*">Number', html)) == 10


def test_large_energies_in_bigger_units():
    ind = _ind(
        label={"en": "Final energy"}, unit="kWh/yr", baseline=7_507_470.0, scenario=7_195_299.0, difference=-312_171.0
    )
    assert headline(ind)[0] == "Final energy: 7,195 MWh/yr (today: 7,507 MWh/yr, −312 MWh/yr, −4.16 %)"
    small = _ind(label={"en": "Energy"}, unit="kWh/yr", baseline=1200.0, scenario=900.0, difference=-300.0)
    assert headline(small)[0] == "Energy: 900 kWh/yr (today: 1,200 kWh/yr, −300 kWh/yr, −25 %)"


def test_models_and_assumptions_from_the_kinds_meta_conventions():
    from scenarios.runner import _assumptions, _models

    assert _models({"models": [{"name": "A", "reference": "doi:1"}]}) == [{"name": "A", "reference": "doi:1"}]
    assert _models({"models": {"A": "doi:1"}}) == [{"name": "A", "references": "doi:1"}]
    assert _models({"model": "LightingModel", "references": ["EN 13201-3"]}) == [
        {"name": "LightingModel", "references": ["EN 13201-3"]}
    ]
    assert _models({"model": {"model": "5R1C", "references": ["ISO 13790"]}, "references": ["x"]}) == [
        {"name": "5R1C", "references": ["ISO 13790"]}
    ]
    assert _models({}) == []
    meta = {
        "defaults_applied": {"mounting_height": "8 m"},
        "warnings": ["wind clamped"],
        "report": {"archetypes": {"defaults": {"use": "housing"}}},
        "notes": "q0 = 0.07",
    }
    assert _assumptions(meta, {"warnings": ["wind clamped"]}) == [
        "mounting_height = 8 m",
        "wind clamped",
        "report.archetypes: use = housing",
        "q0 = 0.07",
    ]
