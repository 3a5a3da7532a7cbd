"""One-click billing actions: offered, previewed, authorised, run once, audited.

Every action goes through ``action_submit``:

1. the form's idempotency key is checked (signed for this agent) and looked up: a key seen
   before returns the earlier request instead of acting again (double click, retry);
2. role, gateway capability, the target's state, the amount and the reason are checked;
3. **claim** — in one short transaction the target row is locked, its state re-checked
   against what other requests still in flight will take from it (a refund being processed
   counts against what remains), the money limits applied (``actions.limits``) and the
   request row written: ``pending_approval`` (finance decides later) or ``running``;
4. **call** — the gateway is called outside any transaction (no row lock, no SQLite write
   lock held while it answers), with an idempotency key derived from the form's;
5. **record** — in a second transaction the returned objects go to the mirror, the request
   becomes ``succeeded`` (or ``failed``) and the audit entry is appended.

If recording fails after the gateway acted, the outcome and the audit entry are recorded
again without the mirror (a webhook brings it); if even that fails, or the process dies
between 4 and 5, the claim stays ``running`` and ``actions.recovery`` reconciles it later by
asking the gateway again with the same key (connectors honour idempotency keys), or marks it
``unknown`` when that is no longer safe.

Every user-facing refusal (not allowed, over-refund, a decline, a bad form) is audited, then
raised to the caller with its plain message.

The package is split by job; import from here, not from the modules:

- ``submit``: ``action_submit`` and the checks made under the target's lock;
- ``calls``: the gateway call for a claimed request, and recording what it answered;
- ``approvals``: finance's decision on a request above the agent's limit;
- ``outcome``: what to tell the agent about a submitted request;
- ``auditing``: the audit entries of requests and of refusals that left no request.
"""

from billingdesk.actions.keys import action_key_issue
from billingdesk.actions.preview import ActionPreview, action_preview
from billingdesk.actions.rules import TARGETS, TAX_ID_TYPES, actions_available
from billingdesk.actions.services.approvals import approval_decide
from billingdesk.actions.services.auditing import _audit as _audit
from billingdesk.actions.services.calls import gateway_call, record_failure, record_success
from billingdesk.actions.services.outcome import request_outcome
from billingdesk.actions.services.submit import action_submit

__all__ = [
    "TARGETS",
    "TAX_ID_TYPES",
    "ActionPreview",
    "action_key_issue",
    "action_preview",
    "action_submit",
    "actions_available",
    "approval_decide",
    "gateway_call",
    "record_failure",
    "record_success",
    "request_outcome",
]
