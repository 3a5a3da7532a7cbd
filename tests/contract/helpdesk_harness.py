"""What each helpdesk provider supplies so the helpdesk contract suite can drive it.

``launch`` makes the request the helpdesk makes when an agent opens our panel, carrying the
provider's proof in one of four states: ``valid``; ``tampered`` (the content changed after
signing); ``stale`` (signed long ago; only for proofs that carry a time: ``timed``); and
``foreign`` (valid for another connection, presented to this one).
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse

from billingdesk.helpdesks.helpscout.verification import signature as hs_signature
from billingdesk.helpdesks.iframe.verification import signed_query
from billingdesk.helpdesks.intercom.verification import signature as ic_signature
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.tests.test_verification import jwt_rs256, public_pem, zd_claims


class HelpdeskHarness(Protocol):
    kind: ClassVar[str]
    timed: ClassVar[bool]

    def connection(self, secret: str) -> HelpdeskConnection: ...

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any: ...


def _conn(kind: str, **fields: Any) -> HelpdeskConnection:
    fields.setdefault("name", f"{kind} {time.monotonic_ns()}")
    return HelpdeskConnection.objects.create(kind=kind, **fields)


class IframeHarness:
    kind = "iframe"
    timed = True
    url_name = "helpdesks:iframe"

    def connection(self, secret: str) -> HelpdeskConnection:
        return _conn(self.kind, secrets={"signing_secret": secret})

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any:
        ts = int(time.time()) - (3600 if proof == "stale" else 0)
        query = signed_query(secret, email="ana@example.com", ts=ts)
        if proof == "tampered":
            query = query.replace("ana%40", "eve%40")
        path = reverse(self.url_name, kwargs={"connection_id": connection.pk})
        return Client().get(f"{path}?{query}")


class ZammadHarness(IframeHarness):
    """Zammad's sidebar is the signed iframe URL, on the Zammad connection's own address."""

    kind = "zammad"
    url_name = "helpdesks:zammad"

    def connection(self, secret: str) -> HelpdeskConnection:
        return _conn(
            self.kind,
            settings={"base_url": "https://support.acme.example"},
            secrets={"signing_secret": secret, "api_token": "zm"},
        )


class FreeScoutHarness(ZammadHarness):
    """FreeScout's sidebar is the signed iframe URL too, on its own address."""

    kind = "freescout"
    url_name = "helpdesks:freescout"


class ZendeskHarness:
    kind = "zendesk"
    timed = True
    _keys: ClassVar[dict[str, rsa.RSAPrivateKey]] = {}

    def _key(self, secret: str) -> rsa.RSAPrivateKey:
        if secret not in self._keys:
            self._keys[secret] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._keys[secret]

    def connection(self, secret: str) -> HelpdeskConnection:
        settings = {
            "subdomain": "acme",
            "installation_id": "42",
            "public_key": public_pem(self._key(secret)),
        }
        return _conn(self.kind, settings=settings)

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any:
        now = int(time.time())
        claims = zd_claims(iat=now - 7200, exp=now - 3600) if proof == "stale" else zd_claims()
        token = jwt_rs256(claims, self._key(secret))
        if proof == "tampered":
            head, _, sig = token.split(".")
            other = jwt_rs256(zd_claims(aud=claims["aud"] + "?x"), self._key(secret))
            token = ".".join([head, other.split(".")[1], sig])
        url = reverse("helpdesks:zendesk", kwargs={"connection_id": connection.pk})
        return Client().post(url + "?origin=x&app_guid=y", {"token": token})


class HelpScoutHarness:
    kind = "helpscout"
    timed = False

    def connection(self, secret: str) -> HelpdeskConnection:
        return _conn(self.kind, secrets={"secret_key": secret})

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any:
        body = json.dumps({"customer": {"email": "ana@example.com"}}).encode()
        signature = hs_signature(body, secret)
        if proof == "tampered":
            body = body.replace(b"ana@", b"eve@")
        url = reverse("helpdesks:helpscout", kwargs={"connection_id": connection.pk})
        return Client().post(
            url, body, content_type="application/json", HTTP_X_HELPSCOUT_SIGNATURE=signature
        )


class IntercomHarness:
    kind = "intercom"
    timed = False

    def connection(self, secret: str) -> HelpdeskConnection:
        return _conn(self.kind, secrets={"client_secret": secret})

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any:
        body = json.dumps(
            {"admin": {"email": "jane@acme.example"}, "contact": {"email": "ana@example.com"}}
        ).encode()
        signature = ic_signature(body, secret)
        if proof == "tampered":
            body = body.replace(b"ana@", b"eve@")
        url = reverse("helpdesks:intercom-initialize", kwargs={"connection_id": connection.pk})
        return Client().post(
            url, body, content_type="application/json", HTTP_X_BODY_SIGNATURE=signature
        )


class FrontHarness:
    """Front's plugin proof is a shared secret in the URL: nothing to tamper but the secret."""

    kind = "front"
    timed = False

    def connection(self, secret: str) -> HelpdeskConnection:
        return _conn(self.kind, secrets={"auth_secret": secret})

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any:
        given = secret + "x" if proof == "tampered" else secret
        url = reverse("helpdesks:front", kwargs={"connection_id": connection.pk})
        return Client().get(url, {"auth_secret": given})


class FreshdeskHarness:
    """Freshdesk's app sends its installation key in a header: a shared secret too."""

    kind = "freshdesk"
    timed = False

    def connection(self, secret: str) -> HelpdeskConnection:
        return _conn(self.kind, settings={"domain": "acme"}, secrets={"app_key": secret})

    def launch(self, connection: HelpdeskConnection, *, secret: str, proof: str) -> Any:
        given = secret[:-1] if proof == "tampered" else secret
        url = reverse("helpdesks:freshdesk-launch", kwargs={"connection_id": connection.pk})
        return Client().post(url, HTTP_X_BILLINGDESK_KEY=given)


HELPDESK_HARNESSES: dict[str, type[HelpdeskHarness]] = {
    h.kind: h
    for h in (
        IframeHarness,
        ZendeskHarness,
        HelpScoutHarness,
        IntercomHarness,
        FrontHarness,
        FreshdeskHarness,
        ZammadHarness,
        FreeScoutHarness,
    )
}
