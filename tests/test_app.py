"""Pilot tests of the console shell: menus per role and flag, palette, service switch, keymap, live data."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from textual.widgets import Static

from contiple_tui.errors import ConfigError
from contiple_tui.i18n import t
from contiple_tui.screens.service_switch import ServiceSwitchScreen
from contiple_tui.widgets.header import ConsoleHeader

from .apphelpers import make_app, nav_ids, palette_offers, settle, static_text, until, workers_done

ALL_MENUS = [
    "home",
    "callback_list",
    "callback_assign",
    "callback_unassign",
    "callback_status",
    "sms_templates",
    "sms_compose",
    "sms_history",
    "wallboard_overview",
    "wallboard_services",
    "wallboard_agents",
]


@pytest.mark.parametrize(
    "login, expected",
    [
        ("admin", ALL_MENUS),
        # agent01: phone + callback_assign
        (
            "agent01",
            [
                "home",
                "callback_list",
                "callback_assign",
                "callback_unassign",
                "sms_compose",
                "sms_history",
                "wallboard_overview",
                "wallboard_services",
                "wallboard_agents",
            ],
        ),
        # agent02: phone only
        (
            "agent02",
            [
                "home",
                "callback_list",
                "sms_compose",
                "sms_history",
                "wallboard_overview",
                "wallboard_services",
                "wallboard_agents",
            ],
        ),
        # agent11: no phone — no callback menus at all
        (
            "agent11",
            [
                "home",
                "sms_compose",
                "sms_history",
                "wallboard_overview",
                "wallboard_services",
                "wallboard_agents",
            ],
        ),
        ("tv", ["home", "wallboard_overview", "wallboard_services", "wallboard_agents"]),
    ],
)
async def test_menus_per_role(demo_store, login, expected):
    app = make_app(demo_store, login)
    async with app.run_test(size=(80, 24)):
        assert nav_ids(app) == expected
        assert app.current_menu_id == "home"


async def test_menus_follow_contract_flags_on_service_switch(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        assert isinstance(app.screen, ServiceSwitchScreen)
        await pilot.press("down", "down", "enter")  # cs → sales → care (SMS off)
        await pilot.pause()
        assert app.session.service.code == "care"
        assert not any(m.startswith("sms") for m in nav_ids(app))
        assert "callback_list" in nav_ids(app)
        assert "A/S센터" in static_text(app.query_one("#service", Static))


async def test_service_switch_escape_keeps_service(demo_store):
    app = make_app(demo_store, "agent01")
    async with app.run_test() as pilot:
        await pilot.press("f2", "escape")
        assert app.session.service.code == "cs"


async def test_single_service_user_has_no_switch_key(demo_store):
    app = make_app(demo_store, "agent02")
    async with app.run_test() as pilot:
        assert "f2" not in app.active_bindings or not app.active_bindings["f2"].enabled
        await pilot.press("f2")
        assert not isinstance(app.screen, ServiceSwitchScreen)
        app.action_switch_service()  # from the palette or a remapped key: explained, not silent
        await pilot.pause()
        assert any("one service" in n.message for n in app._notifications)


async def test_navigation_opens_views(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "enter")  # the group heading is skipped
        assert app.current_menu_id == "callback_list"
        await pilot.pause()
        assert app.focused is app.query_one("#cb-table")  # its keys work at once
        app.show_menu("sms_templates")
        await pilot.pause()
        view = app.query_one("#view-sms_templates")
        assert type(view).__name__ == "SmsTemplatesView"  # 2-1 is a real screen now, not a placeholder


@pytest.mark.parametrize(
    "lang, query, expected",
    [
        ("ko", "콜백 리스트", "callback_list"),
        ("ko", "Callback list", "callback_list"),
        ("en", "콜백 리스트", "callback_list"),
        ("en", "processing status", "callback_status"),
        ("ko", "SMS 발송", "sms_compose"),  # named as its group: it, not the group's first view
    ],
)
async def test_palette_opens_menus_by_korean_or_english_name(demo_store, lang, query, expected):
    app = make_app(demo_store, "admin", lang=lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*query)
        await palette_offers(pilot, t(f"menu.{expected}"))
        await pilot.press("enter")
        await until(pilot, lambda: app.current_menu_id == expected)


async def test_palette_hides_menus_the_user_may_not_see(demo_store):
    app = make_app(demo_store, "agent02")
    async with app.run_test() as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any("Callback list" in title for title in titles)
        assert not any("Processing status" in title or "Assign callbacks" in title for title in titles)
        await pilot.pause()


async def test_hidden_menu_is_refused(demo_store):
    app = make_app(demo_store, "agent02")
    async with app.run_test() as pilot:
        app.show_menu("callback_status")
        await pilot.pause()
        assert app.current_menu_id == "home"
        assert any("not available to you" in n.message for n in app._notifications)


async def test_keymap_remaps_bindings(demo_store):
    app = make_app(demo_store, "agent01", keymap={"app.switch_service": "f5"})
    async with app.run_test() as pilot:
        await pilot.press("f2")
        assert not isinstance(app.screen, ServiceSwitchScreen)
        await pilot.press("f5")
        assert isinstance(app.screen, ServiceSwitchScreen)


def test_keymap_with_unknown_binding_id_is_refused(demo_store):
    with pytest.raises(ConfigError) as err:
        make_app(demo_store, "admin", keymap={"app.fly": "f9"})
    assert "keymap.app.fly" in err.value.message("en")


def test_unknown_theme_is_refused(demo_store):
    with pytest.raises(ConfigError):
        make_app(demo_store, "admin", theme="neon")


async def test_f1_toggles_the_cheat_sheet_of_the_view(demo_store):
    from contiple_tui.screens.cheat_sheet import CheatSheet

    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(120, 30)) as pilot:
        app.show_menu("callback_list")
        await settle(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, CheatSheet))
        text = " ".join(static_text(s) for s in app.screen.query(Static))
        assert "1-2 콜백 리스트 단축키" in text
        for group in ("이동", "선택", "작업", "검색", "콘솔"):
            assert group in text
        assert "연결" in text and "완료" in text  # the list's own keys, in Korean
        # Tab said once: the list's own line, then Shift+Tab alone
        assert "목록으로, 다시 누르면 다음 입력 칸" in text and "다음 / 이전 입력 칸" not in text
        assert "이전 입력 칸" in text
        assert "화면이 좁으면 이 순서로 열을 숨깁니다: IVR → 요청 → 고객명 → 담당자 → 시도" in text
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, CheatSheet)
        await pilot.press("f1")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CheatSheet)


def test_every_key_of_textuals_widgets_has_a_line_in_both_languages():
    """F1 lists the keys of whatever has the focus, Textual's own widgets included (an Input's, a
    TextArea's): each of their descriptions is in both catalogs, so a Korean sheet has no English."""
    from textual import containers, widgets
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets._select import SelectOverlay

    from contiple_tui.i18n import _CATALOGS

    classes = [widgets.Input, widgets.TextArea, widgets.DataTable, widgets.Select, SelectOverlay]
    classes += [widgets.Checkbox, widgets.Button, widgets.OptionList, widgets.Switch, widgets.Tree]
    classes += [containers.VerticalScroll, Screen, App]
    missing = set()
    for cls in classes:
        for klass in cls.__mro__:
            for binding in getattr(klass, "BINDINGS", None) or []:
                description = (binding if isinstance(binding, Binding) else Binding(*binding)).description
                for lang in ("en", "ko"):
                    if description and f"tx.{description}" not in _CATALOGS[lang]:
                        missing.add((lang, description))
    assert sorted(missing) == []


