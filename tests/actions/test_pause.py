"""Pause and resume through the action service (issue 14) on the sandbox gateway: the state
is checked on the server, a refusal changes nothing and is audited, a retry acts once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.actions.services import action_key_issue, action_preview, action_submit
from billingdesk.core.errors import NotAllowed
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.panel.tests.factories import Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> User:
    user = User.objects.create_user("ana", password="pw", first_name="Ana")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    return user


def _submit(user: User, kind: ActionKind, shop: Shop, key: str | None = None) -> ActionRequest:
    return action_submit(
        user=user,
        kind=kind,
        target=shop.subscription,
        params={},
        reason_code="requested_by_customer",
        reason_text="travelling",
        idempotency_key=key or action_key_issue(user=user),
    )


def _gateway_status(shop: Shop) -> str:
    row = SandboxObject.objects.get(account=shop.account, object_id=shop.subscription.gateway_id)
    return str(row.data["status"])


def test_pause_resume_and_a_retry_acts_once(shop: Shop, ana: User) -> None:
    key = action_key_issue(user=ana)
    first = _submit(ana, ActionKind.PAUSE_SUBSCRIPTION, shop, key)
    again = _submit(ana, ActionKind.PAUSE_SUBSCRIPTION, shop, key)

    assert first.pk == again.pk and first.status == ActionRequest.Status.SUCCEEDED
    assert _gateway_status(shop) == "paused"
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "paused"

    resumed = _submit(ana, ActionKind.RESUME_SUBSCRIPTION, shop)
    assert resumed.status == ActionRequest.Status.SUCCEEDED
    assert _gateway_status(shop) == "active"
    assert AuditEntry.objects.filter(action="pause_subscription", result="succeeded").count() == 1


def test_refused_when_not_in_the_right_state(shop: Shop, ana: User) -> None:
    with pytest.raises(NotAllowed, match="only a paused one can be resumed"):
        _submit(ana, ActionKind.RESUME_SUBSCRIPTION, shop)
    preview = action_preview(
        user=ana, kind=ActionKind.RESUME_SUBSCRIPTION, target=shop.subscription, params={}
    )
    assert not preview.allowed

    shop.subscription.status = "canceled"
    shop.subscription.save(update_fields=["status"])
    with pytest.raises(NotAllowed):
        _submit(ana, ActionKind.PAUSE_SUBSCRIPTION, shop)

    assert _gateway_status(shop) == "active"  # the gateway was never asked
    assert not ActionRequest.objects.exists()
    assert AuditEntry.objects.filter(action="pause_subscription", result="refused").count() == 1


def test_read_only_role_cannot_pause(shop: Shop) -> None:
    viewer = User.objects.create_user("vic", password="pw")
    AgentProfile.objects.create(user=viewer, role=Role.READ_ONLY)
    with pytest.raises(NotAllowed):
        _submit(viewer, ActionKind.PAUSE_SUBSCRIPTION, shop)
    assert _gateway_status(shop) == "active"
