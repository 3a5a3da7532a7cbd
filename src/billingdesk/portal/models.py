"""Per-person state of the customer billing links.

A link carries the person's id and the ``version`` current when it was made. Revoking bumps
the version (every link made before stops working, and so does every session opened from
one) and records when; making a new link afterwards clears ``revoked_at`` but old links stay
dead because their version is old. Global revocation is a rotation of ``SECRET_KEY``.
"""

from __future__ import annotations

from django.db import models

from billingdesk.billing.models import Person


class PortalAccess(models.Model):
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="portal_access")
    version = models.PositiveIntegerField(default=1)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"billing link of {self.person} (v{self.version})"
