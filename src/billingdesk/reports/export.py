"""CSV exports of the reports: streamed row by row, UTF-8, numbers locale-independent (minor
units and major units with a dot), a currency column beside every amount, and text cells
that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) prefixed with
an apostrophe (OWASP "CSV injection")."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse

from billingdesk.core.money import currency_exponent

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str | int:
    """A CSV cell: integers as they are, text defused when it would start a formula."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")  # an amount from ``major``: a sign is not a formula
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def major(amount: int, currency: str) -> Decimal:
    """``1234`` EUR as ``12.34`` (a dot, no grouping, whatever the language)."""
    exp = currency_exponent(currency)
    return Decimal(amount).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)  # the BOM makes spreadsheets read UTF-8
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
