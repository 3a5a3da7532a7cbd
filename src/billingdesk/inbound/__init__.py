"""Inbound email: customers' replies to documents become helpdesk tickets with billing context.

Two ways in (``smtp``: the ``billingdesk mail-in`` SMTP/LMTP listener; ``receivers``: the
providers' inbound webhooks through django-anymail), one intake (``intake``: redact card
numbers, store the raw message, queue it), one processing job (``processing``). See
docs/inbound-email.md.
"""
