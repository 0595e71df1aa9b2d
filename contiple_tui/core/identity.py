"""Every core action a person performs runs as the user and service the store has *now*.

A console keeps its User for hours; an administrator may disable the user, take a permission away or
change the services meanwhile, from another process. ``acting`` re-reads both first, so the permission
rules judge the current record."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from contiple_tui.domain.models import Service, User
from contiple_tui.errors import IdentityError, NotFound
from contiple_tui.store import Store


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
