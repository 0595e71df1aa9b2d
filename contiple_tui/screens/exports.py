"""The Excel exports views ask for (``ExportRequested``, screens/messages.py): each a new file in the
exports folder, named by kind, service and the service's time (export/jobs.py), written behind the
progress screen (screens/export_progress.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from textual.app import App

from contiple_tui.config import Config
from contiple_tui.core.session import Session
from contiple_tui.domain.queries import CallbackQuery, HistoryFilter
from contiple_tui.export import jobs
from contiple_tui.i18n import get_language
from contiple_tui.screens.export_progress import ExportScreen
from contiple_tui.screens.messages import ExportRequested


class Exports:
    def __init__(self, app: App, session: Session, config: Config, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.session = session
        self.config = config  # its exports folder is read when an export starts
        self.clock = clock

    def path(self, kind: str) -> Path:
        return jobs.export_path(self.config.exports_dir, kind, self.session, self.clock())

    def requested(self, message: ExportRequested) -> None:
        """The export of ``message.kind``, with the view's arguments."""
        export = {
            "callbacks": self.callbacks,
            "callback-status": self.processing_status,
            "sms-history": self.sms_history,
        }[message.kind]
        export(*message.args)

    def callbacks(self, query: CallbackQuery) -> None:
        """Every row matching the current search (not only the screen) to the exports folder."""
        path = self.path("callbacks")
        self._start(path, jobs.callbacks_job(self.session, query, path, get_language()))

    def processing_status(self, first: date, last: date, monthly: bool) -> None:
        path = self.path("callback-status")
        job = jobs.processing_status_job(self.session, first, last, monthly, path, get_language())
        self._start(path, job)

    def sms_history(self, f: HistoryFilter) -> None:
        path = self.path("sms-history")
        self._start(path, jobs.sms_history_job(self.session, f, path, get_language()))

    def _start(self, path: Path, job: jobs.Job) -> None:
        self.app.push_screen(ExportScreen(path, job))
