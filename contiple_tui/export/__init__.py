"""Exports of the callback list, the processing status and the SMS history to Excel (.xlsx).

Headless like the core: never imports textual (nor openpyxl: sheetwriter.py is our own streaming
writer), so the console, a worker thread and the ``contiple-tui export`` command (cron jobs) share
one implementation.
"""

from __future__ import annotations

from contiple_tui.export.xlsx import (
    ExportPathError,
    export_callbacks,
    export_processing_status,
    export_sms_history,
)

__all__ = ["ExportPathError", "export_callbacks", "export_processing_status", "export_sms_history"]
