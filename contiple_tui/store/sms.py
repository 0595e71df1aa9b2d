"""SQL for SMS: template categories and templates, messages, recipients, images."""

from __future__ import annotations

from collections.abc import Iterable

from contiple_tui.domain.queries import HistoryFilter
from contiple_tui.domain.sms_models import (
    Category,
    Message,
    MessageImage,
    MessageStatus,
    Recipient,
    Template,
    TemplateImage,
)
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.store.engine import Conn, Engine, inserted_id

_TEMPLATE_COLUMNS = (
    "t.id, t.service_id, t.category_id, t.name, t.description, t.send_type, t.in_use, t.editable, "
    "t.sender_no, t.title, t.body"
)
_MESSAGE_COLUMNS = (
    "m.id, m.service_id, m.user_id, COALESCE(u.name, ''), m.template_id, m.template_name, m.send_type, "
    "m.sender_no, m.title, m.body, m.reserved_for, m.created_at, m.gateway, m.grouping_key, m.request_id, "
    "m.status, m.result_code, m.result_message, m.recipient_count, m.first_recipient, "
    "(SELECT count(*) FROM sms_message_images i WHERE i.message_id = m.id), m.last_lookup_at"
)


def _template(row: tuple, images: tuple[TemplateImage, ...] = (), effective: bool = True) -> Template:
    return Template(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        SendType(row[5]),
        bool(row[6]),
        bool(row[7]),
        row[8],
        row[9],
        row[10],
        images,
        effective,
    )


def _message(row: tuple) -> Message:
    return Message(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        SendType(row[6]),
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
        row[14],
        MessageStatus(row[15]),
        row[16],
        row[17],
        row[18],
        row[19],
        row[20],
        row[21],
    )


