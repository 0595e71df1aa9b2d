"""The core (store, rules, config, i18n) never imports textual; `--version` does not either."""

import subprocess
import sys

import pytest

HEADLESS_MODULES = [
    "contiple_tui",
    "contiple_tui.cli",
    "contiple_tui.config",
    "contiple_tui.errors",
    "contiple_tui.i18n",
    "contiple_tui.store",
    "contiple_tui.store.connection",
    "contiple_tui.store.migrations",
    "contiple_tui.store.directory",
    "contiple_tui.store.callbacks",
    "contiple_tui.core",
    "contiple_tui.core.models",
    "contiple_tui.core.permissions",
    "contiple_tui.core.directory",
    "contiple_tui.core.session",
    "contiple_tui.core.menus",
    "contiple_tui.core.demo",
    "contiple_tui.core.phone",
]


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_core_module_does_not_import_textual(module):
    loaded = _loaded_after_import(module)
    assert "textual" not in loaded
    assert "rich" not in loaded or module == "contiple_tui.cli"  # rich only for table output, lazily


def test_every_core_module_is_listed():
    """A new module in a headless package must be added above, so it is checked too."""
    import pkgutil

    import contiple_tui.core
    import contiple_tui.store

    for package in (contiple_tui.core, contiple_tui.store):
        for info in pkgutil.iter_modules(package.__path__):
            assert f"{package.__name__}.{info.name}" in HEADLESS_MODULES


def test_version_does_not_import_textual():
    code = (
        "import sys; from contiple_tui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")
    assert out.stdout.startswith("contiple-tui ")
