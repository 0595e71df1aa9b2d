"""Callback requests from the CTI feed into the store, by one console per data directory.

Every console receives every ``callback_requested`` event, but only the holder of the ``cti-intake``
lease (a row in the store's ``leases`` table) takes them into the store and saves the feed position
(``meta`` key ``cti_position``, ``epoch:seq``). Each request's own transaction renews the lease and
moves the position; when no request came for RENEW_S the holder's tick does, so one console per host
writes, once per request or once every 10 seconds, however many consoles run. The others only read: on their
tick they read the lease and the position, drop from
their buffer what the position says is stored, and take the lease over when it is free, expired, or held
by a process of this host that no longer exists (``kill -9``). A console that takes the lease over takes
in every request it buffered after the stored position (intake is idempotent by request id, so overlap
with what the old holder stored changes nothing), then continues live. See docs/cti-protocol.md,
"Callback requests: repeated ids, merging and the feed position".

Headless: blocking store work; the app runs it in thread workers and shows toasts through ``on_refused``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import uuid4

from contiple_tui.core import callbacks as cb
from contiple_tui.errors import ContipleError, StoreError
from contiple_tui.store import Store
from contiple_tui.store.engine import database_errors
from contiple_tui.store.leases import LeaseRepo

log = logging.getLogger(__name__)

POSITION_KEY = "cti_position"
LEASE_NAME = "cti-intake"
# A holder that exits releases the lease and one that dies is seen gone (its pid) at the others' next
# tick; only a hung holder waits for the lease to run out. So the lease can be long, and a quiet feed
# costs one write every RENEW_S, not one every tick.
LEASE_TTL_S = 30.0
RENEW_S = 10.0  # the holder's tick renews (and saves the position) when nothing else did for this long
TICK_S = 2.0  # how often the app calls tick(): the holder retries, the others look
# Where the store announces every change of the lease's holder (PostgreSQL's NOTIFY: ``lease_changed``),
# the others look only when told, when the lease they saw is about to run out (its holder's renewals are
# not announced: read again then, they show it renewed), when its holder's process is gone, or at the
# latest this often; the holder checks only when told. An idle console then asks the database nothing
# tick after tick.
QUIET_LOOK_S = 30.0
BUFFER_MAX = 20_000  # requests a console keeps in memory for a takeover (far more than a minute of any feed)
# Requests of a server run the console is no longer connected to: kept this long.
FOREIGN_EPOCH_AGE_S = 15 * 60

Key = tuple[str, int]  # (epoch, seq)
Point = tuple[str | None, int | None]  # (epoch, seq) the console's feed has applied up to


def stored_position(store: Store) -> Key | None:
    """(epoch, seq) the feed was applied up to by the last holder, if any."""
    return parse_position(store.get_meta(POSITION_KEY))


def parse_position(value: str | None) -> Key | None:
    epoch, _, seq = (value or "").rpartition(":")
    return (epoch, int(seq)) if epoch and seq.isdigit() else None


def new_holder_id() -> str:
    """Unique per console instance: host, process, and a nonce (tests run several consoles in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """True when ``holder`` names a process of this host that no longer exists (killed, crashed).

    A holder on another host, or one that cannot be told, is never called gone: its lease expires instead.
    """
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: alive, another user's process
        return False
    return False


class _Request:
    """A callback request this console received: in the buffer, and pending while it is being taken in
    (or waits for a retry) and not in the store yet."""

    __slots__ = ("at", "data", "failed", "said")

    def __init__(self, data: dict, at: float) -> None:
        self.data = data
        self.at = at  # monotonic time of receipt
        self.failed = False  # the store refused it: the tick tries it again
        self.said = False  # that it could not be stored was logged as an error and shown (once)


class FeedIntake:
    """One console's part in taking callback requests in and keeping the feed position.

    Thread-safe: ``received`` runs on the UI thread; ``take_in``, ``tick``, ``save_position`` and
    ``close`` do blocking store work and run in thread workers (``close`` at exit).
    """

    def __init__(
        self,
        store: Store,
        *,
        holder_id: str | None = None,
        on_refused: Callable[[dict, Exception], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        lease_ttl_s: float = LEASE_TTL_S,
        buffer_max: int = BUFFER_MAX,
        foreign_epoch_age_s: float = FOREIGN_EPOCH_AGE_S,
        gone: Callable[[str], bool] = holder_gone,
        announced: bool = False,
    ) -> None:
        """``announced``: the store tells of every change of the lease (``lease_changed``), so the others
        need not read it on every tick."""
        self.store = store
        self._announced = announced
        self._seen_lease: tuple[str, float] | None = None  # the lease as last read, by a non-holder
        self._looked_at: float | None = None  # monotonic time of that read
        self._lease_news = True  # the lease changed since that read (or nothing was read yet)
        self.holder_id = holder_id or new_holder_id()
        self._on_refused = on_refused
        self._clock = clock
        self._monotonic = monotonic
        self._ttl = lease_ttl_s
        self._buffer_max = buffer_max
        self._foreign_age = foreign_epoch_age_s
        self._gone = gone
        self._lock = threading.Lock()  # guards the state below; never held during store work
        self._tick_lock = threading.Lock()  # one tick at a time; close() waits for a running one
        self._holding = False
        self._closed = False
        # Write transactions that carried no request: the lease taken, renewed while no request came, given
        # up with the last position (diagnostics, benchmarks: each request costs exactly one more).
        self.upkeep_writes = 0
        self._buffer: OrderedDict[Key, _Request] = OrderedDict()  # every request received, in feed order
        self._pending: dict[Key, _Request] = {}
        self._saved: str | None = None  # the position this console last wrote
        self._renewed_at = 0.0  # monotonic time the lease was last taken or renewed
        self._position_due = False  # requests were stored without moving the position (a takeover, retries)
        self._overflowed = False
        self._fault: str | None = None  # the last store fault of a tick, said once
        # Why the lease, free to take, could not be taken (disk full…): while so, nobody takes requests in,
        # and this console says so for each request it receives, as the holder would.
        self._blocked: Exception | None = None

    # -- state (for the app and tests) ------------------------------------------------------------

    @property
    def holding(self) -> bool:
        """Whether this console holds the intake lease (as far as it knows: it finds out on its next tick)."""
        return self._holding

    @property
    def pending(self) -> dict[Key, dict]:
        """Requests being taken in or waiting for a retry, with their data."""
        with self._lock:
            return {key: request.data for key, request in self._pending.items()}

    @property
    def buffered(self) -> list[Key]:
        with self._lock:
            return list(self._buffer)

    # -- the feed --------------------------------------------------------------------------------

    def received(self, epoch: str, seq: int, data: dict) -> bool:
        """A ``callback_requested`` event arrived (UI thread). Kept in the buffer; True when this console
        holds the lease and should take it in now (``take_in``, in a worker)."""
        key = (epoch, seq)
        blocked: Exception | None = None
        with self._lock:
            request = self._pending.get(key) or self._buffer.get(key) or _Request(data, self._monotonic())
            self._buffer[key] = request
            self._buffer.move_to_end(key)
            if len(self._buffer) > self._buffer_max:
                self._buffer.popitem(last=False)
                if not self._overflowed:
                    self._overflowed = True
                    log.warning(
                        "more than %d callback requests buffered past the feed position: the oldest "
                        "are dropped (a takeover would not take them in)",
                        self._buffer_max,
                    )
            if self._closed:
                return False
            if not self._holding:
                if self._blocked is not None and not request.said:
                    request.said = True
                    blocked = self._blocked
            elif key in self._pending and not request.failed:
                return False  # already being taken in (a replay of the same event)
            else:
                self._pending[key] = request
                request.failed = False
                return True
        if blocked is not None:
            self._say_refused(key, data, blocked)
        return False

    def _say_refused(self, key: Key, data: dict, exc: Exception) -> None:
        log.error(
            "callback request %s (%s:%d) not stored, feed position held before it: %s",
            data.get("request_id"),
            key[0],
            key[1],
            exc,
            exc_info=not isinstance(exc, database_errors(StoreError)),
        )
        if self._on_refused is not None:
            self._on_refused(data, exc)

    def take_in(self, key: Key, data: dict, point: Point | None = None) -> bool:
        """Store one request (idempotent: a request id the store holds changes nothing). True once it is
        in the store or refused by a rule (unknown service, callback feature off), and then no longer
        pending. A request the store cannot take stays pending with its data, holding the position
        before it: logged and shown once, retried on the tick.

        With the feed's ``point``, the holder renews its lease and saves the position in the request's
        own transaction, so a busy feed costs one write transaction per request and the tick has
        nothing left to write."""
        epoch, seq = key
        saved: list[str] = []
        renewed: list[bool] = []
        also = None
        if point is not None and self._holding:

            def also(conn) -> None:
                if LeaseRepo.take(conn, LEASE_NAME, self.holder_id, self._clock(), self._ttl):
                    renewed.append(True)
                    position = self.position(point, stored=key)
                    if position is not None and position != self._saved:
                        self.store.set_meta(conn, POSITION_KEY, position)
                        saved.append(position)

        try:
            service = self.store.services.get_by_code(data["service"])
            if service is None or not service.callback_enabled:
                log.info(
                    "callback request %s (seq %d) ignored: service %r has no callbacks",
                    data.get("request_id"),
                    seq,
                    data.get("service"),
                )
            else:
                cb.intake(
                    self.store,
                    service,
                    request_id=data["request_id"],
                    phone=data["phone"],
                    name=data.get("name"),
                    ivr_route=data.get("ivr_route"),
                    requested_at=data["requested_at"],
                    also=also,
                )
                if renewed:
                    self._renewed_at = self._monotonic()
                    if saved:
                        self._saved = saved[0]
                elif also is not None:
                    self._lose()  # taken over while this one was stalled: the request was stored anyway
                else:
                    self._position_due = True
        except Exception as exc:  # noqa: BLE001 - whatever it was, the request is not in the store
            with self._lock:
                request = self._pending.get(key)
                if request is None:
                    request = self._pending[key] = self._buffer.get(key) or _Request(data, self._monotonic())
                request.failed = True
                first = not request.said
                request.said = True
            if first:
                self._say_refused(key, data, exc)
            else:
                log.debug(
                    "callback request %s (%s:%d) still not stored: %s",
                    data.get("request_id"),
                    epoch,
                    seq,
                    exc,
                )
            return False
        with self._lock:
            request = self._pending.pop(key, None)
        if request is not None and request.said:
            log.info("callback request %s (%s:%d) stored on a retry", data.get("request_id"), epoch, seq)
        return True

    def _take_in_order(self, batch: list[tuple[Key, dict]], point: Point) -> None:
        """Take a batch in, in feed order; at the first refusal the rest waits for the next tick. A long
        batch (a takeover or retries after a long outage) renews the lease as the tick would meanwhile."""
        for index, (key, data) in enumerate(batch):
            if self._holding and self._monotonic() - self._renewed_at > RENEW_S:
                try:
                    self.save_position(point)
                except database_errors(ContipleError) as exc:
                    self._say_fault(exc)
            if not self.take_in(key, data):
                with self._lock:
                    for later, _data in batch[index + 1 :]:
                        pending = self._pending.get(later)
                        if pending is not None:
                            pending.failed = True
                return

    # -- the position ----------------------------------------------------------------------------

    def position(self, point: Point, stored: Key | None = None) -> str | None:
        """Where the feed is applied up to: the console's ``point``, never past a request of that epoch
        that is not in the store yet (``stored``: a request being committed in this very transaction).

        Requests pending from an earlier epoch (the CTI server restarted meanwhile) cannot hold it back,
        since a new server run replays nothing of the old one; they stay pending, retried from their data."""
        epoch, seq = point
        if epoch is None or seq is None:
            return None
        with self._lock:
            held = [s for (e, s) in self._pending if e == epoch and (e, s) != stored]
        if held:
            seq = min(min(held) - 1, seq)
        return f"{epoch}:{seq}"

    def save_position(self, point: Point, release: bool = False) -> bool:
        """The holder's write (blocking): renew the lease and, in the same transaction, save the position
        if it moved; with ``release``, give the lease up in that transaction too (at exit). Nothing for a
        console that does not hold the lease. True while it held it.

        A store fault (disk full…) is raised as a StoreError; the lease then runs out unless a later
        save succeeds first."""
        if not self._holding:
            return False
        saved: list[str] = []

        def renew(conn) -> bool:
            if not LeaseRepo.take(conn, LEASE_NAME, self.holder_id, self._clock(), self._ttl):
                return False
            position = self.position(point)
            if position is not None and position != self._saved:
                self.store.set_meta(conn, POSITION_KEY, position)
                saved.append(position)
            if release:
                LeaseRepo.drop(conn, LEASE_NAME, self.holder_id)
            return True

        due, self._position_due = self._position_due, False
        try:
            renewed = self.store.db.run_write(renew)
        except BaseException:
            self._position_due |= due  # still to be saved, on a later tick
            raise
        self.upkeep_writes += 1
        if not renewed:
            self._lose()
            return False
        self._renewed_at = self._monotonic()
        if saved:
            self._saved = saved[0]
            self._prune(parse_position(saved[0]), point[0])
        return True

    # -- the tick --------------------------------------------------------------------------------

    def tick(self, point: Point) -> None:
        """Every 2 seconds (blocking, in a worker; a tick still running makes this one a no-op).

        Holder: renew the lease and save the position (one write) when nothing did for RENEW_S, then retry
        what the store refused.
        Others: read the lease and the position (no write), drop buffered requests the position covers,
        and take the lease over when it is free, expired or its holder's process is gone — then take in
        every buffered request after the stored position."""
        if not self._tick_lock.acquire(blocking=False):
            return
        try:
            if self._closed:
                return
            try:
                if self._holding:
                    # Renewed by a request's own transaction (or a tick) lately: nothing to write. The
                    # position saved may trail the feed by a few seconds of events that hold no request;
                    # a console starting after them all replays them, which changes nothing.
                    if self._position_due or self._monotonic() - self._renewed_at >= RENEW_S:
                        self.save_position(point)
                    elif not self._announced or self._lease_news:
                        self._lease_news = False
                        self._check_still_held()
                else:
                    self._look(point)
            except database_errors(ContipleError) as exc:  # disk full, damaged, locked too long: next tick
                self._say_fault(exc)
            else:
                self._fault = None
            if self._holding and not self._closed:
                self._retry(point)
        finally:
            self._tick_lock.release()

    def _check_still_held(self) -> None:
        """A read, no write: a holder that was stalled past its lease learns it was taken over."""
        lease = self.store.leases.holder(LEASE_NAME)
        if lease is None or lease[0] != self.holder_id:
            self._lose()

    def _say_fault(self, exc: Exception) -> None:
        message = str(exc)
        if message != self._fault:
            self._fault = message
            log.error("feed intake: the store refused the lease or the position: %s", exc)

    def lease_changed(self) -> None:
        """The store announced a change of the lease (taken, renewed, released): look at the next tick."""
        self._lease_news = True

    def _may_skip_look(self, now: float) -> bool:
        """Whether the lease as last read still holds without asking the store (announced stores only)."""
        seen, looked = self._seen_lease, self._looked_at
        return (
            self._announced
            and not self._lease_news
            and seen is not None
            and looked is not None
            and seen[0] != self.holder_id
            and seen[1] - now > 2 * TICK_S  # not about to run out
            and self._monotonic() - looked < QUIET_LOOK_S
            and not self._gone(seen[0])
        )

    def _look(self, point: Point) -> None:
        now = self._clock()
        if self._may_skip_look(now):
            return
        self._lease_news = False
        lease = self.store.leases.holder(LEASE_NAME)
        self._seen_lease, self._looked_at = lease, self._monotonic()
        if lease is not None and lease[0] != self.holder_id and lease[1] > now and not self._gone(lease[0]):
            self._blocked = None
            self._prune(stored_position(self.store), point[0])  # someone holds it: read only
            return
        try:
            took = self.store.leases.acquire(LEASE_NAME, self.holder_id, now, self._ttl, self._gone)
        except database_errors(ContipleError) as exc:
            self._block(exc)
            raise
        self.upkeep_writes += 1
        self._blocked = None
        if not took:
            return  # another console was quicker
        # Ours now: nobody else writes the position (an old holder's renewal finds the lease taken), so
        # this read is the last position saved.
        stored = stored_position(self.store)
        with self._lock:
            self._holding = True
            self._renewed_at = self._monotonic()
            self._saved = f"{stored[0]}:{stored[1]}" if stored else None
            batch = []
            for key, request in self._buffer.items():
                if _covered(key, stored):
                    continue
                if key in self._pending and not request.failed:
                    continue  # being taken in already
                self._pending[key] = request
                request.failed = False
                batch.append((key, request.data))
        log.info(
            "feed intake: this console (%s) holds the intake lease now (was %s, position %s); taking in "
            "%d buffered request(s) after it",
            self.holder_id,
            lease[0] if lease else "free",
            self._saved or "none",
            len(batch),
        )
        self._take_in_order(batch, point)

    def _retry(self, point: Point) -> None:
        with self._lock:
            # The connected epoch's first (they hold the position back), each epoch in feed order.
            keys = sorted(
                (k for k, p in self._pending.items() if p.failed), key=lambda k: (k[0] != point[0], k)
            )
            batch = [(k, self._pending[k].data) for k in keys]
            for k in keys:
                self._pending[k].failed = False  # being retried
        self._take_in_order(batch, point)

    def _block(self, exc: Exception) -> None:
        """The lease is free but the store refuses to give it (disk full…): the requests this console
        holds after the position are not being stored. Said once each, as the holder would."""
        with self._lock:
            self._blocked = exc
            unsaid = [(key, request) for key, request in self._buffer.items() if not request.said]
            for _key, request in unsaid:
                request.said = True
        for key, request in unsaid:
            self._say_refused(key, request.data, exc)

    def _lose(self) -> None:
        with self._lock:
            was = self._holding
            self._holding = False
        if was:
            log.info(
                "feed intake: the intake lease was taken over by another console; this one only reads now"
            )

    def _prune(self, stored: Key | None, connected_epoch: str | None) -> None:
        """Drop what no takeover needs: requests the position covers, and requests of a server run this
        console is no longer connected to, after a while."""
        old = self._monotonic() - self._foreign_age
        with self._lock:
            for key in [
                k
                for k, request in self._buffer.items()
                if _covered(k, stored) or (k[0] != connected_epoch and request.at < old)
            ]:
                del self._buffer[key]
            if len(self._buffer) < self._buffer_max // 2:
                self._overflowed = False

    # -- the end ---------------------------------------------------------------------------------

    def close(self, point: Point, wait_s: float = 2.0) -> None:
        """At exit (blocking): the holder saves the position and releases the lease in one transaction, so
        another console takes over on its next tick. A tick still running is waited for (up to
        ``wait_s``)."""
        with self._lock:
            self._closed = True
        got = self._tick_lock.acquire(timeout=wait_s)
        try:
            if not self._holding:
                return
            try:
                self.save_position(point, release=True)
            except database_errors(
                ContipleError
            ) as exc:  # e.g. the disk is full: the lease runs out by itself
                log.error("feed intake: could not save the position or release the lease at exit: %s", exc)
            with self._lock:
                self._holding = False
        finally:
            if got:
                self._tick_lock.release()


def _covered(key: Key, stored: Key | None) -> bool:
    """Whether the stored position says ``key`` is in the store (or was refused by a rule)."""
    return stored is not None and key[0] == stored[0] and key[1] <= stored[1]
