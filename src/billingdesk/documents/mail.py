"""Emailing documents: PDF attached, plain-text and HTML parts, a recorded Message-ID.

Sent through Django's configured email backend (SMTP in production, console or file in the
demo). ``Reply-To`` is a signed routing address naming the document and person
(``billing+<token>@BILLINGDESK_INBOUND_DOMAIN``, see ``core.mailroute``) when an inbound domain
is configured, else the brand's helpdesk address. Every send's Message-ID is recorded
(``DocumentEmail``) so the inbound app threads a reply (its ``In-Reply-To``) back to the
document and recognises its own messages coming back.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from billingdesk.core.errors import GatewayUnavailable, InvalidRequest
from billingdesk.core.mailroute import reply_address
from billingdesk.documents.models import BillingProfile, Document, DocumentEmail
from billingdesk.documents.render.labels import label, language_for
from billingdesk.documents.render.layout import day, money, title_for

_TEXT: dict[str, dict[str, str]] = {
    "greeting": {"en": "Hello,", "fr": "Bonjour,", "es": "Hola:", "de": "Guten Tag,"},
    "intro_sale": {
        "en": "Thank you for your payment. Your document is attached as a PDF.",
        "fr": "Merci pour votre paiement. Votre document est joint au format PDF.",
        "es": "Gracias por su pago. Adjuntamos su documento en PDF.",
        "de": "Vielen Dank für Ihre Zahlung. Ihr Beleg liegt als PDF bei.",
    },
    "intro_credit": {
        "en": "A credit note has been issued for you. It is attached as a PDF.",
        "fr": "Un avoir a été émis à votre intention. Il est joint au format PDF.",
        "es": "Hemos emitido una factura rectificativa. La adjuntamos en PDF.",
        "de": "Wir haben eine Rechnungskorrektur für Sie erstellt. Sie liegt als PDF bei.",
    },
    "reply_hint": {
        "en": "Questions about this document? Just reply to this email.",
        "fr": "Une question sur ce document ? Répondez simplement à cet e-mail.",
        "es": "¿Alguna pregunta sobre este documento? Responda a este correo.",
        "de": "Fragen zu diesem Beleg? Antworten Sie einfach auf diese E-Mail.",
    },
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key].get(lang) or _TEXT[key]["en"]


def recipient_for(document: Document) -> str:
    email = document.buyer.get("email") or ""
    if not email and document.charge is not None:
        email = document.charge.receipt_email
    return str(email)


def opted_out(document: Document) -> bool:
    person_id = document.buyer.get("person_id") or document.person_id
    return bool(
        person_id
        and BillingProfile.objects.filter(person_id=person_id, receipts_opt_out=True).exists()
    )


def document_send(*, document_id: int, automatic: bool = False, to: str = "") -> str:
    """Email a document. ``automatic`` sends respect the customer's opt-out; an agent's resend
    does not. Raises ``GatewayUnavailable`` when the mail server fails (retry later)."""
    document = Document.objects.select_related("brand", "charge", "original").get(pk=document_id)
    if automatic and opted_out(document):
        return "opted out"
    if automatic and document.emailed_at is not None:
        return "already sent"  # a replayed task must not email twice
    recipient = to or recipient_for(document)
    if not recipient:
        if automatic:
            return "no recipient"
        raise InvalidRequest("the customer has no email address; give one to send to")
    brand = document.brand
    lang = language_for(document.language)
    title = title_for(document, lang)
    context = {
        "document": document,
        "brand": brand,
        "lang": lang,
        "title": title,
        "greeting": _t("greeting", lang),
        "intro": _t("intro_credit" if document.kind == "credit_note" else "intro_sale", lang),
        "reply_hint": _t("reply_hint", lang),
        "issued_label": label("issue_date", lang),
        "issued": day(document.issued_at.date(), lang),
        "total_label": label("total_gross", lang),
        "total": money(document.gross, document.currency, lang),
    }
    sender = brand.from_email or settings.DEFAULT_FROM_EMAIL
    domain = sender.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring=f"doc{document.pk}", domain=domain)
    headers = {"Message-ID": message_id, "X-Billingdesk-Document": str(document.pk)}
    person_id = document.person_id  # type: ignore[attr-defined]
    routed = reply_address(document.pk, person_id)
    reply_to = routed or brand.reply_to
    message = EmailMultiAlternatives(
        subject=f"{title} {document.number} — {brand.name}",
        body=render_to_string("documents/email/document.txt", context),
        from_email=sender,
        to=[recipient],
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    message.attach_alternative(
        render_to_string("documents/email/document.html", context), "text/html"
    )
    message.attach(document.filename, bytes(document.pdf), "application/pdf")
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        document.email_error = f"{type(exc).__name__}: {exc}"[:2000]
        document.save(update_fields=["email_error"])
        raise GatewayUnavailable(f"the mail server refused or failed: {exc}") from exc
    document.message_id = message_id
    document.email_to = recipient
    document.emailed_at = timezone.now()
    document.email_error = ""
    document.save(update_fields=["message_id", "email_to", "emailed_at", "email_error"])
    DocumentEmail.objects.create(
        document=document,
        message_id=message_id,
        email_to=recipient[:320],
        reply_to=reply_to[:320],
        sent_at=document.emailed_at,
    )
    return f"sent to {recipient}"
