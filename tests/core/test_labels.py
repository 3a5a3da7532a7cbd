"""One map of plain, translated words for stored codes (issue 20 #9)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.html import escape

from billingdesk.core.labels import label


@pytest.mark.parametrize(
    ("code", "en", "fr", "es", "de"),
    [
        ("requested_by_customer", "Requested by the customer", "Demandé par le client",
         "Solicitado por el cliente", "Vom Kunden gewünscht"),
        ("service_issue", "Service problem", "Problème de service", "Problema con el servicio",
         "Problem mit der Leistung"),
        ("cancel_subscription", "Cancel subscription", "Résilier l'abonnement",
         "Cancelar la suscripción", "Abonnement kündigen"),
        ("approval_requested", "Sent for approval", "Envoyé pour approbation",
         "Enviado para aprobación", "Zur Freigabe gesendet"),
        ("credit_note", "Credit note", "Avoir", "Factura rectificativa", "Gutschrift"),
    ],
)  # fmt: skip
def test_codes_read_as_words_in_every_language(
    code: str, en: str, fr: str, es: str, de: str
) -> None:
    for language, expected in (("en", en), ("fr", fr), ("es", es), ("de", de)):
        with translation.override(language):
            assert label(code) == expected
            shown = Template("{{ code|label }}").render(Context({"code": code}))
            assert shown == escape(expected)  # escaped like any text in a page


def test_an_unknown_code_never_shows_underscores() -> None:
    assert label("new_gateway_status") == "New gateway status"
    assert label("") == "" and label(None) == ""


def test_a_code_reads_differently_as_an_action() -> None:
    assert label("void") == "Void"
    assert label("void", "action") == "Release authorisation"


def test_the_console_is_translated(client: object, db: None) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    browser = Client(HTTP_ACCEPT_LANGUAGE="de")
    browser.force_login(User.objects.create_user("ines", password="pw"))
    with translation.override("de"):
        body = browser.get("/console/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Kunden finden" in body and "Listen" in body
