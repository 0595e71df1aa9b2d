"""An export as the console starts it: a file in the exports folder named by kind, service and the
service's time, and a job (run in a worker with a progress screen) that makes the folder and writes it.

Headless: the app only shows the progress; ``job(progress)`` returns the rows written or raises a
ContipleError (ExportPathError when the folder or file cannot be written)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from contiple_tui.core.session import Session
from contiple_tui.domain.queries import CallbackQuery, HistoryFilter
from contiple_tui.export.xlsx import (
    ExportPathError,
    Progress,
    export_callbacks,
    export_processing_status,
    export_sms_history,
)
from contiple_tui.store.connection import private_dir

Job = Callable[[Progress], int]


def export_path(exports_dir: Path, kind: str, session: Session, now: datetime) -> Path:
    """``{kind}-{service}-{YYYYmmdd-HHMMSS}.xlsx``, in the service's time as every time the user sees (the
    host's zone is often UTC)."""
    service = session.service
    stamp = now.astimezone(ZoneInfo(service.timezone)).strftime("%Y%m%d-%H%M%S")
    return exports_dir / f"{kind}-{service.code}-{stamp}.xlsx"


def _job(path: Path, write: Callable[[Path, Any], int]) -> Job:
    def job(progress: Progress) -> int:
        try:
            private_dir(path.parent)
        except OSError as exc:
            raise ExportPathError(path, exc) from None
        return write(path, progress)

    return job


def callbacks_job(session: Session, query: CallbackQuery, path: Path, lang: str) -> Job:
    """Every callback matching the list's search (not only the screen)."""
    store, user, service = session.store, session.user, session.service  # as asked: the name says it
    return _job(
        path,
        lambda out, progress: export_callbacks(
            store, user, service, query, out, lang=lang, progress=progress
        ),
    )


def processing_status_job(
    session: Session, first: date, last: date, monthly: bool, path: Path, lang: str
) -> Job:
    store, user, service = session.store, session.user, session.service  # as asked: the name says it
    return _job(
        path,
        lambda out, progress: export_processing_status(
            store, user, service, first, last, monthly, out, lang=lang
        ),
    )


def sms_history_job(session: Session, f: HistoryFilter, path: Path, lang: str) -> Job:
    """Every recipient of every send matching the history's filter (``core.sms.history_filter``)."""
    store, user, service = session.store, session.user, session.service  # as asked: the name says it
    return _job(
        path,
        lambda out, progress: export_sms_history(store, user, service, f, out, lang=lang, progress=progress),
    )
