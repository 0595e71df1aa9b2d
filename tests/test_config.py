"""Settings: file < environment < flags; strict validation naming the file, the key and the problem."""

from pathlib import Path

import pytest

from contiple_tui import config
from contiple_tui.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    """config.toml as docs/deployment.md says to keep it: the service account's alone (0600)."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_defaults_without_file(tmp_path):
    cfg = config.load(data_dir=tmp_path, environ={"LANG": "ko_KR.UTF-8"})
    assert cfg.config_file == tmp_path / "config.toml"
    assert cfg.lang == "ko" and cfg.theme == "contiple-dark" and cfg.keymap == {}
    assert cfg.exports_dir == tmp_path / "exports"


def test_env_home_sets_data_dir(tmp_path):
    cfg = config.load(environ={"CONTIPLE_TUI_HOME": str(tmp_path)})
    assert cfg.data_dir == tmp_path and cfg.config_file == tmp_path / "config.toml"


def test_precedence_file_env_flag(tmp_path):
    _write(
        tmp_path, '[ui]\nlang = "en"\ntheme = "contiple-light"\n[cti]\nurl = "ws://file"\ntoken = "s3cret"\n'
    )
    cfg = config.load(data_dir=tmp_path, environ={})
    assert (cfg.lang, cfg.theme, cfg.cti_url) == ("en", "contiple-light", "ws://file")
    env = {"CONTIPLE_TUI_LANG": "ko", "CONTIPLE_TUI_CTI_URL": "ws://env"}
    cfg = config.load(data_dir=tmp_path, environ=env)
    assert (cfg.lang, cfg.theme, cfg.cti_url) == ("ko", "contiple-light", "ws://env")
    cfg = config.load(
        data_dir=tmp_path, environ=env, lang="en", theme="contiple-contrast", cti_url="ws://flag"
    )
    assert (cfg.lang, cfg.theme, cfg.cti_url) == ("en", "contiple-contrast", "ws://flag")
    assert "s3cret" not in repr(cfg)  # the token is never displayed


def test_keymap_section(tmp_path):
    _write(tmp_path, '[keymap]\n"app.switch_service" = "f5"\n')
    assert config.load(data_dir=tmp_path, environ={}).keymap == {"app.switch_service": "f5"}


@pytest.mark.parametrize(
    "text, key, needle",
    [
        ('[ui]\ncolour = "red"\n', "err.config_unknown_key", "ui.colour"),
        ("[nonsense]\nx = 1\n", "err.config_unknown_key", "nonsense"),
        ('[ui]\nmouse = "yes"\n', "err.config_type", "ui.mouse"),
        ("[ui]\nrefresh_seconds = true\n", "err.config_type", "ui.refresh_seconds"),
        ("[ui]\nrefresh_seconds = 0\n", "err.config_range", "ui.refresh_seconds"),
        ('[ui]\nlang = "fr"\n', "err.config_value", "ui.lang"),
        ("[ui]\ntheme_files = [1]\n", "err.config_type", "ui.theme_files"),
        ('[keymap]\n"app.quit" = 3\n', "err.config_type", "keymap.app.quit"),
        ("ui = 3\n", "err.config_type", "ui"),
        ("[ui\n", "err.config_syntax", ""),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path, text, key, needle):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        config.load(data_dir=tmp_path, environ={})
    assert err.value.key == key
    for lang in ("en", "ko"):
        message = err.value.message(lang)
        assert str(path) in message and needle in message


def test_invalid_env_value_names_variable(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(data_dir=tmp_path, environ={"CONTIPLE_TUI_LANG": "de"})
    assert "CONTIPLE_TUI_LANG" in err.value.message("en")


# -- one declaration: SETTINGS, and the JSON schema made from it ------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```toml\n[ui]") + len("```toml\n")
    return text[start : text.index("```", start)]


def test_the_published_schema_is_the_one_the_program_makes():
    import json

    assert json.loads(
        (ROOT / "docs" / "config.schema.json").read_text(encoding="utf-8")
    ) == config.json_schema("en")


def test_the_schema_and_the_validation_agree_on_the_readme_example(tmp_path):
    """Every key of README's example is in the schema, with its type; and the file loads as it is."""
    import tomllib

    schema = config.json_schema("en")["properties"]
    example = tomllib.loads(_readme_example())
    for section, table in example.items():
        props = schema[section].get("properties")
        for key, value in table.items():
            if props is None:  # keymap: free-form
                assert isinstance(value, str)
                continue
            prop = props[key]
            expected = {"string": str, "boolean": bool, "number": (int, float), "array": list, "object": dict}
            assert isinstance(value, expected[prop["type"]]), (section, key)
            if "enum" in prop:
                assert value in prop["enum"]
    path = _write(tmp_path, _readme_example().replace('token = "..."', 'token = "t"'))
    path.chmod(0o600)
    assert config.read_file(path)["wallboard"]["interval"] == 5.0


def test_defaults_and_ranges_come_from_the_declaration(tmp_path):
    cfg = config.load(data_dir=tmp_path, environ={})
    for setting in config.SETTINGS:
        if setting.attr and setting.default is not None and setting.attr != "theme_files":
            assert getattr(cfg, setting.attr) == setting.default, setting.name
    _write(tmp_path, "[wallboard]\ninterval = 0.5\n")
    with pytest.raises(ConfigError) as err:
        config.load(data_dir=tmp_path, environ={})
    assert "wallboard.interval" in err.value.message("en") and "3600" in err.value.message("en")


def test_every_setting_is_explained_in_both_languages():
    from contiple_tui.i18n import t

    for setting in config.SETTINGS:
        for lang in ("ko", "en"):
            key = f"config.help.{setting.name}"
            assert t(key, lang) != key, (key, lang)


def test_config_schema_command_prints_the_schema_in_the_users_language(tmp_path):
    import json

    from .conftest import run_cli

    out = run_cli("--data-dir", str(tmp_path), "--lang", "ko", "config", "schema")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == config.json_schema("ko")


def test_a_configuration_others_may_change_is_refused(tmp_path):
    path = _write(tmp_path, '[ui]\nlang = "en"\n')
    path.chmod(0o666)
    with pytest.raises(ConfigError) as err:
        config.load(data_dir=tmp_path, environ={})
    message = err.value.message("en")
    assert str(path) in message and "chmod 600" in message and "666" in message
    path.chmod(0o644)
    assert config.load(data_dir=tmp_path, environ={}).lang == "en"  # readable by others: fine without secrets


def test_the_cti_token_needs_the_file_to_be_private(tmp_path):
    path = _write(tmp_path, '[cti]\nurl = "ws://127.0.0.1:8765"\ntoken = "s3cret"\n')
    path.chmod(0o644)
    with pytest.raises(ConfigError) as err:
        config.load(data_dir=tmp_path, environ={})
    assert "chmod 600" in err.value.message("en") and "s3cret" not in err.value.message("en")
    path.chmod(0o600)
    assert config.load(data_dir=tmp_path, environ={}).cti_token == "s3cret"
