"""Exports of the callback list and the processing status to Excel (.xlsx).

Headless like the core: never imports textual (nor openpyxl: sheetwriter.py is our own streaming
writer), so the console, a worker thread and the ``contiple-tui export`` command (cron jobs) share
one implementation.
"""

from __future__ import annotations

from contiple_tui.export.xlsx import ExportPathError, display_width, export_callbacks, export_processing_status

__all__ = ["ExportPathError", "display_width", "export_callbacks", "export_processing_status"]
