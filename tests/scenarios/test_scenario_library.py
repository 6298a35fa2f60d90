"""The ready scenarios: the loader, every shipped file valid, and the demo's run-them-all loop."""

from __future__ import annotations

import json
import re

import pytest

from scenarios import library
from scenarios.cli.demo import run_library
from scenarios.report import write_index
from scenarios.scenario import kind_available, load_scenario
from tests.scenarios.helpers import SLOPE_TOML
from twin.errors import TwinValueError

EXPECTED = [
    "heatwave_trees",
    "lighting_led_partnight",
    "renovate_public_pre1975",
    "river_rise",
    "sea_level_1m",
    "thunderstorm",
]


def test_list_and_path_agree():
    names = library.list()
    assert names == sorted(names)
    for n in names:
        assert library.path(n).name == f"{n}.toml" and library.path(f"{n}.toml") == library.path(n)


def test_unknown_name_is_a_clear_error(monkeypatch, tmp_path):
    for n in ("thunderstorm", "river_rise"):
        (tmp_path / f"{n}.toml").write_text("", encoding="utf-8")
    monkeypatch.setattr(library, "_folder", lambda: tmp_path)
    assert library.list() == ["river_rise", "thunderstorm"]
    with pytest.raises(
        TwinValueError,
        match=r"^no ready scenario 'thunderstrom' \(did you mean 'thunderstorm'\?\); "
        r"there are: river_rise, thunderstorm$",
    ):
        library.path("thunderstrom")


@pytest.mark.parametrize("name", library.list() or ["(none yet)"])
def test_every_ready_scenario_is_valid(name):
    if name == "(none yet)":
        pytest.skip("no ready scenario has landed yet")
    text = library.path(name).read_text(encoding="utf-8")
    kind = re.search(r'^kind\s*=\s*"(\w+)"', text, re.M).group(1)
    if not kind_available(kind):
        pytest.skip(f"kind {kind!r} is not available yet")
    s = load_scenario(library.path(name))
    assert s.twin == "demo" and s.name and s.description
    assert s.interventions or s.forcing  # a scenario changes something


def test_shipped_as_package_data():
    import tomllib

    with open("pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    patterns = data["tool"]["setuptools"]["package-data"]["*"]
    assert "*.toml" in patterns


def test_run_library_skips_unavailable_kinds_and_reports_failures(tmp_path, monkeypatch, hill_twin, slope_kind):
    from scenarios.kinds import REGISTRY

    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "a_raise.toml").write_text(SLOPE_TOML.replace('twin = "hill.twin"', 'twin = "demo"'), encoding="utf-8")
    (folder / "b_ghost.toml").write_text('name = "Ghost"\nkind = "ghost"\ntwin = "demo"\n', encoding="utf-8")
    (folder / "c_broken.toml").write_text(
        SLOPE_TOML.replace('twin = "hill.twin"', 'twin = "demo"').replace(
            'height = "3 m"', 'height = "3 m"\n[outputs]\nlayers = ["nope"]'
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(library, "_folder", lambda: folder)
    monkeypatch.setitem(REGISTRY, "ghost", "scenarios.kinds.ghost_not_written")
    out = tmp_path / "demo"
    out.mkdir()
    twin_path = out / "town.twin"
    hill_twin.save(twin_path)
    entries, failed = run_library(
        hill_twin, twin_path, out, library.list(), overwrite=False, render=False, lang="en", size=(320, 200)
    )
    assert failed == 1
    assert [(e["name"], e["status"]) for e in entries] == [
        ("a_raise", "ok"),
        ("b_ghost", "skipped"),
        ("c_broken", "failed"),
    ]
    assert entries[1]["message"] == "kind 'ghost' is not available in this version of jumeau"
    assert "layer 'nope' in [outputs] layers is not a result" in entries[2]["message"]
    assert (out / "a_raise" / "report.html").is_file() and not (out / "c_broken").exists()
    rec = json.loads((out / "a_raise" / "run.json").read_text())
    assert rec["twin"] == {**rec["twin"], "source": "path", "path": str(twin_path.resolve())}
    index = write_index(out, entries, town=hill_twin)
    html = index.read_text(encoding="utf-8")
    assert '<a href="a_raise/report.html">Raised ground on the west side</a>' in html
    assert "<i>skipped</i>: kind &#x27;ghost&#x27; is not available" in html and "<i>failed</i>" in html
    assert "40 × 60 cells of 2 m, 4 buildings" in html
    assert json.loads((out / "index.json").read_text())["scenarios"][0]["status"] == "ok"
