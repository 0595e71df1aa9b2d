"""Settings: a TOML file, overridden by ``CONTIPLE_TUI_*`` environment variables, overridden by flags.

Validated strictly: an unknown key or a wrong type names the file, the key and the problem. Headless.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contiple_tui.errors import ConfigError
from contiple_tui.i18n import t

APP_NAME = "contiple-tui"
CONFIG_FILENAME = "config.toml"
ENV_PREFIX = "CONTIPLE_TUI_"

SMS_SERVICE_KEYS = ("app_key", "secret_key")
NHN_DEFAULT_BASE_URL = "https://sms.api.nhncloudservice.com"
_TYPE_NAMES = {str: "string", bool: "boolean", float: "number", list: "list", dict: "table"}


@dataclass(frozen=True)
class Setting:
    """One setting of config.toml: where it lives, its type, default, allowed values or range, its own
    check, and what else may set it (a ``CONTIPLE_TUI_*`` variable, a flag). The one declaration read by
    the validation, :class:`Config`'s defaults, :func:`load` and the JSON schema (:func:`json_schema`);
    its help text is the message ``config.help.<section>.<key>`` in both languages."""

    section: str
    key: str
    kind: type
    default: Any
    attr: str | None = None  # the Config attribute it fills (the [sms] settings fill Config.sms)
    allowed: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    check: Callable[[str, str, Any], None] | None = None  # (file, name, value): raises ConfigError
    env: str | None = None  # CONTIPLE_TUI_<env> overrides the file
    flag: str | None = None  # and this flag overrides both

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


def _check_base_url(file: str, name: str, value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("sms.err.base_url", url=value)
        )


def _check_zone(file: str, name: str, value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("err.timezone_unknown", zone=value)
        ) from None


def _check_cti_url(file: str, name: str, value: str) -> None:
    if not _websocket_url_ok(value):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("err.cti_url_invalid", url=value)
        )


def check_db_url(file: str, name: str, value: str) -> None:
    """A postgresql:// URL with a database name (ConfigError naming ``file`` and ``name`` if not)."""
    from urllib.parse import urlsplit

    # Not parts.port: libpq's URL may list several hosts (db1:5432,db2:5432) for a failover.
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("err.db_url_invalid", url=value)
        )


