"""MMS image checks: a real JPEG (decoded, not judged by its name), ≤ 300 KB, ≤ 1000×1000 px,
at most 3 and ≤ 800 KB together (PRODUCT.md 2-2, NHN-SMS-API.md "Limits").

KB here is 1,000 bytes: the stricter reading of "300 KB", so the gateway never refuses what we let by.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from contiple_tui.errors import ValidationError

MAX_IMAGES = 3
MAX_IMAGE_BYTES = 300_000
MAX_TOTAL_BYTES = 800_000
MAX_SIDE = 1000
EXTENSIONS = (".jpg", ".jpeg")


@dataclass(frozen=True, slots=True)
class MmsImage:
    file_name: str  # the name sent to the gateway (base name only)
    data: bytes = field(repr=False)
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


def check_image_bytes(file_name: str, data: bytes) -> MmsImage:
    """Refuse anything but a whole, decodable JPEG within the size limits."""
    name = Path(file_name).name
    if not name.lower().endswith(EXTENSIONS):
        raise ValidationError("sms.err.image_extension", name=name)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError(
            "sms.err.image_too_big", name=name, size=_kb(len(data)), limit=_kb(MAX_IMAGE_BYTES)
        )
    from PIL import Image, UnidentifiedImageError  # lazy: only the composer and `sms send` need it

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "JPEG":
                if not img.format:
                    raise ValidationError("sms.err.image_not_jpeg_unknown", name=name)
                raise ValidationError("sms.err.image_not_jpeg", name=name, found=img.format)
            width, height = img.size
            # Before decoding: a huge header must not make us decode a huge image.
            if width > MAX_SIDE or height > MAX_SIDE:
                raise ValidationError(
                    "sms.err.image_too_large", name=name, width=width, height=height, limit=MAX_SIDE
                )
            img.load()  # decodes every scan: a truncated or corrupt file fails here
    except ValidationError:
        raise
    except UnidentifiedImageError:
        raise ValidationError("sms.err.image_not_jpeg_unknown", name=name) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            "sms.err.image_broken", name=name, reason=str(exc) or type(exc).__name__
        ) from None
    return MmsImage(name, data, width, height)


def check_image_file(path: str | Path) -> MmsImage:
    path = Path(path).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:  # do not read a huge file into memory just to refuse it
            raise ValidationError(
                "sms.err.image_too_big", name=path.name, size=_kb(size), limit=_kb(MAX_IMAGE_BYTES)
            )
        data = path.read_bytes()
    except ValidationError:
        raise
    except IsADirectoryError:
        raise ValidationError("sms.err.image_unreadable", path=str(path), reason="directory") from None
    except OSError as exc:
        raise ValidationError(
            "sms.err.image_unreadable", path=str(path), reason=exc.strerror or str(exc)
        ) from None
    return check_image_bytes(path.name, data)


def check_image_set(images: list[MmsImage] | tuple[MmsImage, ...]) -> None:
    if len(images) > MAX_IMAGES:
        raise ValidationError("sms.err.too_many_images", count=len(images), limit=MAX_IMAGES)
    total = sum(img.size for img in images)
    if total > MAX_TOTAL_BYTES:
        raise ValidationError("sms.err.images_total", size=_kb(total), limit=_kb(MAX_TOTAL_BYTES))


def _kb(size: int) -> str:
    return f"{size / 1000:.1f}".rstrip("0").rstrip(".")
