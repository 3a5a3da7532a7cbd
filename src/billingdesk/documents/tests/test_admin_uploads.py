"""The brand logo and the legal entity's signature are checked as PDF/A-embeddable PNGs."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billingdesk.documents.admin import BrandForm, LegalEntityForm


def png_logo() -> bytes:
    """A 2x2 8-bit RGB PNG, no transparency: what the PDF/A writer embeds."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("form_class", "field"), [(BrandForm, "logo"), (LegalEntityForm, "signature")]
)
def test_an_upload_that_is_not_a_plain_png_is_a_form_error(form_class: type, field: str) -> None:
    form = form_class(data={}, files={f"{field}_upload": SimpleUploadedFile("x.gif", b"GIF89a...")})
    form.is_valid()
    assert "not a PNG" in " ".join(form.errors.get(f"{field}_upload", []))


@pytest.mark.parametrize(
    ("form_class", "field"), [(BrandForm, "logo"), (LegalEntityForm, "signature")]
)
def test_a_plain_png_upload_is_kept_as_bytes(form_class: type, field: str) -> None:
    png = png_logo()
    form = form_class(data={}, files={f"{field}_upload": SimpleUploadedFile("x.png", png)})
    form.is_valid()
    assert f"{field}_upload" not in form.errors
    assert form.cleaned_data[f"{field}_upload"] == png
