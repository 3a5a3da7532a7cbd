"""Signals other apps listen to instead of reaching into the action service.

``action_recorded`` is sent with ``request`` (the ``ActionRequest``), ``result`` (the audit
entry's: ``approval_requested``, ``approved``, ``denied``, ``succeeded``, ``refused``,
``failed``, ``unknown``…) and ``action`` (the audit entry's action: the kind, or
``<kind>.approval`` for a decision), whenever a request's audit entry is written, and when an
approval lets a request run; inside the transaction of the change. Every kind of action
(those of later connectors and dispute actions too) goes through it.
"""

from django.dispatch import Signal

action_recorded = Signal()