class SmsRepo:
    def __init__(self, db: Engine) -> None:
        self.db = db

    # -- categories and templates -----------------------------------------------------------------

    def tree(self, service_id: int) -> list[Category]:
        """The service's categories (top level, each with its children) and their templates."""
        with self.db.read() as conn:
            cats = [
                Category(r[0], r[1], r[2], r[3], bool(r[4]))
                for r in conn.execute(
                    "SELECT id, service_id, parent_id, name, in_use FROM sms_categories "
                    "WHERE service_id = ? ORDER BY lower(name), id",
                    (service_id,),
                )
            ]
            rows = conn.execute(
                f"SELECT {_TEMPLATE_COLUMNS} FROM sms_templates t WHERE t.service_id = ? "
                "ORDER BY lower(t.name), t.id",
                (service_id,),
            ).fetchall()
            images = self._template_images(conn, [r[0] for r in rows])
        by_id = {c.id: c for c in cats}
        top = [c for c in cats if c.parent_id is None]
        for cat in cats:
            if cat.parent_id is not None and cat.parent_id in by_id:
                by_id[cat.parent_id].children.append(cat)
        for row in rows:
            owner = by_id.get(row[2])
            if owner is None:
                continue
            parent = by_id.get(owner.parent_id) if owner.parent_id is not None else None
            effective = bool(row[6]) and owner.in_use and (parent is None or parent.in_use)
            owner.templates.append(_template(row, images.get(row[0], ()), effective))
        return top

    @staticmethod
    def _template_images(conn: Conn, ids: list[int]) -> dict[int, tuple[TemplateImage, ...]]:
        if not ids:
            return {}
        result: dict[int, list[TemplateImage]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for tid, name, data in conn.execute(
                "SELECT template_id, file_name, data FROM sms_template_images WHERE template_id IN "
                f"({marks}) "
                "ORDER BY template_id, position",
                chunk,
            ):
                result.setdefault(tid, []).append(TemplateImage(name, data))
        return {k: tuple(v) for k, v in result.items()}

    def category(self, conn: Conn, category_id: int) -> Category | None:
        row = conn.execute(
            "SELECT id, service_id, parent_id, name, in_use FROM sms_categories WHERE id = ?", (category_id,)
        ).fetchone()
        return Category(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def insert_category(
        self, conn: Conn, service_id: int, parent_id: int | None, name: str, in_use: bool, now: int
    ) -> int:
        cur = conn.execute(
            "INSERT INTO sms_categories (service_id, parent_id, name, in_use, created_at) VALUES (?, ?, ?, "
            "?, ?) RETURNING id",
            (service_id, parent_id, name, int(in_use), now),
        )
        return inserted_id(cur)

    def update_category(self, conn: Conn, category_id: int, name: str, in_use: bool) -> None:
        conn.execute(
            "UPDATE sms_categories SET name = ?, in_use = ? WHERE id = ?", (name, int(in_use), category_id)
        )

    def category_contents(self, conn: Conn, category_id: int) -> tuple[int, int]:
        """(sub-categories, templates) that deleting the category deletes with it."""
        subs = conn.execute(
            "SELECT count(*) FROM sms_categories WHERE parent_id = ?", (category_id,)
        ).fetchone()[0]
        templates = conn.execute(
            "SELECT count(*) FROM sms_templates WHERE category_id = ? "
            "OR category_id IN (SELECT id FROM sms_categories WHERE parent_id = ?)",
            (category_id, category_id),
        ).fetchone()[0]
        return subs, templates

    def delete_category(self, conn: Conn, category_id: int) -> None:
        conn.execute("DELETE FROM sms_categories WHERE id = ?", (category_id,))  # cascades

    def template(self, conn: Conn, template_id: int) -> Template | None:
        row = conn.execute(
            f"SELECT {_TEMPLATE_COLUMNS}, c.in_use, COALESCE(p.in_use, 1) FROM sms_templates t "
            "JOIN sms_categories c ON c.id = t.category_id "
            "LEFT JOIN sms_categories p ON p.id = c.parent_id WHERE t.id = ?",
            (template_id,),
        ).fetchone()
        if row is None:
            return None
        images = self._template_images(conn, [template_id]).get(template_id, ())
        return _template(row[:11], images, bool(row[6]) and bool(row[11]) and bool(row[12]))

    def save_template(
        self,
        conn: Conn,
        template_id: int | None,
        service_id: int,
        category_id: int,
        fields: dict,
        images: Iterable[TemplateImage] | None,
        now: int,
    ) -> int:
        values = (
            fields["name"],
            fields["description"],
            str(fields["send_type"]),
            int(fields["in_use"]),
            int(fields["editable"]),
            fields["sender_no"],
            fields["title"],
            fields["body"],
        )
        if template_id is None:
            cur = conn.execute(
                "INSERT INTO sms_templates (name, description, send_type, in_use, editable, sender_no, "
                "title, body, "
                "service_id, category_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?) RETURNING id",
                (*values, service_id, category_id, now, now),
            )
            template_id = inserted_id(cur)
        else:
            conn.execute(
                "UPDATE sms_templates SET name = ?, description = ?, send_type = ?, in_use = ?, editable = "
                "?, "
                "sender_no = ?, title = ?, body = ?, category_id = ?, updated_at = ? WHERE id = ?",
                (*values, category_id, now, template_id),
            )
        if images is not None:
            conn.execute("DELETE FROM sms_template_images WHERE template_id = ?", (template_id,))
            conn.executemany(
                "INSERT INTO sms_template_images (template_id, position, file_name, data) VALUES (?, ?, ?, "
                "?)",
                [(template_id, i, img.file_name, img.data) for i, img in enumerate(images)],
            )
        return template_id

    def delete_template(self, conn: Conn, template_id: int) -> None:
        conn.execute("DELETE FROM sms_templates WHERE id = ?", (template_id,))

    # -- messages -------------------------------------------------------------------------------

    def insert_message(
        self,
        conn: Conn,
        *,
        service_id: int,
        user_id: int,
        template_id: int | None,
        template_name: str | None,
        send_type: SendType,
        sender_no: str,
        title: str,
        body: str,
        reserved_for: int | None,
        now: int,
        gateway: str,
        grouping_key: str,
        recipients: tuple[str, ...],
        images: Iterable[MessageImage],
    ) -> int:
        cur = conn.execute(
            "INSERT INTO sms_messages (service_id, user_id, template_id, template_name, send_type, "
            "sender_no, title, "
            "body, reserved_for, created_at, gateway, grouping_key, status, recipient_count, "
            "first_recipient) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
            (
                service_id,
                user_id,
                template_id,
                template_name,
                str(send_type),
                sender_no,
                title,
                body,
                reserved_for,
                now,
                gateway,
                grouping_key,
                len(recipients),
                recipients[0],
            ),
        )
        message_id = inserted_id(cur)
        conn.executemany(
            "INSERT INTO sms_recipients (message_id, recipient_no, state, updated_at) VALUES (?, ?, "
            "'pending', ?)",
            [(message_id, no, now) for no in recipients],
        )
        conn.executemany(
            "INSERT INTO sms_message_images (message_id, position, file_name, width, height, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(message_id, i, img.file_name, img.width, img.height, img.data) for i, img in enumerate(images)],
        )
        return message_id

    def message(self, conn: Conn, message_id: int) -> Message | None:
        row = conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM sms_messages m LEFT JOIN users u ON u.id = m.user_id WHERE m.id "
            "= ?",
            (message_id,),
        ).fetchone()
        return _message(row) if row else None

    def get_message(self, message_id: int) -> Message | None:
        with self.db.read() as conn:
            return self.message(conn, message_id)

    def set_request(
        self,
        conn: Conn,
        message_id: int,
        request_id: str | None,
        status: MessageStatus,
        result_code: str | None,
        result_message: str,
    ) -> None:
        conn.execute(
            "UPDATE sms_messages SET request_id = COALESCE(?, request_id), status = ?, result_code = ?, "
            "result_message = ? WHERE id = ?",
            (request_id, str(status), result_code, result_message, message_id),
        )

    def note_lookup(self, conn: Conn, message_id: int, now: int, *, empty_counted: bool) -> tuple[int, int]:
        """A successful look-up by grouping key that found nothing; ``empty_counted``: it was made after
        the visibility window and counts towards "never arrived". Returns (empty look-ups counted, when
        the first of them was made)."""
        if empty_counted:
            conn.execute(
                "UPDATE sms_messages SET empty_lookups = empty_lookups + 1, "
                "first_empty_at = COALESCE(first_empty_at, ?), last_lookup_at = ? WHERE id = ?",
                (now, now, message_id),
            )
        else:
            conn.execute("UPDATE sms_messages SET last_lookup_at = ? WHERE id = ?", (now, message_id))
        row = conn.execute(
            "SELECT empty_lookups, COALESCE(first_empty_at, ?) FROM sms_messages WHERE id = ?",
            (now, message_id),
        ).fetchone()
        return (row[0], row[1]) if row else (0, now)

    def set_status(self, conn: Conn, message_id: int, status: MessageStatus) -> None:
        conn.execute("UPDATE sms_messages SET status = ? WHERE id = ?", (str(status), message_id))

    def update_recipients(
        self,
        conn: Conn,
        message_id: int,
        results: Iterable[tuple[str, int | None, str, str | None, str]],
        now: int,
    ) -> None:
        """Each (recipient_no, seq, state, code, message): matched by seq when known, else by number."""
        for no, seq, state, code, text in results:
            cur = None
            if seq is not None:
                cur = conn.execute(
                    "UPDATE sms_recipients SET state = ?, result_code = ?, result_message = ?, updated_at = "
                    "? "
                    "WHERE message_id = ? AND recipient_seq = ?",
                    (state, code, text, now, message_id, seq),
                )
            if cur is None or cur.rowcount == 0:
                conn.execute(
                    "UPDATE sms_recipients SET state = ?, result_code = ?, result_message = ?, updated_at = "
                    "?, "
                    "recipient_seq = COALESCE(?, recipient_seq) "
                    "WHERE id = (SELECT id FROM sms_recipients WHERE message_id = ? AND recipient_no = ? "
                    "AND (recipient_seq IS NULL OR recipient_seq = ?) ORDER BY id LIMIT 1)",
                    (state, code, text, now, seq, message_id, no, seq if seq is not None else -1),
                )

    def set_all_recipients(
        self,
        conn: Conn,
        message_id: int,
        state: str,
        code: str | None,
        text: str,
        now: int,
        only_state: str | None = None,
    ) -> int:
        sql = (
            "UPDATE sms_recipients SET state = ?, result_code = ?, result_message = ?, updated_at = ? "
            "WHERE message_id = ?"
        )
        args: list = [state, code, text, now, message_id]
        if only_state is not None:
            sql += " AND state = ?"
            args.append(only_state)
        return conn.execute(sql, args).rowcount

    def recipient_states(self, conn: Conn, message_id: int) -> dict[str, int]:
        return dict(
            conn.execute(
                "SELECT state, count(*) FROM sms_recipients WHERE message_id = ? GROUP BY state",
                (message_id,),
            ).fetchall()
        )

    def recipients(self, message_id: int, limit: int = 1000, offset: int = 0) -> list[Recipient]:
        with self.db.read() as conn:
            return [
                Recipient(*r)
                for r in conn.execute(
                    "SELECT id, message_id, recipient_no, recipient_seq, state, result_code, result_message, "
                    "updated_at "
                    "FROM sms_recipients WHERE message_id = ? ORDER BY id LIMIT ? OFFSET ?",
                    (message_id, limit, offset),
                )
            ]

    def reserved_seqs(self, conn: Conn, message_id: int) -> list[int]:
        return [
            r[0]
            for r in conn.execute(
                "SELECT recipient_seq FROM sms_recipients WHERE message_id = ? AND state = 'reserved' "
                "AND recipient_seq IS NOT NULL ORDER BY recipient_seq",
                (message_id,),
            )
        ]

    def images(self, message_id: int) -> list[MessageImage]:
        with self.db.read() as conn:
            return [
                MessageImage(*r)
                for r in conn.execute(
                    "SELECT file_name, width, height, data FROM sms_message_images WHERE message_id = ? "
                    "ORDER BY position",
                    (message_id,),
                )
            ]

    def open_messages(self, service_id: int | None = None, limit: int = 500) -> list[Message]:
        """Sends whose outcome may still change: reserved, requested, pending, unknown."""
        sql = (
            f"SELECT {_MESSAGE_COLUMNS} FROM sms_messages m LEFT JOIN users u ON u.id = m.user_id "
            "WHERE m.status IN ('pending', 'unknown', 'reserved', 'requested')"
        )
        args: list = []
        if service_id is not None:
            sql += " AND m.service_id = ?"
            args.append(service_id)
        sql += " ORDER BY m.id LIMIT ?"
        args.append(limit)
        with self.db.read() as conn:
            return [_message(r) for r in conn.execute(sql, args)]

    # -- history --------------------------------------------------------------------------------

    @staticmethod
    def _where(service_id: int, f: HistoryFilter) -> tuple[str, list]:
        clauses: list[str] = ["m.service_id = ?"]
        args: list[object] = [service_id]
        if f.user_id is not None:
            clauses.append("m.user_id = ?")
            args.append(f.user_id)
        if f.start is not None:
            clauses.append("m.created_at >= ?")
            args.append(f.start)
        if f.end is not None:
            clauses.append("m.created_at < ?")
            args.append(f.end)
        if f.send_type is not None:
            clauses.append("m.send_type = ?")
            args.append(str(f.send_type))
        if f.status is not None:
            clauses.append("m.status = ?")
            args.append(str(f.status))
        if f.sender_no:
            clauses.append("instr(m.sender_no, ?) > 0")
            args.append(f.sender_no)
        if f.recipient:
            clauses.append(
                "EXISTS (SELECT 1 FROM sms_recipients r WHERE r.message_id = m.id AND instr(r.recipient_no, "
                "?) > 0)"
            )
            args.append(f.recipient)
        return " AND ".join(clauses), args

    def history(
        self, service_id: int, f: HistoryFilter, after: tuple[int, int] | None = None, limit: int = 100
    ) -> list[Message]:
        """Newest first; ``after`` = (created_at, id) of the last row of the previous page."""
        where, args = self._where(service_id, f)
        if after is not None:
            where += " AND (m.created_at < ? OR (m.created_at = ? AND m.id < ?))"
            args += [after[0], after[0], after[1]]
        sql = (
            f"SELECT {_MESSAGE_COLUMNS} FROM sms_messages m LEFT JOIN users u ON u.id = m.user_id "
            f"WHERE {where} ORDER BY m.created_at DESC, m.id DESC LIMIT ?"
        )
        with self.db.read() as conn:
            return [_message(r) for r in conn.execute(sql, [*args, limit])]

    def history_count(self, service_id: int, f: HistoryFilter) -> int:
        where, args = self._where(service_id, f)
        with self.db.read() as conn:
            return conn.execute(f"SELECT count(*) FROM sms_messages m WHERE {where}", args).fetchone()[0]

    def history_rows(self, service_id: int, f: HistoryFilter, batch: int = 2000):
        """Every recipient of every matching send (for the Excel export), a batch at a time."""
        where, args = self._where(service_id, f)
        last = (1 << 62, 1 << 62)
        while True:
            with self.db.read() as conn:
                rows = conn.execute(
                    "SELECT m.id, m.created_at, m.reserved_for, m.send_type, m.sender_no, COALESCE(u.name, "
                    "''), "
                    "m.template_name, m.title, m.body, m.status, r.id, r.recipient_no, r.state, "
                    "r.result_code, "
                    "r.result_message, m.gateway, m.request_id "
                    "FROM sms_messages m JOIN sms_recipients r ON r.message_id = m.id "
                    "LEFT JOIN users u ON u.id = m.user_id "
                    f"WHERE {where} AND (m.id < ? OR (m.id = ? AND r.id > ?)) "
                    "ORDER BY m.id DESC, r.id LIMIT ?",
                    [*args, last[0], last[0], last[1] if last[0] != 1 << 62 else -1, batch],
                ).fetchall()
            if not rows:
                return
            yield from rows
            last = (rows[-1][0], rows[-1][10])
