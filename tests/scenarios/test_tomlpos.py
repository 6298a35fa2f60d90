"""The TOML key locator against tomllib's own reading of the same documents."""

from __future__ import annotations

import tomllib

import pytest

from scenarios.tomlpos import key_lines, line_of

DOC = '''\
# a comment with [brackets] and key = "value"
name = "x"  # trailing comment
"quoted key" = 1
'literal.key' = 2
a.b . c = 3
dates = 1979-05-27 07:32:00Z

[forcing]
rain = "60 mm/h"
list = [1,
  2, # comment ]
  {x = 1, y.z = [3, 4]},
]
s = """
rainn = "not a key"
[not.a.table]
"""
lit = \'\'\'
[[neither]]
\'\'\'
esc = "a \\" [x] = 1"

[[interventions]]
type = "dike"
[interventions.geom]
pts = 1

[[interventions]]
type = 'trees'
[[interventions.items]]
h = 2
[[interventions.items]]
h = 3

[outputs]
layers = ["depth", "speed"]
inline = { a = 1, b = { c = 2 } }
'''


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield path + (k,)
            yield from _leaves(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield path + (i,)
            yield from _leaves(v, path + (i,))


def test_exact_lines():
    lines = key_lines(DOC)
    assert lines[("name",)] == 2
    assert lines[("quoted key",)] == 3
    assert lines[("literal.key",)] == 4
    assert lines[("a", "b", "c")] == 5
    assert lines[("dates",)] == 6
    assert lines[("forcing",)] == 8
    assert lines[("forcing", "rain")] == 9
    assert lines[("forcing", "list", 1)] == 11
    assert lines[("forcing", "list", 2, "y", "z")] == 12
    assert lines[("forcing", "s")] == 14
    assert lines[("forcing", "lit")] == 18
    assert lines[("forcing", "esc")] == 21
    assert lines[("interventions", 0)] == 23
    assert lines[("interventions", 0, "type")] == 24
    assert lines[("interventions", 0, "geom", "pts")] == 26
    assert lines[("interventions", 1, "type")] == 29
    assert lines[("interventions", 1, "items", 0, "h")] == 31
    assert lines[("interventions", 1, "items", 1, "h")] == 33
    assert lines[("outputs", "layers", 1)] == 36
    assert lines[("outputs", "inline", "b", "c")] == 37


def test_strings_do_not_make_keys():
    lines = key_lines(DOC)
    assert ("forcing", "rainn") not in lines
    assert ("not",) not in lines
    assert ("neither",) not in lines
    assert ("x",) not in lines


def test_every_key_tomllib_sees_is_located():
    data = tomllib.loads(DOC)
    lines = key_lines(DOC)
    src = DOC.splitlines()
    for path in _leaves(data):
        assert path in lines, path
        last = path[-1]
        if isinstance(last, str):
            # the line holds the key itself, or the header of the table it belongs to
            assert last.split(".")[0] in src[lines[path] - 1], (path, lines[path])


@pytest.mark.parametrize(
    "doc",
    [
        "x = 1\r\ny = 2\r\n",  # CRLF line ends
        "[t]\n\n\n  k   =   'v'   \n",  # blanks and indentation
        "arr = [\n [1, 2],\n [\n  3,\n ],\n]\nz = 1\n",
        'k = """a""""\nj = 1\n',  # a multi-line string ending in extra quotes
        "[a.b]\nc = 1\n[a]\nd = 2\n",  # a super-table defined after its child
        'e = "\\u00e9"\nf = 2\n',
    ],
)
def test_documents_agree_with_tomllib(doc):
    data = tomllib.loads(doc)
    lines = key_lines(doc)
    for path in _leaves(data):
        assert path in lines, path
    assert max(lines.values()) <= doc.count("\n") + 1


def test_nested_values_and_crlf_lines():
    lines = key_lines("arr = [\n [1, 2],\n [\n  3,\n ],\n]\nz = 1\n")
    assert lines[("arr", 1, 0)] == 4
    assert lines[("z",)] == 7
    assert key_lines("x = 1\r\ny = 2\r\n")[("y",)] == 2
    assert key_lines('k = """a""""\nj = 1\n')[("j",)] == 2
    assert key_lines("[a.b]\nc = 1\n[a]\nd = 2\n")[("a", "d")] == 4


def test_line_of_falls_back_to_ancestors():
    lines = key_lines("[forcing]\nrain = 1\n")
    assert line_of(lines, ("forcing", "rain")) == 2
    assert line_of(lines, ("forcing", "missing")) == 1
    assert line_of(lines, ("nothing",)) is None
