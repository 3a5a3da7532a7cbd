"""``billingdesk mail-in``: the command lives in ``mail_in_command`` (a valid module name)."""

from billingdesk.inbound.management.mail_in_command import Command

__all__ = ["Command"]