def _check_text(file: str, key: str, value: object) -> None:
    """A string with more than white space in it, or the file's type error for ``key``."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("err.config_type", file=file, key=key, expected="string", got=type(value).__name__)


def _check_sms_services(file: str, name: str, table: dict) -> None:
    for code, keys in table.items():
        if not isinstance(keys, dict):
            raise ConfigError(
                "err.config_type", file=file, key=f"{name}.{code}", expected="table", got=type(keys).__name__
            )
        for key, value in keys.items():
            if key not in SMS_SERVICE_KEYS:
                raise ConfigError("err.config_unknown_key", file=file, key=f"{name}.{code}.{key}")
            _check_text(file, f"{name}.{code}.{key}", value)
        if set(keys) != set(SMS_SERVICE_KEYS):
            missing = next(k for k in SMS_SERVICE_KEYS if k not in keys)
            raise ConfigError("err.config_missing_key", file=file, key=f"{name}.{code}.{missing}")


SETTINGS: tuple[Setting, ...] = (
    Setting("ui", "lang", str, None, "lang", allowed=("ko", "en"), env="LANG", flag="--lang"),
    Setting("ui", "theme", str, "contiple-dark", "theme", env="THEME", flag="--theme"),
    Setting("ui", "theme_files", list, (), "theme_files"),
    Setting("ui", "mouse", bool, True, "mouse"),
    # A change from another console shows within about half a second.
    Setting("ui", "refresh_seconds", float, 0.5, "refresh_seconds", low=0.2, high=60),
    Setting("ui", "service", str, None, "service"),
    Setting("store", "url", str, None, "db_url", check=check_db_url, env="DB_URL", flag="--db"),
    Setting("cti", "url", str, None, "cti_url", check=_check_cti_url, env="CTI_URL", flag="--cti-url"),
    Setting("cti", "token", str, None, "cti_token", env="CTI_TOKEN"),
    Setting("wallboard", "interval", float, 5.0, "wallboard_interval", low=1, high=3600),
    # A wall TV's picture changes once a second, like its clock; 0 follows every update of the feed.
    Setting("wallboard", "kiosk_refresh", float, 1.0, "kiosk_refresh", low=0, high=60),
    Setting("notifications", "bell", bool, False, "bell"),
    Setting("notifications", "desktop", bool, False, "desktop_notifications"),
    Setting("sms", "gateway", str, "auto", allowed=("auto", "nhn", "sandbox"), env="SMS_GATEWAY"),
    Setting("sms", "base_url", str, NHN_DEFAULT_BASE_URL, check=_check_base_url, env="NHN_BASE_URL"),
    Setting("sms", "timeout", float, 10.0, low=0.5, high=120),
    Setting("sms", "request_timezone", str, "Asia/Seoul", check=_check_zone),  # NHN's requestDate zone
    Setting("sms", "services", dict, {}, check=_check_sms_services),  # [sms.services.<code>] the keys
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
SECTIONS = tuple(dict.fromkeys(setting.section for setting in SETTINGS))
_DEFAULT = {setting.attr: setting.default for setting in SETTINGS if setting.attr}


@dataclass(frozen=True)
class NhnKeys:
    app_key: str
    secret_key: str = field(repr=False)  # never displayed or logged


@dataclass
class SmsSettings:
    gateway: str = BY_NAME["sms.gateway"].default  # auto: NHN for a service with keys, the sandbox otherwise
    base_url: str = BY_NAME["sms.base_url"].default
    timeout: float = BY_NAME["sms.timeout"].default
    request_timezone: str = BY_NAME["sms.request_timezone"].default  # NHN's requestDate zone (UNCONFIRMED)
    keys: dict[str, NhnKeys] = field(default_factory=dict, repr=False)  # by service code
    env_keys: NhnKeys | None = field(default=None, repr=False)  # CONTIPLE_TUI_NHN_*: every service

    def keys_for(self, service_code: str) -> NhnKeys | None:
        return self.env_keys or self.keys.get(service_code)


@dataclass
class Config:
    """The settings in effect; defaults from :data:`SETTINGS`."""

    data_dir: Path
    config_file: Path
    lang: str = "en"  # unset in the file: from the locale (load)
    theme: str = _DEFAULT["theme"]
    theme_chosen: bool = (
        False  # set by a flag, the environment or the config file (else the user's last pick)
    )
    theme_files: list[Path] = field(default_factory=list)
    mouse: bool = _DEFAULT["mouse"]
    refresh_seconds: float = _DEFAULT["refresh_seconds"]
    service: str | None = _DEFAULT["service"]
    cti_url: str | None = _DEFAULT["cti_url"]
    db_url: str | None = field(default=_DEFAULT["db_url"], repr=False)  # may hold a password
    cti_token: str | None = field(default=_DEFAULT["cti_token"], repr=False)  # never displayed
    bell: bool = _DEFAULT["bell"]
    desktop_notifications: bool = _DEFAULT["desktop_notifications"]
    wallboard_interval: float = _DEFAULT["wallboard_interval"]
    kiosk_refresh: float = _DEFAULT["kiosk_refresh"]
    keymap: dict[str, str] = field(default_factory=dict)
    sms: SmsSettings = field(default_factory=SmsSettings)

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"


def default_data_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(ENV_PREFIX + "HOME"):
        return Path(env[ENV_PREFIX + "HOME"]).expanduser()
    import platformdirs  # only when needed: keeps `--version` fast

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path(data_dir: Path | None, explicit_data_dir: bool, environ: dict[str, str]) -> Path:
    """Beside the data when a data dir is named; otherwise the platform's config directory."""
    if explicit_data_dir or environ.get(ENV_PREFIX + "HOME"):
        assert data_dir is not None
        return data_dir / CONFIG_FILENAME
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILENAME


