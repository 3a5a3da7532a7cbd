"""Reports (scope ``reports``): the reports app's selectors as JSON.

Each operation checks its filters with the reports' own form (the same rules and messages as
the reports pages: a period of at most ten years, ISO 4217 codes…; a refusal is a ``422``
naming the field) and calls the same selector the page renders, so the API and the pages
cannot disagree. Amounts are integer minor units beside their currency.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from django import forms
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from billingdesk.api.v1.auth import REPORTS
from billingdesk.api.v1.errors import ERRORS
from billingdesk.reports.forms import PeriodForm, RevenueForm
from billingdesk.reports.selectors.agents import refunds_by_agent
from billingdesk.reports.selectors.invoices import invoice_status_summary
from billingdesk.reports.selectors.revenue import revenue_report
from billingdesk.reports.selectors.subscriptions import mrr_report
from billingdesk.reports.selectors.tax import tax_summary

router = Router(auth=REPORTS, tags=["reports"])


class Period(Schema):
    start: date | None = Field(None, description="first local day, included (default: 30 days ago)")
    end: date | None = Field(None, description="last local day, included (default: today)")


class RevenueParams(Period):
    group: Literal["day", "week", "month"] = "month"
    by: Literal["", "account", "product"] = Field("", description="split by (default: none)")
    account: uuid.UUID | None = None
    currency: str = Field("", max_length=3)
    product: str = Field("", max_length=300)
    convert: str = Field("", max_length=3, description="also convert the totals to")


class RevenueRowOut(Schema):
    bucket: date | None = Field(..., description="the period's first day; null on totals")
    key: str = Field(..., description="the account's name or the product when split")
    currency: str
    charges: int
    gross: int
    refunds: int
    disputes_lost: int
    net: int


class RevenueOut(Schema):
    start: date
    end: date
    group: str
    by: str
    rows: list[RevenueRowOut]
    totals: list[RevenueRowOut]
    convert_to: str
    converted: list[RevenueRowOut]
    converted_totals: list[RevenueRowOut]


class PlanOut(Schema):
    plan: str
    currency: str
    subscriptions: int
    mrr: int


class MrrOut(Schema):
    at: datetime
    mrr: dict[str, int]
    arr: dict[str, int]
    trialing: dict[str, int]
    plans: list[PlanOut]


class StatusLineOut(Schema):
    status: str
    currency: str
    invoices: int
    total: int
    amount_due: int


class AgeLineOut(Schema):
    currency: str
    first_day: int
    last_day: int | None
    invoices: int
    amount_due: int


class InvoiceStatusOut(Schema):
    lines: list[StatusLineOut]
    overdue: list[AgeLineOut]


class TaxLineOut(Schema):
    regime: str
    tax_country: str
    treatment: str
    currency: str
    name: str
    percent: str
    taxable: int
    tax: int
    documents: int
    credit_notes: int


class DocumentTotalOut(Schema):
    currency: str
    net: int
    tax: int
    gross: int
    documents: int
    credit_notes: int


class TaxOut(Schema):
    start: date
    end: date
    lines: list[TaxLineOut]
    totals: list[DocumentTotalOut]


class AgentRefundsOut(Schema):
    agent: str
    currency: str
    reason: str
    requested: int
    succeeded: int
    amount: int
    approval_asked: int
    approved: int
    denied: int


def _checked(form_class: type[forms.Form], params: Schema) -> dict[str, Any]:
    """The reports' form over these parameters; its errors as a ``422`` naming each field."""
    data = {k: "" if v is None else str(v) for k, v in params.model_dump().items()}
    form = form_class(data)
    if form.is_valid():
        return dict(form.cleaned_data)
    raise ValidationError(
        [
            {"loc": ("query", name) if name != "__all__" else ("query",), "msg": str(message)}
            for name, messages in form.errors.items()
            for message in messages
        ]
    )


@router.get("/reports/revenue", response={200: RevenueOut, **ERRORS}, summary="Revenue")
def revenue(request: HttpRequest, params: Query[RevenueParams]) -> Any:
    """``400`` when ``convert`` is asked and an exchange rate is missing."""
    data = _checked(RevenueForm, params)
    return revenue_report(
        start=data["start"], end=data["end"], group=data["group"], by=data["by"] or "",
        account=data["account"], currency=data["currency"], product=data["product"],
        convert_to=data["convert"],
    )  # fmt: skip


@router.get("/reports/mrr", response={200: MrrOut, **ERRORS}, summary="MRR and ARR by plan")
def mrr(request: HttpRequest) -> Any:
    return mrr_report()


@router.get(
    "/reports/invoices", response={200: InvoiceStatusOut, **ERRORS}, summary="Invoice status"
)
def invoices(request: HttpRequest) -> dict[str, Any]:
    lines, ages = invoice_status_summary()
    return {"lines": lines, "overdue": ages}


@router.get("/reports/tax", response={200: TaxOut, **ERRORS}, summary="Tax summary")
def tax(request: HttpRequest, params: Query[Period]) -> Any:
    data = _checked(PeriodForm, params)
    return tax_summary(start=data["start"], end=data["end"])


@router.get(
    "/reports/refunds-by-agent",
    response={200: list[AgentRefundsOut], **ERRORS},
    summary="Refunds by agent",
)
def refunds(request: HttpRequest, params: Query[Period]) -> Any:
    data = _checked(PeriodForm, params)
    return refunds_by_agent(start=data["start"], end=data["end"])
