"""A customer cancelling their own subscription on the billing pages.

Only where the merchant allows it (``AccountPolicy.customers_may_cancel``, off by default) and
the account's connector can cancel (``Capability.CANCEL_SUBSCRIPTION``). The cancellation is
the agents' action: ``action_submit`` with kind ``cancel_subscription``, so it is checked,
claimed and run once per form key (a double submit finds the first request), and audited —
with the customer as actor (``customer <email>``, detail ``source=customer``, their IP).
It ends the subscription at the period end where the gateway can, else at once (the page
says which before the customer confirms).

``action_submit`` needs a user to hold the request (``requested_by``) and sign the form key:
the customer pages act through one service user, ``billingdesk-customer-pages`` (an agent
that cannot sign in: no usable password), whose name never reaches the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.keys import key_nonce
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.reasons import reasons_for
from billingdesk.actions.rules import state_refusal
from billingdesk.actions.services import action_key_issue, action_submit
from billingdesk.billing.models import Person, Subscription
from billingdesk.core.errors import InvalidRequest, NotAllowed, NotFound
from billingdesk.gateways.interface import Capability, SubscriptionStatus
from billingdesk.gateways.registry import connector_for
from billingdesk.portal.account import customer_actor
from billingdesk.portal.models import AccountPolicy

SERVICE_USERNAME = "billingdesk-customer-pages"
# Reasons only an agent gives (the customer asking is what this is; a billing error is a
# question for the support team, not a cancellation).
_AGENT_ONLY = {"requested_by_customer", "billing_error"}
_LIVE = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.PAUSED,
)


def service_user() -> User:
    user, created = User.objects.get_or_create(
        username=SERVICE_USERNAME,
        defaults={"first_name": "Customer pages", "is_active": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    AgentProfile.objects.get_or_create(user=user, defaults={"role": Role.AGENT})
    return user


def actor_for(person: Person) -> User:
    """The service user, marked as acting for this customer: the audit entries of the
    action name the customer (``audit_name``) and the source (``audit_source``)."""
    actor = service_user()
    setattr(actor, "audit_name", customer_actor(person))  # noqa: B010
    setattr(actor, "audit_source", "customer")  # noqa: B010
    return actor


def form_key() -> str:
    """A fresh idempotency key for one cancel form (signed for the service user)."""
    return action_key_issue(user=service_user())


def key_used(key: str) -> ActionRequest | None:
    """The request a cancel form's key already made, if any (None for a fresh or bad key)."""
    try:
        nonce = key_nonce(user=service_user(), key=key)
    except InvalidRequest:
        return None
    return ActionRequest.objects.filter(idempotency_key=nonce).first()


def customer_reasons() -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in reasons_for(ActionKind.CANCEL_SUBSCRIPTION)
            if r.code not in _AGENT_ONLY]  # fmt: skip


@dataclass(frozen=True)
class Cancellable:
    subscription: Subscription
    allowed: bool  # the merchant allows it and the gateway can
    at_period_end: bool  # ends at the period end (else at once)
    ends_at: datetime | None  # when it ends (or ended), if known


def _may_cancel(subscription: Subscription) -> bool:
    policy = AccountPolicy.objects.filter(account_id=subscription.account_id).first()
    if policy is None or not policy.customers_may_cancel:
        return False
    return connector_for(subscription.account).supports(Capability.CANCEL_SUBSCRIPTION)


def subscriptions_of(person_id: int) -> list[Cancellable]:
    """The person's subscriptions still running, each with whether they may cancel it here."""
    rows = (
        Subscription.objects.filter(customer__person_id=person_id, deleted=False, status__in=_LIVE)
        .select_related("account")
        .order_by("-gateway_created_at", "-pk")
    )
    found = []
    for s in rows:
        at_end = connector_for(s.account).supports(Capability.CANCEL_AT_PERIOD_END)
        allowed = _may_cancel(s) and not s.cancel_at_period_end
        ends = s.current_period_end if (at_end or s.cancel_at_period_end) else None
        found.append(Cancellable(s, allowed, at_end, ends))
    return found


def cancellable_get(*, person_id: int, subscription_pk: int) -> Cancellable:
    """One of the person's subscriptions they may cancel; NotFound for anyone else's (or
    none), NotAllowed where the merchant or the gateway does not allow it."""
    found = next(
        (c for c in subscriptions_of(person_id) if c.subscription.pk == subscription_pk), None
    )
    if found is None:
        if Subscription.objects.filter(
            pk=subscription_pk, customer__person_id=person_id, deleted=False
        ).exists():
            raise NotAllowed("This subscription has already ended.")
        raise NotFound("No such subscription.")
    if not found.allowed:
        raise NotAllowed("This subscription cannot be cancelled here.")
    refusal = state_refusal(ActionKind.CANCEL_SUBSCRIPTION, found.subscription)
    if refusal:
        raise NotAllowed(refusal)
    return found


def subscription_cancel(
    *,
    person: Person,
    subscription_pk: int,
    reason_code: str,
    reason_text: str,
    key: str,
    ip: str | None,
) -> ActionRequest:
    """Cancel through the action service (once per ``key``), audited as the customer.

    A key used before is answered from its first request (a double submit, a reload after the
    subscription was set to end), as long as the subscription is the person's.
    """
    used = key_used(key)
    if used is not None:
        target = Subscription.objects.filter(
            pk=subscription_pk, customer__person_id=person.pk
        ).first()
        if target is None or used.target_id != target.gateway_id:
            raise NotFound("No such subscription.")
        params = dict(used.params)
    else:
        found = cancellable_get(person_id=person.pk, subscription_pk=subscription_pk)
        target, params = found.subscription, {"at_period_end": found.at_period_end}
    return action_submit(
        user=actor_for(person),
        kind=ActionKind.CANCEL_SUBSCRIPTION,
        target=target,
        params=params,
        reason_code=reason_code,
        reason_text=reason_text,
        idempotency_key=key,
        ip=ip,
    )
