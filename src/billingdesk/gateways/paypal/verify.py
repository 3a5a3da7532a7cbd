"""PayPal webhook signatures, verified offline with PayPal's certificate.

PayPal signs ``f"{transmission_id}|{transmission_time}|{webhook_id}|{crc32}"`` (crc32: the
unsigned CRC-32 of the raw body, in decimal) with RSA PKCS#1 v1.5 / SHA-256 and sends the
signature base64 in ``PAYPAL-TRANSMISSION-SIG``, the algorithm in ``PAYPAL-AUTH-ALGO``, and the
URL of its certificate in ``PAYPAL-CERT-URL`` (shared/reference/gateways.md §4).

Before anything is downloaded the URL must be https on a PayPal host (``paypal.com`` or a
subdomain; ``PAYPAL_CERT_HOSTS`` setting), so a forged header cannot make billingdesk fetch
an arbitrary URL or trust an attacker's key. The PEM served there (the leaf, and any
intermediates after it) must chain to a trusted root (``PAYPAL_CERT_TRUST_ROOTS``: a PEM
file, the certifi bundle by default), be valid now, and be issued to a PayPal name; only
then is its key used. Verified certificates are cached by URL (``CERT_CACHE_SECONDS``, and
never past their expiry). PayPal defines no timestamp tolerance: a transmission more than
``SIGNATURE_TOLERANCE`` seconds from now is refused, as for the other gateways.

Tests point ``PAYPAL_CERT_TEST_URL_PREFIXES`` at the fake's certificate URLs and
``PAYPAL_CERT_TRUST_ROOTS`` at a test CA; production leaves the first empty.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import threading
import time
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

import certifi
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID
from django.conf import settings

from billingdesk.core.errors import GatewayUnavailable, SignatureInvalid

SIGNATURE_TOLERANCE = 300
CERT_CACHE_SECONDS = 24 * 3600
MAX_CERT_BYTES = 64_000
ALGORITHM = "SHA256withRSA"
HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)

_cache: dict[str, tuple[rsa.RSAPublicKey, float]] = {}
_cache_lock = threading.Lock()


def forget_certificates() -> None:
    with _cache_lock:
        _cache.clear()


def _paypal_host(host: str) -> bool:
    suffixes = getattr(settings, "PAYPAL_CERT_HOSTS", ("paypal.com",))
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in suffixes)


def cert_url_allowed(url: str) -> bool:
    for prefix in getattr(settings, "PAYPAL_CERT_TEST_URL_PREFIXES", ()):
        if prefix and url.startswith(prefix.rstrip("/") + "/"):
            return True
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and _paypal_host(parts.hostname or "")
        and parts.port in (None, 443)
        and not parts.username
    )


def _roots() -> list[x509.Certificate]:
    path = getattr(settings, "PAYPAL_CERT_TRUST_ROOTS", "") or certifi.where()
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificates(handle.read())


def _names(cert: x509.Certificate) -> list[str]:
    names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    with contextlib.suppress(x509.ExtensionNotFound):
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names += extension.value.get_values_for_type(x509.DNSName)
    return names


def _verified_key(pem: bytes, now: datetime) -> tuple[rsa.RSAPublicKey, float]:
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise SignatureInvalid("PAYPAL-CERT-URL does not serve a PEM certificate") from None
    leaf, intermediates = chain[0], chain[1:]
    store = verification.Store(_roots())
    verifier = (
        verification.PolicyBuilder()
        .store(store)
        .time(now)
        .extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=verification.ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except verification.VerificationError as exc:
        raise SignatureInvalid(
            f"PayPal's certificate does not chain to a trusted root: {exc}"
        ) from None
    if not any(_paypal_host(name) for name in _names(leaf)):
        raise SignatureInvalid("the certificate at PAYPAL-CERT-URL is not issued to PayPal")
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureInvalid("PayPal's certificate does not hold an RSA key")
    return key, leaf.not_valid_after_utc.timestamp()


def certificate_key(url: str, *, timeout: tuple[float, float] = (5.0, 10.0)) -> rsa.RSAPublicKey:
    """The verified public key of the certificate at ``url`` (cached)."""
    if not cert_url_allowed(url):
        raise SignatureInvalid(f"PAYPAL-CERT-URL is not a PayPal URL: {url[:200]!r}")
    now = time.time()
    with _cache_lock:
        cached = _cache.get(url)
    if cached is not None and cached[1] > now:
        return cached[0]
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False, stream=True)
        pem = response.raw.read(MAX_CERT_BYTES + 1, decode_content=True)
    except requests.RequestException:
        raise GatewayUnavailable("PayPal's webhook certificate could not be downloaded.") from None
    if response.status_code != 200 or len(pem) > MAX_CERT_BYTES:
        raise GatewayUnavailable(
            f"PayPal's webhook certificate could not be downloaded (HTTP {response.status_code})."
        )
    key, expires = _verified_key(pem, datetime.now(UTC))
    with _cache_lock:
        _cache[url] = (key, min(expires, now + CERT_CACHE_SECONDS))
    return key


def signed_message(headers: Mapping[str, str], webhook_id: str, body: bytes) -> bytes:
    crc = zlib.crc32(body) & 0xFFFFFFFF
    transmission_id = headers["paypal-transmission-id"]
    transmission_time = headers["paypal-transmission-time"]
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


def check_headers(headers: Mapping[str, str], now: datetime) -> None:
    missing = [h for h in HEADERS if not headers.get(h)]
    if missing:
        raise SignatureInvalid(f"missing {missing[0].upper()} header")
    if headers["paypal-auth-algo"] != ALGORITHM:
        raise SignatureInvalid(f"unsupported PAYPAL-AUTH-ALGO {headers['paypal-auth-algo'][:40]!r}")
    text = headers["paypal-transmission-time"].replace("Z", "+00:00")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise SignatureInvalid("PAYPAL-TRANSMISSION-TIME is not a time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if abs((now - at).total_seconds()) > SIGNATURE_TOLERANCE:
        raise SignatureInvalid(
            f"transmission time {at.isoformat()} is outside the {SIGNATURE_TOLERANCE} s tolerance"
        )


def verify_offline(headers: Mapping[str, str], body: bytes, webhook_id: str) -> None:
    """Raise ``SignatureInvalid`` unless PayPal signed this delivery for ``webhook_id``
    (``GatewayUnavailable`` when its certificate cannot be fetched)."""
    if not webhook_id:
        raise SignatureInvalid("this PayPal account has no webhook id configured")
    check_headers(headers, datetime.now(UTC))
    try:
        signature = base64.b64decode(headers["paypal-transmission-sig"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("PAYPAL-TRANSMISSION-SIG is not base64") from None
    key = certificate_key(headers["paypal-cert-url"])
    try:
        key.verify(
            signature,
            signed_message(headers, webhook_id, body),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise SignatureInvalid("PayPal signature does not verify") from None
