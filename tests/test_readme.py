"""The README's Python example runs as written (documentation that cannot rot)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # our own README, not a user file
    heat, run = namespace["heat"], namespace["run"]
    utci = heat["utci_max"]
    assert 30.0 < float(__import__("numpy").nanmax(utci)) < 60.0  # a 39.5 C day gives strong heat stress
    assert (tmp_path / "runs" / "heat" / "indicators.json").exists()
    assert run.indicators
