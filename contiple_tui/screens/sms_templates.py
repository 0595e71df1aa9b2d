"""2-1 템플릿 관리: a two-level category tree with its templates on the left, an editor on the right.

Categories have two levels; templates live only under second-level ones; a category not in use makes
everything below it not in use (dimmed and marked in words, not by colour alone). Every change goes
through the core, which checks the same rules again; its refusals are shown next to the form, which
keeps what was typed. In a narrow pane the tree sits above the editor and steps back to a few lines
while the editor has the focus.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    Tree,
)

from contiple_tui.core import sms
from contiple_tui.core.phone import format_phone
from contiple_tui.core.sms_models import Category, Template
from contiple_tui.errors import ContipleError, ValidationError
from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.sms import rules
from contiple_tui.sms.images import MmsImage, check_image_bytes
from contiple_tui.sms.rules import SendType
from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.tickbox import TickBox
from contiple_tui.widgets.image_picker import ImagePicker
from contiple_tui.widgets.sms_text import SmsTextField

Key = tuple[str, int]  # ("cat", id) or ("tpl", id): what a tree node stands for
STACK_BELOW = 84  # the view's width under which the tree goes above the editor


def _lay_out(tree: Tree) -> None:
    """Give freshly added nodes their line numbers now (Tree does it lazily, on idle), so that the
    cursor can be put on one of them at once (textual 8.2: the private ``_tree_lines`` builds them)."""
    tree._tree_lines  # noqa: B018


class ConfirmScreen(Localized, ModalScreen[bool]):
    """A yes/no question; the safe answer has the focus, Escape gives it."""

    BINDINGS = [Binding("escape", "dismiss(False)", "key.cancel", id="sms_templates.confirm_cancel")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #st-confirm { width: 64; max-width: 96%; height: auto; border: thick $error; background: $surface;
                  padding: 1 2; }
    #st-confirm-title { text-style: bold; }
    #st-confirm-body { margin: 1 0; }
    #st-confirm-buttons { height: auto; align-horizontal: right; }
    #st-confirm-buttons Button { margin-left: 1; }
    """

    def __init__(self, title: str, body: str, yes: str, no: str) -> None:
        super().__init__()
        self._title, self._body, self._yes, self._no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="st-confirm"):
            yield Static(self._title, id="st-confirm-title", markup=False)
            yield Static(self._body, id="st-confirm-body", markup=False)
            with Horizontal(id="st-confirm-buttons"):
                yield Button(self._yes, id="st-confirm-yes", variant="error")
                yield Button(self._no, id="st-confirm-no")

    def on_mount(self) -> None:
        self.query_one("#st-confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "st-confirm-yes")


class SmsTemplatesView(MenuView):
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
    SmsTemplatesView .st-help, SmsTemplatesView #st-inherited { color: $text-muted; height: auto; margin-bottom: 1; }
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
        self._collapsed: set[Key] = set()
        self._cursor_key: Key | None = None  # the node the cursor was last seen on
        self._pending_key: Key | None = None  # where the cursor goes once the tree is read again
        self._mode: tuple[str, int | None] | None = None  # what the editor shows (see _edit)
        self._loaded: tuple | None = None  # the form's values as loaded: changed means unsaved
        self._loaded_once = False

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="st-toolbar"):
            for name in ("add_category", "add_subcategory", "add_template"):
                button = Button(t(f"st.button.{name}"), id=f"st-{name.replace('_', '-')}", compact=True,
                                tooltip=t(f"st.tooltip.{name}"))
                button.can_focus = False  # the keys c, s, t do it from the keyboard
                yield button
        with Horizontal(id="st-main"):
            with Vertical(id="st-tree-pane"):
                tree: Tree[Key] = Tree(t("st.tree.title"), id="st-tree")
                tree.show_root = False
                tree.auto_expand = False  # Enter opens the editor; space folds
                tree.guide_depth = 2
                yield tree
                yield Static(id="st-summary", markup=False)
            with VerticalScroll(id="st-editor"):
                yield Static(id="st-editor-title", markup=False)
                yield Static(t("st.edit.none"), id="st-empty", markup=False)
                yield from self._category_form()
                yield from self._template_form()
                with Horizontal(id="st-buttons"):
                    yield Button(t("key.save"), id="st-save", variant="primary", compact=True)
                    yield Button(t("key.st.delete"), id="st-delete", variant="error", compact=True)
        with Vertical(id="st-message-box"):  # not a direct Static child: the menu views' margin stays off
            yield Static(id="st-message", markup=False)

    def _row(self, label: str, *widgets: Widget, id: str | None = None) -> Horizontal:
        return Horizontal(Label(label, classes="st-label", markup=False), *widgets, classes="st-row", id=id)

    def _category_form(self) -> ComposeResult:
        with Vertical(id="st-cat-form", classes="st-form"):
            yield self._row(t("st.field.category_name"),
                            Input(id="st-cat-name", compact=True, max_length=sms.NAME_MAX))
            yield self._row("", TickBox(t("st.field.in_use"), True, id="st-cat-in-use", compact=True))
            yield Static(t("st.category.help"), classes="st-help", markup=False)

    def _template_form(self) -> ComposeResult:
        types = [(t(f"st.type.{kind}"), str(kind)) for kind in SendType]
        with Vertical(id="st-tpl-form", classes="st-form"):
            yield self._row(t("st.field.type"),
                            Select(types, value=str(SendType.SMS), allow_blank=False, id="st-type", compact=True))
            yield self._row("", TickBox(t("st.field.in_use"), True, id="st-tpl-in-use", compact=True),
                            TickBox(t("st.field.editable"), True, id="st-editable", compact=True))
            yield Static(id="st-inherited", markup=False)
            yield self._row(t("st.field.template_name"),
                            Input(id="st-tpl-name", compact=True, max_length=sms.NAME_MAX))
            yield self._row(t("st.field.description"),
                            Input(id="st-description", compact=True, max_length=sms.DESCRIPTION_MAX))
            yield self._row(t("st.field.sender"),
                            Select([], prompt=t("st.sender.none"), id="st-sender", compact=True))
            yield self._row(t("st.field.title"),
                            SmsTextField(rules.MMS_TITLE_LIMIT, single_line=True, compact=True, id="st-title"), id="st-title-row")
            yield self._row(t("st.field.body"), SmsTextField(rules.SMS_BODY_LIMIT, compact=True, id="st-body"))
            with Horizontal(classes="st-row", id="st-images-box"):
                yield Label(t("st.field.images"), classes="st-label", markup=False)
                with Vertical(id="st-images-pane"):
                    yield ImagePicker(id="st-images")
                    yield Button(t("st.button.remove_image"), id="st-image-remove", compact=True)

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
            tree = sms.template_tree(session.store, session.user, session.service)
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._show_tree, tree)

    def _show_tree(self, tops: list[Category]) -> None:
        self._cats, self._tpls = {}, {}
        widget = self.query_one("#st-tree", Tree)
        widget.clear()
        nodes = {}
        for top in tops:
            self._cats[top.id] = top
            top_node = widget.root.add(self._category_label(top, None), data=("cat", top.id),
                                       expand=("cat", top.id) not in self._collapsed, allow_expand=bool(top.children))
            nodes[("cat", top.id)] = top_node
            for sub in top.children:
                self._cats[sub.id] = sub
                sub_node = top_node.add(self._category_label(sub, top), data=("cat", sub.id),
                                        expand=("cat", sub.id) not in self._collapsed,
                                        allow_expand=bool(sub.templates))
                nodes[("cat", sub.id)] = sub_node
                for tpl in sub.templates:
                    self._tpls[tpl.id] = tpl
                    nodes[("tpl", tpl.id)] = sub_node.add_leaf(self._template_label(tpl), data=("tpl", tpl.id))
        self.query_one("#st-summary", Static).update(
            t("st.tree.summary", categories=len(self._cats), templates=len(self._tpls)) if tops
            else t("st.tree.empty"))
        want = self._pending_key or self._cursor_key
        self._pending_key = None
        if want is not None and want not in nodes:
            want = None
        if want is None and nodes and self._mode is None:
            want = next(iter(nodes))
        # Place the cursor without the editor following it: the editor is set below, on purpose.
        _lay_out(widget)
        widget.unselect()
        self._cursor_key = want
        if want is not None:
            node = nodes[want]
            parent = node.parent
            while parent is not None and not parent.is_root:
                parent.expand()
                parent = parent.parent
            _lay_out(widget)
            widget.move_cursor(node)
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

    def _category_label(self, cat: Category, parent: Category | None) -> Text:
        text = Text(cat.name, style="bold" if parent is None else "")
        if not cat.in_use:
            text.append(" " + t("st.mark.off"))
            text.stylize("dim")
        elif parent is not None and not parent.in_use:
            text.append(" " + t("st.mark.off_inherited"))
            text.stylize("dim")
        return text

    def _template_label(self, tpl: Template) -> Text:
        text = Text.assemble((f"{tpl.send_type} ", "italic"), tpl.name)
        if not tpl.in_use:
            text.append(" " + t("st.mark.off"))
            text.stylize("dim")
        elif not tpl.effective_in_use:
            text.append(" " + t("st.mark.off_inherited"))
            text.stylize("dim")
        return text

    @on(Tree.NodeCollapsed, "#st-tree")
    def _collapsed_node(self, event: Tree.NodeCollapsed) -> None:
        if event.node.data is not None:
            self._collapsed.add(event.node.data)

    @on(Tree.NodeExpanded, "#st-tree")
    def _expanded_node(self, event: Tree.NodeExpanded) -> None:
        self._collapsed.discard(event.node.data)

    # -- following the cursor ----------------------------------------------------------------------

    @property
    def cursor_key(self) -> Key | None:
        node = self.query_one("#st-tree", Tree).cursor_node
        return node.data if node is not None else None

    def _move_cursor(self, key: Key | None) -> None:
        widget = self.query_one("#st-tree", Tree)
        self._cursor_key = key
        for node in self._walk(widget.root):
            if node.data == key:
                widget.move_cursor(node)
                return

    def _walk(self, node):
        for child in node.children:
            yield child
            yield from self._walk(child)

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
            return f"{self._path(('cat', tpl.category_id))} › {tpl.name}" if tpl else ""
        cat = self._cats.get(ident)
        if cat is None:
            return ""
        if cat.parent_id is not None and cat.parent_id in self._cats:
            return f"{self._cats[cat.parent_id].name} › {cat.name}"
        return cat.name

    def _title(self) -> str:
        mode = self._mode
        if mode is None:
            return ""
        kind, ident = mode
        if kind == "cat":
            cat = self._cats.get(ident)
            top = cat is None or cat.parent_id is None
            return t("st.edit.category_top" if top else "st.edit.category_sub", path=self._path(("cat", ident)))
        if kind == "tpl":
            return t("st.edit.template", path=self._path(("tpl", ident)))
        if kind == "new_cat":
            return t("st.edit.new_top") if ident is None else t("st.edit.new_sub", path=self._path(("cat", ident)))
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
            self.query_one("#st-cat-name", Input).value = cat.name if cat else ""
            self.query_one("#st-cat-in-use", Checkbox).value = cat.in_use if cat else True
            self._show_editor("cat")
        else:
            tpl = self._tpls.get(mode[1]) if mode[0] == "tpl" else None
            self._fill_template(tpl)
            self._show_editor("tpl")
        self._update_title()
        self._loaded = self._values()

    def _fill_template(self, tpl: Template | None) -> None:
        send_type = tpl.send_type if tpl else SendType.SMS
        self.query_one("#st-type", Select).value = str(send_type)
        self.query_one("#st-tpl-in-use", Checkbox).value = tpl.in_use if tpl else True
        self.query_one("#st-editable", Checkbox).value = tpl.editable if tpl else True
        self.query_one("#st-tpl-name", Input).value = tpl.name if tpl else ""
        self.query_one("#st-description", Input).value = tpl.description if tpl else ""
        numbers = list(self.session.service.sender_numbers)
        options = [(format_phone(n), n) for n in numbers]
        current = tpl.sender_no if tpl else None
        if current and current not in numbers:
            options.append((t("st.sender.unregistered", number=format_phone(current)), current))
        sender = self.query_one("#st-sender", Select)
        sender.set_options(options)
        sender.value = current if current else Select.NULL
        self.query_one("#st-title", SmsTextField).text = tpl.title if tpl else ""
        self.query_one("#st-body", SmsTextField).text = tpl.body if tpl else ""
        picker = self.query_one("#st-images", ImagePicker)
        picker.set_images([self._stored_image(i.file_name, i.data) for i in tpl.images] if tpl else [])
        picker.query_one("#image-path", Input).value = ""
        picker.query_one("#image-error", Static).update("")
        inherited = self.query_one("#st-inherited", Static)
        if tpl is not None and tpl.in_use and not tpl.effective_in_use:
            off = self._off_category(tpl)
            inherited.update(t("st.template.inherited_off", name=off.name if off else "?"))
            inherited.display = True
        else:
            inherited.display = False
        self._apply_type()

    def _off_category(self, tpl: Template) -> Category | None:
        cat = self._cats.get(tpl.category_id)
        if cat is None:
            return None
        parent = self._cats.get(cat.parent_id) if cat.parent_id is not None else None
        if parent is not None and not parent.in_use:
            return parent
        return cat if not cat.in_use else None

    @staticmethod
    def _stored_image(name: str, data: bytes) -> MmsImage:
        try:
            return check_image_bytes(name, data)
        except ValidationError:  # stored under older rules: keep it; saving will say what is wrong
            return MmsImage(name, data, 0, 0)

    def _send_type(self) -> SendType:
        value = self.query_one("#st-type", Select).value
        return SendType(value) if isinstance(value, str) else SendType.SMS

    def _apply_type(self) -> None:
        send_type = self._send_type()
        self.query_one("#st-body", SmsTextField).limit = rules.body_limit(send_type)
        mms = send_type is SendType.MMS
        self.query_one("#st-title-row").display = mms
        # An SMS carries no image; images already attached stay visible, so the refusal can be acted on.
        self.query_one("#st-images-box").display = mms or bool(self._images)

    @on(Select.Changed, "#st-type")
    def _type_changed(self) -> None:
        self._apply_type()

    @property
    def _images(self) -> list[MmsImage]:
        return self.query_one("#st-images", ImagePicker).images

    @on(ImagePicker.Changed)
    def _images_changed(self) -> None:
        self.query_one("#st-image-remove").display = bool(self._images)
        self._apply_type()

    def _values(self) -> tuple:
        mode = self._mode
        if mode is None:
            return ()
        if mode[0] in ("cat", "new_cat"):
            return (self.query_one("#st-cat-name", Input).value, self.query_one("#st-cat-in-use", Checkbox).value)
        return (
            self._send_type(),
            self.query_one("#st-tpl-in-use", Checkbox).value,
            self.query_one("#st-editable", Checkbox).value,
            self.query_one("#st-tpl-name", Input).value,
            self.query_one("#st-description", Input).value,
            self.query_one("#st-sender", Select).value,
            self.query_one("#st-title", SmsTextField).text if self._send_type() is SendType.MMS else "",
            self.query_one("#st-body", SmsTextField).text,
            tuple((img.file_name, img.data) for img in self._images),
        )

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

        self.app.push_screen(ConfirmScreen(t("st.discard.title"), t("st.discard.body", what=self._title()),
                                           t("key.st.discard"), t("key.st.keep")), answer)

    def _focus_form(self) -> None:
        mode = self._mode
        if mode is None:
            return
        target = "#st-cat-name" if mode[0] in ("cat", "new_cat") else "#st-tpl-name"
        self.query_one(target, Input).focus()

    def _say(self, text: str, error: bool = False) -> None:
        line = self.query_one("#st-message", Static)
        line.update(("⚠ " if error and text else "") + text)
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
        store, user, service = session.store, session.user, session.service
        try:
            if mode[0] in ("cat", "new_cat"):
                name = self.query_one("#st-cat-name", Input).value
                in_use = self.query_one("#st-cat-in-use", Checkbox).value
                if mode[0] == "cat":
                    sms.update_category(store, user, service, mode[1], name, in_use)
                    key: Key = ("cat", mode[1])
                else:
                    key = ("cat", sms.add_category(store, user, service, name, parent_id=mode[1], in_use=in_use))
                done = t("st.saved.category", name=" ".join(name.split()))
            else:
                draft = self._draft(mode)
                template_id = sms.save_template(store, user, service, draft,
                                                template_id=mode[1] if mode[0] == "tpl" else None)
                key = ("tpl", template_id)
                done = t("st.saved.template", name=" ".join(draft.name.split()))
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
        sender = self.query_one("#st-sender", Select).value
        send_type = self._send_type()
        return sms.TemplateDraft(
            category_id=category_id,
            name=self.query_one("#st-tpl-name", Input).value,
            send_type=send_type,
            body=self.query_one("#st-body", SmsTextField).text,
            title=self.query_one("#st-title", SmsTextField).text if send_type is SendType.MMS else "",
            description=self.query_one("#st-description", Input).value,
            in_use=self.query_one("#st-tpl-in-use", Checkbox).value,
            editable=self.query_one("#st-editable", Checkbox).value,
            sender_no=sender if isinstance(sender, str) else None,
            images=tuple(self._images),
        )

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
        picker = self.query_one("#st-images", ImagePicker)
        listing = picker.query_one(OptionList)
        index = listing.highlighted
        if index is None and len(picker.images) == 1:
            index = 0
        if index is None or not 0 <= index < len(picker.images):
            self._say(t("st.image.none_selected"), error=True)
            return
        images = list(picker.images)
        removed = images.pop(index)
        if not images:  # the button goes away with the last image: the focus stays in the form
            picker.query_one("#image-path", Input).focus()
        picker.set_images(images)
        self._say(t("st.image.removed", name=removed.file_name))

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
                subs, templates = sms.category_contents(session.store, session.user, session.service, ident)
            except ContipleError as exc:
                self._say(exc.message(), error=True)
                return
            name = cat.name if cat else "?"
            body = t("st.confirm.category", name=name, subs=subs, templates=templates)
        else:
            tpl = self._tpls.get(ident)
            name = tpl.name if tpl else "?"
            body = t("st.confirm.template", name=name)

        def answer(yes: bool | None) -> None:
            if yes:
                self._delete(key, name)

        self.app.push_screen(ConfirmScreen(t("st.confirm.title"), body, t("key.st.delete"), t("key.cancel")), answer)

    def _delete(self, key: Key, name: str) -> None:
        session = self.session
        kind, ident = key
        try:
            if kind == "cat":
                subs, templates = sms.delete_category(session.store, session.user, session.service, ident)
                done = t("st.deleted.category", name=name, subs=subs, templates=templates)
            else:
                sms.delete_template(session.store, session.user, session.service, ident)
                done = t("st.deleted.template", name=name)
        except ContipleError as exc:
            self._say(exc.message(), error=True)
            return
        if self._mode is not None and (self._mode == key or self._mode[1] == ident and self._mode[0].startswith("new")):
            self._mode = None
        self._pending_key = self._neighbour(key)
        self._cursor_key = None
        self._say(done)
        self.app.notify(done)
        self.reload()

    def _neighbour(self, key: Key) -> Key | None:
        """Where the cursor goes when ``key`` is deleted: the node above it, or its parent."""
        for node in self._walk(self.query_one("#st-tree", Tree).root):
            if node.data == key:
                above = node.previous_sibling or (node.parent if not node.parent.is_root else None)
                return above.data if above is not None else None
        return None

    @on(Button.Pressed, "#st-delete")
    def _delete_pressed(self) -> None:
        self.action_delete()

    # -- keys ------------------------------------------------------------------------------------------

    def action_to_tree(self) -> None:
        self.query_one("#st-tree", Tree).focus()
        self.query_one("#st-editor").scroll_home(animate=False)


KEYMAP_CLASSES = (SmsTemplatesView, ConfirmScreen)  # whose binding ids a user keymap may name
