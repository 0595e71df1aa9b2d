"""Operator rules for users and services (the core; the CLI is tested in test_cli.py)."""

import pytest

from contiple_tui.core import directory
from contiple_tui.core.session import Session, resolve_user
from contiple_tui.domain.models import Perm, Role
from contiple_tui.errors import IdentityError, NotFound, ValidationError

from .conftest import integrity_errors

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


@pytest.fixture
def store(empty_store):
    directory.add_service(
        empty_store, code="cs", name="고객센터", sender_numbers=["1588-0001"], ivr_routes=["1=상품 문의"]
    )
    directory.add_service(empty_store, code="sales", name="영업팀", sms_enabled=False)
    return empty_store


def test_add_agent_with_permissions(store):
    user = directory.add_user(
        store,
        login="kim",
        name="김민준",
        role="agent",
        perms="phone,callback_assign",
        services=["cs", "sales"],
        cti_agent_id="2001",
    )
    assert user.perms == {Perm.PHONE, Perm.CALLBACK_ASSIGN}
    assert len(user.service_ids) == 2 and user.cti_agent_id == "2001"


def test_callback_assign_requires_phone(store):
    with pytest.raises(ValidationError) as err:
        directory.add_user(
            store, login="lee", name="이서연", role="agent", perms="callback_assign", services=["cs"]
        )
    assert err.value.key == "err.assign_needs_phone"
    assert store.users.get_by_login("lee") is None


def test_database_also_refuses_assign_without_phone(store):
    """Defence in depth: even SQL that bypasses the core cannot store the forbidden combination."""
    with pytest.raises(integrity_errors()), store.db.write() as conn:
        conn.execute(
            "INSERT INTO users (login, name, role, perm_phone, perm_callback_assign, created_at) "
            "VALUES ('x', 'x', 'agent', 0, 1, 0)"
        )


def test_admin_gets_every_permission(store):
    admin = directory.add_user(store, login="boss", name="관리자", role=Role.ADMIN, services=["cs"])
    assert admin.perms == frozenset(Perm)


def test_wallboard_takes_no_permissions(store):
    with pytest.raises(ValidationError):
        directory.add_user(store, login="tv", name="TV", role="wallboard", perms="phone", services=["cs"])


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(login="bad login"), "err.login_invalid"),
        (dict(name=""), "err.name_invalid"),
        (dict(role="boss"), "err.role_invalid"),
        (dict(perms="phone,fly"), "err.perm_invalid"),
        (dict(services=[]), "err.user_needs_service"),
        (dict(services=["nope"]), "err.service_unknown"),
    ],
)
def test_bad_user_input(store, kwargs, key):
    args = dict(login="park", name="박지호", role="agent", perms="phone", services=["cs"]) | kwargs
    with pytest.raises((ValidationError, NotFound)) as err:
        directory.add_user(store, **args)
    assert err.value.key == key
    assert store.users.list() == []


def test_duplicate_login_and_cti_id(store):
    directory.add_user(
        store, login="park", name="박지호", role="agent", perms="phone", services=["cs"], cti_agent_id="7"
    )
    with pytest.raises(ValidationError) as err:
        directory.add_user(store, login="park", name="박지호", role="agent", services=["cs"])
    assert err.value.key == "err.login_exists"
    with pytest.raises(ValidationError) as err:
        directory.add_user(
            store, login="choi", name="최", role="agent", perms="phone", services=["cs"], cti_agent_id="7"
        )
    assert err.value.key == "err.cti_id_taken"


def test_service_rules(store):
    service = store.services.get_by_code("cs")
    assert service.sender_numbers == ("15880001",)
    assert service.ivr_routes[0].name == "상품 문의"
    for kwargs, key in [
        (dict(code="CS!"), "err.service_code_invalid"),
        (dict(code="cs"), "err.service_code_exists"),
        (dict(timezone="Mars/Base"), "err.timezone_invalid"),
        (dict(sl_threshold_s=0), "err.sl_threshold_invalid"),
        (dict(outbound_ticket_mode="later"), "err.outbound_mode_invalid"),
        (dict(sender_numbers=["12ab"]), "err.sender_invalid"),
        (dict(ivr_routes=["nocode"]), "err.ivr_route_invalid"),
    ]:
        with pytest.raises(ValidationError) as err:
            directory.add_service(store, **(dict(code="new", name="새 서비스") | kwargs))
        assert err.value.key == key
    assert [s.code for s in store.services.list()] == ["cs", "sales"]


def test_identity(store):
    directory.add_user(
        store, login="park", name="박지호", role="agent", perms="phone", services=["cs", "sales"]
    )
    assert resolve_user(store, "park").login == "park"
    with pytest.raises(IdentityError) as err:
        resolve_user(store, "ghost")
    assert err.value.key == "err.unknown_user"
    directory.set_user_disabled(store, "park")
    with pytest.raises(IdentityError) as err:
        resolve_user(store, "park")
    assert err.value.key == "err.disabled_user"
    directory.set_user_disabled(store, "park", False)
    assert resolve_user(store, "park")
    with pytest.raises(NotFound):
        directory.set_user_disabled(store, "ghost")


def test_session_switch_and_reload(store):
    directory.add_user(
        store, login="park", name="박지호", role="agent", perms="phone", services=["cs", "sales"]
    )
    session = Session(store, resolve_user(store, "park"))
    assert session.service.code == "cs"
    session.switch_service("sales")
    assert session.service.code == "sales"
    with pytest.raises(NotFound):
        session.switch_service("elsewhere")
    session.reload()
    assert session.service.code == "sales"
    directory.set_user_disabled(store, "park")
    with pytest.raises(IdentityError):
        session.reload()
