"""The reference connector under the name the gateway-neutral tests have always used.

The implementation is first-class in ``billingdesk.gateways.reference``; this module keeps
the ``memory`` kind (``X-Memory-Signature``) and a call counter for the sync tests.
"""

from __future__ import annotations

from typing import ClassVar

from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.reference.connector import ReferenceConnector
from billingdesk.gateways.reference.mapping import from_json, to_json
from billingdesk.gateways.reference.service import STORE

__all__ = ["STORE", "MemoryConnector", "event_body", "from_json", "signed_headers", "to_json"]


class MemoryConnector(ReferenceConnector):
    kind = "memory"
    display_name = "Memory (tests)"
    signature_header = "X-Memory-Signature"
    list_calls: ClassVar[int] = 0

    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        type(self).list_calls += 1
        return super().list_page(kind, cursor)


def event_body(event_id: str, obj: gw.GatewayObject, *, event_type: str = "") -> bytes:
    return MemoryConnector.event_body(event_id, obj, event_type=event_type)


def signed_headers(account: GatewayAccount, body: bytes, **extra: str) -> dict[str, str]:
    return {
        "HTTP_X_MEMORY_SIGNATURE": MemoryConnector.sign(body, account.webhook_secret)[
            "X-Memory-Signature"
        ],
        **extra,
    }
