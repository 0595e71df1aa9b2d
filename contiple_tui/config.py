"""Settings: a TOML file, overridden by ``CONTIPLE_TUI_*`` environment variables, overridden by flags.

Validated strictly: an unknown key or a wrong type names the file, the key and the problem. Headless.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contiple_tui.errors import ConfigError
from contiple_tui.i18n import t

APP_NAME = "contiple-tui"
CONFIG_FILENAME = "config.toml"
ENV_PREFIX = "CONTIPLE_TUI_"

# section -> key -> (type, allowed values or None). The [keymap] section is free-form (binding ids).
SCHEMA: dict[str, dict[str, tuple[type, tuple | None]]] = {
    "ui": {
        "lang": (str, ("ko", "en")),
        "theme": (str, None),
        "theme_files": (list, None),
        "mouse": (bool, None),
        "refresh_seconds": (float, None),
        "service": (str, None),
    },
    "cti": {"url": (str, None), "token": (str, None)},
    "wallboard": {"interval": (float, None)},
    "notifications": {"bell": (bool, None), "desktop": (bool, None)},
    "sms": {
        "gateway": (str, ("auto", "nhn", "sandbox")),
        "base_url": (str, None),
        "timeout": (float, None),
        "request_timezone": (str, None),
        "services": (dict, None),  # [sms.services.<code>] app_key, secret_key
    },
}
SMS_SERVICE_KEYS = ("app_key", "secret_key")
NHN_DEFAULT_BASE_URL = "https://sms.api.nhncloudservice.com"
# Environment variables that override the file (flags override both).
ENV_KEYS = {
    "LANG": ("ui", "lang"),
    "THEME": ("ui", "theme"),
    "CTI_URL": ("cti", "url"),
    "CTI_TOKEN": ("cti", "token"),
    "SMS_GATEWAY": ("sms", "gateway"),
    "NHN_BASE_URL": ("sms", "base_url"),
}
_TYPE_NAMES = {str: "string", bool: "boolean", float: "number", list: "list", dict: "table"}


@dataclass(frozen=True)
class NhnKeys:
    app_key: str
    secret_key: str = field(repr=False)  # never displayed or logged


@dataclass
class SmsSettings:
    gateway: str = "auto"  # auto: NHN for a service with keys, the sandbox otherwise
    base_url: str = NHN_DEFAULT_BASE_URL
    timeout: float = 10.0
    request_timezone: str = "Asia/Seoul"  # NHN's requestDate zone (UNCONFIRMED by NHN's docs)
    keys: dict[str, NhnKeys] = field(default_factory=dict, repr=False)  # by service code
    env_keys: NhnKeys | None = field(default=None, repr=False)  # CONTIPLE_TUI_NHN_*: every service

    def keys_for(self, service_code: str) -> NhnKeys | None:
        return self.env_keys or self.keys.get(service_code)


@dataclass
class Config:
    data_dir: Path
    config_file: Path
    lang: str = "en"
    theme: str = "contiple-dark"
    theme_chosen: bool = (
        False  # set by a flag, the environment or the config file (else the user's last pick)
    )
    theme_files: list[Path] = field(default_factory=list)
    mouse: bool = True
    refresh_seconds: float = 0.5  # a change from another console shows within about half a second
    service: str | None = None
    cti_url: str | None = None
    cti_token: str | None = field(default=None, repr=False)  # never displayed
    bell: bool = False
    desktop_notifications: bool = False
    wallboard_interval: float = 5.0
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
    if section not in SCHEMA:
        raise ConfigError("err.config_unknown_key", file=file, key=section)
    spec = SCHEMA[section].get(key)
    name = f"{section}.{key}"
    if spec is None:
        raise ConfigError("err.config_unknown_key", file=file, key=name)
    typ, allowed = spec
    ok = isinstance(value, typ) and not (typ is not bool and isinstance(value, bool))
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if typ is list and ok and not all(isinstance(v, str) for v in value):
        ok = False
    if not ok:
        raise ConfigError(
            "err.config_type", file=file, key=name, expected=_TYPE_NAMES[typ], got=type(value).__name__
        )
    if allowed is not None and value not in allowed:
        raise ConfigError("err.config_value", file=file, key=name, value=value, allowed=", ".join(allowed))
    if key == "refresh_seconds" and not 0.2 <= value <= 60:
        raise ConfigError("err.config_range", file=file, key=name, low=0.2, high=60)
    if key == "interval" and not 1 <= value <= 3600:
        raise ConfigError("err.config_range", file=file, key=name, low=1, high=3600)
    if key == "timeout" and not 0.5 <= value <= 120:
        raise ConfigError("err.config_range", file=file, key=name, low=0.5, high=120)
    if section == "sms" and key == "base_url" and not value.startswith(("http://", "https://")):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("sms.err.base_url", url=value)
        )
    if section == "sms" and key == "request_timezone":
        _check_zone(file, name, value)
    if section == "sms" and key == "services":
        _check_sms_services(file, value)
    if section == "cti" and key == "url" and not _websocket_url_ok(value):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("err.cti_url_invalid", url=value)
        )
    return value


def _check_zone(file: str, name: str, value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "err.config_value_bad", file=file, key=name, reason=t("err.timezone_unknown", zone=value)
        ) from None


def _check_sms_services(file: str, table: dict) -> None:
    for code, keys in table.items():
        if not isinstance(keys, dict):
            raise ConfigError(
                "err.config_type",
                file=file,
                key=f"sms.services.{code}",
                expected="table",
                got=type(keys).__name__,
            )
        for key, value in keys.items():
            if key not in SMS_SERVICE_KEYS:
                raise ConfigError("err.config_unknown_key", file=file, key=f"sms.services.{code}.{key}")
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    "err.config_type",
                    file=file,
                    key=f"sms.services.{code}.{key}",
                    expected="string",
                    got=type(value).__name__,
                )
        if set(keys) != set(SMS_SERVICE_KEYS):
            missing = next(k for k in SMS_SERVICE_KEYS if k not in keys)
            raise ConfigError("err.config_missing_key", file=file, key=f"sms.services.{code}.{missing}")


def _check_secret_mode(path: Path, settings: dict) -> None:
    """A file holding SMS secret keys must be readable by its owner only (mode 0600)."""
    if not settings.get("sms", {}).get("services"):
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if os.name == "posix" and mode & 0o077:
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
        if section != "keymap" and section not in SCHEMA:
            raise ConfigError("err.config_unknown_key", file=file, key=section)
        if not isinstance(table, dict):
            raise ConfigError(
                "err.config_type", file=file, key=section, expected="table", got=type(table).__name__
            )
        if section == "keymap":
            for binding_id, keys in table.items():
                if not isinstance(keys, str) or not keys.strip():
                    raise ConfigError(
                        "err.config_type",
                        file=file,
                        key=f"keymap.{binding_id}",
                        expected="string",
                        got=type(keys).__name__,
                    )
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
    environ: dict[str, str] | None = None,
) -> Config:
    env = dict(os.environ if environ is None else environ)
    explicit = data_dir is not None
    ddir = Path(data_dir).expanduser() if data_dir is not None else default_data_dir(env)
    cfg_file = config_path(ddir, explicit, env)
    settings = read_file(cfg_file)
    _check_secret_mode(cfg_file, settings)

    for suffix, (section, key) in ENV_KEYS.items():
        value = env.get(ENV_PREFIX + suffix)
        if value:
            settings.setdefault(section, {})[key] = _check(ENV_PREFIX + suffix, section, key, value)
    flags = {
        "--lang": ("ui", "lang", lang),
        "--theme": ("ui", "theme", theme),
        "--cti-url": ("cti", "url", cti_url),
    }
    for flag, (section, key, value) in flags.items():
        if value is not None:
            settings.setdefault(section, {})[key] = _check(flag, section, key, value)

    from contiple_tui.i18n import detect_language

    ui = settings.get("ui", {})
    cti = settings.get("cti", {})
    notes = settings.get("notifications", {})
    return Config(
        data_dir=ddir,
        config_file=cfg_file,
        lang=ui.get("lang") or detect_language(env),
        theme=ui.get("theme", "contiple-dark"),
        theme_chosen="theme" in ui,
        theme_files=[(cfg_file.parent / Path(p).expanduser()) for p in ui.get("theme_files", [])],
        mouse=ui.get("mouse", True),
        refresh_seconds=ui.get("refresh_seconds", 0.5),
        service=ui.get("service"),
        cti_url=cti.get("url"),
        cti_token=cti.get("token"),
        bell=notes.get("bell", False),
        desktop_notifications=notes.get("desktop", False),
        wallboard_interval=settings.get("wallboard", {}).get("interval", 5.0),
        keymap=settings.get("keymap", {}),
        sms=_sms_settings(settings.get("sms", {}), env),
    )


def _sms_settings(sms: dict[str, Any], env: dict[str, str]) -> SmsSettings:
    app, secret = env.get(ENV_PREFIX + "NHN_APP_KEY"), env.get(ENV_PREFIX + "NHN_SECRET_KEY")
    if bool(app) != bool(secret):
        missing = "NHN_SECRET_KEY" if app else "NHN_APP_KEY"
        raise ConfigError("err.config_missing_key", file="environment", key=ENV_PREFIX + missing)
    return SmsSettings(
        gateway=sms.get("gateway", "auto"),
        base_url=sms.get("base_url", NHN_DEFAULT_BASE_URL).rstrip("/"),
        timeout=sms.get("timeout", 10.0),
        request_timezone=sms.get("request_timezone", "Asia/Seoul"),
        keys={code: NhnKeys(v["app_key"], v["secret_key"]) for code, v in sms.get("services", {}).items()},
        env_keys=NhnKeys(app, secret) if app and secret else None,
    )
