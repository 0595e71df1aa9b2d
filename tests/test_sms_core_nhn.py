"""The core sending through the real NHN gateway (httpx over a socket) to the local NHN-compatible
server: one request per send, lost answers looked up before any retry, refusals explained, statuses
refreshed, reservations cancelled at the gateway, and `sms send` configured by the environment."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from contiple_tui import config
from contiple_tui.core import sms
from contiple_tui.domain import images
from contiple_tui.domain.sms_models import MessageStatus
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.sim.nhn_server import NhnServer
from contiple_tui.sms.factory import gateway_by_name, gateway_for, gateway_name
from contiple_tui.sms.gateway import GatewayError, SendUnknown
from contiple_tui.sms.nhn import NhnGateway

from .conftest import run_cli
from .smsdata import jpeg_bytes

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules

SENDERS = ("15880001", "0212345678")


@pytest.fixture
def server():
    with NhnServer(app_key="app-1", secret_key="secret-1", sender_numbers=SENDERS, timeout_delay=1.5) as srv:
        yield srv


@pytest.fixture
def world(demo_store):
    store = demo_store
    return store, store.services.get_by_code("cs"), store.users.get_by_login("agent02")


def gateway(server, timeout: float = 5.0) -> NhnGateway:
    return NhnGateway(server.base_url, "app-1", "secret-1", timeout=timeout)


def _send(store, cs, user, gw, body="안녕하세요", to="01012345678", **kw):
    draft = sms.Draft(SendType.SMS if "title" not in kw else SendType.MMS, "15880001", body, to, **kw)
    return sms.send(store, user, cs, sms.prepare(store, user, cs, draft), gw)


def test_send_and_refresh_to_sent(world, server):
    store, cs, agent = world
    gw = gateway(server)
    outcome = _send(store, cs, agent, gw, to=",".join(f"010{n:08d}" for n in range(1000)))
    assert server.requests["POST /sender/sms"] == 1  # 1,000 recipients, one API request
    assert outcome.status is MessageStatus.REQUESTED and outcome.request_id
    recipients = store.sms.recipients(outcome.message_id)
    assert [r.recipient_seq for r in recipients[:3]] == [1, 2, 3] and len(recipients) == 1000
    sms.refresh(store, lambda s, name: gateway(server), [cs])
    assert sms.message(store, agent, cs, outcome.message_id).status is MessageStatus.SENT


def test_mms_uploads_images_then_sends(world, server):
    store, cs, agent = world
    photo = images.check_image_bytes("map.jpg", jpeg_bytes(320, 200))
    outcome = _send(store, cs, agent, gateway(server), body="매장 위치", title="오시는 길", images=(photo,))
    assert server.requests["POST /attachfile/binaryUpload"] == 1 and server.requests["POST /sender/mms"] == 1
    assert [f.data for f in server.files.values()] == [photo.data]
    assert outcome.status is MessageStatus.REQUESTED


def test_lost_answer_is_found_not_sent_twice(world, server):
    store, cs, agent = world
    server.fail_next("timeout", endpoint="POST /sender")
    outcome = _send(store, cs, agent, gateway(server, timeout=0.5))
    # Sent once, processed once: the core found it by its grouping key instead of sending again.
    assert len(server.sends()) == 1 and len(server.messages) == 1
    msg = sms.message(store, agent, cs, outcome.message_id)
    assert msg.request_id == server.messages[0].request_id
    assert msg.status in (MessageStatus.REQUESTED, MessageStatus.SENT)  # the look-up may see it delivered


def test_answer_lost_before_processing_is_not_sent_again(world, server):
    store, cs, agent = world
    server.fail_next("http500", endpoint="POST /sender")  # not processed: the look-up finds nothing
    with pytest.raises(SendUnknown) as err:
        _send(store, cs, agent, gateway(server))
    # Never posted again by itself: the user is told it is unknown (exit code 3: do not retry).
    assert server.requests["POST /sender/sms"] == 1 and server.messages == []
    assert err.value.key == "sms.outcome.unknown" and err.value.exit_code == 3
    msg = store.sms.history(cs.id, sms.history_filter(agent, cs))[0]
    assert msg.status is MessageStatus.UNKNOWN and msg.request_id is None


@pytest.mark.parametrize("code", [-2312, -2019, -9999])
def test_refusals_are_explained_and_recorded(world, server, code):
    store, cs, agent = world
    server.fail_next(code, endpoint="POST /sender")
    with pytest.raises(GatewayError) as err:
        _send(store, cs, agent, gateway(server))
    assert str(code) in err.value.message("en") and str(code) in err.value.message("ko")
    msg = store.sms.history(cs.id, sms.history_filter(agent, cs))[0]
    assert msg.status is MessageStatus.FAILED and msg.result_code == str(code)
    assert {r.state for r in store.sms.recipients(msg.id)} == {"failed"}


def test_unreachable_gateway_fails_plainly(world):
    store, cs, agent = world
    gw = NhnGateway("http://127.0.0.1:9", "app-1", "secret-1", timeout=1.0)
    with pytest.raises(GatewayError) as err:
        _send(store, cs, agent, gw)
    assert err.value.key == "sms.err.gateway_unreachable"
    msg = store.sms.history(cs.id, sms.history_filter(agent, cs))[0]
    assert msg.status is MessageStatus.FAILED


def test_reservation_cancelled_at_the_gateway(world, server):
    store, cs, agent = world
    now = sms.service_now(cs)
    at = (now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    outcome = _send(store, cs, agent, gateway(server), to="01012345678,01087654321", reserve=at)
    assert outcome.status is MessageStatus.RESERVED
    assert sms.cancel_reservation(store, agent, cs, outcome.message_id, gateway(server)) == 2
    assert server.requests["PUT /reservations/cancel"] == 1
    sms.refresh(store, lambda s, name: gateway(server), [cs])
    assert sms.message(store, agent, cs, outcome.message_id).status is MessageStatus.CANCELLED


def test_factory_picks_nhn_when_keys_are_set(world, server):
    _, cs, _ = world
    settings = config.SmsSettings(base_url=server.base_url, keys={"cs": config.NhnKeys("app-1", "secret-1")})
    assert gateway_name(settings, cs) == "nhn" and isinstance(gateway_for(settings, cs), NhnGateway)
    assert gateway_name(config.SmsSettings(), cs) == "sandbox"
    forced = config.SmsSettings(gateway="nhn")
    with pytest.raises(GatewayError) as err:
        gateway_by_name(forced, cs, "nhn")
    assert err.value.key == "sms.err.gateway_no_keys"


def test_env_overrides_config_for_every_service(tmp_path):
    cfg = config.load(
        data_dir=tmp_path,
        environ={
            "CONTIPLE_TUI_SMS_GATEWAY": "nhn",
            "CONTIPLE_TUI_NHN_BASE_URL": "http://127.0.0.1:8899",
            "CONTIPLE_TUI_NHN_APP_KEY": "a",
            "CONTIPLE_TUI_NHN_SECRET_KEY": "s",
        },
    )
    assert cfg.sms.gateway == "nhn" and cfg.sms.base_url == "http://127.0.0.1:8899"
    assert cfg.sms.keys_for("anything").app_key == "a"
    assert "s" not in repr(cfg.sms.keys_for("x")).replace("NhnKeys", "").replace("app_key", "")


def test_secret_keys_file_must_be_private(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[sms.services.cs]\napp_key = "a"\nsecret_key = "s"\n', encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(config.ConfigError) as err:
        config.load(data_dir=tmp_path, environ={})
    assert "chmod 600" in err.value.message()
    path.chmod(0o600)
    assert config.load(data_dir=tmp_path, environ={}).sms.keys_for("cs").secret_key == "s"


def test_sms_send_cli_through_the_local_nhn_server(demo_dir, server, tmp_path):
    env = {
        "CONTIPLE_TUI_SMS_GATEWAY": "nhn",
        "CONTIPLE_TUI_NHN_BASE_URL": server.base_url,
        "CONTIPLE_TUI_NHN_APP_KEY": "app-1",
        "CONTIPLE_TUI_NHN_SECRET_KEY": "secret-1",
    }
    photo = tmp_path / "p.jpg"
    photo.write_bytes(jpeg_bytes())
    at = (sms.service_now(type("S", (), {"timezone": "Asia/Seoul"})) + timedelta(hours=1)).strftime(
        "%Y-%m-%d %H:%M"
    )
    result = run_cli(
        "--data-dir",
        str(demo_dir),
        "--user",
        "agent02",
        "sms",
        "send",
        "--to",
        ",".join(f"010{n:08d}" for n in range(1000)),
        "--body",
        "공지",
        "--image",
        str(photo),
        "--at",
        at,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "SANDBOX" not in result.stdout and "reserved for" in result.stdout
    assert server.requests["POST /sender/mms"] == 1 and server.requests["POST /attachfile/binaryUpload"] == 1
    cancel = run_cli("--data-dir", str(demo_dir), "--user", "agent02", "sms", "cancel", "1", env=env)
    assert cancel.returncode == 0, cancel.stderr
    assert "1000 recipients" in cancel.stdout
    refused = run_cli(
        "--data-dir",
        str(demo_dir),
        "--user",
        "agent02",
        "--lang",
        "ko",
        "sms",
        "send",
        "--to",
        "01012345678",
        "--body",
        "x",
        env={**env, "CONTIPLE_TUI_NHN_SECRET_KEY": "wrong"},
    )
    assert refused.returncode == 2 and "시크릿 키" in refused.stderr and "wrong" not in refused.stderr
    time.sleep(0)  # the server thread keeps serving; nothing else to wait for


def test_sender_numbers_synced_from_nhn(demo_dir):
    with NhnServer(
        app_key="app-1",
        secret_key="secret-1",
        sender_numbers=("15880001", "0299998888"),
        blocked_numbers=("0211112222",),
    ) as srv:
        env = {
            "CONTIPLE_TUI_NHN_BASE_URL": srv.base_url,
            "CONTIPLE_TUI_NHN_APP_KEY": "app-1",
            "CONTIPLE_TUI_NHN_SECRET_KEY": "secret-1",
        }
        agent = run_cli("--data-dir", str(demo_dir), "--user", "agent02", "sms", "senders", "--sync", env=env)
        assert agent.returncode == 2  # admins only
        result = run_cli("--data-dir", str(demo_dir), "--user", "admin", "sms", "senders", "--sync", env=env)
        assert result.returncode == 0, result.stderr
        assert "Added: 0299998888. Removed: 0212345678." in result.stdout
        assert "02-9999-8888" in result.stdout and "0211112222" not in result.stdout  # blocked: not usable


@pytest.mark.sqlite_only  # the fault is a trigger in SQLite's words
def test_refresh_goes_on_past_a_send_the_store_cannot_record_and_closes_its_gateways(world, server):
    """One send's answer cannot be written (a real SQLite error, from a trigger on its rows): it is kept
    as it was, logged, and tried again by the next refresh; the sends after it are settled all the same
    and the gateways are closed."""
    store, cs, agent = world
    gw = gateway(server)
    ids = [_send(store, cs, agent, gw, to=f"0101234567{n}").message_id for n in range(3)]
    gw.close()
    assert {sms.message(store, agent, cs, i).status for i in ids} == {MessageStatus.REQUESTED}
    store.db.run_write(
        lambda conn: conn.execute(
            f"CREATE TRIGGER refuse_one BEFORE UPDATE ON sms_recipients WHEN OLD.message_id = {ids[1]} "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O refused for this row'); END"
        )
    )
    made: list[NhnGateway] = []

    def gateway_for_test(service, name):
        made.append(gateway(server))
        return made[-1]

    assert sms.refresh(store, gateway_for_test, [cs]) == 2
    statuses = [sms.message(store, agent, cs, i).status for i in ids]
    assert statuses == [MessageStatus.SENT, MessageStatus.REQUESTED, MessageStatus.SENT]
    assert made and all(g._client.is_closed for g in made)
    store.db.run_write(lambda conn: conn.execute("DROP TRIGGER refuse_one"))
    assert sms.refresh(store, gateway_for_test, [cs]) == 1
    assert sms.message(store, agent, cs, ids[1]).status is MessageStatus.SENT
    assert server.requests["POST /sender/sms"] == 3  # looked up, never posted again
