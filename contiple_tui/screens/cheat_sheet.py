"""F1: the cheat sheet of the screen in front of the user, keys grouped by what they do (as k9s's `?`).

Built from the bindings active where the focus is (so it is never out of date with the keymap), each
key with one line in the user's language, and the view's own notes (what a column abbreviation means,
which columns give way at narrow widths).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.bindings import translate_description
from contiple_tui.widgets.safe import plain

GROUPS = ("move", "select", "act", "find", "console")
# Actions by group; any other action acts on what is shown ("act").
ACTION_GROUP = {
    "cursor_up": "move",
    "cursor_down": "move",
    "next_page": "move",
    "previous_page": "move",
    "first_row": "move",
    "last_row": "move",
    "leftmost": "move",
    "rightmost": "move",
    "scroll_left": "move",
    "scroll_right": "move",
    "page_left": "move",
    "page_right": "move",
    "to_tree": "move",
    "scroll_up": "move",
    "scroll_down": "move",
    "scroll_home": "move",
    "scroll_end": "move",
    "page_up": "move",
    "page_down": "move",
    "tab_table": "move",
    "copy_text": "console",
    "toggle_select": "select",
    "select_page": "select",
    "toggle": "select",
    "focus_search": "find",
    "quit": "console",
    "request_quit": "console",
    "toggle_help": "console",
    "switch_service": "console",
    "toggle_nav": "console",
    "command_palette": "console",
}
# Keys that read as one line: "↑ ↓  Move between rows".
PAIRS = [
    ("cursor_up", "cursor_down", "help.rows"),
    ("previous_page", "next_page", "help.pages"),
    ("first_row", "last_row", "help.ends"),
    ("scroll_left", "scroll_right", "help.sideways"),
    ("leftmost", "rightmost", "help.side_ends"),
    ("scroll_up", "scroll_down", "help.scroll"),
    ("page_up", "page_down", "help.scroll_pages"),
    ("scroll_home", "scroll_end", "help.scroll_ends"),
]
# Said once, by the line every sheet has ("Tab ⇧Tab  Next / previous field").
SKIPPED = frozenset({"focus_next", "focus_previous"})


def sheet_lines(
    bindings: Iterable[Binding], key_display: Callable[[Binding], str]
) -> dict[str, list[tuple[str, str]]]:
    """The cheat sheet's lines by group: (keys, what they do). One line per action; paired actions
    (up and down, the page keys) share a line; Tab and Shift+Tab are always there."""
    by_action: dict[str, Binding] = {}
    for binding in bindings:  # by the action's name ("screen.focus_next" is "focus_next")
        by_action.setdefault(binding.action.rsplit(".", 1)[-1], binding)
    lines: dict[str, list[tuple[str, str]]] = {group: [] for group in GROUPS}
    paired: set[str] = set()
    for first, second, key in PAIRS:
        if first in by_action and second in by_action:
            lines["move"].append(
                (f"{key_display(by_action[first])} {key_display(by_action[second])}", t(key))
            )
            paired |= {first, second}
    if "tab_table" in by_action:  # the view's own Tab has its line: only Shift+Tab is left to say
        lines["move"].append(("⇧Tab", t("help.previous_field")))
    else:
        lines["move"].append(("Tab ⇧Tab", t("help.fields")))
    for action, binding in by_action.items():
        if action in paired or action in SKIPPED:
            continue
        description = binding.description
        if not description or description == action:
            continue
        # Textual's own widgets (an Input's keys, say) are not all localized where they are built.
        lines[ACTION_GROUP.get(action, "act")].append(
            (key_display(binding), translate_description(description))
        )
    return {group: rows for group, rows in lines.items() if rows}


class CheatSheet(Dialog[None]):
    """The keys of the screen behind, grouped, with the view's notes; Esc or F1 closes it."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "key.close", id="help.close"),
        Binding("f1", "dismiss(None)", "key.close", show=False, id="help.close_f1"),
    ]
    DEFAULT_CSS = """
    CheatSheet {
        align: center middle;
    }
    #help-dialog {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    #help-title {
        text-style: bold;
        margin-bottom: 1;
    }
    #help-body {
        height: auto;
        /* Of the screen, not of the dialog: the title above takes one or two lines of the dialog's 90 %,
           and a body as tall as the dialog was cut at the bottom, its last lines out of reach. */
        max-height: 70vh;
    }
    .help-group {
        text-style: bold;
        color: $accent;
    }
    .help-notes {
        margin-top: 1;
        color: $text-muted;
    }
    """

    def __init__(self, title: str, lines: dict[str, list[tuple[str, str]]], notes: list[str]) -> None:
        super().__init__()
        self.sheet_title = title
        self.lines = lines
        self.notes = notes

    @classmethod
    def of(cls, screen: Screen, view: MenuView | None, key_display: Callable[[Binding], str]) -> CheatSheet:
        """The sheet of the keys active on ``screen``, titled and noted by the menu's ``view`` on it
        (None: a dialog's keys)."""
        title = view.title if view is not None else t("help.dialog")
        bindings = [binding for _, binding, _, _ in screen.active_bindings.values()]
        notes = view.help_notes() if view is not None else []
        return cls(title, sheet_lines(bindings, key_display), notes)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            # The title wraps rather than being cut: it names the screen the keys belong to.
            yield Static(plain(t("help.title", screen=self.sheet_title), no_wrap=False), id="help-title")
            with VerticalScroll(id="help-body"):
                width = max((cell_len(keys) for rows in self.lines.values() for keys, _ in rows), default=4)
                for group, rows in self.lines.items():
                    yield Static(t(f"help.group.{group}"), classes="help-group")
                    body = Text()
                    for i, (keys, what) in enumerate(rows):
                        body.append(f"  {keys}" + " " * (width - cell_len(keys) + 2), style="bold")
                        body.append(plain(what))
                        if i < len(rows) - 1:
                            body.append("\n")
                    yield Static(body)
                for note in self.notes:
                    yield Static(plain(note), classes="help-notes")
        self.border_title = t("key.help")
