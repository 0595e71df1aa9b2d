"""The package's layers only point down: the import-linter contracts of pyproject.toml hold, and every
module of the package stands in one of their layers (a new module cannot slip past them)."""

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import contiple_tui

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _lint(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_every_module_stands_in_a_layer():
    (layers,) = [c["layers"] for c in _config()["contracts"] if c["type"] == "layers"]
    layered = {name.strip() for layer in layers for name in layer.split("|")}
    top = {f"contiple_tui.{m.name}" for m in pkgutil.iter_modules(contiple_tui.__path__)} - {
        "contiple_tui.__main__"
    }
    assert top - layered == set()
    assert layered - top == set()  # no layer names a module that is gone


def test_the_contracts_catch_an_import_that_runs_up(tmp_path):
    """A copy of the package where the store imports a screen and the domain imports textual: both named."""
    import os
    import shutil

    copy = tmp_path / "contiple_tui"
    shutil.copytree(ROOT / "contiple_tui", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "store" / "leases.py", "a") as f:
        f.write("\nfrom contiple_tui.screens import home  # noqa\n")
    with open(copy / "domain" / "phone.py", "a") as f:
        f.write("\nimport textual  # noqa\n")
    out = _lint(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode != 0
    assert "contiple_tui.store.leases -> contiple_tui.screens.home" in out.stdout
    assert "contiple_tui.domain is not allowed to import textual" in out.stdout
