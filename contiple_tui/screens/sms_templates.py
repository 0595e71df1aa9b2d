"""2-1 템플릿 관리: a two-level category tree with its templates on the left, an editor on the right.

Categories have two levels; templates live only under second-level ones; a category not in use makes
everything below it not in use (dimmed and marked in words, not by colour alone). Every change goes
through the core, which checks the same rules again; its refusals are shown next to the form, which
keeps what was typed. In a narrow pane the tree sits above the editor and steps back to a few lines
while the editor has the focus.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static, Tree

from contiple_tui.core import sms
from contiple_tui.domain.sms_models import Category, Template
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.confirm import ConfirmScreen
from contiple_tui.widgets.safe import cut, plain
from contiple_tui.widgets.sms_template_form import TemplateForm, form_row
from contiple_tui.widgets.sms_template_tree import Key, TemplateTree
from contiple_tui.widgets.sms_text import SmsTextField
from contiple_tui.widgets.tickbox import TickBox

STACK_BELOW = 84  # the view's width under which the tree goes above the editor


class SmsTemplatesView(MenuView):
    TOPICS = frozenset({"sms_templates", "directory"})
    FOCUS = "#st-tree"  # opened from the menu: the tree takes the keys
    BINDINGS = [
        Binding("c", "add_category", "key.st.add_category", id="sms_templates.add_category"),
        Binding("s", "add_subcategory", "key.st.add_subcategory", id="sms_templates.add_subcategory"),
        Binding("t", "add_template", "key.st.add_template", id="sms_templates.add_template"),
        Binding("ctrl+s", "save", "key.save", id="sms_templates.save"),
        Binding("delete", "delete", "key.st.delete", id="sms_templates.delete"),
        Binding("escape", "to_tree", "key.st.to_tree", id="sms_templates.to_tree", show=False),
    ]
    DEFAULT_CSS = """
    SmsTemplatesView #st-toolbar { height: 1; margin-bottom: 0; }
    SmsTemplatesView #st-toolbar Button { margin-right: 1; min-width: 0; width: auto; }
    SmsTemplatesView #st-main { height: 1fr; }
    SmsTemplatesView #st-tree-pane { width: 40%; min-width: 26; max-width: 48; height: 1fr;
                                     border-right: tall $panel-lighten-1; }
    SmsTemplatesView #st-tree { height: 1fr; padding: 0; background: $surface; }
    SmsTemplatesView #st-summary { height: 1; color: $text-muted; }
    SmsTemplatesView #st-editor { width: 1fr; height: 1fr; padding: 0 0 0 1; }
    SmsTemplatesView #st-editor-title { text-style: bold; height: auto; margin-bottom: 1; }
    SmsTemplatesView #st-empty { color: $text-muted; }
    SmsTemplatesView .st-form { height: auto; }
    SmsTemplatesView .st-row { height: auto; margin-bottom: 1; }
    SmsTemplatesView.-stacked .st-row { margin-bottom: 0; }
    SmsTemplatesView .st-label { width: 14; color: $text-muted; }
    SmsTemplatesView .st-row > Input, SmsTemplatesView .st-row > Select { width: 1fr; }
    SmsTemplatesView .st-row > SmsTextField { width: 1fr; }
    SmsTemplatesView .st-row > Checkbox { width: auto; margin-right: 2; }
    SmsTemplatesView .st-help, SmsTemplatesView #st-inherited {
        color: $text-muted; height: auto; margin-bottom: 1;
    }
    SmsTemplatesView #st-inherited { color: $warning; text-style: bold; }
    SmsTemplatesView #st-images-box { height: auto; }
    SmsTemplatesView #st-images-pane { width: 1fr; height: auto; }
    SmsTemplatesView #st-image-remove { margin-top: 0; }
    SmsTemplatesView SmsTextField > Cp949TextArea { background: $boost; }
    SmsTemplatesView #st-title > Cp949TextArea { height: 1; }
    SmsTemplatesView #st-body > Cp949TextArea { height: 6; }
    SmsTemplatesView #st-buttons { height: 1; margin-bottom: 1; }
    SmsTemplatesView #st-buttons Button { margin-right: 1; min-width: 8; width: auto; }
    SmsTemplatesView #st-message-box { height: auto; }
    SmsTemplatesView #st-message { height: auto; max-height: 3; }
    SmsTemplatesView #st-message.-error { color: $error; text-style: bold; }
    SmsTemplatesView.-stacked #st-main { layout: vertical; }
    SmsTemplatesView.-stacked #st-tree-pane { width: 100%; max-width: 100%; height: 1fr; border-right: none;
                                              border-bottom: tall $panel-lighten-1; }
    SmsTemplatesView.-stacked.-editing #st-tree-pane { height: 4; }
    SmsTemplatesView.-stacked.-editing #st-summary { display: none; }
    SmsTemplatesView.-stacked #st-editor { padding: 0; }
    SmsTemplatesView.-stacked #st-editor-title { margin-bottom: 0; }
    """

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self._cats: dict[int, Category] = {}
        self._tpls: dict[int, Template] = {}
        self._cursor_key: Key | None = None  # the node the cursor was last seen on
        self._pending_key: Key | None = None  # where the cursor goes once the tree is read again
        self._mode: tuple[str, int | None] | None = None  # what the editor shows (see _edit)
        self._loaded: tuple | None = None  # the form's values as loaded: changed means unsaved
        self._loaded_once = False

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="st-toolbar"):
            for name in ("add_category", "add_subcategory", "add_template"):
                button = Button(
                    t(f"st.button.{name}"),
                    id=f"st-{name.replace('_', '-')}",
                    compact=True,
                    tooltip=t(f"st.tooltip.{name}"),
                )
                button.can_focus = False  # the keys c, s, t do it from the keyboard
                yield button
        with Horizontal(id="st-main"):
            with Vertical(id="st-tree-pane"):
                yield TemplateTree(t("st.tree.title"), id="st-tree")
                yield Static(id="st-summary", markup=False)
            with VerticalScroll(id="st-editor"):
                yield Static(id="st-editor-title", markup=False)
                yield Static(t("st.edit.none"), id="st-empty", markup=False)
                yield from self._category_form()
                yield TemplateForm(id="st-tpl-form", classes="st-form")
                with Horizontal(id="st-buttons"):
                    yield Button(t("key.save"), id="st-save", variant="primary", compact=True)
                    yield Button(t("key.st.delete"), id="st-delete", variant="error", compact=True)
        with Vertical(id="st-message-box"):  # not a direct Static child: the menu views' margin stays off
            yield Static(id="st-message", markup=False)

    def _category_form(self) -> ComposeResult:
        with Vertical(id="st-cat-form", classes="st-form"):
            yield form_row(
                t("st.field.category_name"), Input(id="st-cat-name", compact=True, max_length=sms.NAME_MAX)
            )
            yield form_row("", TickBox(t("st.field.in_use"), True, id="st-cat-in-use", compact=True))
            yield Static(t("st.category.help"), classes="st-help", markup=False)

    def on_mount(self) -> None:
        self._show_editor(None)
        self.reload()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < STACK_BELOW, "-stacked")

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _focus_moved(self) -> None:
        """Narrow: while the editor has the focus, the tree steps back to a few lines."""
        focused = self.screen.focused if self.is_attached else None
        editor = self.query_one("#st-editor")
        editing = focused is not None and editor in focused.ancestors_with_self
        if editing != self.has_class("-editing"):
            self.set_class(editing, "-editing")
            self.call_after_refresh(self._show_cursor)

    def _show_cursor(self) -> None:
        tree = self.query_one("#st-tree", Tree)
        if tree.cursor_node is not None:
            tree.scroll_to_node(tree.cursor_node, animate=False)

    # -- reading the tree ------------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="st-load", exit_on_error=False)
    def _load(self) -> None:
        session = self.session
        try:
            tree = session.sms.template_tree()
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._show_tree, tree)

    def _show_tree(self, tops: list[Category]) -> None:
        self._cats, self._tpls = {}, {}
        for top in tops:
            self._cats[top.id] = top
            for sub in top.children:
                self._cats[sub.id] = sub
                self._tpls.update((tpl.id, tpl) for tpl in sub.templates)
        widget = self.query_one(TemplateTree)
        nodes = widget.show(tops)
        self.query_one("#st-summary", Static).update(
            t("st.tree.summary", categories=len(self._cats), templates=len(self._tpls))
            if tops
            else t("st.tree.empty")
        )
        want = self._pending_key or self._cursor_key
        self._pending_key = None
        if want is not None and want not in nodes:
            want = None
        if want is None and nodes and self._mode is None:
            want = next(iter(nodes))
        # Place the cursor without the editor following it: the editor is set below, on purpose.
        self._cursor_key = want
        widget.place_cursor(nodes[want] if want is not None else None)
        self._refresh_editor(want)
        self._loaded_once = True

    def _refresh_editor(self, cursor: Key | None) -> None:
        """After the tree was read again: follow the cursor unless the form holds unsaved work."""
        mode = self._mode
        if mode is not None and mode[0] in ("cat", "tpl"):
            exists = (mode[1] in self._cats) if mode[0] == "cat" else (mode[1] in self._tpls)
            if not exists:
                if self._dirty():
                    key = "sms.err.category_missing" if mode[0] == "cat" else "sms.err.template_missing"
                    self._say(t(key), error=True)  # kept on screen; saving would say the same
                    return
                self._edit(cursor, keep_message=True)
                return
            if not self._dirty() and mode == cursor:
                self._edit(cursor, keep_message=True)  # what was saved, or what another console changed
                return
            self._update_title()
            return
        if mode is None:
            self._edit(cursor, keep_message=True)
        else:
            self._update_title()

    # -- following the cursor ----------------------------------------------------------------------

    @property
    def cursor_key(self) -> Key | None:
        return self.query_one(TemplateTree).cursor_key

    def _move_cursor(self, key: Key | None) -> None:
        self._cursor_key = key
        self.query_one(TemplateTree).move_to(key)

    def _walk(self, node):
        """Every node below ``node``, depth first (the tests walk the tree with it)."""
        return self.query_one(TemplateTree).walk(node)

    @on(Tree.NodeHighlighted, "#st-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        key = event.node.data
        if key == self._cursor_key:
            return  # placed there by us
        previous, self._cursor_key = self._cursor_key, key
        if self._mode == key:
            return
        self._leave_editor(lambda: self._edit(key), on_keep=lambda: self._move_cursor(previous))

    @on(Tree.NodeSelected, "#st-tree")
    def _selected(self, event: Tree.NodeSelected) -> None:
        """Enter (or a click) on a node: to the form it shows (or the new one started from it)."""
        if event.node.data == self._cursor_key and self.app.screen is self.screen:  # not while asking
            self._focus_form()

    # -- the editor ----------------------------------------------------------------------------------

    def _path(self, key: Key | None) -> str:
        if key is None:
            return ""
        kind, ident = key
        if kind == "tpl":
            tpl = self._tpls.get(ident)
            return f"{self._path(('cat', tpl.category_id))} › {cut(tpl.name, 60)}" if tpl else ""
        cat = self._cats.get(ident)
        if cat is None:
            return ""
        if cat.parent_id is not None and cat.parent_id in self._cats:
            return f"{cut(self._cats[cat.parent_id].name, 60)} › {cut(cat.name, 60)}"
        return cut(cat.name, 60)

    def _title(self) -> str:
        mode = self._mode
        if mode is None:
            return ""
        kind, ident = mode
        if kind == "cat":
            cat = self._cats.get(ident)
            top = cat is None or cat.parent_id is None
            return t(
                "st.edit.category_top" if top else "st.edit.category_sub", path=self._path(("cat", ident))
            )
        if kind == "tpl":
            return t("st.edit.template", path=self._path(("tpl", ident)))
        if kind == "new_cat":
            return (
                t("st.edit.new_top")
                if ident is None
                else t("st.edit.new_sub", path=self._path(("cat", ident)))
            )
        return t("st.edit.new_template", path=self._path(("cat", ident)))

    def _update_title(self) -> None:
        self.query_one("#st-editor-title", Static).update(self._title())

    def _show_editor(self, which: str | None) -> None:
        self.query_one("#st-empty").display = which is None
        self.query_one("#st-cat-form").display = which == "cat"
        self.query_one("#st-tpl-form").display = which == "tpl"
        self.query_one("#st-buttons").display = which is not None
        self.query_one("#st-delete").display = self._mode is not None and self._mode[0] in ("cat", "tpl")

    def _edit(self, mode: tuple[str, int | None] | None, keep_message: bool = False) -> None:
        """Show ``mode`` in the editor: ("cat", id), ("tpl", id), ("new_cat", parent id or None),
        ("new_tpl", category id), or None (nothing)."""
        if mode != self._mode:
            self.query_one("#st-editor").scroll_home(animate=False)
            if not keep_message:
                self._say("")
        self._mode = mode
        if mode is None:
            self._show_editor(None)
        elif mode[0] in ("cat", "new_cat"):
            cat = self._cats.get(mode[1]) if mode[0] == "cat" else None
            self.query_one("#st-cat-name", Input).value = clean(cat.name, None) if cat else ""
            self.query_one("#st-cat-in-use", Checkbox).value = cat.in_use if cat else True
            self._show_editor("cat")
        else:
            tpl = self._tpls.get(mode[1]) if mode[0] == "tpl" else None
            self._fill_template(tpl)
            self._show_editor("tpl")
        self._update_title()
        self._loaded = self._values()

    def _fill_template(self, tpl: Template | None) -> None:
        off = None
        if tpl is not None and tpl.in_use and not tpl.effective_in_use:
            cat = self._off_category(tpl)
            off = cut(cat.name, 60) if cat else "?"
        self.query_one(TemplateForm).fill(tpl, list(self.session.service.sender_numbers), off)

    def _off_category(self, tpl: Template) -> Category | None:
        cat = self._cats.get(tpl.category_id)
        if cat is None:
            return None
        parent = self._cats.get(cat.parent_id) if cat.parent_id is not None else None
        if parent is not None and not parent.in_use:
            return parent
        return cat if not cat.in_use else None

    def _values(self) -> tuple:
        mode = self._mode
        if mode is None:
            return ()
        if mode[0] in ("cat", "new_cat"):
            return (
                self.query_one("#st-cat-name", Input).value,
                self.query_one("#st-cat-in-use", Checkbox).value,
            )
        return self.query_one(TemplateForm).values()

    def _dirty(self) -> bool:
        return self._mode is not None and self._values() != self._loaded

    def _leave_editor(self, then: Callable[[], None], on_keep: Callable[[], None] | None = None) -> None:
        """Run ``then`` now, or after the user agreed to drop unsaved work in the form."""
        if not self._dirty():
            then()
            return

        def answer(discard: bool | None) -> None:
            if discard:
                then()
            elif on_keep is not None:
                on_keep()

        self.app.push_screen(
            ConfirmScreen(
                t("st.discard.title"),
                t("st.discard.body", what=self._title()),
                t("key.st.discard"),
                t("key.st.keep"),
            ),
            answer,
        )

    def _focus_form(self) -> None:
        mode = self._mode
        if mode is None:
            return
        target = "#st-cat-name" if mode[0] in ("cat", "new_cat") else "#st-tpl-name"
        self.query_one(target, Input).focus()

    def _say(self, text: str, error: bool = False) -> None:
        line = self.query_one("#st-message", Static)
        line.update(plain(("⚠ " if error and text else "") + text, newlines=True))
        line.set_class(error and bool(text), "-error")

    @property
    def message(self) -> str:
        """What the line under the editor says (tests and screen readers read it)."""
        return str(self.query_one("#st-message", Static).content)

    # -- adding ----------------------------------------------------------------------------------------

    def _cursor_category(self) -> Category | None:
        key = self.cursor_key
        if key is None:
            return None
        if key[0] == "cat":
            return self._cats.get(key[1])
        tpl = self._tpls.get(key[1])
        return self._cats.get(tpl.category_id) if tpl else None

    def _start(self, mode: tuple[str, int | None]) -> None:
        def go() -> None:
            self._edit(mode)
            self._focus_form()

        self._leave_editor(go)

    def action_add_category(self) -> None:
        self._start(("new_cat", None))

    def action_add_subcategory(self) -> None:
        key = self.cursor_key
        cat = self._cursor_category()
        if cat is None:
            self._say(t("st.need_top"), error=True)
        elif key[0] == "tpl" or cat.parent_id is not None:
            self._say(t("sms.err.category_depth"), error=True)  # a third level: the core refuses it too
        else:
            self._start(("new_cat", cat.id))

    def action_add_template(self) -> None:
        cat = self._cursor_category()
        if cat is None or cat.parent_id is None:
            self._say(t("sms.err.template_top_level"), error=True)
        else:
            self._start(("new_tpl", cat.id))

    @on(Button.Pressed, "#st-add-category")
    def _add_category_pressed(self) -> None:
        self.action_add_category()

    @on(Button.Pressed, "#st-add-subcategory")
    def _add_subcategory_pressed(self) -> None:
        self.action_add_subcategory()

    @on(Button.Pressed, "#st-add-template")
    def _add_template_pressed(self) -> None:
        self.action_add_template()

    # -- saving ----------------------------------------------------------------------------------------

    def action_save(self) -> None:
        mode = self._mode
        if mode is None:
            self._say(t("st.nothing_selected"), error=True)
            return
        session = self.session
        try:
            if mode[0] in ("cat", "new_cat"):
                name = self.query_one("#st-cat-name", Input).value
                in_use = self.query_one("#st-cat-in-use", Checkbox).value
                if mode[0] == "cat":
                    session.sms.update_category(mode[1], name, in_use)
                    key: Key = ("cat", mode[1])
                else:
                    key = ("cat", session.sms.add_category(name, parent_id=mode[1], in_use=in_use))
                done = t("st.saved.category", name=cut(" ".join(name.split()), 60))
            else:
                draft = self._draft(mode)
                template_id = session.sms.save_template(
                    draft, template_id=mode[1] if mode[0] == "tpl" else None
                )
                key = ("tpl", template_id)
                done = t("st.saved.template", name=cut(" ".join(draft.name.split()), 60))
        except ContipleError as exc:
            self._say(exc.message(), error=True)  # the form keeps what was typed
            return
        self._mode = key  # the form now stands for what was saved; the re-read tree refreshes it
        self._loaded = self._values()
        self._pending_key = key
        self._say(done)
        self.app.notify(done)
        self.reload()

    def _draft(self, mode: tuple[str, int | None]) -> sms.TemplateDraft:
        category_id = mode[1] if mode[0] == "new_tpl" else self._tpls[mode[1]].category_id
        return self.query_one(TemplateForm).draft(category_id)

    @on(Button.Pressed, "#st-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Input.Submitted, "#st-cat-name")
    def _category_submitted(self) -> None:
        self.action_save()

    @on(Input.Submitted, "#st-tpl-name, #st-description")
    @on(SmsTextField.Submitted)
    def _next_field(self, event) -> None:
        event.stop()
        self.app.action_focus_next()

    # -- images ----------------------------------------------------------------------------------------

    @on(Button.Pressed, "#st-image-remove")
    def _image_remove_pressed(self) -> None:
        removed = self.query_one(TemplateForm).remove_image()
        if removed is None:
            self._say(t("st.image.none_selected"), error=True)
        else:
            self._say(t("st.image.removed", name=removed))

    # -- deleting --------------------------------------------------------------------------------------

    def action_delete(self) -> None:
        key = self.cursor_key
        if key is None:
            self._say(t("st.nothing_selected"), error=True)
            return
        session = self.session
        kind, ident = key
        if kind == "cat":
            cat = self._cats.get(ident)
            try:
                subs, templates = session.sms.category_contents(ident)
            except ContipleError as exc:
                self._say(exc.message(), error=True)
                return
            name = cut(cat.name, 60) if cat else "?"
            body = t("st.confirm.category", name=name, subs=subs, templates=templates)
        else:
            tpl = self._tpls.get(ident)
            name = cut(tpl.name, 60) if tpl else "?"
            body = t("st.confirm.template", name=name)

        def answer(yes: bool | None) -> None:
            if yes:
                self._delete(key, name)

        self.app.push_screen(
            ConfirmScreen(t("st.confirm.title"), body, t("key.st.delete"), t("key.cancel")), answer
        )

    def _delete(self, key: Key, name: str) -> None:
        session = self.session
        kind, ident = key
        try:
            if kind == "cat":
                subs, templates = session.sms.delete_category(ident)
                done = t("st.deleted.category", name=name, subs=subs, templates=templates)
            else:
                session.sms.delete_template(ident)
                done = t("st.deleted.template", name=name)
        except ContipleError as exc:
            self._say(exc.message(), error=True)
            return
        if self._mode is not None and (
            self._mode == key or self._mode[1] == ident and self._mode[0].startswith("new")
        ):
            self._mode = None
        self._pending_key = self.query_one(TemplateTree).neighbour(key)
        self._cursor_key = None
        self._say(done)
        self.app.notify(done)
        self.reload()

    @on(Button.Pressed, "#st-delete")
    def _delete_pressed(self) -> None:
        self.action_delete()

    # -- keys ------------------------------------------------------------------------------------------

    def action_to_tree(self) -> None:
        self.query_one("#st-tree", Tree).focus()
        self.query_one("#st-editor").scroll_home(animate=False)
        if self._dirty():  # a "saved" line from before must not stand over unsaved changes
            self._say(t("st.unsaved_kept"))


KEYMAP_CLASSES = (SmsTemplatesView, ConfirmScreen)  # whose binding ids a user keymap may name
