"""The template half of the SMS template editor (2-1 템플릿 관리): type, in use, editable, name,
description, sender, title (MMS), body and images. Styled by SmsTemplatesView's CSS."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static

from contiple_tui.core import sms
from contiple_tui.domain import sms_rules as rules
from contiple_tui.domain.images import MmsImage, check_image_bytes
from contiple_tui.domain.phone import format_phone
from contiple_tui.domain.sms_models import Template
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import ValidationError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.widgets.image_picker import ImagePicker
from contiple_tui.widgets.safe import cut
from contiple_tui.widgets.safe import options as safe_options
from contiple_tui.widgets.sms_text import SmsTextField
from contiple_tui.widgets.tickbox import TickBox


def form_row(label: str, *widgets: Widget, id: str | None = None) -> Horizontal:
    """A labelled line of the editor."""
    return Horizontal(Label(label, classes="st-label", markup=False), *widgets, classes="st-row", id=id)


def _stored_image(name: str, data: bytes) -> MmsImage:
    try:
        return check_image_bytes(name, data)
    except ValidationError:  # stored under older rules: keep it; saving will say what is wrong
        return MmsImage(name, data, 0, 0)


class TemplateForm(Vertical):
    def compose(self) -> ComposeResult:
        types = [(t(f"st.type.{kind}"), str(kind)) for kind in SendType]
        yield form_row(
            t("st.field.type"),
            Select(types, value=str(SendType.SMS), allow_blank=False, id="st-type", compact=True),
        )
        yield form_row(
            "",
            TickBox(t("st.field.in_use"), True, id="st-tpl-in-use", compact=True),
            TickBox(t("st.field.editable"), True, id="st-editable", compact=True),
        )
        yield Static(id="st-inherited", markup=False)
        yield form_row(
            t("st.field.template_name"), Input(id="st-tpl-name", compact=True, max_length=sms.NAME_MAX)
        )
        yield form_row(
            t("st.field.description"),
            Input(id="st-description", compact=True, max_length=sms.DESCRIPTION_MAX),
        )
        yield form_row(
            t("st.field.sender"), Select([], prompt=t("st.sender.none"), id="st-sender", compact=True)
        )
        yield form_row(
            t("st.field.title"),
            SmsTextField(rules.MMS_TITLE_LIMIT, single_line=True, compact=True, id="st-title"),
            id="st-title-row",
        )
        yield form_row(t("st.field.body"), SmsTextField(rules.SMS_BODY_LIMIT, compact=True, id="st-body"))
        with Horizontal(classes="st-row", id="st-images-box"):
            yield Label(t("st.field.images"), classes="st-label", markup=False)
            with Vertical(id="st-images-pane"):
                yield ImagePicker(id="st-images")
                yield Button(t("st.button.remove_image"), id="st-image-remove", compact=True)

    def fill(self, tpl: Template | None, sender_numbers: list[str], off_category: str | None) -> None:
        """Show ``tpl`` (None: a new template). ``off_category``: the category not in use that makes
        a template in use not usable, if any."""
        send_type = tpl.send_type if tpl else SendType.SMS
        self.query_one("#st-type", Select).value = str(send_type)
        self.query_one("#st-tpl-in-use", Checkbox).value = tpl.in_use if tpl else True
        self.query_one("#st-editable", Checkbox).value = tpl.editable if tpl else True
        self.query_one("#st-tpl-name", Input).value = clean(tpl.name, None) if tpl else ""
        self.query_one("#st-description", Input).value = clean(tpl.description, None) if tpl else ""
        options = [(cut(format_phone(n), 40), n) for n in sender_numbers]
        current = tpl.sender_no if tpl else None
        if current and current not in sender_numbers:
            options.append((t("st.sender.unregistered", number=cut(format_phone(current), 40)), current))
        sender = self.query_one("#st-sender", Select)
        sender.set_options(safe_options(options))
        sender.value = current if current else Select.NULL
        self.query_one("#st-title", SmsTextField).text = clean(tpl.title, None) if tpl else ""
        self.query_one("#st-body", SmsTextField).text = clean(tpl.body, None, newlines=True) if tpl else ""
        picker = self.query_one("#st-images", ImagePicker)
        picker.set_images([_stored_image(i.file_name, i.data) for i in tpl.images] if tpl else [])
        picker.query_one("#image-path", Input).value = ""
        picker.query_one("#image-error", Static).update("")
        inherited = self.query_one("#st-inherited", Static)
        if off_category is not None:
            inherited.update(t("st.template.inherited_off", name=off_category))
            inherited.display = True
        else:
            inherited.display = False
        self._apply_type()

    @property
    def send_type(self) -> SendType:
        value = self.query_one("#st-type", Select).value
        return SendType(value) if isinstance(value, str) else SendType.SMS

    @property
    def images(self) -> list[MmsImage]:
        return self.query_one("#st-images", ImagePicker).images

    def _apply_type(self) -> None:
        send_type = self.send_type
        self.query_one("#st-body", SmsTextField).limit = rules.body_limit(send_type)
        mms = send_type is SendType.MMS
        self.query_one("#st-title-row").display = mms
        # An SMS carries no image; images already attached stay visible, so the refusal can be acted on.
        self.query_one("#st-images-box").display = mms or bool(self.images)

    @on(Select.Changed, "#st-type")
    def _type_changed(self) -> None:
        self._apply_type()

    @on(ImagePicker.Changed)
    def _images_changed(self) -> None:
        self.query_one("#st-image-remove").display = bool(self.images)
        self._apply_type()

    def values(self) -> tuple:
        """What the form holds, to tell whether it changed."""
        return (
            self.send_type,
            self.query_one("#st-tpl-in-use", Checkbox).value,
            self.query_one("#st-editable", Checkbox).value,
            self.query_one("#st-tpl-name", Input).value,
            self.query_one("#st-description", Input).value,
            self.query_one("#st-sender", Select).value,
            self.query_one("#st-title", SmsTextField).text if self.send_type is SendType.MMS else "",
            self.query_one("#st-body", SmsTextField).text,
            tuple((img.file_name, img.data) for img in self.images),
        )

    def draft(self, category_id: int) -> sms.TemplateDraft:
        sender = self.query_one("#st-sender", Select).value
        send_type = self.send_type
        return sms.TemplateDraft(
            category_id=category_id,
            name=self.query_one("#st-tpl-name", Input).value,
            send_type=send_type,
            body=self.query_one("#st-body", SmsTextField).text,
            title=self.query_one("#st-title", SmsTextField).text if send_type is SendType.MMS else "",
            description=self.query_one("#st-description", Input).value,
            in_use=self.query_one("#st-tpl-in-use", Checkbox).value,
            editable=self.query_one("#st-editable", Checkbox).value,
            sender_no=sender if isinstance(sender, str) else None,
            images=tuple(self.images),
        )

    def remove_image(self) -> str | None:
        """Remove the highlighted image (or the only one); its file name, or None if none was chosen."""
        picker = self.query_one("#st-images", ImagePicker)
        listing = picker.query_one(OptionList)
        index = listing.highlighted
        if index is None and len(picker.images) == 1:
            index = 0
        if index is None or not 0 <= index < len(picker.images):
            return None
        images = list(picker.images)
        removed = images.pop(index)
        if not images:  # the button goes away with the last image: the focus stays in the form
            picker.query_one("#image-path", Input).focus()
        picker.set_images(images)
        return removed.file_name
