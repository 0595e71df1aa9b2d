"""The four things we need that Textual has no public API for, each wrapped here and nowhere else;
tests/test_textual_gaps.py fails when a Textual upgrade changes what they rely on. (driver.py, a
subclass of Textual's Linux driver, necessarily builds on that driver's own modules.)"""

from __future__ import annotations

from textual.app import App
from textual.widget import Widget


def write_to_terminal(app: App, text: str) -> bool:
    """Write escape sequences to the terminal as they are (desktop notifications: OSC 777, OSC 9), as
    ``App.bell`` does with BEL. False when there is no terminal (headless, not started yet, closing)."""
    driver = app._driver
    if app.is_headless or driver is None:
        return False
    driver.write(text)
    return True


def fail_app(app: App, error: Exception) -> None:
    """An error in a callback Textual did not call (a plain event-loop timer): shown and the app exits,
    exactly as for an error in a message handler."""
    app._handle_exception(error)


def app_error(app: App) -> BaseException | None:
    """The unhandled error that ended the app (Textual printed its traceback on the terminal), if any:
    the command logs it with its traceback for the administrator."""
    return app._exception


def being_taken_down(widget: Widget) -> bool:
    """The widget is being removed (the app closes, or its container is removed): a mount into it does
    nothing, so nothing may be composed into it, and what it composed may be missing."""
    return widget._closing or widget._pruning or not widget.is_attached
