"""Pilot and snapshot tests of 2-1 템플릿 관리: the two-level tree, the editor, the refusals in the user's
language, in-use inherited from a category, deletion with counts, unsaved work kept, agents kept out."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Checkbox, Input, Select, Static, Tree

from contiple_tui.core import sms
from contiple_tui.domain.images import check_image_bytes
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import PermissionDenied
from contiple_tui.i18n import t
from contiple_tui.screens.sms_templates import ConfirmScreen, SmsTemplatesView
from contiple_tui.widgets.image_picker import ImagePicker
from contiple_tui.widgets.sms_text import SmsTextField

from .apphelpers import SCREEN_SIZES, make_app, nav_ids, size_id, static_text, until
from .smsdata import jpeg_bytes, png_bytes


def world(store):
    cs = store.services.get_by_code("cs")
    admin = store.users.get_by_login("admin")
    return cs, admin


def tree_of(store):
    cs, admin = world(store)
    return sms.template_tree(store, admin, cs)


def seed_tree(store) -> dict[str, int]:
    """안내 › 배송 › [SMS 배송 출발 안내, MMS 매장 약도 (one JPEG)];
    이벤트 (not in use) › 11월 › [MMS 감사 이벤트]."""
    cs, admin = world(store)
    ids = {"안내": sms.add_category(store, admin, cs, "안내")}
    ids["배송"] = sms.add_category(store, admin, cs, "배송", parent_id=ids["안내"])
    ids["배송 출발 안내"] = sms.save_template(
        store,
        admin,
        cs,
        sms.TemplateDraft(
            category_id=ids["배송"],
            name="배송 출발 안내",
            send_type=SendType.SMS,
            sender_no="15880001",
            body="[고객센터] 주문하신 상품이 오늘 출발했습니다.",
            description="출고 당일",
        ),
    )
    ids["매장 약도"] = sms.save_template(
        store,
        admin,
        cs,
        sms.TemplateDraft(
            category_id=ids["배송"],
            name="매장 약도",
            send_type=SendType.MMS,
            title="오시는 길",
            body="[고객센터] 매장 위치를 보내 드립니다.\n서울시 중구 세종대로 110",
            editable=False,
            images=(check_image_bytes("map.jpg", jpeg_bytes(320, 200)),),
        ),
    )
    ids["이벤트"] = sms.add_category(store, admin, cs, "이벤트", in_use=False)
    ids["11월"] = sms.add_category(store, admin, cs, "11월", parent_id=ids["이벤트"])
    ids["감사 이벤트"] = sms.save_template(
        store,
        admin,
        cs,
        sms.TemplateDraft(
            category_id=ids["11월"],
            name="감사 이벤트",
            send_type=SendType.MMS,
            title="11월 감사 이벤트",
            body="(광고) 11월 한 달 동안 전 상품 10% 할인!",
        ),
    )
    return ids


async def open_view(pilot) -> SmsTemplatesView:
    app = pilot.app
    app.show_menu("sms_templates")
    await until(pilot, lambda: app.query(SmsTemplatesView) and app.query_one(SmsTemplatesView)._loaded_once)
    view = app.query_one(SmsTemplatesView)
    view.query_one("#st-tree", Tree).focus()
    await pilot.pause()
    return view


def node_of(view: SmsTemplatesView, key):
    tree = view.query_one("#st-tree", Tree)
    return next(n for n in view._walk(tree.root) if n.data == key)


async def point(pilot, view: SmsTemplatesView, key) -> None:
    """Move the tree's cursor as the arrow keys would, and wait for the editor to follow. Moved again
    while it has not: a reload of the tree (this console's own save, seen again by the change poll) may
    replace the node between the look-up and the move."""
    tree = view.query_one("#st-tree", Tree)

    def followed() -> bool:
        if view._mode != key and tree.cursor_node is not node_of(view, key):
            tree.move_cursor(node_of(view, key))
        return view._mode == key

    await until(pilot, followed)
    await pilot.pause()  # the editor laid out anew


async def click(pilot, selector: str) -> None:
    """Click a button of the editor as a person would: scrolled into view first."""
    widget = pilot.app.screen.query_one(selector)
    widget.scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click(widget)


def label(view: SmsTemplatesView, key) -> str:
    return node_of(view, key).label.plain


def message(view: SmsTemplatesView) -> str:
    return static_text(view.query_one("#st-message", Static)).strip()


async def take_in_last_change(pilot) -> None:
    """Let the console see its own last write now, not from a timer while the test closes the app
    (LiveRefresh.update_badge cannot find the menu once the app is being torn down)."""
    pilot.app.check_store_changes()
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])


async def test_admin_builds_a_two_level_tree_with_an_sms_and_an_mms_template(demo_store, tmp_path):
    photo = tmp_path / "map.jpg"
    photo.write_bytes(jpeg_bytes(300, 200))
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        assert static_text(view.query_one("#st-summary", Static)).strip() == t("st.tree.empty")

        await pilot.press("c")  # a first-level category
        assert view._mode == ("new_cat", None)
        assert app.focused is view.query_one("#st-cat-name", Input)
        await type_text(pilot, "Notices")
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: (
                [c.name for c in tree_of(demo_store)] == ["Notices"]
                and view._tpls == {}
                and view.cursor_key is not None
            ),
        )
        top = tree_of(demo_store)[0]
        assert view.cursor_key == ("cat", top.id) and message(view) == "Category 'Notices' saved."

        await pilot.press("escape", "s")  # a second-level one under the selected first-level one
        assert view._mode == ("new_cat", top.id)
        await type_text(pilot, "Delivery")
        await pilot.press("enter")  # Enter in the name saves it too
        await until(pilot, lambda: tree_of(demo_store)[0].children)
        sub = tree_of(demo_store)[0].children[0]
        await until(pilot, lambda: view.cursor_key == ("cat", sub.id))
        assert sub.name == "Delivery" and sub.parent_id == top.id

        await pilot.press("escape", "t")  # an SMS template under the second-level category
        assert view._mode == ("new_tpl", sub.id)
        await type_text(pilot, "Shipped")
        view.query_one("#st-description", Input).value = "the day it leaves"
        view.query_one("#st-sender", Select).value = "0212345678"
        view.query_one("#st-body", SmsTextField).area.focus()
        await type_text(pilot, "Your order left today.")
        assert static_text(view.query_one("#st-body .sms-counter", Static)).strip() == "22 / 90 bytes"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: tree_of(demo_store)[0].children[0].templates)
        shipped = tree_of(demo_store)[0].children[0].templates[0]
        assert (shipped.name, shipped.send_type, shipped.body, shipped.sender_no, shipped.description) == (
            "Shipped",
            SendType.SMS,
            "Your order left today.",
            "0212345678",
            "the day it leaves",
        )
        await until(pilot, lambda: view.cursor_key == ("tpl", shipped.id))
        assert label(view, ("tpl", shipped.id)) == "SMS Shipped"

        await pilot.press("escape", "t")  # from a template: another one in the same category, this time MMS
        assert view._mode == ("new_tpl", sub.id)
        view.query_one("#st-tpl-name", Input).value = "Store map"
        view.query_one("#st-type", Select).value = "MMS"
        await pilot.pause()
        assert view.query_one("#st-body", SmsTextField).limit == 2000
        assert view.query_one("#st-title-row").display and view.query_one("#st-images-box").display
        view.query_one("#st-title", SmsTextField).text = "How to find us"
        view.query_one(
            "#st-body", SmsTextField
        ).text = "Our store: 110 Sejong-daero, Jung-gu, Seoul. Open 9 to 6."
        picker = view.query_one("#st-images", ImagePicker)
        path_input = picker.query_one("#image-path", Input)
        path_input.focus()
        path_input.value = str(photo)
        await pilot.press("enter")
        await until(pilot, lambda: len(picker.images) == 1)
        assert picker.images[0].width == 300
        view.query_one("#st-editable", Checkbox).value = False
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(tree_of(demo_store)[0].children[0].templates) == 2)
        mms = next(x for x in tree_of(demo_store)[0].children[0].templates if x.name == "Store map")
        assert (mms.send_type, mms.title, mms.editable, mms.in_use) == (
            SendType.MMS,
            "How to find us",
            False,
            True,
        )
        assert [(i.file_name, i.data) for i in mms.images] == [("map.jpg", photo.read_bytes())]
        await until(pilot, lambda: view.cursor_key == ("tpl", mms.id))
        assert static_text(view.query_one("#st-summary", Static)).strip() == "2 categories · 2 templates"

        # Editing a saved template: the type back to SMS with its image is refused, then the image goes.
        view.query_one("#st-type", Select).value = "SMS"
        await pilot.pause()
        assert view.query_one("#st-images-box").display  # still shown: the refusal can be acted on
        await pilot.press("ctrl+s")
        assert message(view) == "⚠ " + t("sms.err.sms_image")
        await click(pilot, "#st-image-remove")
        await until(pilot, lambda: not picker.images)
        view.query_one("#st-body", SmsTextField).text = "Store: 110 Sejong-daero."
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: (
                next(x for x in tree_of(demo_store)[0].children[0].templates if x.id == mms.id).send_type
                is SendType.SMS
            ),
        )
        assert next(x for x in tree_of(demo_store)[0].children[0].templates if x.id == mms.id).images == ()
        await take_in_last_change(pilot)


async def test_refusals_are_shown_in_korean_and_the_form_keeps_what_was_typed(demo_store, tmp_path):
    ids = seed_tree(demo_store)
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(png_bytes())
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)

        await point(pilot, view, ("cat", ids["안내"]))
        await pilot.press("t")  # a template under a first-level category
        assert message(view) == "⚠ " + t("sms.err.template_top_level", "ko")
        assert view._mode == ("cat", ids["안내"])

        await point(pilot, view, ("cat", ids["배송"]))
        await pilot.press("s")  # a third level
        assert message(view) == "⚠ " + t("sms.err.category_depth", "ko")
        await point(pilot, view, ("tpl", ids["배송 출발 안내"]))
        await pilot.press("s")
        assert message(view) == "⚠ " + t("sms.err.category_depth", "ko")

        await point(pilot, view, ("cat", ids["배송"]))
        await pilot.press("t")
        await type_text(pilot, "긴 안내")
        body = "A" * 91  # 91 bytes: one too many for an SMS
        view.query_one("#st-body", SmsTextField).text = body
        await pilot.pause()
        assert "91 / 90 바이트" in static_text(view.query_one("#st-body .sms-counter", Static))
        await pilot.press("ctrl+s")
        assert message(view) == "⚠ " + t("sms.err.sms_too_long", "ko", used=91, limit=90)
        assert "바이트" in message(view)
        assert view.query_one("#st-body", SmsTextField).text == body  # nothing lost
        assert view.query_one("#st-tpl-name", Input).value == "긴 안내"
        assert [x.name for x in tree_of(demo_store)[0].children[0].templates] == [
            "매장 약도",
            "배송 출발 안내",
        ]

        view.query_one("#st-type", Select).value = "MMS"
        await pilot.pause()
        picker = view.query_one("#st-images", ImagePicker)
        picker.query_one("#image-path", Input).value = str(fake)
        await pilot.click("#image-add")
        await pilot.pause()
        refused = static_text(picker.query_one("#image-error", Static)).strip()
        assert refused == "⚠ " + t("sms.err.image_not_jpeg", "ko", name="photo.jpg", found="PNG")
        assert picker.images == []
        await pilot.press("ctrl+s")  # an MMS without a title
        assert message(view) == "⚠ " + t("sms.err.title_empty", "ko")

        await pilot.press("escape", "c")  # the unsaved template: asked before it is dropped
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#st-confirm-yes")
        await until(pilot, lambda: view._mode == ("new_cat", None))
        await pilot.press("ctrl+s")  # a category without a name
        assert message(view) == "⚠ " + t("sms.err.name_empty", "ko")


async def test_a_category_not_in_use_marks_everything_below_it(demo_store):
    ids = seed_tree(demo_store)
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        # The seeded 이벤트 is not in use: it and everything below it say so in words, dimmed.
        assert label(view, ("cat", ids["이벤트"])) == "이벤트 (not in use)"
        assert label(view, ("cat", ids["11월"])) == "11월 (not in use: category)"
        assert label(view, ("tpl", ids["감사 이벤트"])) == "MMS 감사 이벤트 (not in use: category)"
        assert "dim" in str(node_of(view, ("tpl", ids["감사 이벤트"])).label.spans[-1].style)
        assert label(view, ("tpl", ids["배송 출발 안내"])) == "SMS 배송 출발 안내"

        await point(pilot, view, ("cat", ids["안내"]))
        box = view.query_one("#st-cat-in-use", Checkbox)
        assert box.value
        box.focus()
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: (
                label(view, ("tpl", ids["배송 출발 안내"])) == "SMS 배송 출발 안내 (not in use: category)"
            ),
        )
        assert not tree_of(demo_store)[0].in_use
        assert label(view, ("cat", ids["안내"])) == "안내 (not in use)"
        assert label(view, ("cat", ids["배송"])) == "배송 (not in use: category)"
        tpl = next(x for x in tree_of(demo_store)[0].children[0].templates if x.id == ids["배송 출발 안내"])
        assert tpl.in_use and not tpl.effective_in_use

        await point(pilot, view, ("tpl", ids["배송 출발 안내"]))
        note = view.query_one("#st-inherited", Static)
        assert note.display and "its category '안내' is not in use" in static_text(note)
        assert view.query_one("#st-tpl-in-use", Checkbox).value  # its own flag is unchanged

        # The rename and the flag back on, from the Save button.
        await point(pilot, view, ("cat", ids["안내"]))
        view.query_one("#st-cat-name", Input).value = "  고객  안내 "
        view.query_one("#st-cat-in-use", Checkbox).value = True
        await click(pilot, "#st-save")
        await until(pilot, lambda: label(view, ("cat", ids["안내"])) == "고객 안내")
        assert label(view, ("tpl", ids["배송 출발 안내"])) == "SMS 배송 출발 안내"
        await take_in_last_change(pilot)


async def test_delete_asks_first_and_names_what_goes_with_a_category(demo_store):
    ids = seed_tree(demo_store)
    cs, admin = world(demo_store)
    extra = sms.add_category(demo_store, admin, cs, "반품", parent_id=ids["안내"])
    sms.save_template(
        demo_store,
        admin,
        cs,
        sms.TemplateDraft(
            category_id=extra, name="반품 접수", send_type=SendType.SMS, body="반품이 접수되었습니다."
        ),
    )
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        await point(pilot, view, ("cat", ids["안내"]))
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        body = static_text(app.screen.query_one("#st-confirm-body", Static))
        assert "Delete category '안내'?" in body and "2 sub-categories and 3 templates" in body
        assert app.focused is app.screen.query_one("#st-confirm-no", Button)  # the safe answer
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert [c.name for c in tree_of(demo_store)] == ["안내", "이벤트"]

        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#st-confirm-yes")
        await until(
            pilot,
            lambda: (
                [c.name for c in tree_of(demo_store)] == ["이벤트"]
                and ("cat", ids["안내"])
                not in [n.data for n in view._walk(view.query_one("#st-tree", Tree).root)]
            ),
        )
        assert message(view) == "Category '안내' deleted with 2 sub-categories and 3 templates."
        assert view.cursor_key is not None and view._mode == view.cursor_key

        # A template: asked by name, then gone; its category stays.
        await point(pilot, view, ("tpl", ids["감사 이벤트"]))
        await click(pilot, "#st-delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert (
            static_text(app.screen.query_one("#st-confirm-body", Static)).strip()
            == "Delete template '감사 이벤트'?"
        )
        await pilot.click("#st-confirm-yes")
        await until(pilot, lambda: tree_of(demo_store)[0].children[0].templates == [])
        assert [c.name for c in tree_of(demo_store)[0].children] == ["11월"]
        await take_in_last_change(pilot)


async def test_delete_of_a_category_in_korean_names_the_counts(demo_store):
    ids = seed_tree(demo_store)
    app = make_app(demo_store, "admin", lang="ko")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_view(pilot)
        await point(pilot, view, ("cat", ids["이벤트"]))
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        body = static_text(app.screen.query_one("#st-confirm-body", Static))
        assert (
            "'이벤트' 분류를 삭제할까요?" in body and "하위 분류 1개와 템플릿 1개도 함께 삭제됩니다." in body
        )


async def test_unsaved_work_is_not_dropped_without_asking(demo_store):
    ids = seed_tree(demo_store)
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        await point(pilot, view, ("tpl", ids["배송 출발 안내"]))
        view.query_one("#st-tpl-name", Input).value = "Changed name"
        await pilot.pause()
        view.query_one("#st-tree", Tree).focus()
        await pilot.press("up")  # moving away from unsaved work
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Template · 안내 › 배송 › 배송 출발 안내" in static_text(
            app.screen.query_one("#st-confirm-body", Static)
        )
        await pilot.click("#st-confirm-no")  # keep editing: the cursor comes back, the text stays
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await until(pilot, lambda: view.cursor_key == ("tpl", ids["배송 출발 안내"]))
        assert view.query_one("#st-tpl-name", Input).value == "Changed name"

        await pilot.press("up")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#st-confirm-yes")  # discard: the editor follows the cursor
        await until(pilot, lambda: view._mode == ("tpl", ids["매장 약도"]))  # the one above it
        assert view.query_one("#st-tpl-name", Input).value == "매장 약도"
        assert [x.name for x in tree_of(demo_store)[0].children[0].templates] == [
            "매장 약도",
            "배송 출발 안내",
        ]


async def test_changes_from_another_console_appear(demo_store):
    ids = seed_tree(demo_store)
    cs, admin = world(demo_store)
    app = make_app(demo_store, "admin", lang="en", refresh_seconds=0.2)
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        await point(pilot, view, ("cat", ids["배송"]))
        # Another console (a second connection to the same file) adds a template and renames the category.
        from contiple_tui.store import Store

        other = Store(demo_store.path)
        try:
            new_id = sms.save_template(
                other,
                admin,
                cs,
                sms.TemplateDraft(
                    category_id=ids["배송"], name="도착 안내", send_type=SendType.SMS, body="도착했습니다."
                ),
            )
            sms.update_category(other, admin, cs, ids["배송"], "택배", True)
        finally:
            other.close()
        await until(pilot, lambda: new_id in view._tpls and label(view, ("cat", ids["배송"])) == "택배")
        await until(
            pilot, lambda: view.query_one("#st-cat-name", Input).value == "택배"
        )  # nothing unsaved here


async def test_narrow_terminal_stacks_the_tree_above_the_editor(demo_store):
    ids = seed_tree(demo_store)
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_view(pilot)
        assert view.has_class("-stacked")
        tree, editor = view.query_one("#st-tree"), view.query_one("#st-editor")
        assert tree.region.bottom <= editor.region.y and editor.region.height >= 6
        await point(pilot, view, ("tpl", ids["매장 약도"]))
        await pilot.press("enter")  # to the form: the tree steps back to a few lines
        await until(pilot, lambda: view.has_class("-editing"))
        assert app.focused is view.query_one("#st-tpl-name", Input)
        await pilot.pause()
        assert view.query_one("#st-tree-pane").region.height == 4
        await pilot.press("escape")
        await until(pilot, lambda: not view.has_class("-editing"))
        assert app.focused is tree
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        assert not view.has_class("-stacked")
        assert view.query_one("#st-tree").region.right <= view.query_one("#st-editor").region.x


async def test_agent_has_no_template_menu_and_the_core_refuses(demo_store):
    app = make_app(demo_store, "agent02", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        assert "sms_templates" not in nav_ids(app) and "sms_compose" in nav_ids(app)
        app.show_menu("sms_templates")
        await pilot.pause()
        assert not app.query(SmsTemplatesView)
        assert any("SMS templates" in n.message for n in app._notifications)
    cs, _ = world(demo_store)
    agent = demo_store.users.get_by_login("agent02")
    with pytest.raises(PermissionDenied):
        sms.add_category(demo_store, agent, cs, "x")
    with pytest.raises(PermissionDenied):
        sms.template_tree(demo_store, agent, cs)


# -- snapshots -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_snapshot(snap_compare, demo_store, lang, size):
    ids = seed_tree(demo_store)
    app = make_app(demo_store, "admin", lang=lang)

    async def run_before(pilot):
        view = await open_view(pilot)
        await point(pilot, view, ("tpl", ids["매장 약도"]))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_snapshot_delete_confirmation(snap_compare, demo_store, lang):
    ids = seed_tree(demo_store)
    app = make_app(demo_store, "admin", lang=lang)

    async def run_before(pilot):
        view = await open_view(pilot)
        await point(pilot, view, ("cat", ids["안내"]))
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_escape_with_unsaved_changes_does_not_leave_a_saved_line(demo_store):
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        view = await open_view(pilot)
        await pilot.press("c")
        await type_text(pilot, "Notices")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Notices" in static_text(view.query_one("#st-message", Static)))
        top = tree_of(demo_store)[0]
        await until(pilot, lambda: view.cursor_key == ("cat", top.id))
        name = view.query_one("#st-cat-name", Input)
        name.focus()
        await pilot.press("end")
        await type_text(pilot, " 2")
        await pilot.press("escape")
        line = static_text(view.query_one("#st-message", Static))
        assert "Not saved yet" in line and "saved" not in line.replace("Not saved", "")
        assert name.value == "Notices 2"  # the change is kept
