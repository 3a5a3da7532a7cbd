"""Pause and resume from the panel (issue 14): offered by the subscription's state, the
confirm step says what happens, runs once per form key, and the server refuses the wrong
state whatever the page showed."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client

from billingdesk.actions.models import ActionRequest, AuditEntry

from .factories import Shop

HX = {"HTTP_HX_REQUEST": "true"}


def _key(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _url(shop: Shop, kind: str, step: str = "") -> str:
    suffix = f"{step}/" if step else ""
    return f"/console/actions/{kind}/subscription/{shop.subscription.pk}/{suffix}"


def _run(client: Client, shop: Shop, kind: str) -> tuple[str, str]:
    form = client.get(_url(shop, kind), HX).content.decode()
    key = _key(form)
    data = {"key": key, "reason_code": "requested_by_customer", "reason_text": "on holiday"}
    first = client.post(_url(shop, kind, "confirm"), data, **HX)
    second = client.post(_url(shop, kind, "confirm"), data, **HX)  # a double click
    assert first.status_code == second.status_code == 200
    return form, key


def test_pause_then_resume(shop: Shop, client_as: Callable[..., Client]) -> None:
    client = client_as("agent")
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url(shop, "pause_subscription") in panel
    assert _url(shop, "resume_subscription") not in panel

    form, _ = _run(client, shop, "pause_subscription")
    assert "no renewal is charged until it is resumed" in form  # the confirm step at once
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "paused"
    assert ActionRequest.objects.filter(kind="pause_subscription").count() == 1
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url(shop, "resume_subscription") in panel
    assert _url(shop, "pause_subscription") not in panel

    form, _ = _run(client, shop, "resume_subscription")
    assert "billed again from its next renewal" in form
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"
    entries = AuditEntry.objects.filter(action__in=["pause_subscription", "resume_subscription"])
    assert sorted(e.action for e in entries if e.result == "succeeded") == [
        "pause_subscription",
        "resume_subscription",
    ]


def test_resume_of_an_active_subscription_is_refused(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    key = _key(client.get(_url(shop, "pause_subscription"), HX).content.decode())
    response = client.post(
        _url(shop, "resume_subscription", "confirm"),
        {"key": key, "reason_code": "requested_by_customer", "reason_text": "x"},
        **HX,
    )
    assert response.status_code < 500
    assert "only a paused one can be resumed" in response.content.decode()
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"
    assert not ActionRequest.objects.filter(kind="resume_subscription").exists()


def test_read_only_agent_cannot_pause(shop: Shop, client_as: Callable[..., Client]) -> None:
    client = client_as("read_only")
    response = client.post(
        _url(shop, "pause_subscription", "confirm"),
        {"key": "x", "reason_code": "requested_by_customer"},
        **HX,
    )
    assert response.status_code < 500
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"
