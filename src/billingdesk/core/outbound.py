"""Requests to addresses an administrator typed in (event webhooks, merchants' action URLs).

SSRF-safe by default: only http(s); the host's every address must be public (no loopback,
private, link-local, reserved or multicast), unless ``OUTBOUND_ALLOW_PRIVATE`` is set (tests,
a merchant server on the same network); redirects are never followed; every request has a
timeout. The connection is made to the address that was checked (the Host header keeps the
name), so a DNS answer that changes between the check and the request cannot redirect it.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings

from billingdesk.core.errors import InvalidRequest


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    latency_ms: int


def signing_secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def url_check(url: str) -> None:
    """``InvalidRequest`` unless ``url`` may be sent to."""
    _target(url)


def _target(url: str) -> str:
    """The checked address to connect to."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("The address must be an http(s) URL with a host.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidRequest(f"The host {parts.hostname!r} does not resolve.") from None
    addresses = {str(info[4][0]) for info in infos}
    if not settings.OUTBOUND_ALLOW_PRIVATE:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise InvalidRequest(
                    f"{parts.hostname} resolves to {address}, a private or local address; "
                    "webhooks go to public addresses only."
                )
    return sorted(addresses)[0]


def outbound_post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body``; raises ``InvalidRequest`` (refused target) or ``requests.RequestException``
    (network, timeout). Redirects are answers, not followed."""
    address = _target(url)
    parts = urlsplit(url)
    # Plain http connects to the checked address; https keeps the name (certificate checks
    # need it) and relies on the check just made.
    target = url
    send_headers = {"Content-Type": "application/json", **headers}
    if parts.scheme == "http":
        host = f"[{address}]" if ":" in address else address
        netloc = f"{host}:{parts.port}" if parts.port else host
        target = parts._replace(netloc=netloc).geturl()
        send_headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
    start = time.monotonic()
    response = requests.post(
        target, data=body, headers=send_headers, timeout=timeout, allow_redirects=False
    )
    latency = int((time.monotonic() - start) * 1000)
    return Answer(status=response.status_code, body=response.content[:4096], latency_ms=latency)
