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
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.keys import key_nonce
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.reasons import reasons_for
from billingdesk.actions.rules import PAUSABLE, state_refusal
from billingdesk.actions.services import action_key_issue, action_submit
from billingdesk.billing.models import Person, Subscription
from billingdesk.core.errors import InvalidRequest, NotAllowed, NotFound
from billingdesk.core.money import day_format
from billingdesk.gateways.interface import Capability, SubscriptionStatus
from billingdesk.gateways.registry import connector_class
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
    """The customer pages' service user, made on first use (two first uses at once: one
    makes it, the other reads it)."""
    user = User.objects.filter(username=SERVICE_USERNAME).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(username=SERVICE_USERNAME, first_name="Customer pages")
                user.set_unusable_password()
                user.save()
                AgentProfile.objects.create(user=user, role=Role.AGENT)
        except IntegrityError:
            user = User.objects.get(username=SERVICE_USERNAME)
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
    """One running subscription of the person, as the pages show it."""

    pk: int
    name: str
    cancel_at_period_end: bool  # already set to end
    allowed: bool  # the merchant allows it and the gateway can
    at_period_end: bool  # a cancellation ends it at the period end (else at once)
    ends_at: datetime | None  # when it ends (or would), if known
    may_pause: bool = False  # the merchant allows pausing, the gateway can, it is running
    may_resume: bool = False  # the same, and it is paused

    @property
    def ends_day(self) -> str:
        """``ends_at`` as a day in the active language (Babel), or ''."""
        return day_format(self.ends_at) if self.ends_at else ""


def subscriptions_of(person_id: int) -> list[Cancellable]:
    """The person's subscriptions still running, each with whether they may cancel it here
    (one query: the account's connector kind and policy come with each row)."""
    allowing = AccountPolicy.objects.filter(
        account_id=OuterRef("account_id"), customers_may_cancel=True
    )
    pausing = AccountPolicy.objects.filter(
        account_id=OuterRef("account_id"), customers_may_pause=True
    )
    rows = (
        Subscription.objects.filter(
            customer__person_id=person_id, deleted=False, status__in=_LIVE
        )
        .annotate(policy=Exists(allowing), pause_policy=Exists(pausing))
        .order_by("-gateway_created_at", "-pk")
        .values_list(
            "pk", "product", "plan", "cancel_at_period_end", "current_period_end",
            "account__kind", "policy", "status", "pause_policy",
        )
    )  # fmt: skip
    found = []
    for pk, product, plan, ending, period_end, kind, policy, status, pause_policy in rows:
        can = connector_class(kind).capabilities
        at_end = Capability.CANCEL_AT_PERIOD_END in can
        allowed = bool(policy) and Capability.CANCEL_SUBSCRIPTION in can and not ending
        ends = period_end if (at_end or ending) else None
        pause = bool(pause_policy) and Capability.PAUSE_SUBSCRIPTION in can and not ending
        found.append(
            Cancellable(
                pk, product or plan, ending, allowed, at_end, ends,
                may_pause=pause and status in PAUSABLE,
                may_resume=pause and status == SubscriptionStatus.PAUSED,
            )
        )  # fmt: skip
    return found


def cancellable_get(*, person_id: int, subscription_pk: int) -> tuple[Cancellable, Subscription]:
    """One of the person's subscriptions they may cancel; NotFound for anyone else's (or
    none), NotAllowed where the merchant or the gateway does not allow it."""
    found = next((c for c in subscriptions_of(person_id) if c.pk == subscription_pk), None)
    subscription = (
        Subscription.objects.filter(
            pk=subscription_pk, customer__person_id=person_id, deleted=False
        )
        .select_related("account")
        .first()
    )
    if subscription is None:
        raise NotFound("No such subscription.")
    if found is None:
        raise NotAllowed("This subscription has already ended.")
    if not found.allowed:
        raise NotAllowed("This subscription cannot be cancelled here.")
    refusal = state_refusal(ActionKind.CANCEL_SUBSCRIPTION, subscription)
    if refusal:
        raise NotAllowed(refusal)
    return found, subscription


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
        found, target = cancellable_get(person_id=person.pk, subscription_pk=subscription_pk)
        params = {"at_period_end": found.at_period_end}
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


# --- pausing and resuming (``AccountPolicy.customers_may_pause``) ---------------------------
PAUSE_KINDS = {"pause": ActionKind.PAUSE_SUBSCRIPTION, "resume": ActionKind.RESUME_SUBSCRIPTION}


def pausable_get(
    *, person_id: int, subscription_pk: int, kind: ActionKind
) -> tuple[Cancellable, Subscription]:
    """One of the person's subscriptions they may pause (or resume, by ``kind``) here;
    NotFound for anyone else's, NotAllowed where the merchant, the gateway or its state does
    not allow it."""
    subscription = (
        Subscription.objects.filter(
            pk=subscription_pk, customer__person_id=person_id, deleted=False
        )
        .select_related("account")
        .first()
    )
    if subscription is None:
        raise NotFound("No such subscription.")
    found = next((c for c in subscriptions_of(person_id) if c.pk == subscription_pk), None)
    if found is None:
        raise NotAllowed("This subscription has already ended.")
    wanted = found.may_pause if kind is ActionKind.PAUSE_SUBSCRIPTION else found.may_resume
    if not wanted:
        raise NotAllowed("This subscription cannot be paused or resumed here.")
    refusal = state_refusal(kind, subscription)
    if refusal:
        raise NotAllowed(refusal)
    return found, subscription


def _customer_reason(kind: ActionKind) -> str:
    codes = [r.code for r in reasons_for(kind)]
    return "requested_by_customer" if "requested_by_customer" in codes else codes[0]


def subscription_pause(
    *, person: Person, subscription_pk: int, kind: ActionKind, key: str, ip: str | None
) -> ActionRequest:
    """Pause or resume through the action service (once per ``key``), audited as the
    customer; a key used before is answered from its first request."""
    used = key_used(key)
    if used is not None:
        target = Subscription.objects.filter(
            pk=subscription_pk, customer__person_id=person.pk
        ).first()
        if target is None or used.target_id != target.gateway_id or used.kind != kind:
            raise NotFound("No such subscription.")
    else:
        _, target = pausable_get(person_id=person.pk, subscription_pk=subscription_pk, kind=kind)
    return action_submit(
        user=actor_for(person),
        kind=kind,
        target=target,
        params={},
        reason_code=_customer_reason(kind),
        reason_text="On the customer billing pages.",
        idempotency_key=key,
        ip=ip,
    )
