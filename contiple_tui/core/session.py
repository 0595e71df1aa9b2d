"""Who is at the terminal and which service they work in (현재 접속 중인 서비스)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

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


def current_identity(store: Store, user: User, service: Service) -> tuple[User, Service]:
    """The user and the service as the store has them now, not as a console loaded them.

    A console keeps its User for hours; an administrator may disable the user, take a permission away
    or change the services meanwhile, from another process. Every core action that a person performs
    goes through here first (see :func:`acting`), so the permission rules judge the current record:
    a disabled or removed user is refused with IdentityError, a lost permission or membership with
    PermissionDenied by the rule itself. Costs a few indexed reads.
    """
    fresh = store.users.get(user.id)
    if fresh is None or fresh.login != user.login:
        raise IdentityError("err.unknown_user", login=user.login)
    if fresh.disabled:
        raise IdentityError("err.disabled_user", login=user.login)
    fresh_service = store.services.get(service.id)
    if fresh_service is None:
        raise NotFound("err.not_member", service=service.code)
    return fresh, fresh_service


P = ParamSpec("P")
R = TypeVar("R")


def acting(
    fn: Callable[Concatenate[Store, User, Service, P], R],
) -> Callable[Concatenate[Store, User, Service, P], R]:
    """Decorates a core action ``fn(store, user, service, ...)``: it runs with the user and service
    re-read from the store (:func:`current_identity`), in whichever process it is called."""

    @functools.wraps(fn)
    def action(store: Store, user: User, service: Service, /, *args: P.args, **kwargs: P.kwargs) -> R:
        user, service = current_identity(store, user, service)
        return fn(store, user, service, *args, **kwargs)

    return action


class Session:
    """The signed-in user, their services and the service in use."""

    def __init__(self, store: Store, user: User, service_code: str | None = None) -> None:
        self.store = store
        self.user = user
        self.services: list[Service] = []
        self.service: Service
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
