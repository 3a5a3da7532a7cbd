"""``billingdesk portal link <person id or email>``: print a fresh customer billing link.

``billingdesk portal revoke <person id or email>`` stops every link made so far for them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billingdesk.billing.models import Person, PersonEmail
from billingdesk.portal.services import portal_link_create, portal_link_revoke


def _person(who: str) -> Person:
    text = who.strip()
    if text.isdecimal() and len(text) <= 18:
        person = Person.objects.filter(pk=int(text)).first()
    elif "@" in text:
        person = (
            Person.objects.filter(primary_email__iexact=text).first()
            or Person.objects.filter(
                pk__in=PersonEmail.objects.filter(email_normalized=text.lower()).values("person_id")
            ).first()
        )
    else:
        raise CommandError(f"{who!r} is neither a person id nor an email address", returncode=2)
    if person is None:
        raise CommandError(f"no person {who!r}", returncode=2)
    return person


class Command(BaseCommand):
    help = "Customer billing links: print one for a person, or revoke a person's links."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        link = sub.add_parser("link", help="print a fresh billing link for a person")
        link.add_argument("person", help="person id or email address")
        revoke = sub.add_parser("revoke", help="stop every link made so far for a person")
        revoke.add_argument("person", help="person id or email address")

    def handle(self, *args: Any, **options: Any) -> None:
        person = _person(options["person"])
        if options["action"] == "link":
            self.stdout.write(portal_link_create(person=person))
        else:
            portal_link_revoke(person=person)
            self.stdout.write(f"Revoked every billing link of person {person.pk}.")
