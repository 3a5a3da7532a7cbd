"""``billingdesk documents_demo_setup``: create the demo issuer (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billingdesk.documents.demo import demo_issuer_create


class Command(BaseCommand):
    help = "Create a demo legal entity, its numbering series and a default brand."

    def handle(self, *args: Any, **options: Any) -> None:
        brand = demo_issuer_create()
        self.stdout.write(f"brand {brand.name!r} (legal entity {brand.legal_entity.name!r}) ready")