@pytest.mark.parametrize("menu", ["sms_compose", "sms_templates", "callback_list"])
async def test_the_cheat_sheet_scrolls_to_its_last_line_in_a_small_terminal(demo_store, menu):
    from textual.containers import VerticalScroll

    from contiple_tui.screens.cheat_sheet import CheatSheet

    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(80, 24)) as pilot:
        app.show_menu(menu)
        await settle(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, CheatSheet))
        await pilot.pause()
        dialog, body = (
            app.screen.query_one("#help-dialog"),
            app.screen.query_one("#help-body", VerticalScroll),
        )
        assert body.region.bottom <= dialog.content_region.bottom  # the body is not cut by the dialog
        body.scroll_end(animate=False)
        await pilot.pause()
        last = body.children[-1]
        assert last.region.bottom <= body.region.bottom  # its last line can be brought into view


async def test_footer_and_bindings_are_translated(demo_store):
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test():
        descriptions = {b.binding.description for b in app.active_bindings.values()}
        assert {"종료", "단축키", "서비스"} <= descriptions


async def test_ctrl_q_quits(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test() as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_palettes_quit_quits(demo_store):
    from textual.command import CommandList

    app = make_app(demo_store, "admin")
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*t("key.quit"))
        await until(
            pilot, lambda: app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0


async def test_header_shows_user_service_cti_and_clock(demo_store):
    app = make_app(demo_store, "agent01", lang="ko")
    async with app.run_test(size=(80, 24)):
        header = app.query_one(ConsoleHeader)
        text = " ".join(static_text(w) for w in header.query(Static))
        assert "고객센터 ▾" in text and "상담원" in text and "CTI 연결 안 됨" in text
        assert "10:30" in text and "10:30:00" not in text  # FIXED_NOW in Asia/Seoul, to the minute


def _complete_in_other_process(db_path: str, login: str) -> None:
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute(\"UPDATE callbacks SET status = 'completed' WHERE status = 'assigned' AND assignee_id = "
        '(SELECT id FROM users WHERE login = ?)", (sys.argv[2],))\n'
        "c.commit()\n"
    )
    subprocess.run([sys.executable, "-c", code, db_path, login], check=True, timeout=30)


async def test_change_in_another_process_shows_within_two_seconds(demo_store):
    app = make_app(demo_store, "agent02")
    async with app.run_test(size=(80, 24)) as pilot:
        await workers_done(app)
        await pilot.pause()
        box = app.query_one("#home-callbacks", Static)
        before = static_text(box)
        assert "Not processed" in before
        _complete_in_other_process(str(demo_store.path), "agent02")
        started = time.monotonic()
        await until(pilot, lambda: static_text(box) != before)
        after = static_text(box)
        assert after != before
        assert time.monotonic() - started < 2.0
        not_processed = next(line for line in after.splitlines() if "Not processed" in line)
        assert not_processed.split()[-1] == "0"


async def test_disabled_while_signed_in_is_signed_out(demo_store):
    app = make_app(demo_store, "agent02")
    async with app.run_test() as pilot:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "contiple_tui",
                "--data-dir",
                str(demo_store.path.parent),
                "users",
                "disable",
                "agent02",
            ],
            check=True,
            timeout=30,
        )
        await until(pilot, lambda: app.exit_message)
    assert app.exit_message and "disabled" in app.exit_message


