"""Built-in and user themes, and NO_COLOR."""

import pytest

from contiple_tui import config
from contiple_tui.errors import ConfigError
from contiple_tui.themes import BUILTIN_THEMES, load_theme_file

from .apphelpers import make_app


def test_builtin_themes():
    names = {t.name for t in BUILTIN_THEMES}
    assert names == {"contiple-dark", "contiple-light", "contiple-contrast"}
    assert {t.dark for t in BUILTIN_THEMES} == {True, False}


@pytest.mark.parametrize("theme", ["contiple-dark", "contiple-light", "contiple-contrast"])
async def test_app_runs_in_each_theme(demo_store, theme):
    app = make_app(demo_store, "admin", theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == theme


async def test_user_theme_file(demo_store, tmp_path):
    path = tmp_path / "ocean.toml"
    path.write_text('name = "ocean"\nprimary = "#0077BE"\nbackground = "#001F3F"\ndark = true\n')
    app = make_app(demo_store, "admin", theme="ocean", theme_files=[path])
    async with app.run_test(size=(80, 24)):
        assert app.theme == "ocean"
        assert app.current_theme.primary == "#0077BE"


@pytest.mark.parametrize(
    "text, needle",
    [
        ('name = "x"\nprimary = "not-a-colour"\n', "theme"),
        ('name = "x"\nprimary = "#fff"\nsparkle = true\n', "sparkle"),
        ('primary = "#fff"\n', "name"),
        ("name = [", "TOML"),
    ],
)
def test_bad_user_theme_file(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_theme_file(path)
    assert str(path) in err.value.message("en") and needle in err.value.message("en")


async def test_no_color_is_honoured(demo_store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(80, 24)):
        assert app.no_color


def _kiosk(store, **settings):
    from contiple_tui.kiosk import WallboardApp

    cfg = config.load(data_dir=store.path.parent, environ={}, lang="en")
    for name, value in settings.items():
        setattr(cfg, name, value)
    services = store.services.list()
    return WallboardApp(store=store, client=None, services=services, config=cfg, kiosk=True)


def test_the_kiosk_and_the_console_refuse_the_same_unknown_theme(demo_store):
    """One configuration file for both: an unknown theme is refused by each, with the known names."""
    for build in (
        lambda: _kiosk(demo_store, theme="nope"),
        lambda: make_app(demo_store, "admin", theme="nope"),
    ):
        with pytest.raises(ConfigError) as err:
            build()
        assert "nope" in err.value.message("en") and "contiple-dark" in err.value.message("en")


def test_the_kiosk_checks_the_keymap_against_every_binding_id(demo_store):
    with pytest.raises(ConfigError) as err:
        _kiosk(demo_store, keymap={"app.fly": "f9"})
    assert "keymap.app.fly" in err.value.message("en")
    # A console key in the shared file is no error for the kiosk, nor a wallboard key for the console.
    assert _kiosk(demo_store, keymap={"app.switch_service": "f5", "wallboard.flip": "x"}) is not None


def test_every_documented_key_id_may_be_remapped(demo_store):
    """Ids of inherited bindings (the lists' Tab) and of every screen (F1's Esc) are known to both apps."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\| `([a-z_]+\.[a-z_0-9]+)` \|", readme))
    assert "view.tab_table" in documented
    from contiple_tui.app_base import all_binding_ids

    assert documented <= all_binding_ids()
    make_app(demo_store, "admin", keymap={"view.tab_table": "ctrl+t", "help.close": "q"})
    assert _kiosk(demo_store, keymap={"board.up": "k"}) is not None
