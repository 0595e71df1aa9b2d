"""Built-in and user themes, and NO_COLOR."""

import pytest

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