async def test_rights_changed_in_another_process_update_menus(demo_store):
    app = make_app(demo_store, "agent02")
    async with app.run_test() as pilot:
        assert "callback_assign" not in nav_ids(app)
        code = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(\"UPDATE users SET perm_callback_assign = 1 WHERE login = 'agent02'\"); c.commit()"
        )
        subprocess.run([sys.executable, "-c", code, str(demo_store.path)], check=True, timeout=30)
        await until(pilot, lambda: "callback_assign" in nav_ids(app))
        assert "callback_assign" in nav_ids(app)
        await until(pilot, lambda: not app.composing())  # the views anew too, before the test ends


async def test_export_file_names_carry_the_service_time_not_the_hosts(demo_store, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # a host in UTC, as containers often are
    app = make_app(demo_store, "admin")
    async with app.run_test():
        # FIXED_NOW is 2026-11-25 10:30 in Seoul (01:30 UTC); cs is in Asia/Seoul.
        assert app.exports.path("callbacks").name == "callbacks-cs-20261125-103000.xlsx"


@pytest.mark.parametrize("lang, query", [("en", "wallboard"), ("ko", "전광판"), ("en", "전광판")])
async def test_the_palette_finds_a_groups_views_by_the_groups_name(demo_store, lang, query):
    from textual.command import CommandList

    app = make_app(demo_store, "admin", lang=lang)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*query)
        await until(
            pilot,
            lambda: app.screen.query(CommandList) and app.screen.query_one(CommandList).option_count >= 3,
        )
        found = app.screen.query_one(CommandList)
        prompts = [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]
        views = [p for p in prompts if "›" in p]
        assert len(views) == 3, prompts
        await pilot.press("enter")
        await until(pilot, lambda: app.current_menu_id.startswith("wallboard"))


async def test_a_theme_picked_in_the_palette_is_remembered_for_that_user(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test() as pilot:
        assert app.theme == "contiple-dark"
        await pilot.pause()
        assert demo_store.get_meta("ui.theme.admin") is None  # starting picks nothing
        app.theme = "contiple-light"  # what the palette's theme list does
        await until(pilot, lambda: demo_store.get_meta("ui.theme.admin") == "contiple-light")
    again = make_app(demo_store, "admin")
    async with again.run_test():
        assert again.theme == "contiple-light"
    other = make_app(demo_store, "agent02")
    async with other.run_test():
        assert other.theme == "contiple-dark"  # another user's pick is theirs
    chosen = make_app(demo_store, "admin", theme="contiple-dark", theme_chosen=True)  # --theme, env or config
    async with chosen.run_test():
        assert chosen.theme == "contiple-dark"