def _check(file: str, section: str, key: str, value: Any) -> Any:
    """``value`` for ``section.key`` as its :class:`Setting` declares it, or a ConfigError naming the file
    (or variable, or flag) and the key."""
    if section not in SECTIONS:
        raise ConfigError("err.config_unknown_key", file=file, key=section)
    name = f"{section}.{key}"
    setting = BY_NAME.get(name)
    if setting is None:
        raise ConfigError("err.config_unknown_key", file=file, key=name)
    typ = setting.kind
    ok = isinstance(value, typ) and not (typ is not bool and isinstance(value, bool))
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if typ is list and ok and not all(isinstance(v, str) for v in value):
        ok = False
    if not ok:
        raise ConfigError(
            "err.config_type", file=file, key=name, expected=_TYPE_NAMES[typ], got=type(value).__name__
        )
    if setting.allowed is not None and value not in setting.allowed:
        raise ConfigError(
            "err.config_value", file=file, key=name, value=value, allowed=", ".join(setting.allowed)
        )
    if setting.low is not None and setting.high is not None and not setting.low <= value <= setting.high:
        low, high = (int(x) if x == int(x) else x for x in (setting.low, setting.high))
        raise ConfigError("err.config_range", file=file, key=name, low=low, high=high)
    if setting.check is not None:
        setting.check(file, name, value)
    return value


def _check_file_mode(path: Path, settings: dict) -> None:
    """A configuration others may change is refused (it names the CTI server, the gateways, the keys);
    one holding secrets (SMS keys, the CTI token) must be readable by its owner only (0600)."""
    try:
        st = path.stat()
    except OSError:
        return
    if os.name != "posix":
        return
    mode = st.st_mode
    if mode & 0o022:
        raise ConfigError("err.config_shared", file=str(path), mode=f"{mode & 0o777:o}")
    uid = os.geteuid()
    if uid != 0 and st.st_uid not in (uid, 0):  # another account could point the gateways elsewhere
        raise ConfigError("err.config_owner", file=str(path), uid=st.st_uid)
    secrets = (
        settings.get("sms", {}).get("services")
        or settings.get("cti", {}).get("token")
        or "@" in str(settings.get("store", {}).get("url", ""))  # a user, perhaps a password
    )
    if secrets and mode & 0o077:
        raise ConfigError("err.config_secret_mode", file=str(path), mode=f"{mode & 0o777:o}")


def _websocket_url_ok(url: str) -> bool:
    """ws:// or wss://, a host, and a port in range (parsed as the websocket client will)."""
    if not url.startswith(("ws://", "wss://")):
        return False
    from websockets.exceptions import InvalidURI
    from websockets.uri import parse_uri

    try:
        parse_uri(url)
    except (InvalidURI, ValueError):
        return False
    return True


