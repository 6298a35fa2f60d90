"""``twin build``: exit codes, one-line errors, nothing partial at --out."""

import json
import subprocess
import sys
from pathlib import Path

from scenarios.cli.main import main
from twin import Twin

ROOT = Path(__file__).resolve().parents[2]


def test_build_from_the_ign_tile_and_report(tmp_path, ign_tile, capsys):
    out = tmp_path / "tile.twin"
    rep = tmp_path / "report.json"
    code = main(["--quiet", "build", "--terrain", str(ign_tile["dtm"]), "--pointcloud", str(ign_tile["laz"]),
                 "--out", str(out), "--report", str(rep)])
    assert code == 0
    text = capsys.readouterr().out
    assert "grid      50 x 50 cells at 1 m, EPSG:2154" in text
    assert "terrain point cloud vs raster" in text and "missing   buildings: none" in text
    t = Twin.open(out)
    assert t.grid.shape == (50, 50)
    r = json.loads(rep.read_text())
    assert r["grid"]["shape"] == [50, 50] and r["buildings"]["total"] == 0


def test_lyon_citygml_needs_crs(tmp_path, shared_data, capsys):
    f = shared_data / "citygml" / "lyon_lod2" / "LYON_1ER_BATI_2015_small_house.gml"
    out = tmp_path / "lyon.twin"
    assert main(["--quiet", "build", "--citygml", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "LYON_1ER_BATI_2015_small_house.gml: the file names no CRS (no srsName)" in err and "--crs" in err
    assert not out.exists() and not list(tmp_path.iterdir())
    assert main(["--quiet", "build", "--citygml", str(f), "--crs", "EPSG:3946", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "assumed EPSG:3946" in text and "buildings 1" in text
    assert len(Twin.open(out).buildings) == 1


def test_bad_inputs_exit_2_and_leave_nothing(tmp_path, ign_tile, capsys):
    out = tmp_path / "t.twin"
    cases = [
        (["--terrain", str(ign_tile["dtm"]), "--extent", "0,0,100,100"], "misses every input"),
        (["--terrain", str(ign_tile["dtm"]), "--extent", "1,2,3"], "expected four numbers"),
        (["--terrain", str(tmp_path / "nope.tif")], "nope.tif: no such raster"),
        ([], "nothing to build from"),
        (["--citygml", str(_write(tmp_path / "bomb.gml", _BOMB))], "declares entities"),
        (["--buildings", str(_write(tmp_path / "empty.geojson", ""))], "empty.geojson: empty file"),
        (["--terrain", str(ign_tile["dtm"]), "--resolution", "-1"], "invalid resolution"),
    ]
    for args, message in cases:
        assert main(["--quiet", "build", *args, "--out", str(out)]) == 2, args
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (args, err)
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".t.twin")]  # no temporary left either


def test_existing_output_needs_overwrite(tmp_path, ign_tile, capsys):
    out = tmp_path / "t.twin"
    out.mkdir()
    assert main(["--quiet", "build", "--terrain", str(ign_tile["dtm"]), "--out", str(out)]) == 2
    assert "exists (use --overwrite" in capsys.readouterr().err
    assert main(["--quiet", "build", "--terrain", str(ign_tile["dtm"]), "--out", str(out), "--overwrite"]) == 0
    assert Twin.open(out).grid.shape == (50, 50)


def test_the_command_line_entry_point(tmp_path, ign_tile):
    out = tmp_path / "t.twin"
    p = subprocess.run([sys.executable, "-m", "scenarios.cli", "build", "--terrain", str(ign_tile["dtm"]),
                        "--extent", "0,0,10,10", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith("twin build: error: extent (0.0, 0.0, 10.0, 10.0) misses every input")
    assert not out.exists()


_BOMB = """<?xml version="1.0"?>
<!DOCTYPE CityModel [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<CityModel xmlns="http://www.opengis.net/citygml/2.0"><x>&b;</x></CityModel>
"""


def _write(path, text):
    path.write_text(text)
    return path
