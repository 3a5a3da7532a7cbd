"""Every embed path serves the panel only with a valid proof, framable only by its helpdesk."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import Client
from django.urls import reverse

from billingdesk.actions.models import ActionRequest
from billingdesk.billing.models import Customer, Refund
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.helpscout.verification import signature as hs_signature
from billingdesk.helpdesks.iframe.verification import signed_query
from billingdesk.helpdesks.intercom.verification import signature as ic_signature
from billingdesk.helpdesks.models import HelpdeskAgentLink, HelpdeskConnection
from billingdesk.helpdesks.tests.conftest import wired
from billingdesk.helpdesks.tests.test_verification import jwt_rs256, public_pem, zd_claims
from billingdesk.panel.tests.factories import agent, build_shop

HOST = "https://help.acme.example"


def conn(kind: str, **fields: Any) -> HelpdeskConnection:
    fields.setdefault("name", f"{kind} conn")
    return HelpdeskConnection.objects.create(kind=kind, **fields)


def token_of(response: Any) -> str:
    html = response.content.decode()
    start = html.index('id="bd-embed"')
    data = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return str(json.loads(data)["token"])


def panel(client: Client, token: str | None, email: str = "", **headers: str) -> Any:
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(reverse("helpdesks:panel-api"), {"email": email} if email else {}, **headers)


@pytest.fixture
def iframe_conn(db: None) -> HelpdeskConnection:
    return conn("iframe", secrets={"signing_secret": "s3"}, allowed_frame_origins=[HOST])


def iframe_url(c: HelpdeskConnection, **kw: Any) -> str:
    path = reverse("helpdesks:iframe", kwargs={"connection_id": c.pk})
    return f"{path}?{signed_query('s3', **kw)}"


# --- generic signed iframe -------------------------------------------------------------------


def test_signed_iframe_shell_is_framable_only_by_its_host(iframe_conn: HelpdeskConnection) -> None:
    response = Client().get(iframe_url(iframe_conn, email="ana@example.com"))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == f"frame-ancestors {HOST}"
    assert response["X-Frame-Options"] == f"ALLOW-FROM {HOST}"  # fallback for old browsers
    assert response["Referrer-Policy"] == "no-referrer"
    assert "ana@example.com" not in response.content.decode().split('id="bd-embed"')[0]


@pytest.mark.parametrize("mutation", ["tamper", "stale", "unsigned"])
def test_bad_iframe_proof_gets_no_token(iframe_conn: HelpdeskConnection, mutation: str) -> None:
    url = iframe_url(iframe_conn, email="ana@example.com")
    if mutation == "tamper":
        url = url.replace("ana%40", "eve%40")
    elif mutation == "stale":
        url = iframe_url(iframe_conn, email="ana@example.com", ts=int(time.time()) - 3600)
    else:
        url = url.split("&sig=")[0]
    response = Client().get(url)
    assert response.status_code == 401
    assert b"bd-embed" not in response.content
    assert response["Content-Security-Policy"] == f"frame-ancestors {HOST}"


def test_unknown_connection_keeps_framing_denied(db: None) -> None:
    response = Client().get("/embed/iframe/00000000-0000-0000-0000-000000000000/?ts=1&sig=x")
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"
    other = Client().get("/console/")
    assert other["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_panel_shows_the_vouched_customer_read_only(iframe_conn: HelpdeskConnection) -> None:
    shop = build_shop()
    client = Client()
    token = token_of(client.get(iframe_url(iframe_conn, email="ana@example.com")))
    response = panel(client, token, email="somebody-else@example.com")  # hint ignored
    assert response.status_code == 200
    body = response.json()
    assert body["person_id"] == shop.customer.person_id
    assert body["read_only"] is True
    assert "Ana Lopez" in body["html"] and "€50.00" in body["html"]
    assert 'id="bd-read-only"' in body["html"]
    assert "data-action" not in body["html"]  # no action buttons for an unknown agent
    assert response["Content-Security-Policy"] == f"frame-ancestors {HOST}"


def test_vouched_agent_acts_as_their_billingdesk_user(iframe_conn: HelpdeskConnection) -> None:
    build_shop()
    user = agent("agent", "jane")
    user.email = "jane@acme.example"
    user.save()
    # An administered link: a matching email alone is not enough (see test_identity).
    HelpdeskAgentLink.objects.create(
        connection=iframe_conn, agent_email="jane@acme.example", user=user
    )
    client = Client()
    url = iframe_url(iframe_conn, email="ana@example.com", agent="Jane@acme.example")
    body = panel(client, token_of(client.get(url))).json()
    assert body["read_only"] is False and body["agent"] == "jane"


@pytest.mark.parametrize("bad", ["missing", "garbage", "tampered", "expired", "disabled"])
def test_panel_api_refuses_bad_tokens(
    iframe_conn: HelpdeskConnection, bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_shop()
    client = Client()
    token: str | None = token_of(client.get(iframe_url(iframe_conn, email="ana@example.com")))
    assert token is not None
    if bad == "missing":
        token = None
    elif bad == "garbage":
        token = "not-a-token"
    elif bad == "tampered":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif bad == "expired":
        monkeypatch.setattr(embed, "EMBED_TOKEN_TTL", -1)
    else:
        HelpdeskConnection.objects.filter(pk=iframe_conn.pk).update(enabled=False)
    response = panel(client, token)
    assert response.status_code == 401
    assert "html" not in response.json()


def test_token_of_one_connection_does_not_open_another(iframe_conn: HelpdeskConnection) -> None:
    other = conn("chatwoot", name="cw", settings={"base_url": "https://chat.acme.example"})
    client = Client()
    token = token_of(client.get(reverse("helpdesks:chatwoot", kwargs={"connection_id": other.pk})))
    # Chatwoot's page vouches for nothing: no data without a signed-in agent.
    response = panel(client, token, email="ana@example.com")
    assert response.status_code == 403 and response.json()["signin"] is True


# --- Chatwoot: hint only, data after signing in ------------------------------------------------


def test_chatwoot_shows_data_only_after_the_agent_signs_in(db: None) -> None:
    build_shop()
    cw = conn("chatwoot", settings={"base_url": "https://chat.acme.example/app"})
    frame = Client()
    shell = frame.get(reverse("helpdesks:chatwoot", kwargs={"connection_id": cw.pk}))
    assert shell["Content-Security-Policy"] == "frame-ancestors https://chat.acme.example"
    token = token_of(shell)
    assert panel(frame, token, email="ana@example.com").status_code == 403

    # The agent signs in once in a first-party popup, which hands the frame an agent token.
    popup = Client()
    signin_url = reverse("helpdesks:signin", kwargs={"connection_id": cw.pk})
    form = popup.get(signin_url)
    assert form.status_code == 200 and b'name="password"' in form.content
    assert form["Cross-Origin-Opener-Policy"] == "unsafe-none"  # keeps window.opener
    agent("agent", "sam", "pw-for-sam")
    wrong = popup.post(signin_url, {"username": "sam", "password": "nope"})
    assert wrong.status_code == 400 and b"bd-agent" not in wrong.content
    page = popup.post(signin_url, {"username": "sam", "password": "pw-for-sam"}).content.decode()
    start = page.index('id="bd-agent"')
    message = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert message["type"] == "billingdesk-agent"

    body = panel(
        frame, token, email="ana@example.com", HTTP_X_BILLINGDESK_AGENT=message["token"]
    ).json()
    assert body["agent"] == "sam" and body["read_only"] is False and body["person_id"]
    assert 'data-action="refund"' in body["html"]  # the panel's own action buttons

    # An agent token is bound to its connection.
    other = conn("chatwoot", name="cw2", settings={"base_url": "https://other.example"})
    other_token = token_of(
        frame.get(reverse("helpdesks:chatwoot", kwargs={"connection_id": other.pk}))
    )
    refused = panel(
        frame, other_token, email="ana@example.com", HTTP_X_BILLINGDESK_AGENT=message["token"]
    )
    assert refused.status_code == 401


# --- Zendesk, Front, Freshdesk -----------------------------------------------------------------


def test_zendesk_signed_launch(db: None) -> None:
    build_shop()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    zd = conn(
        "zendesk",
        settings={"subdomain": "acme", "installation_id": "42", "public_key": public_pem(key)},
    )
    url = reverse("helpdesks:zendesk", kwargs={"connection_id": zd.pk}) + "?origin=x&app_guid=y"
    client = Client(enforce_csrf_checks=True)
    good = client.post(url, {"token": jwt_rs256(zd_claims(), key)})
    assert good.status_code == 200
    assert good["Content-Security-Policy"] == "frame-ancestors https://acme.zendesk.com"
    body = panel(client, token_of(good), email="ana@example.com").json()
    assert body["person_id"] and body["read_only"] is True  # Zendesk does not vouch for agents
    bad = client.post(url, {"token": jwt_rs256(zd_claims(iss="evil.zendesk.com"), key)})
    assert bad.status_code == 401 and b"bd-embed" not in bad.content
    assert client.get(url).status_code == 405


def test_front_plugin_needs_its_auth_secret(db: None) -> None:
    fr = conn("front", secrets={"auth_secret": "front-s3cret"})
    url = reverse("helpdesks:front", kwargs={"connection_id": fr.pk})
    ok = Client().get(url, {"auth_secret": "front-s3cret"})
    assert ok.status_code == 200
    assert ok["Content-Security-Policy"] == (
        "frame-ancestors https://*.frontapp.com https://*.frontapplication.com"
    )
    assert Client().get(url, {"auth_secret": "guess"}).status_code == 401
    assert Client().get(url).status_code == 401


def test_freshdesk_app_key_exchange(db: None) -> None:
    build_shop()
    fd = conn("freshdesk", settings={"domain": "acme"}, secrets={"app_key": "fd-app-key"})
    url = reverse("helpdesks:freshdesk-launch", kwargs={"connection_id": fd.pk})
    client = Client(enforce_csrf_checks=True)
    assert client.post(url, HTTP_X_BILLINGDESK_KEY="wrong").status_code == 401
    launch = client.post(url, HTTP_X_BILLINGDESK_KEY="fd-app-key")
    assert launch.status_code == 200
    body = panel(client, launch.json()["token"], email="ana@example.com").json()
    assert body["person_id"] and "Ana Lopez" in body["html"]
    bad_email = panel(client, launch.json()["token"], email="not an email")
    assert bad_email.status_code == 400


# --- Help Scout ----------------------------------------------------------------------


def test_helpscout_dynamic_content(db: None) -> None:
    build_shop()
    hs = conn("helpscout", secrets={"secret_key": "hs-secret"})
    url = reverse("helpdesks:helpscout", kwargs={"connection_id": hs.pk})
    body = json.dumps(
        {
            "ticket": {"id": 1, "number": 2, "subject": "Charged"},
            "customer": {"id": 3, "email": None, "emails": ["ANA@example.com"]},
            "user": {"fname": "Jane", "id": 111},
            "mailbox": {"id": 4, "email": "help@acme.example"},
        }
    ).encode()
    client = Client(enforce_csrf_checks=True)
    ok = client.post(
        url, body, content_type="application/json",
        HTTP_X_HELPSCOUT_SIGNATURE=hs_signature(body, "hs-secret"),
    )  # fmt: skip
    assert ok.status_code == 200
    html = ok.json()["html"]
    assert "Ana Lopez" in html and "€50.00" in html and "<script" not in html
    # The customer billing link button, as in the other sidebars (the page checks the agent).
    person_id = Customer.objects.get(email="ana@example.com").person_id
    assert f'{settings.BASE_URL}/billing/agent/people/{person_id}"' in html
    assert "Billing link for the customer" in html
    tampered = client.post(
        url, body.replace(b"ANA", b"EVE"), content_type="application/json",
        HTTP_X_HELPSCOUT_SIGNATURE=hs_signature(body, "hs-secret"),
    )  # fmt: skip
    assert tampered.status_code == 403 and "html" not in tampered.json()
    not_json = b"not json"
    garbage = client.post(
        url, not_json, content_type="application/json",
        HTTP_X_HELPSCOUT_SIGNATURE=hs_signature(not_json, "hs-secret"),
    )  # fmt: skip
    assert garbage.status_code == 400


def test_helpscout_escapes_customer_data(db: None) -> None:
    from billingdesk.billing.models import Customer, Person

    shop = build_shop()
    Customer.objects.filter(pk=shop.customer.pk).update(name="<script>x</script>")
    Person.objects.filter(pk=shop.customer.person_id).update(name="<img src=x onerror=alert(1)>")
    hs = conn("helpscout", secrets={"secret_key": "k"})
    body = json.dumps({"customer": {"email": "ana@example.com"}}).encode()
    html = Client().post(
        reverse("helpdesks:helpscout", kwargs={"connection_id": hs.pk}), body,
        content_type="application/json", HTTP_X_HELPSCOUT_SIGNATURE=hs_signature(body, "k"),
    ).json()["html"]  # fmt: skip
    assert "<img" not in html and "&lt;img" in html


# --- Intercom ------------------------------------------------------------------------


def intercom_post(
    c: HelpdeskConnection, step: str, payload: dict[str, Any], secret: str = "ic"
) -> Any:
    body = json.dumps(payload).encode()
    return Client(enforce_csrf_checks=True).post(
        reverse(f"helpdesks:intercom-{step}", kwargs={"connection_id": c.pk}),
        body,
        content_type="application/json",
        HTTP_X_BODY_SIGNATURE=ic_signature(body, secret),
    )


def _components(response: Any) -> list[dict[str, Any]]:
    return list(response.json()["canvas"]["content"]["components"])


def test_intercom_canvas_refund_through_a_confirm_step(db: None) -> None:
    shop = build_shop()
    user = agent("agent", "jane")
    user.email = "jane@acme.example"
    user.save()
    ic = conn(
        "intercom",
        settings={"workspace_id": "ws1"},
        secrets={"client_secret": "ic"},
        agent_email_domains=["acme.example"],
    )
    base = {
        "workspace_id": "ws1",
        "admin": {"id": "1", "email": "jane@acme.example"},
        "contact": {"id": "c1", "email": "ana@example.com"},
        "context": {"location": "conversation"},
    }
    home = intercom_post(ic, "initialize", base)
    assert home.status_code == 200
    items = [i for comp in _components(home) if comp["type"] == "list" for i in comp["items"]]
    charge_item = next(i for i in items if i["id"] == f"charge:{shop.charge.pk}")
    assert charge_item["title"].startswith("€50.00") and charge_item["action"] == {"type": "submit"}
    assert any(i["id"] == f"sub:{shop.subscription.pk}" for i in items)
    [billing_link] = [c for c in _components(home) if c.get("id") == "billing-link"]
    assert billing_link["action"]["url"].endswith(
        f"/billing/agent/people/{shop.customer.person_id}"
    )

    form = intercom_post(ic, "submit", {**base, "component_id": f"charge:{shop.charge.pk}"})
    assert any(c.get("id") == "amount" for c in _components(form))
    stored = form.json()["canvas"]["stored_data"]

    review = intercom_post(ic, "submit", {
        **base, "component_id": "review", "current_canvas": {"stored_data": stored},
        "input_values": {
            "amount": "1500", "reason_code": "duplicate", "reason_text": "charged twice",
        },
    })  # fmt: skip
    assert any(c.get("id") == "confirm" for c in _components(review))
    assert Refund.objects.count() == 0  # nothing happens before the confirm
    confirm = {
        **base,
        "component_id": "confirm",
        "current_canvas": {"stored_data": review.json()["canvas"]["stored_data"]},
    }
    done = intercom_post(ic, "submit", confirm)
    assert done.status_code == 200
    assert any("Done" in c.get("text", "") for c in _components(done))
    again = intercom_post(ic, "submit", confirm)  # a double click
    assert again.status_code == 200
    assert ActionRequest.objects.count() == 1
    assert Refund.objects.filter(charge=shop.charge).count() == 1
    assert Refund.objects.get(charge=shop.charge).amount == 1500


def test_intercom_unknown_teammate_is_read_only_and_bad_signatures_refused(db: None) -> None:
    shop = build_shop()
    ic = conn("intercom", secrets={"client_secret": "ic"})
    base = {"admin": {"email": "stranger@acme.example"}, "contact": {"email": "ana@example.com"}}
    home = intercom_post(ic, "initialize", base)
    items = [i for comp in _components(home) if comp["type"] == "list" for i in comp["items"]]
    assert items and all("action" not in i for i in items)
    assert not [c for c in _components(home) if c.get("id") == "billing-link"]
    click = intercom_post(ic, "submit", {**base, "component_id": f"charge:{shop.charge.pk}"})
    assert not any(c.get("id") == "amount" for c in _components(click))
    assert intercom_post(ic, "initialize", base, secret="wrong").status_code == 401


# --- ticket API ----------------------------------------------------------------------


def test_ticket_api(db: None, no_sleep: list[float]) -> None:
    build_shop()
    with wired("zendesk") as w:
        url = reverse("helpdesks:ticket-api", kwargs={"connection_id": w.connection.pk})
        payload = {
            "requester_email": "ana@example.com",
            "subject": "Invoice question",
            "external_id": "m-1",
        }
        assert Client().post(url, payload, content_type="application/json").status_code == 401
        reader = Client()
        reader.force_login(agent("read_only", "reader"))
        assert reader.post(url, payload, content_type="application/json").status_code == 403
        client = Client()
        client.force_login(agent("agent", "jane"))
        created = client.post(url, payload, content_type="application/json")
        assert created.status_code == 201 and created.json()["person_id"]
        again = client.post(url, payload, content_type="application/json")
        assert again.status_code == 200 and again.json()["ticket_id"] == created.json()["ticket_id"]
        assert client.post(url, b"[", content_type="application/json").status_code == 400
        bad = client.post(
            url, {"requester_email": "x", "subject": "s"}, content_type="application/json"
        )
        assert bad.status_code == 400 and "email" in bad.json()["error"]
        w.fake.fail_next("/", 503, times=5)
        down = client.post(url, {**payload, "external_id": "m-2"}, content_type="application/json")
        assert down.status_code == 503


def test_frame_origins_are_the_helpdesks_own_plus_configured_ones(db: None) -> None:
    zd = conn(
        "zendesk",
        settings={"subdomain": "acme"},
        allowed_frame_origins=["https://support.acme.example", "https://acme.zendesk.com"],
    )
    assert embed.frame_ancestors(zd) == (
        "frame-ancestors https://acme.zendesk.com https://support.acme.example"
    )
    # A bad stored value (written around the validators) never widens framing.
    HelpdeskConnection.objects.filter(pk=zd.pk).update(allowed_frame_origins=["*", "'self' *"])
    zd.refresh_from_db()
    assert embed.frame_ancestors(zd) == "frame-ancestors https://acme.zendesk.com"


def test_intercom_cancel_subscription_through_a_confirm_step(db: None) -> None:
    shop = build_shop()
    user = agent("agent", "jane")
    user.email = "jane@acme.example"
    user.save()
    ic = conn("intercom", secrets={"client_secret": "ic"})
    HelpdeskAgentLink.objects.create(connection=ic, agent_id="7", user=user)
    base = {"admin": {"id": "7", "email": "x@y.example"}, "contact": {"email": "ana@example.com"}}
    form = intercom_post(ic, "submit", {**base, "component_id": f"sub:{shop.subscription.pk}"})
    assert any(c.get("id") == "when" for c in _components(form))
    review = intercom_post(ic, "submit", {
        **base, "component_id": "review",
        "current_canvas": {"stored_data": form.json()["canvas"]["stored_data"]},
        "input_values": {"when": "now", "reason_code": "requested_by_customer",
                         "reason_text": "asked by chat"},
    })  # fmt: skip
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"  # the review changes nothing
    stored = review.json()["canvas"]["stored_data"]
    done = intercom_post(ic, "submit", {**base, "component_id": "confirm",
                                        "current_canvas": {"stored_data": stored}})  # fmt: skip
    assert any("Done" in c.get("text", "") for c in _components(done))
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "canceled"


def test_intercom_cannot_act_on_another_customers_record(db: None) -> None:
    shop = build_shop()
    user = agent("agent", "jane")
    user.email = "jane@acme.example"
    user.save()
    ic = conn("intercom", secrets={"client_secret": "ic"}, agent_email_domains=["acme.example"])
    base = {"admin": {"email": "jane@acme.example"}, "contact": {"email": "someone@example.com"}}
    click = intercom_post(ic, "submit", {**base, "component_id": f"charge:{shop.charge.pk}"})
    assert "not this contact's" in json.dumps(click.json())


def test_panel_token_renews_but_not_forever(
    iframe_conn: HelpdeskConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_shop()
    client = Client(enforce_csrf_checks=True)
    token = token_of(client.get(iframe_url(iframe_conn, email="ana@example.com")))
    renew = reverse("helpdesks:renew-api")
    fresh = client.post(renew, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert fresh.status_code == 200
    new_token = fresh.json()["token"]
    assert new_token != token
    # The renewed token still vouches for the same customer only.
    assert panel(client, new_token, email="eve@example.com").json()["person_id"]
    assert client.post(renew).status_code == 401
    assert client.post(renew, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    # Past the session's maximum age since the proof was checked, no more renewals.
    monkeypatch.setattr(embed, "EMBED_SESSION_MAX_AGE", -1)
    stale = client.post(renew, HTTP_AUTHORIZATION=f"Bearer {new_token}")
    assert stale.status_code == 401 and "too long" in stale.json()["error"]
