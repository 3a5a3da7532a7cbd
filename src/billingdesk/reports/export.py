"""CSV exports of the reports: streamed row by row, UTF-8, numbers locale-independent (minor
units and major units with a dot), a currency column beside every amount, and text cells
that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) prefixed with
an apostrophe (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse

from billingdesk.actions.models import AuditEntry
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


Sheet = tuple[str, list[str], Iterable[Iterable[Any]]]  # name, header, rows


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> HttpResponse:
    """A workbook of one sheet per ``(name, header, rows)``: text cells are always written
    as text (never a formula, whatever they start with), integers as integers, amounts from
    ``major`` as numbers shown with their currency's decimals."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    bold = book.add_format({"bold": True})
    decimals = {exp: book.add_format({"num_format": "0." + "0" * exp if exp else "0"})
                for exp in range(4)}  # fmt: skip
    for name, header, rows in sheets:
        sheet = book.add_worksheet(_sheet_name(name))
        for col, title in enumerate(header):
            sheet.write_string(0, col, title, bold)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, bool):
                    sheet.write_string(r, col, "true" if value else "false")
                elif value is None or isinstance(value, str):
                    sheet.write_string(r, col, value or "")  # text, never run as a formula
                elif isinstance(value, int):
                    sheet.write_number(r, col, value)
                elif isinstance(value, Decimal):
                    exp = max(-int(value.as_tuple().exponent), 0)
                    # Written with 16 significant digits, as the format stores every number.
                    sheet.write_number(r, col, value, decimals[min(exp, 3)])
                else:
                    sheet.write_string(r, col, str(value))
    book.close()
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    return "".join(" " if c in "[]:*?/\\" else c for c in name)[:31]


AUDIT_HEADER = [
    "seq",
    "at",
    "actor",
    "approver",
    "action",
    "result",
    "account",
    "person",
    "target_kind",
    "target_id",
    "amount_minor",
    "currency",
    "reason_code",
    "reason_text",
    "gateway_request_id",
    "ip",
    "hash",
]


def audit_csv(entries: QuerySet[AuditEntry], filename: str = "audit.csv") -> StreamingHttpResponse:
    """The audit entries as CSV (the reports page and the API export the same columns)."""
    rows = (
        [
            e.seq,
            e.at.isoformat(),
            e.actor_name,
            e.approver_name,
            e.action,
            e.result,
            e.account_id or "",
            e.person_id or "",
            e.target_kind,
            e.target_id,
            e.amount if e.amount is not None else "",
            e.currency,
            e.reason_code,
            e.reason_text,
            e.gateway_request_id,
            e.ip or "",
            e.hash,
        ]
        for e in entries.iterator(chunk_size=2000)
    )
    return csv_response(filename, AUDIT_HEADER, rows)
