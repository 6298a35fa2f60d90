"""Scenario files: good ones parse into typed scenarios; bad ones fail with the exact message and line."""

from __future__ import annotations

import pytest

from scenarios.scenario import Scenario, load_scenario, parse_scenario
from tests.scenarios.helpers import SLOPE_TOML
from twin.errors import TwinFileNotFoundError, TwinValueError


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _error(tmp_path, text) -> str:
    p = _write(tmp_path, text)
    with pytest.raises(TwinValueError) as exc:
        load_scenario(p)
    return str(exc.value).replace(str(p), "s.toml")


def test_good_file(slope_file, saved_hill):
    s = load_scenario(slope_file)
    assert isinstance(s, Scenario)
    assert s.name == "Raised ground on the west side"
    assert s.kind == "slope"
    assert s.twin == saved_hill
    assert s.forcing == {"threshold": "10 deg"}
    assert len(s.interventions) == 1 and s.interventions[0]["type"] == "raise"
    assert s.config.threshold == pytest.approx(10.0)
    assert len(s.config.raises) == 1 and s.config.raises[0][1] == pytest.approx(3.0)
    assert s.baseline_config.raises == ()  # the baseline never sees the interventions
    assert s.config.defaults == {"method": "horn (Horn 1981)"}  # a default applied is recorded
    assert s.text == SLOPE_TOML
    assert s.slug == "raise"


def test_updated_merges_and_revalidates(slope_file):
    s = load_scenario(slope_file)
    s2 = s.updated(forcing={"threshold": "20 deg"}, name="Steeper")
    assert s2.config.threshold == pytest.approx(20.0)
    assert s2.name == "Steeper" and len(s2.interventions) == 1
    with pytest.raises(TwinValueError, match=r"invalid forcing.threshold: '95 deg'"):
        s.updated(forcing={"threshold": "95 deg"})


BAD = [
    # (text to substitute in SLOPE_TOML, replacement, exact message)
    (
        'threshold = "10 deg"',
        'thresold = "10 deg"',
        "s.toml:7: unknown key 'thresold' in [forcing] (did you mean 'threshold'?)",
    ),
    ('threshold = "10 deg"', 'threshold = "10 deg"\ncolour = "red"', "s.toml:8: unknown key 'colour' in [forcing]"),
    (
        'threshold = "10 deg"',
        'threshold = "10 mm"',
        "s.toml:7: invalid forcing.threshold: '10 mm' (unit 'mm' is not a angle; use deg, degree)",
    ),
    (
        'threshold = "10 deg"',
        "threshold = 10",
        's.toml:7: invalid forcing.threshold: 10 (write the value with its unit, e.g. "1 deg")',
    ),
    (
        'threshold = "10 deg"',
        'threshold = "95 deg"',
        "s.toml:7: invalid forcing.threshold: '95 deg' (must be within 0..90 deg)",
    ),
    (
        'height = "3 m"',
        'height = "3 kg"',
        "s.toml:12: invalid height: '3 kg' (unit 'kg' is not a length; use m, cm, mm, km)",
    ),
    (
        'height = "3 m"',
        'hieght = "3 m"',
        "s.toml:12: unknown key 'hieght' in [[interventions]] #1 (type 'raise') (did you mean 'height'?)",
    ),
    (
        'type = "raise"',
        'type = "rise"',
        "s.toml:10: unknown intervention type 'rise' for kind 'slope' (did you mean 'raise'?) (known: raise)",
    ),
    ('type = "raise"\n', "", "s.toml:9: [[interventions]] #1 has no 'type'"),
    (
        'kind = "slope"',
        'kind = "slop"',
        "s.toml:3: unknown kind 'slop' (did you mean 'slope'?) (known: energy, flood, heat, lighting, slope)",
    ),
    ('kind = "slope"', 'kinds = "slope"', "s.toml:3: unknown key 'kinds' at the top level (did you mean 'kind'?)"),
    ('kind = "slope"\n', "", "s.toml: missing required key 'kind' (one of energy, flood, heat, lighting, slope)"),
    ('name = "Raised ground on the west side"', "name = 3", "s.toml:1: 'name' must be a string, not an integer"),
    ('name = "Raised ground on the west side"', 'name = "  "', "s.toml:1: 'name' must not be empty"),
    (
        'twin = "hill.twin"',
        'twin = "nowhere.twin"',
        "s.toml:4: twin 'nowhere.twin' not found (looked for {dir}/nowhere.twin)",
    ),
    (
        '[forcing]\nthreshold = "10 deg"',
        '[forcing]\nthreshold = "10 deg"\n[parameters]\nmethod = "zevenbergen"',
        "s.toml:9: invalid method: 'zevenbergen' (only 'horn')",
    ),
    (
        '[forcing]\nthreshold = "10 deg"',
        'forcing = "10 deg"',
        "s.toml:6: 'forcing' must be a table ([forcing]), not a string",
    ),
    (
        '[forcing]\nthreshold = "10 deg"',
        "[forcing]\n",
        "s.toml:6: missing forcing.threshold (the slope above which ground counts as steep)",
    ),
    (
        'height = "3 m"',
        'height = "3 m"\n[outputs]\npictures = "yes"',
        "s.toml:14: 'pictures' in [outputs] must be true, false or an array of picture names, not a string",
    ),
    (
        'height = "3 m"',
        'height = "3 m"\n[outputs]\nlayer = ["slope"]',
        "s.toml:14: unknown key 'layer' in [outputs] (did you mean 'layers'?)",
    ),
    (
        "polygon = [[843010, 6519010], [843040, 6519010], [843040, 6519040], [843010, 6519040]]",
        "polygon = [[843010, 6519010]]",
        "s.toml:11: invalid interventions[1].polygon: give at least 3 [x, y] points",
    ),
]


@pytest.mark.parametrize("old,new,message", BAD, ids=[b[2].split(": ", 1)[1][:40] for b in BAD])
def test_bad_files(tmp_path, saved_hill, slope_kind, old, new, message):
    assert old in SLOPE_TOML
    text = SLOPE_TOML.replace(old, new, 1)
    assert _error(tmp_path, text) == message.format(dir=tmp_path)


@pytest.mark.parametrize(
    "text,message",
    [
        (
            'name = "x"\nkind = "slope"\n[forcing\n',
            "s.toml:3: invalid TOML: Expected ']' at the end of a table declaration (column 9)",
        ),
        ('name = "x"\nname = "y"\n', "s.toml:2: invalid TOML: Cannot overwrite a value (column 11)"),
        ('name = "x\n', "s.toml:1: invalid TOML: Illegal character '\\n' (column 10)"),
        ("name = \n", "s.toml:1: invalid TOML: Invalid value (column 8)"),
    ],
)
def test_toml_syntax_errors(tmp_path, slope_kind, text, message):
    assert _error(tmp_path, text) == message


def test_interventions_must_be_an_array_of_tables(tmp_path, saved_hill, slope_kind):
    text = SLOPE_TOML.split("[[interventions]]")[0] + '[interventions]\ntype = "raise"\n'
    assert _error(tmp_path, text) == "s.toml:9: 'interventions' must be an array of tables ([[interventions]])"


def test_kind_without_interventions_refuses_them(tmp_path, saved_hill, slope_kind, monkeypatch):
    monkeypatch.setitem(type(slope_kind).__dict__["sections"], "interventions", ())
    try:
        assert _error(tmp_path, SLOPE_TOML) == "s.toml:9: kind 'slope' takes no interventions"
    finally:
        type(slope_kind).sections["interventions"] = {"raise": ("polygon", "height")}


def test_unavailable_kind_is_a_clear_error(tmp_path, monkeypatch):
    from scenarios.kinds import REGISTRY
    from scenarios.scenario import KindUnavailableError

    monkeypatch.setitem(REGISTRY, "ghost", "scenarios.kinds.ghost_not_written")
    p = _write(tmp_path, 'name = "x"\nkind = "ghost"\n')
    with pytest.raises(KindUnavailableError, match=r"s.toml:2: kind 'ghost' is not available in this version"):
        load_scenario(p)


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(TwinFileNotFoundError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.toml")
    p = tmp_path / "latin1.toml"
    p.write_bytes('name = "crue d\'été"\n'.encode("latin-1"))
    with pytest.raises(TwinValueError, match=r"latin1.toml: not a UTF-8 text file"):
        load_scenario(p)


def test_parse_text_in_memory(slope_kind, saved_hill):
    s = parse_scenario(SLOPE_TOML, source="inline", base_dir=saved_hill.parent)
    assert s.path is None and s.slug == "raised_ground_on_the_west_side"
    with pytest.raises(TwinValueError, match=r"^inline:7: unknown key"):
        parse_scenario(SLOPE_TOML.replace("threshold =", "thr ="), source="inline", base_dir=saved_hill.parent)


def test_outputs_pictures_may_name_the_kinds_pictures(tmp_path, saved_hill, slope_kind):
    p = _write(tmp_path, SLOPE_TOML + '\n[outputs]\npictures = ["slope_top"]\nreport = false\n')
    s = load_scenario(p)
    assert s.outputs == {"pictures": ["slope_top"], "report": False}
