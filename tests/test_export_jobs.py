"""Exports as the console starts them (export/jobs.py), without Textual: the file's name in the
service's time, a job that makes the folder, writes a real .xlsx and reports progress, and a folder that
cannot be made is a clear ExportPathError."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime

import pytest

from contiple_tui.core import sms
from contiple_tui.core.session import Session, resolve_user
from contiple_tui.domain.queries import CallbackQuery
from contiple_tui.export import jobs
from contiple_tui.export.xlsx import ExportPathError

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


def _session(store, login: str = "admin") -> Session:
    return Session(store, resolve_user(store, login), "cs")


def test_the_file_is_named_in_the_services_time(demo_store, tmp_path):
    now = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)  # 10:30 in Seoul
    path = jobs.export_path(tmp_path, "callbacks", _session(demo_store), now)
    assert path == tmp_path / "callbacks-cs-20261125-103000.xlsx"


def test_a_callbacks_job_makes_the_folder_and_writes_every_row_with_progress(demo_store, tmp_path):
    session = _session(demo_store)
    path = tmp_path / "new" / "folder" / "callbacks.xlsx"
    seen: list[tuple[int, int]] = []
    rows = jobs.callbacks_job(session, CallbackQuery(), path, "en")(
        lambda done, total: seen.append((done, total))
    )
    assert rows > 0 and seen and seen[-1] == (rows, rows)
    with zipfile.ZipFile(path) as book:
        assert "xl/worksheets/sheet1.xml" in book.namelist()


def test_status_and_sms_history_jobs_write_their_files(demo_store, tmp_path):
    session = _session(demo_store)
    status = tmp_path / "status.xlsx"
    jobs.processing_status_job(session, date(2026, 11, 1), date(2026, 11, 30), False, status, "ko")(
        lambda done, total: None
    )
    history = tmp_path / "history.xlsx"
    f = sms.history_filter(session.user, session.service)
    assert jobs.sms_history_job(session, f, history, "en")(lambda done, total: None) == 0  # no sends seeded
    assert zipfile.is_zipfile(status) and zipfile.is_zipfile(history)


def test_a_folder_that_cannot_be_made_is_an_export_path_error(demo_store, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    job = jobs.callbacks_job(_session(demo_store), CallbackQuery(), blocker / "callbacks.xlsx", "en")
    with pytest.raises(ExportPathError) as caught:
        job(lambda done, total: None)
    assert str(blocker) in caught.value.message("en")


def test_an_export_and_its_folder_are_private_whatever_the_umask(demo_store, tmp_path):
    import os
    import stat

    path = tmp_path / "exports" / "callbacks.xlsx"
    old = os.umask(0)
    try:
        jobs.callbacks_job(_session(demo_store), CallbackQuery(), path, "en")(lambda done, total: None)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
