"""Reason lists per kind of action, configurable by admins (issue 20 #11)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billingdesk.actions.models import ActionKind, ActionReason
from billingdesk.actions.reasons import reason_choices, reasons_for
from billingdesk.actions.rules import reason_clean
from billingdesk.core.errors import InvalidRequest


def test_a_cancellation_offers_cancellation_reasons_and_a_refund_refund_reasons(
    db: None,
) -> None:
    cancel = dict(reason_choices(ActionKind.CANCEL_SUBSCRIPTION))
    refund = dict(reason_choices(ActionKind.REFUND))

    assert cancel["too_expensive"] == "Too expensive"
    assert "switched_service" in cancel and "duplicate" not in cancel
    assert refund["duplicate"] == "Duplicate payment"
    assert "too_expensive" not in refund


def test_an_admin_renames_reorders_and_switches_off_reasons(db: None) -> None:
    ActionReason.objects.filter(kind="refund", code="goodwill").update(
        label="Geste commercial", position=0
    )
    ActionReason.objects.filter(kind="refund", code="fraudulent").update(active=False)

    codes = [r.code for r in reasons_for("refund")]

    assert codes[0] == "goodwill"
    assert reason_choices("refund")[0] == ("goodwill", "Geste commercial")
    assert "fraudulent" not in codes
    with pytest.raises(InvalidRequest, match="Choose a reason"):
        reason_clean(ActionKind.REFUND, "fraudulent", "x")


def test_a_reason_of_another_action_is_refused(db: None) -> None:
    with pytest.raises(InvalidRequest, match="Choose a reason"):
        reason_clean(ActionKind.CANCEL_SUBSCRIPTION, "duplicate", "twice")
    assert reason_clean(ActionKind.CANCEL_SUBSCRIPTION, "too_expensive", "said so") == (
        "too_expensive",
        "said so",
    )


def test_an_admin_can_require_words_for_one_reason(db: None, settings: object) -> None:
    settings.ACTION_REASON_TEXT_REQUIRED = set()  # type: ignore[attr-defined]
    assert reason_clean(ActionKind.APPLY_COUPON, "goodwill", "") == ("goodwill", "")
    ActionReason.objects.filter(kind="apply_coupon", code="goodwill").update(text_required=True)
    with pytest.raises(InvalidRequest, match="Describe the reason"):
        reason_clean(ActionKind.APPLY_COUPON, "goodwill", "")
    with pytest.raises(InvalidRequest, match="Describe the reason"):
        reason_clean(ActionKind.APPLY_COUPON, "other", "")


def test_with_every_reason_switched_off_the_defaults_come_back(db: None) -> None:
    ActionReason.objects.filter(kind="capture").update(active=False)

    assert [r.code for r in reasons_for("capture")] == [
        "order_fulfilled",
        "requested_by_customer",
        "other",
    ]


def test_the_admin_lists_and_edits_reasons(db: None) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "r@example.com", "pw"))

    listing = client.get("/admin/actions/actionreason/", {"kind__exact": "cancel_subscription"})
    assert listing.status_code == 200
    assert "Too expensive" in listing.content.decode()

    added = client.post(
        "/admin/actions/actionreason/add/",
        {"kind": "refund", "code": "late_delivery", "label": "Late delivery", "position": "5",
         "active": "on"},
    )  # fmt: skip
    assert added.status_code == 302
    assert ("late_delivery", "Late delivery") in reason_choices("refund")
