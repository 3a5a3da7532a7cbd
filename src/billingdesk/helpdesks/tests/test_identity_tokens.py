"""Who an agent acts as (links, allowed domains, never a superuser by email) and how long
panel tokens live (secret version, sign-out, one-time Zendesk proofs). Issue 10 #11, #12."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billingdesk.helpdesks import embed
from billingdesk.helpdesks.models import HelpdeskAgentLink, HelpdeskConnection, UsedProof
from billingdesk.helpdesks.tests.test_embed import (
    _components,
    conn,
    iframe_url,
    intercom_post,
    panel,
    token_of,
)
from billingdesk.helpdesks.tests.test_verification import jwt_rs256, public_pem, zd_claims
from billingdesk.panel.tests.factories import agent, build_shop

pytestmark = pytest.mark.django_db


def _can_act(response: Any) -> bool:
    items = [i for comp in _components(response) if comp["type"] == "list" for i in comp["items"]]
    assert items
    return all("action" in i for i in items)


def _superuser(email: str = "Boss@Acme.example") -> User:
    return User.objects.create_superuser("boss", email=email, password="pw")


# --- identity ------------------------------------------------------------------------------


def test_an_intercom_teammate_with_a_superusers_email_is_read_only() -> None:
    build_shop()
    _superuser()
    ic = conn("intercom", secrets={"client_secret": "ic"}, agent_email_domains=["acme.example"])
    base = {
        "admin": {"id": "9", "email": "boss@ACME.example"},
        "contact": {"email": "ana@example.com"},
    }
    home = intercom_post(ic, "initialize", base)
    assert not _can_act(home)
    assert "not linked" in json.dumps(home.json())


def test_an_explicit_link_may_name_any_user_even_a_superuser() -> None:
    build_shop()
    boss = _superuser()
    ic = conn("intercom", secrets={"client_secret": "ic"})
    HelpdeskAgentLink.objects.create(connection=ic, agent_id="9", user=boss)
    base = {
        "admin": {"id": "9", "email": "whoever@else.example"},
        "contact": {"email": "ana@example.com"},
    }
    assert _can_act(intercom_post(ic, "initialize", base))
    # The link is the connection's: the same admin id on another workspace is nobody.
    other = conn("intercom", name="other", secrets={"client_secret": "ic"})
    assert not _can_act(intercom_post(other, "initialize", base))


def test_an_allowed_domain_maps_a_vouched_email_to_its_user() -> None:
    build_shop()
    jane = agent("agent", "jane")
    jane.email = "jane@acme.example"
    jane.save()
    ic = conn("intercom", secrets={"client_secret": "ic"})
    base = {
        "admin": {"id": "1", "email": "Jane@acme.example"},
        "contact": {"email": "ana@example.com"},
    }
    assert not _can_act(intercom_post(ic, "initialize", base))  # no domain, no link
    HelpdeskConnection.objects.filter(pk=ic.pk).update(agent_email_domains=["acme.example"])
    assert _can_act(intercom_post(ic, "initialize", base))
    # Exactly that address: a +tag is another mailbox, not Jane.
    tagged = {**base, "admin": {"id": "1", "email": "jane+x@acme.example"}}
    assert not _can_act(intercom_post(ic, "initialize", tagged))


def test_an_iframe_signer_cannot_vouch_for_any_agent_email() -> None:
    build_shop()
    _superuser("boss@acme.example")
    jane = agent("agent", "jane")
    jane.email = "jane@acme.example"
    jane.save()
    frame = conn("iframe", secrets={"signing_secret": "s3"}, agent_email_domains=["acme.example"])
    client = Client()
    for who, read_only in [("boss@acme.example", True), ("jane@acme.example", False)]:
        url = iframe_url(frame, email="ana@example.com", agent=who)
        body = panel(client, token_of(client.get(url))).json()
        assert body["read_only"] is read_only, who


# --- tokens --------------------------------------------------------------------------------


def test_tokens_issued_before_a_secret_rotation_never_work_again() -> None:
    build_shop()
    frame = conn("iframe", secrets={"signing_secret": "s3"})
    client = Client()
    token = token_of(client.get(iframe_url(frame, email="ana@example.com")))
    assert panel(client, token).status_code == 200
    frame.secrets = {"signing_secret": "s4"}
    frame.save()
    refused = panel(client, token)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]


def test_disabling_then_re_enabling_does_not_revive_old_tokens() -> None:
    build_shop()
    frame = conn("iframe", secrets={"signing_secret": "s3"})
    client = Client()
    token = token_of(client.get(iframe_url(frame, email="ana@example.com")))
    frame.enabled = False
    frame.save()
    frame.enabled = True
    frame.save()
    assert panel(client, token).status_code == 401
    fresh = token_of(client.get(iframe_url(frame, email="ana@example.com")))
    assert panel(client, fresh).status_code == 200


def test_the_admin_form_rotates_the_version_only_when_secrets_change(admin_client: Client) -> None:
    frame = conn("iframe", secrets={"signing_secret": "s3"})
    url = reverse("admin:helpdesks_helpdeskconnection_change", args=[frame.pk])
    data = {
        "name": frame.name,
        "enabled": "on",
        "settings": "{}",
        "origins": "",
        "agent_domains": "acme.example",
        "new_secrets": "",
        "agent_links-TOTAL_FORMS": "0",
        "agent_links-INITIAL_FORMS": "0",
    }
    assert admin_client.post(url, data).status_code == 302
    frame.refresh_from_db()
    assert frame.secret_version == 1 and frame.agent_email_domains == ["acme.example"]
    assert admin_client.post(url, {**data, "new_secrets": "signing_secret=s4"}).status_code == 302
    frame.refresh_from_db()
    assert frame.secret_version == 2


def _agent_token(popup: Client, connection: HelpdeskConnection) -> str:
    url = reverse("helpdesks:signin", kwargs={"connection_id": connection.pk})
    page = popup.post(url, {"username": "sam", "password": "pw-for-sam"}).content.decode()
    start = page.index('id="bd-agent"')
    return str(
        json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])["token"]
    )


def test_signing_out_revokes_the_agent_token() -> None:
    build_shop()
    cw = conn("chatwoot", settings={"base_url": "https://chat.acme.example"})
    frame = Client()
    token = token_of(frame.get(reverse("helpdesks:chatwoot", kwargs={"connection_id": cw.pk})))
    sam = agent("agent", "sam", "pw-for-sam")
    popup = Client()
    agent_token = _agent_token(popup, cw)
    ok = panel(frame, token, email="ana@example.com", HTTP_X_BILLINGDESK_AGENT=agent_token)
    assert ok.json()["agent"] == "sam"
    popup.post(reverse("logout"))
    gone = panel(frame, token, email="ana@example.com", HTTP_X_BILLINGDESK_AGENT=agent_token)
    assert gone.status_code == 401 and "signed out" in gone.json()["error"]
    # A new password revokes the token of a session that is still open, too.
    popup = Client()
    agent_token = _agent_token(popup, cw)
    sam.set_password("another-pw-77")
    sam.save()
    changed = panel(frame, token, email="ana@example.com", HTTP_X_BILLINGDESK_AGENT=agent_token)
    assert changed.status_code == 401


def test_a_zendesk_token_is_accepted_once() -> None:
    build_shop()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    zd = conn(
        "zendesk",
        settings={"subdomain": "acme", "installation_id": "42", "public_key": public_pem(key)},
    )
    url = reverse("helpdesks:zendesk", kwargs={"connection_id": zd.pk})
    signed = jwt_rs256({**zd_claims(), "jti": uuid.uuid4().hex}, key)
    assert Client().post(url, {"token": signed}).status_code == 200
    replay = Client().post(url, {"token": signed})
    assert replay.status_code == 401 and b"already used" in replay.content
    # Without a jti, the token itself is what may be used once.
    bare = jwt_rs256(zd_claims(), key)
    assert Client().post(url, {"token": bare}).status_code == 200
    assert Client().post(url, {"token": bare}).status_code == 401
    assert UsedProof.objects.count() == 2


def test_used_proofs_are_pruned_once_expired() -> None:
    frame = conn("iframe", secrets={"signing_secret": "s3"})
    UsedProof.objects.create(key="old", expires_at=timezone.now() - timedelta(minutes=1))
    embed.proof_use_once(frame, kind="t", value="v", expires_at=timezone.now().timestamp() + 60)
    assert list(UsedProof.objects.values_list("key", flat=True)) != ["old"]
    assert not UsedProof.objects.filter(key="old").exists()
