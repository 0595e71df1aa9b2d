"""Who is at the terminal and which service they work in (현재 접속 중인 서비스), and what they may ask
for: ``session.callbacks``, ``session.sms`` and ``session.directory`` (core/services.py) hold the store,
the user and the service in use; screens and widgets call those, never the store."""

from __future__ import annotations

from contiple_tui.core.services import CallbackService, DirectoryService, SmsService
from contiple_tui.domain.models import Service, User
from contiple_tui.errors import IdentityError, NotFound
from contiple_tui.store import Store


def resolve_user(store: Store, login: str) -> User:
    """The enabled user with this login, or a clear refusal."""
    user = store.users.get_by_login(login)
    if user is None:
        raise IdentityError("err.unknown_user", login=login)
    if user.disabled:
        raise IdentityError("err.disabled_user", login=login)
    if not user.service_ids:
        raise IdentityError("err.no_service", login=login)
    return user


class Session:
    """The signed-in user, their services and the service in use."""

    def __init__(self, store: Store, user: User, service_code: str | None = None) -> None:
        self.store = store
        self.user = user
        self.services: list[Service] = []
        self.service: Service
        self.callbacks = CallbackService(self)
        self.sms = SmsService(self)
        self.directory = DirectoryService(self)
        self._load_services()
        self.service = self.services[0]
        if service_code:
            self.switch_service(service_code)

    def _load_services(self) -> None:
        services = [s for s in self.store.services.list() if s.id in self.user.service_ids]
        if not services:
            raise IdentityError("err.no_service", login=self.user.login)
        self.services = services

    def switch_service(self, code: str) -> Service:
        for service in self.services:
            if service.code == code:
                self.service = service
                return service
        raise NotFound("err.not_member", service=code)

    def reload(self) -> None:
        """Re-read the user and services after another process changed them.

        Raises IdentityError when the user was disabled or removed meanwhile.
        """
        self.user = resolve_user(self.store, self.user.login)
        current = self.service.code
        self._load_services()
        self.service = next((s for s in self.services if s.code == current), self.services[0])
