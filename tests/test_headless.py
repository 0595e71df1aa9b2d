"""The core (store, rules, CTI, config, i18n) never imports textual; `--version` does not either."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import contiple_tui

HEADLESS_PACKAGES = ("domain", "core", "store", "cti", "i18n", "sms", "export", "sim", "cli")
HEADLESS_TOP_LEVEL = (
    "contiple_tui",
    "contiple_tui.config",
    "contiple_tui.errors",
    "contiple_tui.safe_text",
    "contiple_tui.terminal",
)


def _headless_modules() -> list[str]:
    root = Path(contiple_tui.__file__).parent
    modules = list(HEADLESS_TOP_LEVEL)
    for package in HEADLESS_PACKAGES:
        modules.append(f"contiple_tui.{package}")
        for info in pkgutil.walk_packages([str(root / package)], prefix=f"contiple_tui.{package}."):
            modules.append(info.name)
    return modules


def test_discovery_finds_the_core():
    modules = _headless_modules()
    assert "contiple_tui.domain.permissions" in modules and "contiple_tui.store.connection" in modules
    assert "contiple_tui.cti.protocol" in modules


def test_core_modules_do_not_import_textual():
    """One interpreter per module, so one module's imports cannot hide another's."""
    code = (
        "import importlib, sys\n"
        "importlib.import_module(sys.argv[1])\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    offenders = []
    for module in _headless_modules():
        out = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True)
        if out.stdout.strip() != "False":
            offenders.append(module)
    assert offenders == []


def test_version_does_not_import_textual():
    code = (
        "import sys; from contiple_tui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")
    assert out.stdout.startswith("contiple-tui ")


@pytest.mark.parametrize("module", ["contiple_tui.app", "contiple_tui.screens.home"])
def test_ui_modules_do_import_textual(module):
    """The check above is meaningful: UI modules are detected."""
    code = f"import sys, {module}; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
