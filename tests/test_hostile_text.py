"""Text from data is always text: hostile strings through every entry point.

Names, phones, SMS texts, gateway answers, CTI frames, file names and command-line arguments full of
Rich markup, terminal escapes, bidi controls, lone surrogates and very long or wide text: nothing
crashes, nothing is read as markup (no action, no link), no escape sequence from the data reaches the
terminal, and the tables keep their columns.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from rich.cells import cell_len
from rich.text import Text

from contiple_tui.safe_text import MAX_CHARS, clean, unsafe_chars
from contiple_tui.widgets.safe import cut, fit, options, plain

from .apphelpers import cti_console, make_app, settle, static_text, until
from .conftest import FIXED_NOW, run_cli
from .hostile import FORBIDDEN_BYTES, HOSTILE, label, seed_hostile

IDS = [label(i) for i in range(len(HOSTILE))]
# What no cleaned text may hold: C0 but newline, DEL, C1, bidi controls and marks, lone surrogates.
BAD = (
    {chr(c) for c in (*range(0, 10), *range(11, 32), *range(0x7F, 0xA0))}
    | {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
    | {chr(c) for c in range(0xD800, 0xE000)}
)


# -- the sanitizer -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_clean_leaves_only_printable_text(value):
    out = clean(value)
    assert not BAD & set(out)
    assert "\n" not in out and len(out) <= MAX_CHARS
    kept = clean(value, None, newlines=True)
    assert not BAD & set(kept)
    out.encode("utf-8")  # no lone surrogate left: every terminal encoding can carry it


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_plain_and_fit_are_never_markup_and_fit_their_width(value):
    text = plain(value)
    assert isinstance(text, Text) and text.plain == clean(value)  # literal: "[/x]" stays "[/x]"
    for width in (1, 6, 13, 40):
        cell = fit(value, width)
        assert cell_len(cell.plain) <= width
        assert cell_len(cut(value, width)) <= width
    prompt, _ = options([(value, 1)])[0]
    assert isinstance(prompt, Text) and not BAD & set(prompt.plain)


def test_unsafe_chars_names_what_is_refused():
    assert unsafe_chars("a\x1bb\u202ec\x1b") == ["U+001B", "U+202E"]
    assert unsafe_chars("두 줄\n본문", newlines=True) == []
    assert unsafe_chars("두 줄\n본문") == ["U+000A"]
    assert unsafe_chars("[@click=app.quit]") == []  # markup is text: shown literally, not refused


def test_toasts_are_plain_text_whatever_the_caller_asks():
    from contiple_tui.widgets.safe import SafeNotify

    seen = []

    class Base:
        def notify(self, message, **kwargs):
            seen.append((message, kwargs))

    class App(SafeNotify, Base):
        pass

    App().notify("[/x]" + HOSTILE[10], title=HOSTILE[12], markup=True)
    message, kwargs = seen[0]
    assert (
        kwargs["markup"] is False and message.startswith("[/x]") and "\x1b" not in message + kwargs["title"]
    )


# -- every screen that shows data --------------------------------------------------------------------


def text_of(widget) -> str:
    """The text a widget draws, as the widget itself renders it (markup or not, as it decides)."""
    visual = widget.render()
    for attr in ("plain",):
        if hasattr(visual, attr):
            return getattr(visual, attr)
    return static_text(widget)


def _alive(app) -> None:
    assert app.is_running and app.return_code is None and app._exception is None


def _rows_keep_their_columns(widget) -> None:
    """Every line a table draws is as wide as its header: no cell pushed the columns."""
    lines = [widget.render_line(y) for y in range(min(widget.size.height, 20))]
    widths = {strip.cell_length for strip in lines}
    assert len(widths) == 1, widths


def _cells_fit_their_columns(table) -> None:
    """A DataTable's cells are cut to their columns' widths: a long or wide name never widens one."""
    widths = [column.width for column in table.ordered_columns]
    for index in range(table.row_count):
        for cell, width in zip(table.get_row_at(index), widths):
            plain_text = cell.plain if isinstance(cell, Text) else str(cell)
            assert cell_len(plain_text) <= width, (plain_text[:40], width)
            assert not BAD & set(plain_text)


@pytest.fixture
def hostile_store(demo_store):
    seed_hostile(demo_store, now=FIXED_NOW.timestamp())
    return demo_store


async def test_every_data_screen_survives_hostile_text(hostile_store):
    from textual.widgets import Select

    from contiple_tui.screens.sms_detail import SmsDetailScreen
    from contiple_tui.widgets.board import BoardTable
    from contiple_tui.widgets.callback_table import CallbackTable
    from contiple_tui.widgets.sms_send_table import RecipientTable, SendTable

    app = make_app(hostile_store, "admin", lang="en")
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, rounds=2, pause=0.2)
        # Home and the header: the names are shown literally, the markup in them does nothing.
        assert "[@click=app.bell]beep[/" in text_of(app.query_one("#who"))
        assert "[@click=app.quit]" in text_of(app.query_one("#service"))
        assert "[/x]" in text_of(app.query_one("#home-service"))
        assert "[@click=app.bell]" in text_of(app.query_one("#home-profile"))

        app.show_menu("callback_list")
        await settle(pilot, rounds=2, pause=0.2)
        table = app.query_one(CallbackTable)
        assert table.row_count
        _rows_keep_their_columns(table)
        for select in app.screen.query(Select).results():  # every dropdown, opened and drawn
            if not select.id or not select.id.startswith("cb-"):
                continue
            select.focus()
            select.expanded = True
            await settle(pilot)
            _alive(app)
            select.expanded = False
        await pilot.click(CallbackTable, offset=(10, 3))  # a click on a row with "[@click=app.quit]"
        await settle(pilot)
        _alive(app)

        for menu in (
            "callback_assign",
            "callback_unassign",
            "callback_status",
            "sms_templates",
            "sms_compose",
        ):
            app.show_menu(menu)
            await settle(pilot, rounds=2, pause=0.2)
            _alive(app)
            for table in app.screen.query(CallbackTable).results():
                if table.display and table.size.height:
                    _rows_keep_their_columns(table)
            for board in app.screen.query(BoardTable).results():
                _cells_fit_their_columns(board)

        # The template editor: walk the hostile tree; each category and template is loaded into the form.
        from contiple_tui.widgets.sms_template_tree import TemplateTree

        app.show_menu("sms_templates")
        await settle(pilot, rounds=2, pause=0.2)
        tree = app.query_one(TemplateTree)
        tree.focus()
        for _ in range(8):
            await pilot.press("down")
            await settle(pilot)
            _alive(app)
            title = text_of(app.query_one("#st-editor-title"))
            assert not BAD & set(title.replace("\n", ""))
        app.show_menu("sms_compose")
        await settle(pilot, rounds=2, pause=0.2)

        # The composer: pick each hostile template; its texts go into the editors cleaned.
        select = app.query_one("#sms-template", Select)
        for _, value in list(select._options)[1:6]:
            select.value = value
            await settle(pilot)
            _alive(app)
            body = app.query_one("#sms-body").text
            assert not BAD & set(body.replace("\n", ""))

        app.show_menu("sms_history")
        await settle(pilot, rounds=2, pause=0.2)
        sends = app.query_one(SendTable)
        assert sends.row_count >= 10
        _cells_fit_their_columns(sends)
        sends.focus()
        for _ in range(8):  # walk down the sends: each one's recipients are drawn
            await pilot.press("down")
            await settle(pilot)
        await settle(pilot, rounds=2, pause=0.2)
        await pilot.press("enter")  # Enter on a send: its recipients take the keys
        recipients = app.query_one(RecipientTable)
        await until(pilot, lambda: recipients.has_focus and recipients.row_count)
        assert recipients.has_focus
        _cells_fit_their_columns(recipients)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SmsDetailScreen))
        assert isinstance(app.screen, SmsDetailScreen)
        body = text_of(app.screen.query_one("#smsh-detail-body"))
        assert "\x1b" not in body
        await pilot.press("escape")
        _alive(app)

        for menu in ("wallboard_overview", "wallboard_services", "wallboard_agents", "home"):
            app.show_menu(menu)
            await settle(pilot, rounds=2, pause=0.2)
            _alive(app)


async def test_clickable_markup_in_a_phone_does_nothing(hostile_store, lang="ko"):
    from contiple_tui.widgets.callback_table import CallbackTable

    app = make_app(hostile_store, "admin", lang=lang)
    async with app.run_test(size=(120, 32)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=2, pause=0.2)
        table = app.query_one(CallbackTable)
        for y in range(1, min(table.row_count, 8) + 1):
            await pilot.click(CallbackTable, offset=(20, y))  # the phone column
            await pilot.click(CallbackTable, offset=(35, y))  # the name column
        await settle(pilot)
        _alive(app)


# -- the CTI feed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone,name",
    [
        ("[/x]", None),
        ("[@click=app.quit]", "[link=file:///etc/passwd]x[/link]"),
        (HOSTILE[10] + "\ud800", HOSTILE[20] + HOSTILE[3]),
    ],
)
async def test_cti_callback_with_hostile_phone_keeps_the_console_up(demo_store, phone, name):
    from .ctidata import event
    from .ctiserver import ScriptedCti

    server = ScriptedCti()
    async with cti_console(demo_store, server) as (app, pilot):
        frame = event(
            11,
            "callback_requested",
            request_id="cb-hostile-1",
            service="cs",
            phone=phone,
            name=name,
            ivr_route="2",
            requested_at="2026-11-25T01:30:00.000Z",
        )
        await server.send(json.dumps(frame, ensure_ascii=True))  # a lone surrogate as a JSON "\ud800" escape
        # lone surrogates too: the intake keeps them replaced by U+FFFD
        await until(pilot, lambda: any("New callback" in n.message for n in app._notifications))
        _alive(app)
        toast = next(n for n in app._notifications if "New callback" in n.message)
        assert not toast.markup and "\x1b" not in toast.message and "\ud800" not in toast.message
        if phone == "[/x]":
            assert "[/x]" in toast.message  # shown literally
        reader = sqlite3.connect(demo_store.path)
        rows = reader.execute(
            "SELECT customer_phone, customer_name FROM callbacks WHERE cti_request_id = 'cb-hostile-1'"
        ).fetchall()
        reader.close()
        assert len(rows) == 1 and "\x1b" not in (rows[0][1] or "")  # stored once, cleaned
        app.show_menu("callback_list")
        await settle(pilot, rounds=2, pause=0.2)
        _alive(app)


# -- the command line --------------------------------------------------------------------------------


def _no_terminal_tricks(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output
    assert "Traceback" not in output


def test_cli_listings_print_hostile_data_as_plain_text(demo_dir):
    from contiple_tui.store import DB_FILENAME, Store

    store = Store(demo_dir / DB_FILENAME)
    seed_hostile(store)
    store.close()
    for args in (("users", "list"), ("services", "list"), ("sms", "history", "--service", "cs")):
        result = run_cli("--data-dir", str(demo_dir), "--user", "admin", "--lang", "en", *args)
        assert result.returncode == 0, (args, result.stderr[-2000:])
        _no_terminal_tricks(result.stdout + result.stderr)
    listing = run_cli("--data-dir", str(demo_dir), "--user", "admin", "users", "list").stdout
    assert "[@click=app.bell]beep[/]" in listing and "[b]unclosed bold" in listing
    services = run_cli("--data-dir", str(demo_dir), "--user", "admin", "services", "list").stdout
    assert "[/x]" in services and "[link=file:///etc/passwd]" in services  # literally, not a link


def test_cli_listings_under_a_terminal_make_no_links(demo_dir):
    """Rich writes colours and links only to a terminal: list through a pseudo-terminal."""
    from contiple_tui.store import DB_FILENAME, Store

    from .ptyrun import PtyProgram

    store = Store(demo_dir / DB_FILENAME)
    seed_hostile(store)
    store.close()
    for args in (("services", "list"), ("users", "list"), ("sms", "history", "--service", "cs")):
        program = PtyProgram(
            ["--data-dir", str(demo_dir), "--user", "admin", "--lang", "en", *args], env={}, size=(200, 50)
        )
        try:
            code = program.wait(30)
            assert code == 0, bytes(program.output[-3000:]).decode(errors="replace")
            raw = bytes(program.output)
            assert b"\x1b]8;" not in raw  # no hyperlink at all, from markup or from the data
            for needle in FORBIDDEN_BYTES:
                assert needle not in raw, (args, needle)
            assert b"Traceback" not in raw
        finally:
            program.close()


REFUSALS = [
    ("users", "add", "--login", "evil\x1b]0;x\x07", "--name", "n", "--role", "agent", "--service", "cs"),
    ("users", "add", "--login", "newbie", "--name", "이름\u202e", "--role", "agent", "--service", "cs"),
    ("users", "add", "--login", "newbie", "--name", "[/x]\x1b[31m", "--role", "agent", "--service", "cs"),
    (
        "users",
        "add",
        "--login",
        "newbie",
        "--name",
        "ok",
        "--role",
        "agent",
        "--service",
        "cs",
        "--cti-id",
        "a\x07b",
    ),
    ("users", "add", "--login", "admin\n", "--name", "ok", "--role", "agent", "--service", "cs"),
    ("users", "disable", "ag\x1b]52;c;SE9TVElMRTUy\x07"),
    ("services", "add", "--code", "new", "--name", "서비스\x1b]52;c;SE9TVElMRTUy\x07"),
    ("services", "add", "--code", "new\x1b", "--name", "ok"),
    ("services", "add", "--code", "new", "--name", "ok", "--ivr", "1=\u2066메뉴\u2069"),
    ("services", "add", "--code", "new", "--name", "ok", "--sender", "15880001\x1b[2J"),
    ("sms", "send", "--service", "cs", "--to", "01012345678", "--body", "본문\x1b]0;PWNED-TITLE\x07"),
    (
        "sms",
        "send",
        "--service",
        "cs",
        "--to",
        "01012345678",
        "--type",
        "mms",
        "--title",
        "제목\x9b",
        "--body",
        "ok",
    ),
]


@pytest.mark.parametrize("args", REFUSALS, ids=[f"r{i}" for i in range(len(REFUSALS))])
def test_cli_refuses_control_characters_at_the_door(demo_dir, args):
    result = run_cli("--data-dir", str(demo_dir), "--user", "admin", "--lang", "ko", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    _no_terminal_tricks(result.stdout + result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, in the user's language
    assert "제어 문자나 양방향 문자를 쓸 수 없습니다" in lines[0] and "U+" in lines[0], lines[0]


def test_sms_send_keeps_newlines_in_a_body(demo_dir):
    result = run_cli(
        "--data-dir",
        str(demo_dir),
        "--user",
        "admin",
        "--lang",
        "en",
        "sms",
        "send",
        "--service",
        "cs",
        "--to",
        "01012345678",
        "--body",
        "첫 줄\n둘째 줄",
    )
    assert result.returncode == 0, result.stderr


def test_door_checks_in_the_core(demo_store):
    from contiple_tui.core import directory, sms
    from contiple_tui.domain.safe_input import UnsafeText
    from contiple_tui.domain.sms_rules import SendType

    admin = demo_store.users.get_by_login("admin")
    cs = demo_store.services.get_by_code("cs")
    with pytest.raises(UnsafeText) as caught:
        directory.add_user(demo_store, login="x1", name="a\x1b[31m", role="agent", services=["cs"])
    assert "U+001B" in caught.value.message("en") and "The name" in caught.value.message("en")
    with pytest.raises(UnsafeText):
        sms.add_category(demo_store, admin, cs, "분류\u202e")
    top = sms.add_category(demo_store, admin, cs, "[b]분류")  # markup is text: kept as it is
    sub = sms.add_category(demo_store, admin, cs, "하위", parent_id=top)
    with pytest.raises(UnsafeText):
        sms.save_template(
            demo_store,
            admin,
            cs,
            sms.TemplateDraft(category_id=sub, name="t", send_type=SendType.SMS, body="a\x07"),
        )
    assert sms.save_template(
        demo_store,
        admin,
        cs,
        sms.TemplateDraft(category_id=sub, name="t", send_type=SendType.SMS, body="두\n줄"),
    )


# -- the real program in a pseudo-terminal -----------------------------------------------------------


def test_console_writes_no_escape_from_the_data_to_the_terminal(demo_dir):
    """The console over a seeded hostile store, driven through every data menu with the mouse (the
    menu's rows, as a person clicks them): the raw bytes on the terminal hold none of the data's escape
    sequences, each view is drawn, and the console quits cleanly."""
    from contiple_tui.store import DB_FILENAME, Store

    from .ptyrun import PtyProgram

    store = Store(demo_dir / DB_FILENAME)
    seed_hostile(store)
    store.close()
    program = PtyProgram(
        ["--data-dir", str(demo_dir), "--user", "admin", "--lang", "en"],
        env={"TEXTUAL_ANIMATIONS": "none"},
        size=(140, 32),
    )  # the menu stays beside a list
    try:
        assert program.read_until(b"Callback list", b"Quit", timeout=60), bytes(
            program.output[-2000:]
        ).decode(errors="replace")
        # The menu's rows at 120 columns (terminal rows, 1-based) and the title of the view each opens.
        menus = [
            (4, b"1-2 Callback list"),
            (5, b"1-3 Assign callbacks"),
            (6, b"1-4 Cancel assignment"),
            (7, b"1-5 Processing status"),
            (9, b"2-1 SMS templates"),
            (10, b"2-2 Send SMS"),
            (11, b"2-3 SMS history"),
            (13, b"3-1 Overview"),
            (15, b"3-3 By agent"),
        ]
        drawn = 0
        for row, title in menus:
            seen = len(program.output)
            for _ in range(3):  # a click can land while the menu is still taking the focus: click again
                program.send(f"\x1b[<0;6;{row}M\x1b[<0;6;{row}m".encode())  # SGR mouse: press, release
                if program.read_until(title, timeout=2) and title in program.output[seen:]:
                    break
            program.read_until(b"\x00never", timeout=0.5)  # and the rows that follow
            assert program.proc.poll() is None, (row, bytes(program.output[seen:][-2000:]))
            drawn += title in program.output[seen:]
        program.send(b"\x11")  # Ctrl+Q
        code = program.wait(20)
        raw = bytes(program.output)
        assert code == 0, raw[-3000:].decode(errors="replace")
        for needle in FORBIDDEN_BYTES:
            assert needle not in raw, needle
        text = raw.decode("utf-8", errors="replace")
        assert "\x9b" not in text and "\u202e" not in text and "\u2066" not in text
        if "Traceback" in text:
            import re

            plain_text = re.sub(r"\x1b\[[0-9;?<>=$]*[a-zA-Z~]", "", text)
            raise AssertionError(plain_text[plain_text.find("Traceback") :][:8000])
        assert "[@click=app" in text  # the data was on screen, as text
        assert drawn == len(menus), drawn  # the clicks did open every view
    finally:
        program.close()


@pytest.mark.parametrize("first", [0, 7, 14, 21])
async def test_wallboard_shows_hostile_feed_names_as_text(demo_store, first, monkeypatch):
    """Service and agent names from the CTI feed (lone surrogates too, which only a feed can carry): the
    seven agents and the service of the snapshot get seven hostile strings each time, all 28 in four."""
    from contiple_tui.widgets.live_board import LiveBoard

    from . import ctiserver
    from .ctidata import snapshot
    from .ctiserver import ScriptedCti

    # JSON escapes on the wire: that is how a feed sends a lone surrogate.
    monkeypatch.setattr(ctiserver, "dumps", lambda obj: json.dumps(obj, ensure_ascii=True))
    names = [HOSTILE[(first + k) % len(HOSTILE)][:200] for k in range(7)]  # the feed refuses longer names
    server = ScriptedCti()
    frame = snapshot(name_cs=names[0] + names[-1])
    for agent, name in zip(frame["agents"], names):
        agent["name"] = name
    server.snapshot = frame
    async with cti_console(demo_store, server, size=(120, 32)) as (app, pilot):
        assert app.cti.live
        for menu in ("wallboard_overview", "wallboard_services", "wallboard_agents"):
            app.show_menu(menu)
            await settle(pilot, rounds=1)
            _alive(app)
            for board in app.screen.query(LiveBoard).results():
                if board.display and board.size.height:
                    lines = [board.render_line(y) for y in range(min(board.size.height, 12))]
                    assert not BAD & set("".join(strip.text for strip in lines))
                    assert len({strip.cell_length for strip in lines}) == 1
        await pilot.press("a")  # the agents of the highlighted service, by name from the feed
        await settle(pilot)
        _alive(app)


ARGUMENTS = [
    ("--user", "ghost\x1b]0;PWNED-TITLE\x07", "users", "list"),
    ("--user", "admin", "--theme", "[/x]\x1b]52;c;SE9TVElMRTUy\x07", "users", "list"),
    ("--user", "admin", "--service", "[@click=app.quit]\u202e", "sms", "history"),
    ("--user", "admin", "users", "bogus\x1b[5;31;47m"),
    ("--user", "admin", "sms", "history", "--service", "[link=file:///etc/passwd]x\x07"),
]


@pytest.mark.parametrize("args", ARGUMENTS, ids=[f"a{i}" for i in range(len(ARGUMENTS))])
def test_cli_arguments_and_config_values_are_echoed_as_plain_text(demo_dir, args):
    result = run_cli("--data-dir", str(demo_dir), "--lang", "en", *args)
    # Operator listings need neither a known user nor a theme: those may pass; the rest is refused.
    assert result.returncode in ((0, 2) if args[-1] == "list" else (2,)), (result.stdout, result.stderr)
    _no_terminal_tricks(result.stdout + result.stderr)
    assert "\u202e" not in result.stderr


def test_config_file_values_are_shown_as_plain_text(demo_dir, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('theme = "[/x]\\u001b]0;PWNED-TITLE\\u0007"\n', encoding="utf-8")
    result = run_cli(
        "--data-dir",
        str(demo_dir),
        "--lang",
        "en",
        "--user",
        "admin",
        "users",
        "list",
        env={"CONTIPLE_TUI_HOME": str(home)},
    )
    assert result.returncode in (0, 2), result.stderr
    _no_terminal_tricks(result.stdout + result.stderr)


async def test_dialogs_show_hostile_text_as_text(hostile_store):
    """The register-history form of a hostile callback, the SMS preview of a hostile text, and the
    cancel dialog of a reservation."""
    from textual.widgets import Input

    from contiple_tui.screens.history_form import HistoryFormScreen
    from contiple_tui.screens.sms_preview import SmsPreviewScreen
    from contiple_tui.widgets.callback_table import CallbackTable
    from contiple_tui.widgets.sms_text import SmsTextField

    app = make_app(hostile_store, "admin", lang="ko")
    async with app.run_test(size=(100, 36)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot, rounds=2, pause=0.2)
        table = app.query_one(CallbackTable)
        table.focus()
        for _ in range(3):
            await pilot.press("h")
            await until(pilot, lambda: isinstance(app.screen, HistoryFormScreen))
            assert isinstance(app.screen, HistoryFormScreen)
            assert not BAD & set(text_of(app.screen.query_one("#history-title")).rstrip("\n"))
            for field in app.screen.query(Input).results():
                assert not BAD & set(field.value)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HistoryFormScreen))
            await pilot.press("down")
        _alive(app)

        app.show_menu("sms_compose")
        await settle(pilot, rounds=2, pause=0.2)
        view = app.query_one("#view-sms_compose")
        app.query_one("#sms-type").value = "MMS"
        await settle(pilot)
        app.query_one("#sms-title", SmsTextField).text = "[link=file:///etc/passwd]제목[/link]"
        app.query_one("#sms-body", SmsTextField).text = "[/x][@click=app.quit]본문\n" + "가" * 40
        app.query_one("#sms-recipients", Input).value = "01012345678"
        await settle(pilot)
        view.action_preview()
        await until(pilot, lambda: isinstance(app.screen, SmsPreviewScreen))
        assert isinstance(app.screen, SmsPreviewScreen), text_of(app.query_one("#sms-error"))
        await settle(pilot)
        shown = " ".join(text_of(s) for s in app.screen.query("Static").results())
        assert "[@click=app.quit]본문" in shown and "[link=file:///etc/passwd]" in shown  # literally
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SmsPreviewScreen))
        _alive(app)

        from contiple_tui.screens.service_switch import ServiceSwitchScreen

        await pilot.press("f2")  # the service switch lists the services by name
        await until(pilot, lambda: isinstance(app.screen, ServiceSwitchScreen))
        assert isinstance(app.screen, ServiceSwitchScreen)
        await settle(pilot)
        await pilot.press("escape")
        _alive(app)


@pytest.mark.parametrize("kiosk", [True, False])
async def test_wallboard_app_with_hostile_service_names(hostile_store, kiosk):
    from contiple_tui import config
    from contiple_tui.kiosk import WallboardApp

    cfg = config.load(data_dir=hostile_store.path.parent, environ={}, lang="en")
    app = WallboardApp(
        store=hostile_store,
        client=None,
        services=hostile_store.services.list(),
        config=cfg,
        view="services",
        kiosk=kiosk,
        clock=lambda: FIXED_NOW,
    )
    async with app.run_test(size=(120, 32)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        _alive(app)
        shown = " ".join(text_of(s) for s in app.screen.query("Static").results())
        assert not BAD & set(shown.replace("\n", ""))


def _nhn_env(server) -> dict[str, str]:
    """The console configured for a local NHN-compatible server (keys app-1 / secret-1)."""
    return {
        "CONTIPLE_TUI_SMS_GATEWAY": "nhn",
        "CONTIPLE_TUI_NHN_BASE_URL": server.base_url,
        "CONTIPLE_TUI_NHN_APP_KEY": "app-1",
        "CONTIPLE_TUI_NHN_SECRET_KEY": "secret-1",
    }


def _send_as_agent02(demo_dir, env):
    """`sms send` of one SMS to 010-1234-5678, as agent02, in English."""
    args = ("--data-dir", str(demo_dir), "--user", "agent02", "--lang", "en", "sms", "send")
    return run_cli(*args, "--to", "01012345678", "--body", "안내", env=env)


# -- a gateway's answer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [HOSTILE[3], HOSTILE[2] + HOSTILE[10], HOSTILE[12] + HOSTILE[20], HOSTILE[14] + HOSTILE[0]],
    ids=["tag", "link_osc52", "title_bidi", "dcs"],
)
def test_gateway_result_message_is_plain_text(demo_dir, monkeypatch, answer):
    """A refusal from the (local, real-protocol) NHN server whose resultMessage is hostile: `sms send`
    says so in one plain line, and `sms history` lists it as plain text."""
    from contiple_tui.sim import nhn_server
    from contiple_tui.sim.nhn_server import NhnServer

    monkeypatch.setitem(nhn_server.RESULT_MESSAGES, -7777, answer)  # a code the catalogs do not explain
    with NhnServer(
        app_key="app-1", secret_key="secret-1", sender_numbers=("15880001", "0212345678")
    ) as server:
        env = _nhn_env(server)
        server.fail_next(-7777, endpoint="POST /sender")
        sent = _send_as_agent02(demo_dir, env)
        assert sent.returncode == 2, (sent.stdout, sent.stderr)
        _no_terminal_tricks(sent.stdout + sent.stderr)
        assert len(sent.stderr.strip().splitlines()) == 1, sent.stderr
        assert clean(answer)[:20] in sent.stderr  # what the gateway said, as text
        history = run_cli(
            "--data-dir", str(demo_dir), "--user", "agent02", "--lang", "en", "sms", "history", env=env
        )
        assert history.returncode == 0, history.stderr
        _no_terminal_tricks(history.stdout + history.stderr)


def test_gateway_answer_with_lone_surrogates_is_stored_replaced(demo_dir, monkeypatch):
    """NHN's per-recipient resultMessage of an accepted send holds a lone surrogate (a JSON "\\ud800"
    escape) and an escape sequence: the send is recorded (U+FFFD in its place), not lost to a UTF-8 error
    after the request went out, and listed as plain text."""
    import sqlite3

    from contiple_tui.sim import nhn_server
    from contiple_tui.sim.nhn_server import NhnServer
    from contiple_tui.store import DB_FILENAME

    monkeypatch.setitem(nhn_server.RESULT_MESSAGES, 0, "ok\ud800" + HOSTILE[10])
    with NhnServer(
        app_key="app-1", secret_key="secret-1", sender_numbers=("15880001", "0212345678")
    ) as server:
        env = _nhn_env(server)
        sent = _send_as_agent02(demo_dir, env)
        assert sent.returncode == 0, (sent.stdout, sent.stderr)
        assert server.requests["POST /sender/sms"] == 1
        conn = sqlite3.connect(demo_dir / DB_FILENAME)
        stored = conn.execute(
            "SELECT result_message FROM sms_recipients ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        conn.close()
        assert stored.startswith("ok\ufffd") and "\x1b" not in stored
        history = run_cli("--data-dir", str(demo_dir), "--user", "agent02", "sms", "history", env=env)
        assert history.returncode == 0, history.stderr
        _no_terminal_tricks(history.stdout + history.stderr)


async def test_hostile_image_file_names_are_text(demo_store, tmp_path):
    """A JPEG whose file name holds markup and escapes (Linux allows both), added in the composer, and a
    missing file whose path is echoed in the refusal."""
    from contiple_tui.widgets.image_picker import ImagePicker

    from .smsdata import jpeg_bytes

    photo = tmp_path / "[b]x[@click=app.quit]\x1b]0;PWNED-TITLE\x07\u202e.jpg"
    photo.write_bytes(jpeg_bytes())
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        app.show_menu("sms_compose")
        await settle(pilot, rounds=2, pause=0.2)
        app.query_one("#sms-type").value = "MMS"
        await settle(pilot)
        picker = app.query_one("#sms-images", ImagePicker)
        assert picker.add_path(str(photo))
        assert not picker.add_path(str(tmp_path / "[/y]" / "\x1b[5;31;47mmissing.jpg"))
        await settle(pilot)
        _alive(app)
        options = picker.query_one("#image-list")
        prompt = options.get_option_at_index(0).prompt
        assert (
            isinstance(prompt, Text)
            and "[b]x[@click=app.quit]" in prompt.plain
            and not BAD & set(prompt.plain)
        )
        error = text_of(picker.query_one("#image-error"))
        assert "[/y]" in error and not BAD & set(error)
