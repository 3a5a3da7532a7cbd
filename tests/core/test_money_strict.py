"""The kernel's one way to read and show money and dates, and its input guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from billingdesk.core.html import SafeString, html, join, safe_url, url_attr
from billingdesk.core.money import (
    Money,
    amount_text,
    day_format,
    moment_format,
    money_format,
    normalise_currency,
    parse_amount,
)
from billingdesk.core.parsing import IdConverter, json_loads, parse_id


@pytest.mark.parametrize(
    ("text", "locale", "minor"),
    [
        ("12.50", "en", 1250),
        ("1,000", "en", 100000),  # a thousand, not 1.00
        ("1,000.50", "en", 100050),
        ("1 200", "en", 120000),
        (" 7 ", "en", 700),
        ("12,50", "fr", 1250),
        ("1 200,50", "fr", 120050),
        ("1.000", "de", 100000),
        ("12,5", "de", 1250),
    ],
)
def test_amounts_are_read_in_the_locale(text: str, locale: str, minor: int) -> None:
    assert parse_amount(text, "EUR", locale=locale) == minor


@pytest.mark.parametrize(
    ("text", "locale", "message"),
    [
        ("1_0", "en", "not an amount"),
        ("1e1", "en", "not an amount"),
        ("١٢", "en", "not an amount"),  # Arabic-Indic digits
        ("²", "en", "not an amount"),
        ("1,00", "en", "not an amount"),  # misplaced grouping: refused, not guessed
        ("12,50", "en", "did you mean"),
        ("12.50", "fr", "not an amount"),
        ("NaN", "en", "not an amount"),
        ("Infinity", "en", "not an amount"),
        ("", "en", "not an amount"),
        ("-5", "en", "more than zero"),
        ("0", "en", "more than zero"),
        ("1.234", "en", "at most 2 decimals"),
        (str(2**70), "en", "too large"),
    ],
)
def test_loose_amounts_are_refused(text: str, locale: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(text, "EUR", locale=locale)


def test_amount_text_is_what_parse_amount_reads_back() -> None:
    for locale in ("en", "fr", "de", "es"):
        for amount, currency in ((123456, "EUR"), (500, "JPY"), (1234, "KWD")):
            text = amount_text(amount, currency, locale=locale)
            assert parse_amount(text, currency, locale=locale) == amount


@pytest.mark.parametrize("code", ["ABC", "QQQ", "EURO", "EU", "€€€", "", "e u"])
def test_currencies_must_be_iso_4217(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        normalise_currency(code)
    with pytest.raises(ValueError, match="ISO 4217"):
        parse_amount("1", code)


def test_money_is_shown_one_way_in_the_active_language() -> None:
    assert money_format(1050, "EUR", locale="en") == "€10.50"
    with translation.override("fr"):
        assert str(Money(1050, "EUR")) == "10,50\xa0€"
        assert money_format(1050, "EUR") == "10,50\xa0€"
    # A field the row does not have (a template asking a subscription for "refundable").
    assert money_format("", "EUR") == ""
    assert money_format("abc", "EUR") == ""
    assert money_format(None, "EUR") == ""


def test_dates_are_shown_one_way_in_the_active_language() -> None:
    at = datetime(2026, 12, 3, 9, 14, tzinfo=UTC)
    assert day_format(at, UTC, locale="en") == "Dec 3, 2026"
    assert moment_format(at, UTC, locale="en") == "Dec 3, 2026, 9:14\u202fAM"
    assert day_format(at, UTC, locale="fr") == "3 déc. 2026"
    assert moment_format(at, UTC, locale="fr") == "3 déc. 2026, 09:14"
    assert moment_format(at, UTC, locale="de").startswith(day_format(at, UTC, locale="de"))
    assert day_format(None) == ""


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil.example/",
        "/\\evil.example/",
        "https:evil",
        "ftp://files.example/x",
        "https://ok.example/\x00",
        "",
        None,
        42,
    ],
)
def test_only_http_urls_are_linked(url: object) -> None:
    assert safe_url(url) == ""
    assert url_attr(url) == ""


def test_http_urls_and_site_paths_pass_escaped() -> None:
    assert safe_url("https://pay.example/i/1?a=1&b=2") == "https://pay.example/i/1?a=1&b=2"
    assert url_attr("https://pay.example/i/1?a=1&b=2") == "https://pay.example/i/1?a=1&amp;b=2"
    assert url_attr('http://x.example/"><script>') == "http://x.example/&quot;&gt;&lt;script&gt;"
    assert safe_url("/console/person/1/") == "/console/person/1/"


def test_html_escapes_every_value_unless_marked_safe() -> None:
    out = html('<a title="{}">{}</a>{}', '"><script>', "<b>", SafeString("<i>ok</i>"))
    assert out == '<a title="&quot;&gt;&lt;script&gt;">&lt;b&gt;</a><i>ok</i>'
    assert isinstance(out, SafeString)
    assert html("{}", 5) == "5"
    assert join(["<x>", html("<y>{}</y>", "&")], "\n") == "&lt;x&gt;\n<y>&amp;</y>"


def test_ids_are_bounded_to_63_bits() -> None:
    assert parse_id("12") == 12
    assert parse_id(2**63 - 1) == 2**63 - 1
    for bad in ("²", "1_0", " 1", "-1", "0", str(2**63), 2**70, True, None, [1], "\u0661"):
        assert parse_id(bad) is None, bad
    converter = IdConverter()
    assert converter.to_python("9223372036854775807") == 2**63 - 1
    with pytest.raises(ValueError):
        converter.to_python("9223372036854775808")


def test_json_depth_is_bounded() -> None:
    assert json_loads(b'{"a": [[1]], "s": "[[[[[[[[[["}', max_depth=3) == {
        "a": [[1]],
        "s": "[[[[[[[[[[",
    }
    with pytest.raises(ValueError, match="deeper"):
        json_loads(b"[[[[1]]]]", max_depth=3)
    with pytest.raises(ValueError):
        json_loads(b"[" * 100_000 + b"]" * 100_000)
