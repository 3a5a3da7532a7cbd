"""The disputes' fr, es and de catalogues: complete, and compiled from the .po committed."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.utils import translation

from billingdesk.core.labels import label

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def _plain(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(value) if all(value) else ()
    return value


@pytest.mark.parametrize("language", ["fr", "es", "de"])
def test_catalogue_is_complete_and_compiled(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.po").open("rb") as f:
        po = {m.id: m for m in read_po(f) if m.id}
    untranslated = [m.id for m in po.values() if not _plain(m.string) or m.fuzzy]
    assert not untranslated, f"{language}: untranslated {untranslated}"
    with (folder / "django.mo").open("rb") as f:
        mo = {_plain(m.id): _plain(m.string) for m in read_mo(f) if m.id}
    stale = [i for i, m in po.items() if mo.get(_plain(i)) != _plain(m.string)]
    assert not stale, f"{language}: django.mo is older than django.po; run compilemessages"


def test_the_new_labels_read_in_the_agents_language() -> None:
    with translation.override("fr"):
        assert label("dispute_submit") == "Répondre à un litige"
        assert label("insufficient_funds") == "Provision insuffisante"
