"""Schema migrations. ``PRAGMA user_version`` holds the number of migrations applied.

Append new migrations; never edit one that has shipped. Timestamps are UTC epoch seconds (INTEGER):
compact, fast to index and free of time-zone ambiguity; the UI converts to the service's zone.
"""

from __future__ import annotations

# "CNTP": lets us tell our database from any other SQLite file.
APPLICATION_ID = 0x434E5450

MIGRATIONS: list[str] = [
    # 1: services, users, permissions, callbacks and their history, tickets.
    """
    CREATE TABLE services (
        id                   INTEGER PRIMARY KEY,
        code                 TEXT NOT NULL UNIQUE,
        name                 TEXT NOT NULL,
        callback_enabled     INTEGER NOT NULL DEFAULT 1 CHECK (callback_enabled IN (0, 1)),
        sms_enabled          INTEGER NOT NULL DEFAULT 1 CHECK (sms_enabled IN (0, 1)),
        cti_enabled          INTEGER NOT NULL DEFAULT 1 CHECK (cti_enabled IN (0, 1)),
        outbound_ticket_mode TEXT NOT NULL DEFAULT 'on_dial'
                             CHECK (outbound_ticket_mode IN ('on_dial', 'on_connect')),
        sl_threshold_s       INTEGER NOT NULL DEFAULT 20 CHECK (sl_threshold_s > 0),
        timezone             TEXT NOT NULL DEFAULT 'Asia/Seoul',
        created_at           INTEGER NOT NULL
    );
    CREATE TABLE sender_numbers (
        service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
        number     TEXT NOT NULL,
        label      TEXT NOT NULL DEFAULT '',
        position   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (service_id, number)
    );
    CREATE TABLE ivr_routes (
        service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
        code       TEXT NOT NULL,
        name       TEXT NOT NULL,
        PRIMARY KEY (service_id, code)
    );
    CREATE TABLE users (
        id                   INTEGER PRIMARY KEY,
        login                TEXT NOT NULL UNIQUE,
        name                 TEXT NOT NULL,
        role                 TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'wallboard')),
        perm_phone           INTEGER NOT NULL DEFAULT 0 CHECK (perm_phone IN (0, 1)),
        perm_callback_assign INTEGER NOT NULL DEFAULT 0 CHECK (perm_callback_assign IN (0, 1)),
        cti_agent_id         TEXT UNIQUE,
        disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at           INTEGER NOT NULL,
        -- 콜백 할당 권한 can only be granted together with 전화 권한.
        CHECK (perm_callback_assign = 0 OR perm_phone = 1)
    );
    CREATE TABLE user_services (
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, service_id)
    ) WITHOUT ROWID;
    CREATE INDEX user_services_service ON user_services(service_id);
    CREATE TABLE callbacks (
        id                INTEGER PRIMARY KEY,
        service_id        INTEGER NOT NULL REFERENCES services(id),
        cti_request_id    TEXT NOT NULL,
        customer_phone    TEXT NOT NULL,
        customer_name     TEXT,
        phone_valid       INTEGER NOT NULL DEFAULT 1 CHECK (phone_valid IN (0, 1)),
        ivr_route         TEXT,
        requested_at      INTEGER NOT NULL,
        last_requested_at INTEGER NOT NULL,
        request_count     INTEGER NOT NULL DEFAULT 1,
        status            TEXT NOT NULL DEFAULT 'unassigned'
                          CHECK (status IN ('unassigned', 'assigned', 'completed')),
        assignee_id       INTEGER REFERENCES users(id),
        assigned_by       INTEGER REFERENCES users(id),
        assigned_at       INTEGER,
        attempts          INTEGER NOT NULL DEFAULT 0,
        last_attempt_at   INTEGER,
        completed_at      INTEGER,
        completed_by      INTEGER REFERENCES users(id),
        UNIQUE (service_id, cti_request_id)
    );
    CREATE INDEX callbacks_service_requested ON callbacks(service_id, requested_at);
    CREATE INDEX callbacks_service_status ON callbacks(service_id, status, requested_at);
    CREATE INDEX callbacks_assignee ON callbacks(assignee_id, status, requested_at);
    CREATE TABLE callback_history (
        id          INTEGER PRIMARY KEY,
        callback_id INTEGER NOT NULL REFERENCES callbacks(id) ON DELETE CASCADE,
        at          INTEGER NOT NULL,
        actor_id    INTEGER REFERENCES users(id),
        action      TEXT NOT NULL,
        from_status TEXT,
        to_status   TEXT,
        from_user   INTEGER REFERENCES users(id),
        to_user     INTEGER REFERENCES users(id)
    );
    CREATE INDEX callback_history_callback ON callback_history(callback_id, at);
    CREATE TABLE tickets (
        id             INTEGER PRIMARY KEY,
        service_id     INTEGER NOT NULL REFERENCES services(id),
        channel        TEXT NOT NULL DEFAULT 'phone',
        direction      TEXT NOT NULL CHECK (direction IN ('IN', 'OUT')),
        customer_phone TEXT,
        customer_name  TEXT,
        subject        TEXT NOT NULL DEFAULT '',
        memo           TEXT NOT NULL DEFAULT '',
        status         TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'solved')),
        creator_id     INTEGER REFERENCES users(id),
        callback_id    INTEGER REFERENCES callbacks(id),
        created_at     INTEGER NOT NULL
    );
    CREATE INDEX tickets_callback ON tickets(callback_id);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: wallboard alert thresholds per service.
    """
    ALTER TABLE services ADD COLUMN sl_warn_pct REAL NOT NULL DEFAULT 80;
    ALTER TABLE services ADD COLUMN sl_crit_pct REAL NOT NULL DEFAULT 60;
    ALTER TABLE services ADD COLUMN waiting_warn INTEGER NOT NULL DEFAULT 5;
    ALTER TABLE services ADD COLUMN waiting_crit INTEGER NOT NULL DEFAULT 10;
    ALTER TABLE services ADD COLUMN wait_warn_s INTEGER NOT NULL DEFAULT 60;
    ALTER TABLE services ADD COLUMN wait_crit_s INTEGER NOT NULL DEFAULT 120;
    """,
    # 3: callback intake (every CTI request id once, merged requests), dialling state, notifications.
    """
    CREATE TABLE callback_requests (
        service_id   INTEGER NOT NULL REFERENCES services(id),
        request_id   TEXT NOT NULL,
        callback_id  INTEGER NOT NULL REFERENCES callbacks(id) ON DELETE CASCADE,
        requested_at INTEGER NOT NULL,
        PRIMARY KEY (service_id, request_id)
    ) WITHOUT ROWID;
    ALTER TABLE callbacks ADD COLUMN dialing_since INTEGER;
    CREATE INDEX callbacks_active_phone ON callbacks(service_id, customer_phone)
        WHERE status != 'completed';
    CREATE INDEX callbacks_assigner ON callbacks(service_id, assigned_by, requested_at);
    CREATE INDEX callback_history_to_user ON callback_history(to_user, id);
    """,
    # 4: an agent's own list (and its count) without reading every callback of the period.
    """
    CREATE INDEX callbacks_service_assignee ON callbacks(service_id, assignee_id, requested_at);
    """,
    # 5: SMS: template categories (two levels) and templates, sent messages and their recipients.
    """
    CREATE TABLE sms_categories (
        id         INTEGER PRIMARY KEY,
        service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
        parent_id  INTEGER REFERENCES sms_categories(id) ON DELETE CASCADE,
        name       TEXT NOT NULL CHECK (length(trim(name)) > 0),
        in_use     INTEGER NOT NULL DEFAULT 1 CHECK (in_use IN (0, 1)),
        created_at INTEGER NOT NULL
    );
    CREATE INDEX sms_categories_parent ON sms_categories(service_id, parent_id);
    CREATE TRIGGER sms_categories_two_levels BEFORE INSERT ON sms_categories
        WHEN NEW.parent_id IS NOT NULL
         AND (SELECT parent_id FROM sms_categories WHERE id = NEW.parent_id) IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, 'SMS categories have at most two levels');
    END;
    CREATE TABLE sms_templates (
        id          INTEGER PRIMARY KEY,
        service_id  INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
        category_id INTEGER NOT NULL REFERENCES sms_categories(id) ON DELETE CASCADE,
        name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
        description TEXT NOT NULL DEFAULT '',
        send_type   TEXT NOT NULL CHECK (send_type IN ('SMS', 'MMS')),
        in_use      INTEGER NOT NULL DEFAULT 1 CHECK (in_use IN (0, 1)),
        editable    INTEGER NOT NULL DEFAULT 1 CHECK (editable IN (0, 1)),
        sender_no   TEXT,
        title       TEXT NOT NULL DEFAULT '',
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX sms_templates_category ON sms_templates(category_id);
    CREATE TRIGGER sms_templates_second_level BEFORE INSERT ON sms_templates
        WHEN (SELECT parent_id FROM sms_categories WHERE id = NEW.category_id) IS NULL
    BEGIN
        SELECT RAISE(ABORT, 'SMS templates belong under a second-level category');
    END;
    CREATE TABLE sms_template_images (
        template_id INTEGER NOT NULL REFERENCES sms_templates(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        file_name   TEXT NOT NULL,
        data        BLOB NOT NULL,
        PRIMARY KEY (template_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE sms_messages (
        id              INTEGER PRIMARY KEY,
        service_id      INTEGER NOT NULL REFERENCES services(id),
        user_id         INTEGER NOT NULL REFERENCES users(id),
        template_id     INTEGER REFERENCES sms_templates(id) ON DELETE SET NULL,
        template_name   TEXT,
        send_type       TEXT NOT NULL CHECK (send_type IN ('SMS', 'MMS')),
        sender_no       TEXT NOT NULL,
        title           TEXT NOT NULL DEFAULT '',
        body            TEXT NOT NULL,
        reserved_for    INTEGER,
        created_at      INTEGER NOT NULL,
        gateway         TEXT NOT NULL,
        grouping_key    TEXT NOT NULL UNIQUE,
        request_id      TEXT,
        status          TEXT NOT NULL DEFAULT 'pending',
        result_code     TEXT,
        result_message  TEXT NOT NULL DEFAULT '',
        recipient_count INTEGER NOT NULL,
        first_recipient TEXT NOT NULL
    );
    CREATE INDEX sms_messages_service ON sms_messages(service_id, created_at);
    CREATE INDEX sms_messages_user ON sms_messages(user_id, created_at);
    CREATE INDEX sms_messages_open ON sms_messages(status)
        WHERE status IN ('pending', 'unknown', 'reserved', 'requested');
    CREATE TABLE sms_message_images (
        message_id INTEGER NOT NULL REFERENCES sms_messages(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        file_name  TEXT NOT NULL,
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL,
        data       BLOB NOT NULL,
        PRIMARY KEY (message_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE sms_recipients (
        id             INTEGER PRIMARY KEY,
        message_id     INTEGER NOT NULL REFERENCES sms_messages(id) ON DELETE CASCADE,
        recipient_no   TEXT NOT NULL,
        recipient_seq  INTEGER,
        state          TEXT NOT NULL DEFAULT 'pending',
        result_code    TEXT,
        result_message TEXT NOT NULL DEFAULT '',
        updated_at     INTEGER NOT NULL
    );
    CREATE INDEX sms_recipients_message ON sms_recipients(message_id, id);
    CREATE INDEX sms_recipients_no ON sms_recipients(recipient_no, message_id);
    """,
    # Callback list (1-2) over a million callbacks: every filter and count from one index scan.
    # Three covering indexes, one per way into a service's callbacks (all of them, one status, one
    # assignee), each ordered (requested_at, id) as the list pages, and each holding every other column a
    # filter reads (status, assignee, assigner, IVR route, phone). Any filter combination is then a range
    # scan of one index that never reads the table but for the rows shown, and a count never reads it at
    # all: a phone part over the 30-day default period of 300,000 callbacks went from 0.6 s to 0.04 s.
    # They replace five narrower ones: an assignment updates three indexes instead of four (a completion
    # four instead of three).
    """
    DROP INDEX IF EXISTS callbacks_service_requested;
    DROP INDEX IF EXISTS callbacks_service_status;
    DROP INDEX IF EXISTS callbacks_assignee;
    DROP INDEX IF EXISTS callbacks_assigner;
    DROP INDEX IF EXISTS callbacks_service_assignee;
    CREATE INDEX callbacks_list ON callbacks(
        service_id, requested_at, id, status, assignee_id, assigned_by, ivr_route, customer_phone);
    CREATE INDEX callbacks_list_status ON callbacks(
        service_id, status, requested_at, id, assignee_id, assigned_by, ivr_route, customer_phone);
    CREATE INDEX callbacks_list_assignee ON callbacks(
        service_id, assignee_id, requested_at, id, status, assigned_by, ivr_route, customer_phone);
    """,
    # 3: a send whose gateway answer was lost is looked up by its grouping key until found, or until
    # repeated successful empty look-ups after NHN's visibility window say it never arrived
    # (core/sms.py, docs/sms.md "An SMS is never sent twice"). It is never posted again by itself.
    """
    ALTER TABLE sms_messages ADD COLUMN empty_lookups INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sms_messages ADD COLUMN first_empty_at INTEGER;
    ALTER TABLE sms_messages ADD COLUMN last_lookup_at INTEGER;
    """,
]

# Each table's rows belong to one topic; a view reloads only when a topic it shows moved on. Tables left
# out (meta: the feed position; leases; callback_requests, written with its callback) change no topic, so
# writing them never makes a console reload.
TOPIC_TABLES: dict[str, tuple[str, ...]] = {
    "callbacks": ("callbacks", "callback_history", "tickets"),
    "directory": ("services", "sender_numbers", "ivr_routes", "users", "user_services"),
    "sms_templates": ("sms_categories", "sms_templates", "sms_template_images"),
    "sms_sends": ("sms_messages", "sms_recipients", "sms_message_images"),
}
TOPICS = frozenset(TOPIC_TABLES)
# Not data a view shows: the intake lease changed (taken, renewed, released). Only PostgreSQL's watcher
# reports it (a NOTIFY); the feed intake then looks at the lease instead of reading it every tick.
LEASE_TOPIC = "leases"

# The counts of callbacks kept by triggers: per (service, status, assignee) for Home and the assign
# screen, and per UTC day of request as well for the list's count over a period (core of the count: whole
# days from here, the two part-days at its ends from the list index). assignee_key 0 = nobody.
COUNTER_TRIGGERS = """
CREATE TRIGGER callbacks_count_insert AFTER INSERT ON callbacks BEGIN
    INSERT INTO callback_totals VALUES (NEW.service_id, NEW.status, coalesce(NEW.assignee_id, 0), 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO callback_days VALUES (NEW.service_id, NEW.requested_at / 86400, NEW.status,
                                      coalesce(NEW.assignee_id, 0), 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER callbacks_count_delete AFTER DELETE ON callbacks BEGIN
    UPDATE callback_totals SET n = n - 1
     WHERE service_id = OLD.service_id AND status = OLD.status
       AND assignee_key = coalesce(OLD.assignee_id, 0);
    UPDATE callback_days SET n = n - 1
     WHERE service_id = OLD.service_id AND day = OLD.requested_at / 86400 AND status = OLD.status
       AND assignee_key = coalesce(OLD.assignee_id, 0);
END;
CREATE TRIGGER callbacks_count_update
AFTER UPDATE OF service_id, status, assignee_id, requested_at ON callbacks
WHEN OLD.service_id IS NOT NEW.service_id OR OLD.status IS NOT NEW.status
  OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.requested_at / 86400 IS NOT NEW.requested_at / 86400
BEGIN
    UPDATE callback_totals SET n = n - 1
     WHERE service_id = OLD.service_id AND status = OLD.status
       AND assignee_key = coalesce(OLD.assignee_id, 0);
    UPDATE callback_days SET n = n - 1
     WHERE service_id = OLD.service_id AND day = OLD.requested_at / 86400 AND status = OLD.status
       AND assignee_key = coalesce(OLD.assignee_id, 0);
    INSERT INTO callback_totals VALUES (NEW.service_id, NEW.status, coalesce(NEW.assignee_id, 0), 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO callback_days VALUES (NEW.service_id, NEW.requested_at / 86400, NEW.status,
                                      coalesce(NEW.assignee_id, 0), 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER callbacks_phone_insert AFTER INSERT ON callbacks BEGIN
    INSERT INTO callbacks_phone (rowid, customer_phone) VALUES (NEW.id, NEW.customer_phone);
END;
CREATE TRIGGER callbacks_phone_delete AFTER DELETE ON callbacks BEGIN
    INSERT INTO callbacks_phone (callbacks_phone, rowid, customer_phone)
        VALUES ('delete', OLD.id, OLD.customer_phone);
END;
CREATE TRIGGER callbacks_phone_update AFTER UPDATE OF customer_phone ON callbacks BEGIN
    INSERT INTO callbacks_phone (callbacks_phone, rowid, customer_phone)
        VALUES ('delete', OLD.id, OLD.customer_phone);
    INSERT INTO callbacks_phone (rowid, customer_phone) VALUES (NEW.id, NEW.customer_phone);
END;
"""

# What the counter tables hold, recomputed from the callbacks (after a bulk load; both engines).
REBUILD_COUNTS = """
DELETE FROM callback_totals;
INSERT INTO callback_totals
    SELECT service_id, status, coalesce(assignee_id, 0), count(*) FROM callbacks GROUP BY 1, 2, 3;
DELETE FROM callback_days;
INSERT INTO callback_days
    SELECT service_id, requested_at / 86400, status, coalesce(assignee_id, 0), count(*) FROM callbacks
     GROUP BY 1, 2, 3, 4;
"""
# And SQLite's phone index (FTS5) besides.
REBUILD_DERIVED = (
    REBUILD_COUNTS
    + """INSERT INTO callbacks_phone (callbacks_phone) VALUES ('delete-all');
-- Not FTS5's 'rebuild', which took 25 s at a million callbacks where this takes 5.
INSERT INTO callbacks_phone (rowid, customer_phone)
    SELECT id, customer_phone FROM callbacks NOT INDEXED ORDER BY id;
"""
)


def _topic_triggers() -> str:
    parts = []
    for topic, tables in TOPIC_TABLES.items():
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                parts.append(
                    f"CREATE TRIGGER {table}_changes_{event.lower()} AFTER {event} ON {table} BEGIN\n"
                    f"    UPDATE change_versions SET version = version + 1 WHERE topic = '{topic}';\nEND;\n"
                )
    return "".join(parts)


def _changes_and_counters() -> str:
    topics = ", ".join(f"('{topic}')" for topic in TOPIC_TABLES)
    return f"""
    CREATE TABLE change_versions (
        topic   TEXT PRIMARY KEY,
        version INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    INSERT INTO change_versions (topic) VALUES {topics};
    {_topic_triggers()}
    CREATE TABLE callback_totals (
        service_id   INTEGER NOT NULL,
        status       TEXT NOT NULL,
        assignee_key INTEGER NOT NULL,
        n            INTEGER NOT NULL,
        PRIMARY KEY (service_id, status, assignee_key)
    ) WITHOUT ROWID;
    CREATE TABLE callback_days (
        service_id   INTEGER NOT NULL,
        day          INTEGER NOT NULL,
        status       TEXT NOT NULL,
        assignee_key INTEGER NOT NULL,
        n            INTEGER NOT NULL,
        PRIMARY KEY (service_id, day, status, assignee_key)
    ) WITHOUT ROWID;
    CREATE VIRTUAL TABLE callbacks_phone USING fts5(
        customer_phone, content='callbacks', content_rowid='id', tokenize='trigram');
    {COUNTER_TRIGGERS}
    {REBUILD_DERIVED}
    CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID;
    """


# 8: a host full of consoles (issue 10): what changed, counts kept as they change, the phone part through a
# trigram index, and one console at a time taking the CTI feed in (built from the tables above).
MIGRATIONS.append(_changes_and_counters())

# 9: the audit trail of operator commands (issue 13). No change topic: no console shows it.
MIGRATIONS.append(
    """
    CREATE TABLE audit (
        id       INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        operator TEXT NOT NULL,
        action   TEXT NOT NULL,
        detail   TEXT NOT NULL DEFAULT ''
    );
    """
)

SCHEMA_VERSION = len(MIGRATIONS)
