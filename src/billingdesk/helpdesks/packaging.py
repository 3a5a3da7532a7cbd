"""Helpers shared by the generated app packages (Zendesk, Freshdesk): zips and icons."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from billingdesk.core.errors import InvalidRequest


def public_base(base_url: str | None = None) -> str:
    """The HTTPS address helpdesks reach billingdesk at (``BILLINGDESK_BASE_URL``)."""
    base = (base_url or settings.BASE_URL).rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise InvalidRequest(f"{base!r} is not a base URL like https://billing.example.com")
    return base


def png(size: int, rgb: tuple[int, int, int] = (32, 96, 160)) -> bytes:
    """A square PNG of one colour (the app icon both marketplaces ask for)."""
    row = b"\x00" + bytes(rgb) * size
    raw = row * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def zip_bytes(files: dict[str, bytes | str | dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            if isinstance(content, dict):
                content = json.dumps(content, indent=2) + "\n"
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()
