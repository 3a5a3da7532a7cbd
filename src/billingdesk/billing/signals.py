"""Signals other apps listen to instead of reaching into the mirror's write path."""

from django.dispatch import Signal

# Sent inside the upsert transaction after a batch of one kind is written, with
# ``account`` (GatewayAccount), ``kind`` (ObjectKind), ``created`` and ``updated`` (lists of
# row ids). Receivers that do slow or external work enqueue it with ``enqueue_on_commit``.
mirror_changed = Signal()
