"""The sandbox gateway's own hosted pages: pay an invoice, update a card.

They stand in for the pages a real gateway hosts (Stripe's hosted invoice page, its card
setup page). Each is reached by a signed link; it parses the form, calls one engine
operation and shows the outcome, with a plain message for every refusal.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from billingdesk.core.errors import CardDeclined, UserFacingError
from billingdesk.core.money import Money
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.forms import CardForm
from billingdesk.gateways.sandbox.hosted import LinkTarget, read_card_token, read_pay_token
from billingdesk.gateways.sandbox.models import SandboxObject


def _target_object(target: LinkTarget, kind: str) -> tuple[GatewayAccount, SandboxObject]:
    account = GatewayAccount.objects.filter(pk=target.account_id, kind="sandbox").first()
    obj = (
        SandboxObject.objects.filter(account=account, object_id=target.object_id, kind=kind).first()
        if account is not None
        else None
    )
    if account is None or obj is None:
        raise UserFacingError("This link does not point to anything any more.")
    return account, obj


def _gone(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "sandbox/message.html", {"message": message}, status=404)


@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        account, invoice = _target_object(read_pay_token(token), "invoice")
    except UserFacingError as exc:
        return _gone(request, exc.message)
    form = CardForm(request.POST if request.method == "POST" else None)
    error = ""
    status = 200
    if request.method == "POST" and invoice.data["status"] == "open":
        if form.is_valid():
            try:
                SandboxEngine(account).invoice_pay(
                    invoice_id=invoice.object_id, card_number=form.cleaned_data["number"]
                )
            except CardDeclined as exc:
                error, status = exc.message, 402
            except UserFacingError as exc:
                error, status = exc.message, 400
            invoice.refresh_from_db()
        else:
            status = 400
    context: dict[str, Any] = {
        "account": account,
        "invoice": invoice.data,
        "total": Money(invoice.data["amount_due"], invoice.data["currency"]),
        "form": form,
        "error": error,
    }
    return render(request, "sandbox/pay.html", context, status=status)


@require_http_methods(["GET", "POST"])
def card_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        target = read_card_token(token)
        account, customer = _target_object(target, "customer")
    except UserFacingError as exc:
        return _gone(request, exc.message)
    form = CardForm(request.POST if request.method == "POST" else None)
    error = ""
    status = 200
    saved = None
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = SandboxEngine(account).card_attach(
                    customer_id=customer.object_id,
                    number=form.cleaned_data["number"],
                    exp_month=form.cleaned_data["exp_month"],
                    exp_year=form.cleaned_data["exp_year"],
                    make_default=True,
                )
            except CardDeclined as exc:
                error, status = exc.message, 402
            except UserFacingError as exc:
                error, status = exc.message, 400
        else:
            status = 400
    context: dict[str, Any] = {
        "account": account,
        "customer": customer.data,
        "form": form,
        "error": error,
        "saved": saved.data["card"] if saved is not None else None,
        "return_url": target.return_url,
    }
    return render(request, "sandbox/card.html", context, status=status)
