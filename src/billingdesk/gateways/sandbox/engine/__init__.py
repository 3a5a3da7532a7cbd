"""The sandbox gateway's engine: every operation a real gateway offers, on its own tables.

``SandboxEngine(account)`` is bound to one sandbox account; its operations take keyword
arguments, validate them like a gateway API would (``InvalidRequest``, ``NotFound``,
``AmountTooLarge``, ``CardDeclined``…), store the resulting objects as JSON, and record one
event per changed object, delivered as a signed webhook after the transaction commits.
``SandboxEngine(account, bulk=True)`` runs the same code against an in-memory buffer written
by ``flush()``, which is how ``seed.py`` produces thousands of objects quickly.
"""

from __future__ import annotations

from billingdesk.gateways.sandbox.engine.billing import TAX_ID_FORMATS, Line
from billingdesk.gateways.sandbox.engine.cards import TEST_CARDS, Behavior
from billingdesk.gateways.sandbox.engine.ledger import iso, parse_iso
from billingdesk.gateways.sandbox.engine.subscriptions import SubscriptionOps


class SandboxEngine(SubscriptionOps):
    """All sandbox operations (see ``payments``, ``billing`` and ``subscriptions``)."""


__all__ = ["TAX_ID_FORMATS", "TEST_CARDS", "Behavior", "Line", "SandboxEngine", "iso", "parse_iso"]
