"""Help Scout Dynamic Content endpoint: signed JSON in, ``{"html": …}`` out.

Reference: shared/reference/helpdesks.md §2.1. The HTML is static (Help Scout runs no script in
it) and uses Help Scout's sidebar classes; every value is escaped by the template.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billingdesk.billing.identity import normalize_email
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import SignatureInvalid
from billingdesk.core.parsing import json_loads
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.helpscout import verification
from billingdesk.helpdesks.notes import billing_link_page, person_link
from billingdesk.panel.selectors import panel_data

MAX_BODY = 256 * 1024


def _emails(customer: Any) -> list[str]:
    if not isinstance(customer, dict):
        return []
    found: list[str] = []
    if isinstance(customer.get("email"), str):
        found.append(customer["email"])
    emails = customer.get("emails")
    for item in emails if isinstance(emails, list) else []:
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, str):
            found.append(value)
    return [e for e in (normalize_email(x) for x in found) if e]


def _answer(html: str, status: int = 200) -> JsonResponse:
    return JsonResponse({"html": html}, status=status)


@csrf_exempt  # Help Scout's servers call us; the signature is the proof
@require_POST
def dynamic(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid:
        return JsonResponse({"Error": "NotAuthorized"}, status=403)
    if connection.kind != "helpscout" or len(request.body) > MAX_BODY:
        return JsonResponse({"Error": "NotAuthorized"}, status=403)
    try:
        verification.verify(
            request.body,
            request.headers.get("X-HelpScout-Signature"),
            connection.secret("secret_key"),
        )
    except SignatureInvalid:
        return JsonResponse({"Error": "NotAuthorized"}, status=403)
    try:
        body = json_loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _answer('<span class="badge red">billingdesk: the request was not JSON</span>', 400)
    if not isinstance(body, dict):
        return _answer(
            '<span class="badge red">billingdesk: the request was not an object</span>', 400
        )
    emails = _emails(body.get("customer"))
    data = None
    if emails:
        matches = person_resolve(email=emails[0], secondary_emails=emails[1:])
        if matches:
            data = panel_data(matches[0].person.pk, limit=5)
    html = render_to_string(
        "helpdesks/helpscout_sidebar.html",
        {
            "data": data,
            "email": emails[0] if emails else "",
            "link": person_link(data.person.pk) if data else "",
            "billing_link": billing_link_page(data.person.pk) if data else "",
        },
    )
    return _answer(html)
