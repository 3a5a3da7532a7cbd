"""Money and the shared signature scheme."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from billingdesk.core.errors import SignatureInvalid
from billingdesk.core.money import Money, currency_exponent
from billingdesk.core.signing import sign_header, verify_header


def test_money_is_integer_minor_units_in_one_currency() -> None:
    assert Money(1999, "eur") + Money(1, "EUR") == Money(2000, "EUR")
    assert str(Money(-1050, "USD")) == "-$10.50"  # as Babel writes it in the active language
    assert str(Money(500, "JPY")) == "¥500"
    assert str(Money(1234, "KWD")) == "KWD1.234"
    assert currency_exponent("jpy") == 0
    with pytest.raises(TypeError):
        Money(10.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot combine"):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(1, "EURO")


def test_signature_matches_an_independent_computation() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign_header(body, "whsec_x", timestamp=1700000000) == f"t=1700000000,v1={expected}"
    assert (
        verify_header(f"t=1700000000,v1={expected}", body, "whsec_x", now=1700000100) == 1700000000
    )


def test_any_v1_entry_may_match_during_rotation() -> None:
    body = b"{}"
    good = sign_header(body, "new", timestamp=100).split("v1=")[1]
    header = f"t=100,v1={'0' * 64},v1={good},v0=ignored"
    assert verify_header(header, body, "new", now=100) == 100


@pytest.mark.parametrize(
    ("header", "now", "reason"),
    [
        (None, 100, "missing"),
        ("v1=abc", 100, "lacks"),
        ("t=abc,v1=abc", 100, "not a number"),
        (sign_header(b"{}", "other", timestamp=100), 100, "does not match"),
        (sign_header(b"{}", "s", timestamp=100), 100 + 301, "tolerance"),
    ],
)
def test_bad_signatures_are_refused_with_the_reason(
    header: str | None, now: int, reason: str
) -> None:
    with pytest.raises(SignatureInvalid, match=reason):
        verify_header(header, b"{}", "s", now=now)


def test_healthz(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
