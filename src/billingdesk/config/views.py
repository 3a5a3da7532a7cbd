"""The signed-in landing page: it reads every app, so it lives in the top layer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billingdesk.billing.models import Charge, Customer, Person, Refund, Subscription
from billingdesk.gateways.models import GatewayAccount, WebhookEvent


def home_summary() -> dict[str, Any]:
    return {
        "accounts": list(GatewayAccount.objects.all()),
        "counts": {
            "persons": Person.objects.count(),
            "customers": Customer.objects.count(),
            "charges": Charge.objects.count(),
            "refunds": Refund.objects.count(),
            "subscriptions": Subscription.objects.count(),
        },
        "pending_events": WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).count(),
        "failed_events": WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count(),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Connected accounts and what the mirror holds."""
    return render(request, "core/home.html", home_summary())
