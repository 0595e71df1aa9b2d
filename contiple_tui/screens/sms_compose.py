"""2-2 SMS 발송: template picker, send type, sender, title and body with live byte counters, recipients,
MMS images, reservation; a preview and a confirmation before anything is sent.

Every rule is the core's (core.sms.prepare); this view shows them live and sends in a thread worker,
so a slow gateway never freezes the console. What the user typed stays after any refusal.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from contiple_tui.core import sms
from contiple_tui.domain import sms_rules as rules
from contiple_tui.domain.images import check_image_bytes
from contiple_tui.domain.phone import format_phone
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.sms_preview import SmsPreviewScreen
from contiple_tui.sms.factory import gateway_for, gateway_name
from contiple_tui.sms.gateway import SendUnknown
from contiple_tui.widgets.image_picker import ImagePicker
from contiple_tui.widgets.safe import cut, plain
from contiple_tui.widgets.safe import options as safe_options
from contiple_tui.widgets.sms_text import SmsTextField
from contiple_tui.widgets.tickbox import TickBox

NO_TEMPLATE = "none"
RECIPIENTS_SHOWN = 5  # numbers listed under the recipients field as they will be sent


class SmsComposeView(MenuView):
    TOPICS = frozenset({"sms_templates", "directory"})
    FOCUS = "#sms-template"
    DEFAULT_CSS = """
    SmsComposeView .sms-row { height: auto; }
    SmsComposeView .sms-label { width: 11; text-style: bold; }
    SmsComposeView .sms-field { width: 1fr; height: auto; }
    SmsComposeView #sms-gateway { text-style: bold; margin-bottom: 0; }
    SmsComposeView #sms-gateway.-sandbox { background: $warning 30%; color: $text; }
    SmsComposeView #sms-template { width: 1fr; }
    SmsComposeView #sms-type { width: 12; margin-right: 2; }
    SmsComposeView #sms-sender { width: 1fr; }
    SmsComposeView #label-sender { width: auto; padding-right: 1; }
    SmsComposeView .sms-row Select, SmsComposeView .sms-row Input { margin-bottom: 0; }
    SmsComposeView SmsTextField > Cp949TextArea { background: $boost; }
    SmsComposeView #sms-body > Cp949TextArea { height: 5; }
    SmsComposeView #sms-title > Cp949TextArea { height: 1; }
    SmsComposeView .sms-counter-row { height: 1; }
    SmsComposeView #sms-switch-mms { display: none; height: 1; min-width: 0; border: none; margin-left: 2; }
    SmsComposeView.-offer-mms #sms-switch-mms { display: block; }
    SmsComposeView .sms-hint { color: $text-muted; height: auto; }
    SmsComposeView .sms-hint.-error { color: $error; text-style: bold; }
    SmsComposeView #sms-error { color: $error; text-style: bold; height: auto; margin: 0; }
    SmsComposeView.-sms #row-title, SmsComposeView.-sms #row-images { display: none; }
    SmsComposeView #sms-reserve-on { border: none; height: 1; padding: 0; width: auto; margin-right: 1; }
    SmsComposeView #sms-reserve { width: 18; }
    SmsComposeView #sms-send { margin-top: 1; }
    """
    BINDINGS = [Binding("ctrl+s", "preview", "key.sms_preview", id="sms.preview")]

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self._template: sms.Template | None = None
        self._templates: dict[str, sms.Template] = {}
        self._options: list[tuple[str, str]] | None = None

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        service = self.session.service
        yield Static("", id="sms-gateway", markup=False)
        with Horizontal(classes="sms-row"):
            yield Label(t("sms.compose.template"), classes="sms-label")
            yield Select([], prompt=t("sms.compose.no_template"), id="sms-template", compact=True)
        with Horizontal(classes="sms-row"):
            yield Label(t("sms.compose.type"), classes="sms-label")
            yield Select(
                [("SMS", "SMS"), ("MMS", "MMS")], value="SMS", allow_blank=False, id="sms-type", compact=True
            )
            yield Label(t("sms.compose.sender"), id="label-sender")
            numbers = list(service.sender_numbers)
            yield Select(
                safe_options((n, n) for n in numbers),
                value=numbers[0] if numbers else Select.BLANK,
                allow_blank=not numbers,
                prompt=t("sms.err.no_sender_numbers"),
                id="sms-sender",
                compact=True,
            )
        with Horizontal(classes="sms-row", id="row-title"):
            yield Label(t("sms.compose.title"), classes="sms-label")
            yield SmsTextField(
                rules.MMS_TITLE_LIMIT, single_line=True, compact=True, id="sms-title", classes="sms-field"
            )
        with Horizontal(classes="sms-row"):
            yield Label(t("sms.compose.body"), classes="sms-label")
            with Vertical(classes="sms-field"):
                yield SmsTextField(rules.SMS_BODY_LIMIT, compact=True, id="sms-body")
                yield Button(t("sms.compose.switch_mms"), id="sms-switch-mms", variant="warning")
        with Horizontal(classes="sms-row", id="row-images"):
            yield Label(t("sms.compose.images"), classes="sms-label")
            yield ImagePicker(id="sms-images")
        with Horizontal(classes="sms-row"):
            yield Label(t("sms.compose.recipients"), classes="sms-label")
            with Vertical(classes="sms-field"):
                yield Input(
                    placeholder=t("sms.compose.recipients_hint"),
                    restrict=r"[0-9,\- ]*",
                    id="sms-recipients",
                    compact=True,
                )
                yield Static(
                    t("sms.compose.recipients_none"),
                    id="sms-recipients-status",
                    classes="sms-hint",
                    markup=False,
                )
        with Horizontal(classes="sms-row"):
            yield Label(t("sms.compose.when"), classes="sms-label")
            with Vertical(classes="sms-field"):
                with Horizontal(classes="sms-field"):
                    yield TickBox(t("sms.compose.reserve"), id="sms-reserve-on")
                    yield Input(
                        placeholder="YYYY-MM-DD HH:MM",
                        restrict=r"[0-9: -]*",
                        max_length=16,
                        id="sms-reserve",
                        disabled=True,
                        compact=True,
                    )
                yield Static(t("sms.compose.now"), id="sms-reserve-status", classes="sms-hint", markup=False)
        yield Static("", id="sms-error", markup=False)
        yield Button(t("sms.compose.send"), variant="primary", id="sms-send")

    def on_mount(self) -> None:
        self.add_class("-sms")
        self._show_gateway()
        self._load_templates()

    def reload(self) -> None:
        """Templates may have changed in another console; the service may have been switched."""
        if not self.query("#sms-gateway"):
            return  # not composed yet (a store change seen while the view mounts): on_mount does this
        self._show_gateway()
        self._load_templates()

    # -- live state ---------------------------------------------------------------------------------

    def _gateway_name(self) -> str:
        return gateway_name(self._sms_settings(), self.session.service)

    def _show_gateway(self) -> None:
        badge = self.query_one("#sms-gateway", Static)
        sandbox = self._gateway_name() == "sandbox"
        badge.update(t("sms.compose.sandbox") if sandbox else t("sms.compose.nhn"))
        badge.set_class(sandbox, "-sandbox")

    def _load_templates(self) -> None:
        session = self.session
        try:
            usable = session.sms.usable_templates()
        except ContipleError:
            usable = []
        options = [
            (f"{cut(top.name, 30)} › {cut(sub.name, 30)} › {cut(tpl.name, 40)}", str(tpl.id))
            for top, sub, tpl in usable
        ]
        templates = {str(tpl.id): tpl for _, _, tpl in usable}
        select = self.query_one("#sms-template", Select)
        # The store changes all the time (callbacks arrive): rebuild the list only when the templates
        # did change, and never under the user's hand while the list is open.
        if (options, templates) == (self._options, self._templates) or select.expanded:
            return
        self._options, self._templates = options, templates
        current = select.value
        select.set_options(safe_options(options))
        if current in self._templates:
            select.value = current
        elif self._template is not None:  # the template went away or out of use
            self._apply_template(None)

    @property
    def send_type(self) -> SendType:
        return SendType(self.query_one("#sms-type", Select).value)

    def _set_type(self, send_type: SendType) -> None:
        self.query_one("#sms-type", Select).value = str(send_type)

    @on(Select.Changed, "#sms-type")
    def _type_changed(self) -> None:
        is_sms = self.send_type is SendType.SMS
        self.set_class(is_sms, "-sms")
        self.query_one("#sms-body", SmsTextField).limit = rules.body_limit(self.send_type)
        self._offer_mms()

    @on(SmsTextField.Changed, "#sms-body")
    def _body_changed(self, event: SmsTextField.Changed) -> None:
        self._offer_mms()

    def _offer_mms(self) -> None:
        body = self.query_one("#sms-body", SmsTextField)
        self.set_class(
            self.send_type is SendType.SMS and body.check.used > rules.SMS_BODY_LIMIT, "-offer-mms"
        )

    @on(Button.Pressed, "#sms-switch-mms")
    def action_switch_mms(self) -> None:
        self._set_type(SendType.MMS)
        title = self.query_one("#sms-title", SmsTextField)
        if not title.text.strip():
            first = next(
                (
                    ln.strip()
                    for ln in self.query_one("#sms-body", SmsTextField).text.splitlines()
                    if ln.strip()
                ),
                "",
            )
            title.text = rules.cut_to_bytes(first, rules.MMS_TITLE_LIMIT)

    @on(Select.Changed, "#sms-template")
    def _template_changed(self, event: Select.Changed) -> None:
        tpl = self._templates.get(str(event.value)) if event.value is not Select.BLANK else None
        if tpl is not self._template:
            self._apply_template(tpl)

    def _apply_template(self, tpl: sms.Template | None) -> None:
        self._template = tpl
        body = self.query_one("#sms-body", SmsTextField)
        title = self.query_one("#sms-title", SmsTextField)
        type_select = self.query_one("#sms-type", Select)
        locked = tpl is not None and not tpl.editable
        if tpl is not None:
            self._set_type(tpl.send_type)
            if tpl.sender_no and tpl.sender_no in self.session.service.sender_numbers:
                self.query_one("#sms-sender", Select).value = tpl.sender_no
            title.text, body.text = sms.template_text(tpl)  # what the core compares a locked one with
            images = []
            for img in tpl.images:
                try:
                    images.append(check_image_bytes(img.file_name, img.data))
                except ContipleError:
                    continue  # a template image that no longer passes is left out, not sent
            self.query_one("#sms-images", ImagePicker).set_images(images)
        body.read_only = locked
        title.read_only = locked
        type_select.disabled = locked
        self.query_one("#sms-error", Static).update(t("sms.compose.locked") if locked else "")

    @on(Input.Changed, "#sms-recipients")
    def _recipients_changed(self, event: Input.Changed) -> None:
        status = self.query_one("#sms-recipients-status", Static)
        if not event.value.strip(","):
            status.update(t("sms.compose.recipients_none"))
            status.remove_class("-error")
            return
        try:
            parsed = rules.parse_recipients(event.value)
        except ContipleError as exc:
            # With how the input was read: "010-9999-8888 02123" is two numbers, the second too short.
            parts = rules.split_recipients(event.value)
            read = ", ".join(parts[:RECIPIENTS_SHOWN]) + (", …" if len(parts) > RECIPIENTS_SHOWN else "")
            message = "⚠ " + exc.message()
            if len(parts) > 1:
                message += " · " + t("sms.compose.recipients_read", count=len(parts), numbers=read)
            status.update(plain(message))
            status.add_class("-error")
            return
        # The numbers as they will be sent (separated and without hyphens), so a mistake shows at once.
        shown = ", ".join(format_phone(n) for n in parsed.numbers[:RECIPIENTS_SHOWN])
        if len(parsed.numbers) > RECIPIENTS_SHOWN:
            shown += ", …"
        text = t("sms.compose.recipients_list", count=len(parsed.numbers), numbers=shown)
        if parsed.duplicates:
            text += " · " + t("sms.duplicates_removed", count=parsed.duplicates)
        status.update(text)
        status.remove_class("-error")

    @on(Checkbox.Changed, "#sms-reserve-on")
    def _reserve_toggled(self, event: Checkbox.Changed) -> None:
        field = self.query_one("#sms-reserve", Input)
        field.disabled = not event.value
        if event.value:
            field.focus()
        self._check_reserve()

    @on(Input.Changed, "#sms-reserve")
    def _check_reserve(self) -> None:
        status = self.query_one("#sms-reserve-status", Static)
        field = self.query_one("#sms-reserve", Input)
        if field.disabled:
            status.update(t("sms.compose.now"))
            status.remove_class("-error")
            return
        now = self._now()
        earliest = now + rules.RESERVE_MIN_AHEAD
        window = t(
            "sms.compose.window",
            earliest=rules.ceil_minute(earliest).strftime(rules.RESERVE_FORMAT),
            latest=(now + rules.RESERVE_MAX_AHEAD).strftime(rules.RESERVE_FORMAT),
            zone=self.session.service.timezone,
        )
        if len(field.value.strip()) < 16:
            status.update(window)
            status.remove_class("-error")
            return
        try:
            at = rules.parse_reservation(field.value, now)
        except ContipleError as exc:
            status.update(plain("⚠ " + exc.message()))
            status.add_class("-error")
            return
        status.update(
            t(
                "sms.compose.reserve_ok",
                at=at.strftime(rules.RESERVE_FORMAT),
                zone=self.session.service.timezone,
            )
        )
        status.remove_class("-error")

    def _now(self):
        return self.context.clock().astimezone(sms.service_now(self.session.service).tzinfo)

    # -- sending ------------------------------------------------------------------------------------------

    def draft(self) -> sms.Draft:
        reserve_on = self.query_one("#sms-reserve-on", Checkbox).value
        sender = self.query_one("#sms-sender", Select).value
        return sms.Draft(
            send_type=self.send_type,
            sender_no="" if sender is Select.BLANK else str(sender),
            body=self.query_one("#sms-body", SmsTextField).text,
            recipients=self.query_one("#sms-recipients", Input).value,
            title=self.query_one("#sms-title", SmsTextField).text if self.send_type is SendType.MMS else "",
            images=tuple(self.query_one("#sms-images", ImagePicker).images)
            if self.send_type is SendType.MMS
            else (),
            reserve=self.query_one("#sms-reserve", Input).value if reserve_on else "",
            template_id=self._template.id if self._template else None,
        )

    @on(Button.Pressed, "#sms-send")
    def action_preview(self) -> None:
        session = self.session
        error = self.query_one("#sms-error", Static)
        try:
            prepared = session.sms.prepare(self.draft(), self._now())
        except ContipleError as exc:
            error.update(plain("⚠ " + exc.message()))
            return
        error.update("")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._send(prepared)

        self.app.push_screen(
            SmsPreviewScreen(prepared, self._gateway_name(), session.service.timezone), confirmed
        )

    @work(thread=True, exclusive=True, group="sms-send")
    def _send(self, prepared: sms.Prepared) -> None:
        session, settings, now = self.session, self._sms_settings(), self._now()
        self.app.call_from_thread(self._sending, True)
        try:
            gateway = gateway_for(settings, session.service)
            try:
                outcome = session.sms.send(prepared, gateway, now)
            finally:
                gateway.close()
        except SendUnknown as exc:  # it may have gone out: never offered again as if it had failed
            self.app.call_from_thread(
                self._unknown, exc.message(), t("sms.outcome.toast", id=exc.params.get("id", ""))
            )
            return
        except ContipleError as exc:
            self.app.call_from_thread(self._failed, exc.message())
            return
        finally:
            self.app.call_from_thread(self._sending, False)
        self.app.call_from_thread(self._sent, outcome, prepared)

    def _sending(self, busy: bool) -> None:
        button = self.query_one("#sms-send", Button)
        button.disabled = busy
        button.label = t("sms.compose.sending") if busy else t("sms.compose.send")

    def _failed(self, message: str) -> None:
        self.query_one("#sms-error", Static).update(plain("⚠ " + message, newlines=True))
        self.app.notify(message, severity="error", timeout=8)

    def _unknown(self, message: str, short: str) -> None:
        self.app.notify(short, title=t("menu.sms_compose"), severity="warning", timeout=20)
        self._clear_send()
        self.query_one("#sms-error", Static).update(plain("⚠ " + message, newlines=True))

    def _clear_send(self) -> None:
        """The recipients and the time were for this send; the text may serve the next one."""
        self.query_one("#sms-recipients", Input).value = ""
        self.query_one("#sms-reserve-on", Checkbox).value = False
        self.query_one("#sms-reserve", Input).value = ""

    def _sent(self, outcome: sms.SendOutcome, prepared: sms.Prepared) -> None:
        if prepared.reserve_at is not None:
            text = t(
                "sms.cli.reserved",
                id=outcome.message_id,
                count=outcome.recipients,
                at=prepared.reserve_at.strftime(rules.RESERVE_FORMAT),
                zone=self.session.service.timezone,
                type=str(prepared.send_type),
            )
        else:
            text = t(
                "sms.cli.sent",
                id=outcome.message_id,
                count=outcome.recipients,
                type=str(prepared.send_type),
                status=t(f"sms.status.{outcome.status}"),
            )
        if outcome.gateway == "sandbox":
            text = "SANDBOX · " + text
        self.app.notify(text, title=t("menu.sms_compose"))
        self._clear_send()
        self.query_one("#sms-error", Static).update(plain(t("sms.compose.last_sent", text=text)))