def read_file(path: Path) -> dict[str, dict[str, Any]]:
    """The file's settings as {section: {key: value}}, validated. A missing file is empty."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}  # no file: defaults (an unusable data dir is reported when the store opens)
    except OSError as exc:
        raise ConfigError("err.config_unreadable", file=file, reason=exc.strerror or str(exc)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("err.config_syntax", file=file, reason=str(exc)) from None
    result: dict[str, dict[str, Any]] = {}
    for section, table in data.items():
        if section != "keymap" and section not in SECTIONS:
            raise ConfigError("err.config_unknown_key", file=file, key=section)
        if not isinstance(table, dict):
            raise ConfigError(
                "err.config_type", file=file, key=section, expected="table", got=type(table).__name__
            )
        if section == "keymap":
            for binding_id, keys in table.items():
                _check_text(file, f"keymap.{binding_id}", keys)
            result["keymap"] = dict(table)
            continue
        result[section] = {key: _check(file, section, key, value) for key, value in table.items()}
    return result


def load(
    *,
    data_dir: str | Path | None = None,
    lang: str | None = None,
    theme: str | None = None,
    cti_url: str | None = None,
    db_url: str | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    env = dict(os.environ if environ is None else environ)
    explicit = data_dir is not None
    ddir = Path(data_dir).expanduser() if data_dir is not None else default_data_dir(env)
    cfg_file = config_path(ddir, explicit, env)
    settings = read_file(cfg_file)
    _check_file_mode(cfg_file, settings)

    given = {"--lang": lang, "--theme": theme, "--cti-url": cti_url, "--db": db_url}
    for setting in SETTINGS:  # the environment overrides the file, a flag overrides both
        sources = (
            [(ENV_PREFIX + setting.env, env.get(ENV_PREFIX + setting.env) or None)] if setting.env else []
        )
        if setting.flag:
            sources.append((setting.flag, given[setting.flag]))  # an empty flag is checked, not ignored
        for source, value in sources:
            if value is not None:
                settings.setdefault(setting.section, {})[setting.key] = _check(
                    source, setting.section, setting.key, value
                )

    from contiple_tui.i18n import detect_language

    values = {
        setting.attr: settings.get(setting.section, {}).get(setting.key, setting.default)
        for setting in SETTINGS
        if setting.attr
    }
    values["lang"] = values["lang"] or detect_language(env)
    values["theme_files"] = [(cfg_file.parent / Path(p).expanduser()) for p in values["theme_files"]]
    return Config(
        data_dir=ddir,
        config_file=cfg_file,
        theme_chosen="theme" in settings.get("ui", {}),
        keymap=settings.get("keymap", {}),
        sms=_sms_settings(settings.get("sms", {}), env),
        **values,
    )


def _sms_settings(sms: dict[str, Any], env: dict[str, str]) -> SmsSettings:
    app, secret = env.get(ENV_PREFIX + "NHN_APP_KEY"), env.get(ENV_PREFIX + "NHN_SECRET_KEY")
    if bool(app) != bool(secret):
        missing = "NHN_SECRET_KEY" if app else "NHN_APP_KEY"
        raise ConfigError("err.config_missing_key", file="environment", key=ENV_PREFIX + missing)
    return SmsSettings(
        gateway=sms.get("gateway", BY_NAME["sms.gateway"].default),
        base_url=sms.get("base_url", BY_NAME["sms.base_url"].default).rstrip("/"),
        timeout=sms.get("timeout", BY_NAME["sms.timeout"].default),
        request_timezone=sms.get("request_timezone", BY_NAME["sms.request_timezone"].default),
        keys={code: NhnKeys(v["app_key"], v["secret_key"]) for code, v in sms.get("services", {}).items()},
        env_keys=NhnKeys(app, secret) if app and secret else None,
    )


_JSON_TYPES = {str: "string", bool: "boolean", float: "number"}


def json_schema(lang: str | None = None) -> dict[str, Any]:
    """The JSON schema of config.toml (for editors: Taplo, VS Code's Even Better TOML), from SETTINGS;
    descriptions in ``lang``. docs/config.schema.json is this in English (a test keeps it current)."""
    sections: dict[str, Any] = {}
    for setting in SETTINGS:
        prop: dict[str, Any] = {"description": t(f"config.help.{setting.name}", lang)}
        if setting.kind is list:
            prop |= {"type": "array", "items": {"type": "string"}}
        elif setting.kind is dict:
            keys = {key: {"type": "string", "minLength": 1} for key in SMS_SERVICE_KEYS}
            prop |= {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": keys,
                    "required": list(SMS_SERVICE_KEYS),
                    "additionalProperties": False,
                },
            }
        else:
            prop["type"] = _JSON_TYPES[setting.kind]
        if setting.allowed is not None:
            prop["enum"] = list(setting.allowed)
        if setting.low is not None:
            prop |= {"minimum": setting.low, "maximum": setting.high}
        if setting.default not in (None, (), {}):
            prop["default"] = setting.default
        section = sections.setdefault(
            setting.section, {"type": "object", "additionalProperties": False, "properties": {}}
        )
        section["properties"][setting.key] = prop
    sections["keymap"] = {
        "type": "object",
        "description": t("config.help.keymap", lang),
        "additionalProperties": {"type": "string", "minLength": 1},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "contiple-tui config.toml",
        "type": "object",
        "additionalProperties": False,
        "properties": sections,
    }
