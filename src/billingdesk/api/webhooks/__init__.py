"""Outgoing event webhooks: events stored with the change, delivered by the task engine.

``services``: endpoints, events (``event_emit``) and one delivery attempt; ``tasks``: the
delivery job; ``receivers``: the mirror's changes as events.
"""
