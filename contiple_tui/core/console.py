"""What a running console does besides drawing: headless, tested without Textual.

``ConsoleService`` ties one signed-in session to the shared store and the CTI feed:

- takes callback requests from the feed in, when this console holds the intake lease, and keeps the
  feed position (``FeedIntake``, core/feed_intake.py); narrows the feed once no board was on screen
  for a while;
- says what is news, as :class:`Notice` objects the app shows: new callbacks (at most one notice per
  ``NEW_NOTICE_S``, with the count and the latest), callbacks assigned to this user, requests the store
  refused;
- reads what changed in the store (topics, and whether the user's identity did);
- refreshes open SMS sends, counts the user's assigned callbacks (the menu's badge) and remembers the
  theme the user picked.

The app calls it from its timers and workers; blocking calls (``take_in``, ``feed_tick``,
``refresh_sms``) belong in thread workers, the rest runs on the UI thread.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from contiple_tui.core import callbacks as cb
from contiple_tui.core.feed_intake import FeedIntake, Key, Point
from contiple_tui.core.session import Session
from contiple_tui.cti.client import CtiClient
from contiple_tui.cti.protocol import Event, EventMessage
from contiple_tui.domain import permissions
from contiple_tui.domain.models import CallbackStatus, Service
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.sms.gateway import Gateway
from contiple_tui.store.migrations import LEASE_TOPIC

# Faults that refuse every request alike until they pass (PostgreSQL's server away).
OUTAGE_KEYS = frozenset({"err.pg_unreachable"})

log = logging.getLogger(__name__)

# New callbacks are said at most this often: a request slower than that gets its own notice; a busy
# stream one notice with its count and the latest every NEW_NOTICE_S (each toast mounts and lays out the
# screen twice: at one request a second, toasts every 5 s were half of an idle admin console's CPU).
NEW_NOTICE_S = 15.0
NEW_NOTICE_SHOWN_S = 5.0  # how long one is shown
# After a board left the screen, the feed keeps the boards' events this long (back and forth is free),
# then narrows to what the other views use (CtiClient.want_boards: a fraction of the frames).
BOARD_EVENTS_KEPT_S = 10.0


@dataclass(frozen=True)
class Notice:
    """Something to tell the user. ``alert``: news worth the bell and a desktop notification, when the
    configuration asks for them."""

    message: str
    severity: str = "information"
    timeout: float | None = None
    alert: bool = False


@dataclass(frozen=True)
class Changes:
    """What another console (or this one) changed since the last look."""

    topics: frozenset[str]
    identity: bool = False  # the user, their services or the service in use changed: menus anew


class ConsoleService:
    def __init__(
        self,
        session: Session,
        cti: CtiClient | None = None,
        *,
        on_notice: Callable[[Notice], None] = lambda notice: None,
        monotonic: Callable[[], float] = time.monotonic,
        feed: FeedIntake | None = None,
    ) -> None:
        self.session = session
        self.store = session.store
        self.cti = cti
        self.on_notice = on_notice  # may be called from a worker thread (a request the store refused)
        self._monotonic = monotonic
        self._watcher = self.store.watcher()
        self._outage_said = False  # a request refused because the database server was away was said
        # Callback requests from the feed into the store and the feed position: by the one console of
        # the data directory that holds the intake lease; the others keep what they receive for a
        # takeover and only read.
        if feed is None and cti is not None:
            # PostgreSQL announces each change of the lease: the others need not read it every tick.
            feed = FeedIntake(self.store, on_refused=self._refused, announced=self.store.postgres)
        self.feed = feed
        self._board_left_at: float | None = None
        # What was already there at start is not news.
        self._seen_callback = self.store.callbacks.last_callback_id()
        self._seen_history = self.store.callbacks.last_history_id()
        self._unannounced = 0  # new callbacks not in a notice yet
        self._latest_new: tuple[int, int, str] | None = None
        self._last_new_notice = -NEW_NOTICE_S

    # -- the CTI feed ----------------------------------------------------------------------------

    def feed_point(self) -> Point:
        """(epoch, seq) this console's feed has applied up to (read on the UI thread, where it moves)."""
        client = self.cti
        return (client.epoch, client.model.seq) if client is not None else (None, None)

    def received(self, client: CtiClient, what: object) -> tuple[Key, dict, Point] | None:
        """A frame of the feed: a callback request is kept for a takeover, and returned when this console
        is to take it in now (the app then runs :meth:`take_in` in a worker)."""
        if (
            self.feed is not None
            and isinstance(what, EventMessage)
            and what.event is Event.CALLBACK_REQUESTED
            and client.epoch is not None
            and self.feed.received(client.epoch, what.seq, what.data)
        ):
            return (client.epoch, what.seq), what.data, self.feed_point()
        return None

    def take_in(self, key: Key, data: dict, point: Point) -> None:
        """Blocking. The store keeps each request exactly once; one it cannot take stays pending with its
        data and the tick tries it again (docs/cti-protocol.md, "Feed position")."""
        if self.feed is not None:
            self.feed.take_in(key, data, point)

    def _refused(self, data: dict, exc: Exception) -> None:
        """A notice, once per refused request, for those who receive intake notifications. While the
        database server cannot be reached, once for the outage: every request then fails the same way,
        and each is kept and taken in when the server is back."""
        service = next((s for s in self.session.services if s.code == data.get("service")), None)
        if service is None or not permissions.receives_intake_notifications(self.session.user, service):
            return
        if isinstance(exc, ContipleError) and exc.key in OUTAGE_KEYS:
            if self._outage_said:
                return
            self._outage_said = True
        error = exc.message() if isinstance(exc, ContipleError) else type(exc).__name__
        message = t("feed.intake_failed", request=clean(data.get("request_id", "?"), 80), error=error)
        self.on_notice(Notice(message, severity="error", timeout=30))

    def board_on_screen(self, shown: bool) -> None:
        """Boards need every event of the feed; the other views only some (see BOARD_EVENTS_KEPT_S)."""
        if self.cti is None:
            return
        if shown:
            self._board_left_at = None
            self.cti.want_boards(True)
        elif self._board_left_at is None:  # (narrowing twice is nothing: want_boards sees it is so)
            self._board_left_at = self._monotonic()

    def narrow_feed(self) -> None:
        """On the UI thread, every tick: the feed narrows once no board was on screen for a while."""
        left = self._board_left_at
        if self.cti is not None and left is not None and self._monotonic() - left >= BOARD_EVENTS_KEPT_S:
            self._board_left_at = None
            self.cti.want_boards(False)

    def feed_tick(self, point: Point) -> None:
        """Blocking, every 2 seconds: the lease holder renews its lease and saves the position, then retries
        what the store refused; the others read the lease and take it over when its holder is gone."""
        if self.feed is not None:
            self.feed.tick(point)

    def save_position(self) -> None:
        """Now, on this thread: the lease holder saves the feed position (never past a request of the current
        epoch not in the store yet); nothing for the others. A store fault leaves it for the next tick."""
        if self.feed is None:
            return
        try:
            self.feed.save_position(self.feed_point())
        except ContipleError as exc:  # e.g. the disk is full: kept for the next tick, the console stays up
            log.debug("feed position not saved: %s", exc)

    def close(self) -> None:
        """At exit: the lease holder saves the position and releases the lease; the watch ends."""
        self._watcher.close()
        if self.feed is not None:
            self.feed.close(self.feed_point())

    def write_stats(self, reloads: int) -> None:
        """With CONTIPLE_TUI_STATS_FILE set (benchmarks), one JSON line of what this console did."""
        target = os.environ.get("CONTIPLE_TUI_STATS_FILE")
        if not target:
            return
        line = json.dumps(
            {
                "pid": os.getpid(),
                "user": self.session.user.login,
                "commits": self.store.db.commits,
                "intake_upkeep_commits": self.feed.upkeep_writes if self.feed is not None else 0,
                "reloads": reloads,
            }
        )
        try:
            with open(target, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            log.warning("could not write the stats file %s: %s", target, exc)

    # -- what changed ----------------------------------------------------------------------------

    def changes(self) -> Changes | None:
        """The topics of data changed since the last call (the feed position and the intake lease change
        none), None when nothing did. A directory change re-reads the session (IdentityError when the user
        was disabled or removed meanwhile)."""
        topics = self._watcher.changes()
        self._outage_said = False  # the store answered: the next outage is news
        if LEASE_TOPIC in topics:
            if self.feed is not None:
                self.feed.lease_changed()
            topics = topics - {LEASE_TOPIC}
        if not topics:
            return None
        identity = False
        if "directory" in topics:
            session = self.session
            before = (session.user, session.services, session.service)
            session.reload()
            identity = before != (session.user, session.services, session.service)
        return Changes(frozenset(topics), identity)

    # -- news ------------------------------------------------------------------------------------

    def _notified_services(self) -> dict[int, Service]:
        user = self.session.user
        return {s.id: s for s in self.session.services if permissions.receives_intake_notifications(user, s)}

    def announce(self) -> float | None:
        """Notices for callbacks new since the last call (admins and phone agents of the service) and for
        callbacks assigned to this user, whichever console took them in or assigned them. Returns the
        seconds until a held-back "new callback" notice is due (then call :meth:`announce_held`)."""
        services = self._notified_services()
        fresh = self.store.callbacks.new_since(self._seen_callback, list(services))
        wait = None
        if fresh:
            self._seen_callback = fresh[-1][0]
            self._unannounced += len(fresh)
            self._latest_new = fresh[-1]
            wait = self.announce_held(services)
        assigned = cb.assignments_for(self.store, self.session.user.id, self._seen_history)
        if assigned:
            self._seen_history = assigned[-1][0]
            self.on_notice(Notice(t("cb.assigned_to_you", count=len(assigned)), alert=True))
        return wait

    def announce_held(self, services: dict[int, Service] | None = None) -> float | None:
        """At most one "new callback" notice per NEW_NOTICE_S: a busy center's stream of requests becomes
        one notice with the count and the latest, instead of a stack covering the screen. Returns the
        seconds to wait when this one is held back."""
        if not self._unannounced or self._latest_new is None:
            return None
        now = self._monotonic()
        wait = self._last_new_notice + NEW_NOTICE_S - now
        if wait > 0:
            return wait
        _, service_id, phone = self._latest_new
        service = (services if services is not None else self._notified_services()).get(service_id)
        name = service.name if service is not None else "?"
        if self._unannounced == 1:
            message = t("cb.new", phone=format_phone(phone), service=name)
        else:
            message = t("cb.new_many", count=self._unannounced, phone=format_phone(phone), service=name)
        self.on_notice(Notice(message, timeout=NEW_NOTICE_SHOWN_S, alert=True))
        self._unannounced = 0
        self._last_new_notice = now
        return None

    def assigned_to_me(self) -> int | None:
        """The menu's badge: callbacks assigned to this user in the service in use (None: no list here)."""
        user, service = self.session.user, self.session.service
        if not permissions.may_view_callbacks(user, service):
            return None
        return self.store.callbacks.count_by_status(service.id, user.id)[CallbackStatus.ASSIGNED]

    # -- SMS -------------------------------------------------------------------------------------

    def refresh_sms(self, gateway_by_name: Callable[[Service, str], Gateway]) -> int:
        """Blocking. Reservations fall due and NHN statuses move on whether or not the history is open."""
        return self.session.sms.refresh(gateway_by_name)

    # -- the theme picked in the palette, remembered per user (a meta row: no view reloads for it) --

    def _theme_key(self) -> str:
        return f"ui.theme.{self.session.user.login}"

    def picked_theme(self) -> str | None:
        try:
            return self.store.get_meta(self._theme_key())
        except ContipleError:
            return None  # a store fault is said elsewhere; the default theme will do

    def remember_theme(self, name: str, at_start: str) -> None:
        """Keep ``name`` as this user's theme, unless it is nothing new (the start's own theme is no pick)."""
        picked = self.picked_theme()
        if not name or name == picked or (picked is None and name == at_start):
            return
        try:
            self.store.db.run_write(lambda conn: self.store.set_meta(conn, self._theme_key(), name))
        except ContipleError as exc:  # e.g. the disk is full: the pick holds for this session
            log.warning("theme not remembered: %s", exc)
