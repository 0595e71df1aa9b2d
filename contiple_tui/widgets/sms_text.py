"""A text field with the carrier's byte counter: "34 / 90 bytes", updated on every keystroke.

Characters CP949 cannot encode (emoji and the like) are shown reversed and named under the field,
so the sender sees what blocks sending before pressing anything.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from contiple_tui.domain.sms_rules import ENCODING, TextCheck, check_text
from contiple_tui.i18n import t

BAD_STYLE = "bold reverse red"  # reverse shows on 16-colour and NO_COLOR terminals too


class Cp949TextArea(TextArea):
    """A TextArea that marks the characters a phone message cannot carry."""

    def __init__(self, *args, single_line: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.single_line = single_line
        self.match_cursor_bracket = False  # "[고객센터]" is text, not code: no bracket highlights

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        plain = line.plain
        try:
            plain.encode(ENCODING)
        except UnicodeEncodeError:
            for i, ch in enumerate(plain):
                try:
                    ch.encode(ENCODING)
                except UnicodeEncodeError:
                    line.stylize(BAD_STYLE, i, i + 1)
        return line

    async def _on_key(self, event: events.Key) -> None:
        if self.single_line and event.key == "enter":
            event.prevent_default()
            self.post_message(SmsTextField.Submitted(self))
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        if self.single_line and ("\n" in event.text or "\r" in event.text):
            event.prevent_default()
            event.stop()
            self.insert(" ".join(event.text.split()))
            return
        await super()._on_paste(event)


class SmsTextField(Vertical):
    """A labelled text area and its byte counter. ``limit`` changes with the send type."""

    DEFAULT_CSS = """
    SmsTextField { height: auto; }
    SmsTextField > Cp949TextArea { height: 7; }
    SmsTextField.-single > Cp949TextArea { height: 3; }
    SmsTextField > .sms-counter { height: auto; color: $text-muted; }
    SmsTextField.-over > .sms-counter, SmsTextField.-bad > .sms-counter { color: $error; text-style: bold; }
    """

    class Changed(Message):
        def __init__(self, field: SmsTextField, check: TextCheck) -> None:
            super().__init__()
            self.field = field
            self.check = check

        @property
        def control(self) -> SmsTextField:
            return self.field

        def can_replace(self, message: Message) -> bool:  # typing fast: only the latest check counts
            return isinstance(message, SmsTextField.Changed) and message.field is self.field

    class Submitted(Message):
        """Enter in a single-line field."""

        def __init__(self, area: Cp949TextArea) -> None:
            super().__init__()
            self.area = area

    def __init__(
        self,
        limit: int,
        *,
        text: str = "",
        single_line: bool = False,
        read_only: bool = False,
        compact: bool = False,
        id: str | None = None,
        classes: str = "",
    ) -> None:
        super().__init__(id=id, classes=classes + (" -single" if single_line else ""))
        self._compact = compact
        self._limit = limit
        self._initial = text
        self._single = single_line
        self._read_only = read_only
        self._check = check_text(text, limit)

    def compose(self) -> ComposeResult:
        yield Cp949TextArea(
            self._initial,
            single_line=self._single,
            read_only=self._read_only,
            soft_wrap=not self._single,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=self._compact,
        )
        yield Static(self._counter_text(), classes="sms-counter", markup=False)

    @property
    def area(self) -> Cp949TextArea:
        return self.query_one(Cp949TextArea)

    @property
    def text(self) -> str:
        return self.area.text if self.is_mounted else self._initial

    @text.setter
    def text(self, value: str) -> None:
        if self._single:
            value = " ".join(value.split())
        if self.is_mounted:
            self.area.load_text(value)  # posts TextArea.Changed: the counter follows
        else:
            self._initial = value
        self._update(value)

    @property
    def read_only(self) -> bool:
        return self._read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._read_only = value
        if self.is_mounted:
            self.area.read_only = value
        self.set_class(value, "-locked")

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = value
        self._update(self.text)

    @property
    def check(self) -> TextCheck:
        return self._check

    def _counter_text(self) -> str:
        c = self._check
        text = t("sms.counter", used=f"{c.used:,}", limit=f"{c.limit:,}")
        if c.over:
            text += "  " + t("sms.counter.over", over=c.used - c.limit)
        if c.bad:
            chars = " ".join(dict.fromkeys(self.text[i] for i in c.bad if i < len(self.text)))
            text += "  " + t("sms.counter.bad", chars=chars)
        return text

    def _update(self, text: str) -> None:
        self._check = check_text(text, self._limit)
        self.set_class(self._check.over, "-over")
        self.set_class(bool(self._check.bad), "-bad")
        if self.is_mounted:
            self.query_one(".sms-counter", Static).update(self._counter_text())
        self.post_message(self.Changed(self, self._check))

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        if self._single and ("\n" in text):
            event.text_area.load_text(" ".join(text.split()))
            return
        self._update(text)
