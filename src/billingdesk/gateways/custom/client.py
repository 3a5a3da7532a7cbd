"""The merchant's action endpoint: one signed POST per action, its answer mapped.

Request: ``POST <action_url>`` with ``webhook-id`` (derived from the action's idempotency key,
so a retry carries the same id), ``webhook-timestamp`` and ``webhook-signature``
(Standard Webhooks, HMAC-SHA256 with the account's ``signing_secret``), and the JSON body::

    {"type": "action.refund", "action": "refund", "idempotency_key": "...",
     "params": {"amount": 500, "reason": "..."},
     "reason": {"code": "duplicate", "text": "charged twice"},
     "agent": {"name": "Ana (ana)", "email": "ana@shop.example", "approved_by": ""},
     "object": {<the record as pushed>}}

``reason`` and ``agent`` (who asked; ``approved_by`` when finance approved it) come from the
action service's ``gateways.interface.action_context``.

Answers (docs/gateways/custom.md):

- ``200`` ``{"objects": [<records in the push format>], "request_id": "..."}``: done; the
  objects go to the mirror;
- ``202``: accepted, the merchant pushes the result later;
- ``400``, ``402``, ``409``, ``422`` ``{"message": "...", "code": "..."}``: refused; the
  message is shown to the agent as it is; ``code`` ``amount_too_large`` or ``card_declined``
  (with ``decline_code``) say which refusal it is;
- ``429`` and anything else (5xx, a redirect, a timeout, no answer): a failure, retryable.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from billingdesk.core.errors import (
    AmountTooLarge,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    MalformedPayload,
    NotAllowed,
    RateLimited,
)
from billingdesk.core.outbound import outbound_post
from billingdesk.gateways import interface as gw
from billingdesk.gateways.reference.mapping import from_json

REFUSALS = {400, 402, 409, 422}


def message_id(idempotency_key: str) -> str:
    return "act_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def signed_headers(secret: str, msg_id: str, body: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


def action_call(
    *, url: str, secret: str, action: str, idempotency_key: str, params: dict[str, Any],
    obj: dict[str, Any], agent: dict[str, str] | None = None,
    reason: dict[str, str] | None = None,
) -> gw.ActionResult:  # fmt: skip
    body = json.dumps(
        {
            "type": f"action.{action}",
            "action": action,
            "idempotency_key": idempotency_key,
            "params": params,
            "reason": reason or {"code": "", "text": ""},
            "agent": agent or {"name": "", "email": "", "approved_by": ""},
            "object": obj,
        },
        separators=(",", ":"),
        default=str,
    )
    headers = signed_headers(secret, message_id(idempotency_key), body)
    try:
        answer = outbound_post(
            url, body=body.encode(), headers=headers, timeout=settings.OUTBOUND_TIMEOUT_SECONDS
        )
    except InvalidRequest as exc:
        raise GatewayUnavailable(f"The merchant's action URL is refused: {exc.message}") from None
    except requests.Timeout:
        raise GatewayUnavailable("The merchant's server did not answer in time.") from None
    except requests.RequestException as exc:
        raise GatewayUnavailable(f"The merchant's server could not be reached: {exc}") from None
    data = _json(answer.body)
    if answer.status == 202:
        return gw.ActionResult(objects=[], request_id=str(data.get("request_id") or ""))
    if 200 <= answer.status < 300:
        try:
            objects = [from_json(item) for item in data.get("objects") or []]
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(
                f"the merchant's answer has an unreadable object: {exc}"
            ) from exc
        return gw.ActionResult(objects=objects, request_id=str(data.get("request_id") or ""))
    message = str(data.get("message") or "")[:500]
    if answer.status in REFUSALS:
        refusal = message or f"The merchant refused this {action}."
        code = str(data.get("code") or "")
        if code == "amount_too_large":
            raise AmountTooLarge(refusal)
        if code == "card_declined":
            raise CardDeclined(refusal, decline_code=str(data.get("decline_code") or "declined"))
        raise NotAllowed(refusal)
    if answer.status == 429:
        raise RateLimited("The merchant's server is busy; try again shortly.", retry_after=30)
    raise GatewayUnavailable(
        f"The merchant's server answered {answer.status}" + (f": {message}" if message else ".")
    )


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
