"""Which actions an agent is offered on each row of a person's sections.

A rule about the agent and the rows, not a view: the console, the panel and the helpdesk
sidebars (``billingdesk.helpdesks``) all attach the same buttons through ``offer_actions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of, roles_cached
from billingdesk.actions.rules import actions_available_many
from billingdesk.billing.models import Mirrored
from billingdesk.panel.actionforms import BUTTON_LABELS
from billingdesk.panel.selectors import PanelData


@dataclass(frozen=True, slots=True)
class OfferedAction:
    kind: str
    label: str
    url: str


def offer_actions(request: HttpRequest, data: PanelData) -> Role:
    """Attach to each row the actions this agent may start on it (``row.offered``)."""
    with roles_cached():
        return _offer_actions_once(request, data)


def _offer_actions_once(request: HttpRequest, data: PanelData) -> Role:
    role = role_of(request.user)
    if ROLE_RANK[role] < ROLE_RANK[Role.AGENT]:
        for row in _actionable(data):
            row.offered = []  # type: ignore[attr-defined]
        return role
    # One reverse() for the page: a panel has dozens of buttons and reverse() is not cheap.
    prefix = reverse(
        "panel-action-form", kwargs={"kind": "k", "target_kind": "t", "target_id": 0}
    ).removesuffix("k/t/0/")
    rows = _actionable(data)
    offered = actions_available_many(user=request.user, targets=rows)
    for row, kinds in zip(rows, offered, strict=True):
        target_kind = type(row).__name__.lower()
        row.offered = [  # type: ignore[attr-defined]
            OfferedAction(
                kind=kind,
                label=str(BUTTON_LABELS.get(kind, kind)),
                url=f"{prefix}{kind}/{target_kind}/{row.pk}/",
            )
            for kind in kinds
        ]
    return role


def _actionable(data: PanelData) -> list[Mirrored]:
    return [*data.customers, *data.charges.rows, *data.subscriptions.rows, *data.invoices.rows]
