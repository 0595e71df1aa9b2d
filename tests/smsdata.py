"""Real image files for the MMS checks, made with Pillow (JPEG, PNG, truncated, oversized)."""

from __future__ import annotations

import io
import random

from PIL import Image


def jpeg_bytes(
    width: int = 200, height: int = 150, *, noise: bool = False, quality: int = 85, seed: int = 1
) -> bytes:
    img = Image.new("RGB", (width, height), (30, 120, 200))
    if noise:  # incompressible pixels make big files
        rnd = random.Random(seed)
        img = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def jpeg_of_size(min_bytes: int, max_bytes: int, seed: int = 1) -> bytes:
    """A real JPEG whose size falls in [min_bytes, max_bytes] (≤ 1000×1000 px)."""
    lo, hi = 50, 1000
    while lo <= hi:
        side = (lo + hi) // 2
        data = jpeg_bytes(side, side, noise=True, quality=90, seed=seed)
        if len(data) < min_bytes:
            lo = side + 1
        elif len(data) > max_bytes:
            hi = side - 1
        else:
            return data
    # Pad with a JPEG comment segment to land exactly in range.
    data = jpeg_bytes(lo - 1, lo - 1, noise=True, quality=90, seed=seed)
    pad = min_bytes - len(data)
    if 0 < pad < 65000:
        segment = b"\xff\xfe" + (pad + 2 - 4 + 2).to_bytes(2, "big") + b"\0" * (pad - 4)
        data = data[:2] + segment + data[2:]
    assert min_bytes <= len(data) <= max_bytes, len(data)
    return data


def png_bytes(width: int = 100, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def nhn_env(base_url: str, app_key: str, secret_key: str) -> dict[str, str]:
    """The environment that points a console or command at an NHN-compatible server with these keys."""
    return {
        "CONTIPLE_TUI_SMS_GATEWAY": "nhn",
        "CONTIPLE_TUI_NHN_BASE_URL": base_url,
        "CONTIPLE_TUI_NHN_APP_KEY": app_key,
        "CONTIPLE_TUI_NHN_SECRET_KEY": secret_key,
    }
