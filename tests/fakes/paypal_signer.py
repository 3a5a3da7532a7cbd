"""PayPal's webhook signer, for tests: a test CA, PayPal's signing certificate, signatures.

Independent of the code under test (``billingdesk.gateways.paypal.verify``): it builds a root
CA and an intermediate with ``cryptography``'s X.509 builder, issues a leaf certificate to
``messageverificationcerts.paypal.com`` (the name on PayPal's real certificate), and signs
``transmission_id|transmission_time|webhook_id|crc32(body)`` with the leaf's key (RSA
PKCS#1 v1.5, SHA-256), as PayPal does. ``rogue`` is a key pair PayPal never certified.
"""

from __future__ import annotations

import base64
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_NAME = "messageverificationcerts.paypal.com"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test PayPal"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None,
    *,
    ca: bool,
    san: str = "",
    days: int = 365,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False
        ).add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


class PayPalSigner:
    def __init__(self, leaf_name: str = LEAF_NAME) -> None:
        self.root_key, self.intermediate_key, self.key, self.rogue = _key(), _key(), _key(), _key()
        self.root = _cert("Test Root CA", self.root_key, None, ca=True, days=3650)
        self.intermediate = _cert(
            "Test Intermediate CA",
            self.intermediate_key,
            (self.root.subject, self.root_key),
            ca=True,
        )
        self.leaf = _cert(
            leaf_name,
            self.key,
            (self.intermediate.subject, self.intermediate_key),
            ca=False,
            san=leaf_name,
        )

    @property
    def chain_pem(self) -> bytes:
        """What PayPal serves at the certificate URL: the leaf, then its intermediate."""
        return _pem(self.leaf, self.intermediate)

    def write_root(self, directory: Path) -> str:
        path = directory / "paypal-test-root.pem"
        path.write_bytes(_pem(self.root))
        return str(path)

    def headers(
        self,
        body: bytes,
        *,
        webhook_id: str,
        cert_url: str,
        at: datetime | None = None,
        key: rsa.RSAPrivateKey | None = None,
        transmission_id: str = "",
    ) -> dict[str, str]:
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        transmission_id = transmission_id or str(uuid.uuid4())
        message = f"{transmission_id}|{stamp}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}"
        signature = (key or self.key).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": stamp,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }
