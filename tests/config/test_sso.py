"""Agents sign in with their company's identity provider (OpenID Connect, code flow + PKCE)
against a real provider on a socket (tests/fakes/oidc_provider.py): first sign-in and role
from the IdP's groups, no role → no access, role changes and removals audited, an existing
account linked by its verified email, SSO-only mode, the session re-checked with the IdP —
and the ID tokens an attacker would send (wrong audience or issuer, expired, unsigned,
signed with another key, a replayed code, a forged state) refused without a 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.test import Client

from billingdesk.accounts.models import AgentProfile, SSOIdentity
from billingdesk.accounts.sso_state import SSO_SESSION_KEY
from billingdesk.actions.models import AuditEntry
from tests.fakes.oidc_provider import FakeOIDCProvider, new_key

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oidc/callback/"
ROLES = "admin=billing-admins,finance=billing-finance,agent=billing-agents"


@pytest.fixture
def op(settings: Any) -> Iterator[FakeOIDCProvider]:
    provider = FakeOIDCProvider("billingdesk", "op-secret", [CALLBACK]).start()
    settings.OIDC_RP_CLIENT_ID = "billingdesk"
    settings.OIDC_RP_CLIENT_SECRET = "op-secret"
    settings.OIDC_OP_ISSUER = provider.issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = provider.endpoint("authorize")
    settings.OIDC_OP_TOKEN_ENDPOINT = provider.endpoint("token")
    settings.OIDC_OP_USER_ENDPOINT = provider.endpoint("userinfo")
    settings.OIDC_OP_JWKS_ENDPOINT = provider.endpoint("jwks")
    settings.BILLINGDESK_SSO_ROLES = ROLES
    provider.users["u-ada"] = {
        "email": "ada@example.com", "email_verified": True, "given_name": "Ada",
        "family_name": "Lovelace", "preferred_username": "ada", "groups": ["billing-agents"],
    }  # fmt: skip
    provider.current = "u-ada"
    yield provider
    provider.stop()


def sso(client: Client, op: FakeOIDCProvider, next_url: str = "/console/") -> Any:
    """The browser's trip: billingdesk → the IdP's authorize → back to the callback."""
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302, start.content[:300]
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    back = urlsplit(at_idp.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def _actions() -> list[tuple[str, str, str]]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", "result", "reason_code"))


def test_first_sign_in_creates_the_agent_with_the_role_of_their_group(op):
    client = Client()
    response = sso(client, op)
    assert response.status_code == 302 and response["Location"] == "/console/"
    user = User.objects.get(email="ada@example.com")
    assert (user.username, user.first_name, user.has_usable_password()) == ("ada", "Ada", False)
    assert AgentProfile.objects.get(user=user).role == "agent"
    assert SSOIdentity.objects.get(user=user).subject == "u-ada"
    assert client.get("/console/").status_code == 200  # signed in, second factor satisfied
    assert client.session[SSO_SESSION_KEY] is True
    assert _actions() == [("sso_user_created", "succeeded", ""),
                          ("role_changed", "succeeded", "none->agent"),
                          ("sso_sign_in", "succeeded", "")]  # fmt: skip
    # PKCE really happened: the IdP got a S256 challenge, billingdesk sent the verifier.
    assert op.authorize_requests[-1]["code_challenge_method"] == "S256"
    assert op.token_requests[-1]["code_verifier"]


def test_no_mapped_group_means_no_access_until_an_admin_gives_a_role(op, settings):
    settings.BILLINGDESK_SSO_ROLES = ""
    client = Client()
    response = sso(client, op)
    assert response["Location"].startswith("/login/")
    page = client.get(response["Location"]).content.decode()
    assert "has no role yet" in page
    assert client.get("/console/").status_code == 302  # not signed in
    user = User.objects.get(email="ada@example.com")  # created, powerless
    assert not AgentProfile.objects.filter(user=user).exists()
    AgentProfile.objects.create(user=user, role="finance")  # the admin gives a role
    assert sso(client, op)["Location"] == "/console/"
    assert AgentProfile.objects.get(user=user).role == "finance"  # not overridden: no mapping


def test_group_changes_at_the_idp_change_the_role_at_the_next_sign_in(op):
    sso(Client(), op)
    op.users["u-ada"]["groups"] = ["billing-agents", "billing-finance"]  # the higher wins
    assert sso(Client(), op)["Location"] == "/console/"
    user = User.objects.get(username="ada")
    assert AgentProfile.objects.get(user=user).role == "finance"
    op.users["u-ada"]["groups"] = ["marketing"]  # out of every billing group
    client = Client()
    assert sso(client, op)["Location"].startswith("/login/")
    assert not AgentProfile.objects.filter(user=user).exists()
    changes = [r for a, _, r in _actions() if a == "role_changed"]
    assert changes == ["none->agent", "agent->finance", "finance->none"]
    assert ("sso_sign_in", "refused", "no_role") in _actions()


def test_disabled_at_the_idp_or_in_billingdesk_cannot_sign_in(op):
    sso(Client(), op)
    op.disabled.add("u-ada")  # the IdP answers access_denied
    client = Client()
    response = sso(client, op)
    assert response["Location"].startswith("/login/")
    assert client.get("/console/").status_code == 302
    op.disabled.clear()
    User.objects.filter(username="ada").update(is_active=False)
    response = sso(client, op)
    assert "deactivated" in client.get(response["Location"]).content.decode()


def test_an_existing_account_is_linked_once_by_its_verified_email(op):
    existing = User.objects.create_user("ada.l", email="ADA@example.com", password="pw-12345678")
    sso(Client(), op)
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1
    assert SSOIdentity.objects.get(subject="u-ada").user == existing
    # The email changes at the IdP: the identity (issuer + subject) still finds the user.
    op.users["u-ada"]["email"] = "ada.lovelace@example.com"
    assert sso(Client(), op)["Location"] == "/console/"
    assert User.objects.count() == 1


def test_an_unverified_email_is_not_linked(op):
    User.objects.create_user("victim", email="ada@example.com", password="pw-12345678")
    op.users["u-ada"]["email_verified"] = False
    sso(Client(), op)
    assert SSOIdentity.objects.get(subject="u-ada").user.username == "ada"  # a new user


@pytest.mark.parametrize(
    "twist",
    [
        {"id_token_overrides": {"aud": "another-app"}},
        {"id_token_overrides": {"aud": ["billingdesk", "another-app"]}},  # no azp
        {"id_token_overrides": {"iss": "https://evil.example"}},
        {"id_token_overrides": {"exp": int(time.time()) - 600}},
        {"id_token_overrides": {"nonce": "not-the-one"}},
        {"id_token_overrides": {"iat": None}},
        {"sign_with": new_key()},
        {"unsigned": True},
    ],
    ids=[
        "audience",
        "audiences-no-azp",
        "issuer",
        "expired",
        "nonce",
        "no-iat",
        "wrong-key",
        "unsigned",
    ],
)
def test_forged_or_misdirected_id_tokens_are_refused(op, twist):
    for name, value in twist.items():
        setattr(op, name, value)
    client = Client()
    response = sso(client, op)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/console/").status_code == 302
    assert not User.objects.filter(email="ada@example.com").exists()
    assert _actions()[-1][:2] == ("sso_sign_in", "refused")


def test_a_replayed_code_or_a_forged_state_is_refused(op):
    client = Client()
    start = client.get("/oidc/authenticate/")
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_idp.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert client.get(back.path, query).status_code == 302
    # The same callback again: its state was used up.
    other = Client()
    assert other.get(back.path, query).status_code in (302, 400)
    assert other.get("/console/").status_code == 302
    # A fresh state in the session but the old code: the IdP refuses the code's reuse.
    fresh = other.get("/oidc/authenticate/")
    state = parse_qs(urlsplit(fresh["Location"]).query)["state"][0]
    response = other.get(back.path, {"code": query["code"], "state": state})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert other.get("/console/").status_code == 302
    assert other.get(back.path, {"code": "x", "state": "forged"}).status_code == 400


def test_sso_only_mode_keeps_passwords_for_superusers_only(op, settings):
    settings.BILLINGDESK_SSO_ONLY = True
    User.objects.create_user("pat", password="pw-12345678")
    User.objects.create_superuser("root", "root@example.com", "pw-12345678")
    page = Client().get("/login/").content.decode()
    assert 'id="sso-sign-in"' in page and "Sign in with single sign-on" in page
    refused = Client().post("/login/", {"username": "pat", "password": "pw-12345678"})
    assert refused.status_code == 200 and "passwords are turned off" in refused.content.decode()
    admin = Client()
    assert admin.post("/login/", {"username": "root", "password": "pw-12345678"}).status_code == 302


def test_the_sso_session_is_checked_with_the_idp_again_when_its_time_is_up(op):
    client = Client()
    sso(client, op)
    assert client.get("/console/").status_code == 200
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith(op.issuer)
    assert "prompt=none" in response["Location"]
    # A password session is not sent to the IdP.
    User.objects.create_user("pat", password="pw-12345678")
    AgentProfile.objects.create(user=User.objects.get(username="pat"), role="agent")
    password = Client()
    password.post("/login/", {"username": "pat", "password": "pw-12345678"})
    assert password.get("/console/").status_code == 200


def test_off_by_default_and_half_configured_is_refused_at_start_up(settings):
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert 'id="sso-sign-in"' not in Client().get("/login/").content.decode()
    settings.OIDC_RP_CLIENT_ID = "billingdesk"
    settings.OIDC_OP_TOKEN_ENDPOINT = ""
    settings.BILLINGDESK_SSO_ROLES = "boss=it"
    ids = {message.id for message in run_checks()}
    assert {"billingdesk.E120", "billingdesk.E121"} <= ids


def test_the_helpdesk_panel_popup_signs_in_through_sso(op):
    """The embedded panel's sign-in popup offers SSO; after the IdP it lands back on the
    popup, which hands the frame its agent token, and no step cuts it from its opener."""
    from django.urls import reverse

    from billingdesk.helpdesks.models import HelpdeskConnection

    chatwoot = HelpdeskConnection.objects.create(
        kind="chatwoot", name="cw", settings={"base_url": "https://chat.acme.example/app"}
    )
    signin_url = reverse("helpdesks:signin", kwargs={"connection_id": chatwoot.pk})
    popup = Client()
    form = popup.get(signin_url)
    assert form.status_code == 200 and 'id="sso-sign-in"' in form.content.decode()
    start = popup.get("/oidc/authenticate/", {"next": signin_url})
    assert start["Cross-Origin-Opener-Policy"] == "unsafe-none"
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_idp.headers["Location"])
    done = popup.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert done["Location"] == signin_url and done["Cross-Origin-Opener-Policy"] == "unsafe-none"
    page = popup.get(signin_url)
    assert 'id="bd-agent"' in page.content.decode()
