"""Each helpdesk's proof, checked against vectors computed outside the code under test.

The HMAC vectors were computed with the openssl command line (the command is beside each);
the Zendesk JWTs are assembled here by hand from ``cryptography`` primitives, not with PyJWT.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks.freshdesk import verification as freshdesk
from billingdesk.helpdesks.front import verification as front
from billingdesk.helpdesks.helpscout import verification as helpscout
from billingdesk.helpdesks.iframe import verification as iframe
from billingdesk.helpdesks.intercom import verification as intercom
from billingdesk.helpdesks.zendesk import verification as zendesk

# --- Help Scout: base64(HMAC-SHA1(secret, raw body)) -------------------------------------

HS_BODY = (
    b'{"ticket":{"id":123,"number":456,"subject":"Charged twice"},"customer":{"id":789,'
    b'"fname":"Ana","lname":"Diaz","email":"ana@example.com","emails":["ana@example.com"]},'
    b'"user":{"fname":"Jane","lname":"Agent","id":111,"role":"user","convRedirect":0},'
    b'"mailbox":{"id":222,"email":"help@example.com"}}'
)
HS_SECRET = "hs-secret-0123456789"
# openssl dgst -sha1 -hmac 'hs-secret-0123456789' -binary hs.json | base64
HS_SIGNATURE = "VDN9+fxTAhH8fbtkBwzcTpTsUd4="


def test_helpscout_valid_signature_passes() -> None:
    helpscout.verify(HS_BODY, HS_SIGNATURE, HS_SECRET)


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (HS_BODY.replace(b"Charged twice", b"Charged thrice"), HS_SIGNATURE, HS_SECRET),
        (HS_BODY, HS_SIGNATURE, "another-secret"),
        (HS_BODY, "", HS_SECRET),
        (HS_BODY, "not base64!", HS_SECRET),
        (HS_BODY, HS_SIGNATURE, ""),
    ],
    ids=["tampered-body", "wrong-secret", "missing", "garbage", "no-secret-configured"],
)
def test_helpscout_bad_signatures_fail(body: bytes, header: str, secret: str) -> None:
    with pytest.raises(SignatureInvalid):
        helpscout.verify(body, header, secret)


# --- Intercom: hex(HMAC-SHA256(client_secret, raw body)) ----------------------------------

IC_BODY = (
    b'{"workspace_id":"ws1","admin":{"type":"admin","id":"123","name":"Jane Agent",'
    b'"email":"jane@example.com"},"contact":{"type":"contact","id":"c1","email":"ana@example.com"},'
    b'"context":{"conversation_id":1911149811,"location":"conversation","locale":"en"}}'
)
IC_SECRET = "ic-client-secret"
# openssl dgst -sha256 -hmac 'ic-client-secret' ic.json
IC_SIGNATURE = "629ecd5eb7ba54e9f80c30b549cddca912b2c4b211431e5d044a6899defcfda5"


def test_intercom_valid_signature_passes() -> None:
    intercom.verify(IC_BODY, IC_SIGNATURE, IC_SECRET)


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (IC_BODY.replace(b"ana@", b"eve@"), IC_SIGNATURE, IC_SECRET),
        (IC_BODY, IC_SIGNATURE, "wrong"),
        (IC_BODY, "", IC_SECRET),
        (IC_BODY, IC_SIGNATURE[:-2], IC_SECRET),
    ],
    ids=["tampered-body", "wrong-secret", "missing", "truncated"],
)
def test_intercom_bad_signatures_fail(body: bytes, header: str, secret: str) -> None:
    with pytest.raises(SignatureInvalid):
        intercom.verify(body, header, secret)


# --- generic signed iframe URL: hex(HMAC-SHA256(secret, sorted query)) --------------------

IF_SECRET = "iframe-secret"
IF_TS = 1_700_000_000
# printf 'agent=jane%40example.com&email=ana%40example.com&ts=1700000000' \
#   | openssl dgst -sha256 -hmac 'iframe-secret'
IF_SIG = "e217f41f0c0e9f6cdb17d7a2833688f961b333631fa606c1ea6e46c67eeec79c"
IF_PAIRS = [
    ("email", "ana@example.com"),
    ("agent", "jane@example.com"),
    ("ts", str(IF_TS)),
    ("sig", IF_SIG),
]


def test_iframe_valid_url_vouches_for_customer_and_agent() -> None:
    launch = iframe.verify(IF_PAIRS, IF_SECRET, now=IF_TS + 10)
    assert launch.customer_email == "ana@example.com"
    assert launch.agent_email == "jane@example.com"


def _replace(pairs: list[tuple[str, str]], key: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == key else v) for k, v in pairs]


@pytest.mark.parametrize(
    ("pairs", "secret", "now"),
    [
        (_replace(IF_PAIRS, "email", "eve@example.com"), IF_SECRET, IF_TS),
        (IF_PAIRS, "wrong", IF_TS),
        (IF_PAIRS, IF_SECRET, IF_TS + iframe.TOLERANCE + 1),
        (IF_PAIRS, IF_SECRET, IF_TS - iframe.FUTURE_SKEW - 1),
        ([p for p in IF_PAIRS if p[0] != "sig"], IF_SECRET, IF_TS),
        ([*IF_PAIRS, ("email", "eve@example.com")], IF_SECRET, IF_TS),
        ([*IF_PAIRS, ("role", "admin")], IF_SECRET, IF_TS),
    ],
    ids=["tampered", "wrong-secret", "stale", "future", "unsigned", "duplicate", "unknown-param"],
)
def test_iframe_bad_urls_fail(pairs: list[tuple[str, str]], secret: str, now: int) -> None:
    with pytest.raises(SignatureInvalid):
        iframe.verify(pairs, secret, now=now)


# --- Zendesk: RS256 JWT ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_rs256(claims: dict[str, Any], key: rsa.RSAPrivateKey, alg: str = "RS256") -> str:
    head = _b64(json.dumps({"typ": "JWT", "alg": alg}).encode())
    body = _b64(json.dumps(claims).encode())
    signing_input = f"{head}.{body}".encode()
    sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64(sig)}"


@pytest.fixture(scope="module")
def zd_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def zd_claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "acme.zendesk.com",
        "aud": "https://acme.zendesk.com/api/v2/apps/installations/42.json",
        "iat": now,
        "exp": now + 300,
        "qsh": "x",
        "context": {"product": "support", "location": "ticket_sidebar"},
    }
    claims.update(over)
    return claims


def _zd_verify(token: str, key: rsa.RSAPrivateKey) -> None:
    zendesk.verify(token, public_key_pem=public_pem(key), subdomain="acme", installation_id="42")


def test_zendesk_valid_token_passes(zd_key: rsa.RSAPrivateKey) -> None:
    launch = zendesk.verify(
        jwt_rs256(zd_claims(), zd_key),
        public_key_pem=public_pem(zd_key),
        subdomain="acme",
        installation_id="42",
    )
    # The token vouches for the installation only: no agent identity comes out of it.
    assert launch.agent_email == ""


def test_zendesk_tampered_payload_fails(zd_key: rsa.RSAPrivateKey) -> None:
    head, _body, sig = jwt_rs256(zd_claims(), zd_key).split(".")
    forged = _b64(json.dumps(zd_claims(iss="evil.zendesk.com")).encode())
    with pytest.raises(SignatureInvalid):
        _zd_verify(f"{head}.{forged}.{sig}", zd_key)


def test_zendesk_wrong_key_fails(zd_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureInvalid):
        _zd_verify(jwt_rs256(zd_claims(), other), zd_key)


@pytest.mark.parametrize(
    "claims",
    [
        zd_claims(iat=int(time.time()) - 3600, exp=int(time.time()) - 3000),
        zd_claims(iat=int(time.time()) - zendesk.MAX_AGE - 60),
        zd_claims(aud="https://acme.zendesk.com/api/v2/apps/installations/43.json"),
        zd_claims(iss="other.zendesk.com"),
        {k: v for k, v in zd_claims().items() if k != "exp"},
        zd_claims(context={"product": "chat"}),
    ],
    ids=["expired", "stale-iat", "other-installation", "other-account", "no-exp", "other-product"],
)
def test_zendesk_bad_claims_fail(zd_key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> None:
    with pytest.raises(SignatureInvalid):
        _zd_verify(jwt_rs256(claims, zd_key), zd_key)


def test_zendesk_refuses_unsigned_and_symmetric_tokens(zd_key: rsa.RSAPrivateKey) -> None:
    head = _b64(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    body = _b64(json.dumps(zd_claims()).encode())
    with pytest.raises(SignatureInvalid):
        _zd_verify(f"{head}.{body}.", zd_key)
    with pytest.raises(SignatureInvalid):
        _zd_verify("", zd_key)


# --- Front and Freshdesk: shared secrets ----------------------------------------------------


@pytest.mark.parametrize("module", [front, freshdesk])
def test_shared_secrets(module: Any) -> None:
    module.verify("s3cret-value", "s3cret-value")
    for given in ("s3cret-valuE", "", None):
        with pytest.raises(SignatureInvalid):
            module.verify(given, "s3cret-value")
    with pytest.raises(SignatureInvalid):
        module.verify("", "")


def test_zendesk_unusable_public_key_is_a_refusal_not_a_crash(zd_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="public key"):
        zendesk.verify(
            jwt_rs256(zd_claims(), zd_key),
            public_key_pem="pending",
            subdomain="acme",
            installation_id="42",
        )
