"""엑셀 다운로드: runs an export off the UI thread with a progress bar, then says where the file is
(or, under a browser via textual-serve, hands it over as a download)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.safe import cut, plain

# run(progress) writes the file and returns the number of rows; progress(done, total)
Job = Callable[[Callable[[int, int], None]], int]


class ExportScreen(Dialog[Path | None]):
    BINDINGS = [Binding("escape", "close", "key.close", id="export.close")]

    def __init__(self, path: Path, job: Job) -> None:
        super().__init__()
        self.path = path
        self.job = job
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Static(Text(t("export.title"), style="bold"))
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static(id="export-message")

    def on_mount(self) -> None:
        self.query_one("#export-message", Static).update(
            plain(t("export.running", path=cut(str(self.path), 200)))
        )
        self._run()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _run(self) -> None:
        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, done, total)

        try:
            rows = self.job(progress)
        except ContipleError as exc:
            self.app.call_from_thread(self._finish, plain(f"⚠ {exc.message()}", style="bold"), None)
            return
        except Exception as exc:  # noqa: BLE001 - never a screen stuck on "running"
            reason = clean(" ".join(str(exc).split()), 200)
            text = t("err.unexpected", kind=type(exc).__name__, reason=reason)
            self.app.call_from_thread(self._finish, plain(f"⚠ {text}", style="bold"), None)
            return
        self.app.call_from_thread(
            self._finish, plain(t("export.done", rows=f"{rows:,}", path=cut(str(self.path), 200))), self.path
        )

    def _progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def _finish(self, message: Text, path: Path | None) -> None:
        self.done = True
        bar = self.query_one(ProgressBar)
        if path is not None:
            bar.update(total=bar.total or 1, progress=bar.total or 1)
            if self.app.is_web:  # textual-serve: the file goes to the user's browser
                self.app.deliver_binary(path, save_filename=path.name)
        self.query_one("#export-message", Static).update(message + Text("\n" + t("export.close_hint")))
        self.result = path

    def action_close(self) -> None:
        if self.done:
            self.dismiss(getattr(self, "result", None))
