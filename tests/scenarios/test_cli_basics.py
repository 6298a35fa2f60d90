"""The `twin` command: help, exit codes, one-line errors."""

import json
import subprocess
import sys

import numpy as np

from scenarios.cli.main import main
from twin import Grid, Twin


def _twin_cli(*args):
    return subprocess.run([sys.executable, "-m", "scenarios.cli", *args], capture_output=True, text=True)


def test_info_prints_layers_units_and_ranges(tmp_path, capsys):
    t = Twin.empty(Grid.from_bounds(0, 0, 30, 20, cell_size=0.5), terrain=np.float32(171.5), name="bourg")
    t.add_provenance("test")
    t.save(tmp_path / "b.twin")
    assert main(["info", str(tmp_path / "b.twin")]) == 0
    out = capsys.readouterr().out
    assert "EPSG:2154" in out and "0.5 m" in out and "40 rows x 60 columns" in out
    assert "terrain          float32  [m]    171.5 .. 171.5" in out
    assert main(["info", "--json", str(tmp_path / "b.twin")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [40, 60] and info["layers"]["terrain"]["units"] == "m"
    assert info["provenance"][0]["step"] == "test"


def test_user_errors_exit_2_with_one_line_and_no_traceback(tmp_path):
    r = _twin_cli("info", str(tmp_path / "missing.twin"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"twin info: error: {tmp_path / 'missing.twin'}: no such twin"]
    r = _twin_cli("info", str(tmp_path))
    assert r.returncode == 2 and "not a twin (no twin.json)" in r.stderr and "Traceback" not in r.stderr
    r = _twin_cli("frobnicate")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_help_everywhere():
    r = _twin_cli("--help")
    assert r.returncode == 0 and "demo" in r.stdout and "info" in r.stdout
    r = _twin_cli("info", "--help")
    assert r.returncode == 0 and "--json" in r.stdout
