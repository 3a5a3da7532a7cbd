"""`billingdesk demo` gives one user per role, with limits that let approvals be tried."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from billingdesk.accounts.models import RefundLimit, Role
from billingdesk.accounts.selectors import money_limit, role_of


@pytest.mark.django_db
def test_demo_creates_a_user_per_role_with_printed_credentials_and_limits() -> None:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--persons", "4", stdout=out)
    text = out.getvalue()

    for username, password, role in [
        ("admin", "demo-admin", Role.ADMIN),
        ("agent", "demo-agent", Role.AGENT),
        ("finance", "demo-finance", Role.FINANCE),
        ("viewer", "demo-viewer", Role.READ_ONLY),
    ]:
        assert f"user {username}" in text and f"password {password}" in text
        user = authenticate(username=username, password=password)
        assert user is not None, username
        assert role_of(user) == role
    agent_refund = money_limit(role=Role.AGENT, kind="refund", currency="EUR")
    finance_refund = money_limit(role=Role.FINANCE, kind="refund", currency="EUR")
    assert agent_refund.max_amount == 5000 and finance_refund.max_amount == 100_000
    assert RefundLimit.objects.filter(role=Role.AGENT, kind="capture").exists()
    assert "refunds up to 50 per charge alone" in text

    again = io.StringIO()
    call_command("demo", "--no-serve", "--persons", "4", stdout=again)  # idempotent
    assert RefundLimit.objects.filter(role=Role.AGENT, kind="refund", currency="EUR").count() == 1
