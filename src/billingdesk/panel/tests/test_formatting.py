"""Amounts as shown: the per-shape shortcut writes exactly what Babel writes."""

from __future__ import annotations

import pytest

from billingdesk.core.money import _babel, _formatted

AMOUNTS = [0, 1, 5, 9, 10, 99, 100, 101, 1900, 12345, 100000, 1234567, 10**9 + 7, 987654321012]


@pytest.mark.parametrize("locale", ["en", "fr", "de_CH", "en_IN", "ar_EG", "fa", "ja", "xx"])
@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "KWD", "INR", "ZZZ"])
def test_amounts_read_as_babel_writes_them(locale: str, currency: str) -> None:
    for amount in AMOUNTS + [-a for a in AMOUNTS]:
        assert _formatted(amount, currency, locale) == _babel(amount, currency, locale), amount
