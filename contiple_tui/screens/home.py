"""Home: who you are, the service in use and its contract, and your callbacks at a glance."""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from contiple_tui.domain import permissions
from contiple_tui.domain.models import CallbackStatus, Perm
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.widgets.safe import ItemList, cut, plain


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    return table


class HomeView(MenuView):
    TOPICS = frozenset({"callbacks", "directory"})

    def compose(self) -> ComposeResult:
        yield Static(id="home-profile")
        yield Static(id="home-callbacks")
        yield Static(id="home-service")

    def on_mount(self) -> None:
        self.reload()

    _shown_identity: tuple | None = None  # (user, service, language) the profile and service boxes show
    _shown_counts: dict | None = None

    def reload(self) -> None:
        user, service = self.session.user, self.session.service
        identity = (user, service, t("menu.home"))
        if identity == self._shown_identity:
            # A change of callbacks (the usual one, from the CTI feed): only the counts may differ.
            if permissions.may_view_callbacks(user, service):
                self._load_counts()
            return
        self._shown_identity = identity
        self._shown_counts = None
        perms = ", ".join(t(f"perm.{p}") for p in Perm if user.has(p)) or t("word.none")
        # The catalog's bold markup, with the user's data put in as template variables: plain text, never
        # parsed.
        fields = {
            "name": cut(user.name, 60),
            "login": cut(user.login, 60),
            "role": t(f"role.{user.role}"),
            "perms": perms,
            "cti": cut(user.cti_agent_id or "-", 40),
        }
        template = t("home.profile", **{key: f"${key}" for key in fields})
        self.query_one("#home-profile", Static).update(Content.from_markup(template, **fields))

        on, off = f"✔ {t('word.on')}", f"✘ {t('word.off')}"
        info = _grid()
        info.add_row(t("home.service"), plain(f"{service.name} ({service.code})", max_chars=200))
        info.add_row(t("col.callback"), on if service.callback_enabled else off)
        info.add_row(t("col.sms"), on if service.sms_enabled else off)
        info.add_row(t("col.cti"), on if service.cti_enabled else off)
        info.add_row(t("col.outbound"), t(f"outbound.{service.outbound_ticket_mode}"))
        info.add_row(t("col.sl"), t("home.seconds", n=service.sl_threshold_s))
        info.add_row(t("col.tz"), plain(service.timezone, max_chars=80))
        # Lists wrap between their items, never inside one.
        info.add_row(t("col.senders"), ItemList([format_phone(n) for n in service.sender_numbers]))
        info.add_row(t("col.ivr"), ItemList([f"{r.code} {cut(r.name, 40)}" for r in service.ivr_routes]))
        self.query_one("#home-service", Static).update(info)
        self.query_one("#home-service").border_title = t("home.service_title")

        box = self.query_one("#home-callbacks", Static)
        if permissions.may_view_callbacks(user, service):
            box.display = True
            box.border_title = t("home.callbacks_all" if user.is_admin else "home.callbacks_mine")
            self._load_counts()
        else:
            box.display = False

    def _load_counts(self) -> None:
        # Kept counts (a few rows of callback_totals, well under a millisecond): read here, without a
        # worker thread per change of callbacks.
        try:
            counts = self.session.callbacks.status_counts()
        except ContipleError as exc:  # a damaged page: said where the numbers would be
            self._show_error(exc.message())
            return
        self._show_counts(counts)

    def _show_error(self, message: str) -> None:
        self._shown_counts = None
        self.query_one("#home-callbacks", Static).update(plain("⚠ " + message, style="bold"))

    def _show_counts(self, counts: dict[CallbackStatus, int]) -> None:
        if counts == self._shown_counts:
            return  # nothing to redraw
        # The same rows with other numbers (the usual case, a new request): no layout pass of the screen.
        relayout = self._shown_counts is None
        self._shown_counts = counts
        # Plain Content lines, not a Rich table: a new request repaints them in every console on the host.
        rows = [
            (t(f"status.{status}"), f"{counts[status]:,}")
            for status in CallbackStatus
            if status is not CallbackStatus.UNASSIGNED or self.session.user.is_admin
        ]
        label_width = max(cell_len(label) for label, _ in rows)
        lines = [
            Content.assemble((label, "bold"), " " * (label_width - cell_len(label) + 2), number)
            for label, number in rows
        ]
        self.query_one("#home-callbacks", Static).update(Content("\n").join(lines), layout=relayout)
