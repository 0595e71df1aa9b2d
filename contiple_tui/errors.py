"""Errors that carry a message key, so the same failure reads well in Korean and in English.

Leaf module: imported by the store, the core and the CLI alike; it imports only the i18n catalogs.
"""

from __future__ import annotations

from contiple_tui.i18n import t


class ContipleError(Exception):
    """A failure the user can understand and act on. ``key`` names the message in the catalogs."""

    exit_code = 2

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class ConfigError(ContipleError):
    """The configuration file or environment is invalid."""


class StoreError(ContipleError):
    """The database cannot be used (newer schema, corrupt, not writable)."""


class ValidationError(ContipleError):
    """Input breaks a product rule; nothing was changed."""


class NotFound(ContipleError):
    """The named object does not exist."""


class IdentityError(ContipleError):
    """The person at the terminal is not a known, enabled user."""


class PermissionDenied(ContipleError):
    """The user may not do this. Raised by the core whatever the UI shows."""

    def __init__(self, action: str, reason: str | None = None) -> None:
        super().__init__("err.permission_denied")
        self.action = action
        self.reason = reason  # a more precise cause, e.g. "cti_login"

    # Reasons that are no matter of rights: said alone, without "Not allowed".
    NOT_A_RIGHT = frozenset({"cti_login", "no_cti_agent"})

    def message(self, lang: str | None = None) -> str:
        if self.reason in self.NOT_A_RIGHT:
            return t(f"deny.{self.reason}", lang)
        text = t("err.permission_denied", lang, action=t(f"action.{self.action}", lang))
        if self.reason:
            text += " " + t(f"deny.{self.reason}", lang)
        return text
