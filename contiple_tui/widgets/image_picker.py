"""MMS images: a path input with file-name completion, each file checked as a real JPEG when added.

At most 3 images, ≤ 800 KB together (checked on every add, so the list never holds a set that
cannot be sent). Delete removes the highlighted image.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from contiple_tui.domain.images import MmsImage, check_image_file, check_image_set
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.safe import cut, plain


class PathSuggester(Suggester):
    """Completes the last part of a path from the files and folders that exist (JPEGs and folders)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            return None
        for name in names:
            if not name.startswith(prefix) or name == prefix or name.startswith("."):
                continue
            full = os.path.join(folder, name)
            if os.path.isdir(full) or name.lower().endswith((".jpg", ".jpeg")):
                suffix = name[len(prefix) :] + ("/" if os.path.isdir(full) else "")
                return value + suffix
        return None


class ImagePicker(Localized, Vertical):
    DEFAULT_CSS = """
    ImagePicker { height: auto; }
    ImagePicker > Horizontal { height: auto; }
    ImagePicker #image-path { width: 1fr; }
    ImagePicker #image-add { height: 1; min-width: 6; border: none; margin-left: 1; }
    ImagePicker #image-list { height: auto; max-height: 5; }
    ImagePicker #image-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("delete", "remove", "key.remove_image", id="sms.remove_image", show=False)]

    class Changed(Message):
        def __init__(self, picker: ImagePicker) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> ImagePicker:
            return self.picker

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.images: list[MmsImage] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(
                placeholder=t("sms.image.placeholder"),
                id="image-path",
                suggester=PathSuggester(),
                compact=True,
            )
            yield Button(t("sms.image.add"), id="image-add")
        yield OptionList(id="image-list")
        yield Static("", id="image-error", markup=False)

    def set_images(self, images: list[MmsImage]) -> None:
        self.images = list(images)
        self._refresh_list()
        self.post_message(self.Changed(self))

    def add_path(self, path: str) -> bool:
        """Check and add one file; False (and the reason shown) when refused."""
        error = self.query_one("#image-error", Static)
        try:
            image = check_image_file(Path(path.strip()))
            check_image_set([*self.images, image])
        except ContipleError as exc:
            error.update(plain("⚠ " + exc.message()))
            return False
        error.update("")
        self.images.append(image)
        self._refresh_list()
        self.post_message(self.Changed(self))
        return True

    def _refresh_list(self) -> None:
        options = self.query_one("#image-list", OptionList)
        options.clear_options()
        for i, img in enumerate(self.images):
            options.add_option(
                Option(
                    plain(
                        t(
                            "sms.image.row",
                            name=cut(img.file_name, 60),
                            size=f"{img.size / 1000:.1f}",
                            width=img.width,
                            height=img.height,
                        ),
                        no_wrap=True,
                        overflow="ellipsis",
                    ),
                    id=str(i),
                )
            )
        total = sum(img.size for img in self.images)
        options.border_subtitle = (
            t("sms.image.total", count=len(self.images), size=f"{total / 1000:.1f}") if self.images else ""
        )

    @on(Button.Pressed, "#image-add")
    @on(Input.Submitted, "#image-path")
    def _add(self, event) -> None:
        event.stop()
        field = self.query_one("#image-path", Input)
        if field.value.strip() and self.add_path(field.value):
            field.value = ""

    def action_remove(self) -> None:
        options = self.query_one("#image-list", OptionList)
        if options.highlighted is None or not self.images:
            return
        del self.images[options.highlighted]
        self._refresh_list()
        self.post_message(self.Changed(self))
