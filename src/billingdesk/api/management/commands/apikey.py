"""API keys from the command line: ``billingdesk apikey create|revoke|list``.

``create`` prints the key once (it is stored hashed). Bad input prints a plain message on
stderr and exits with code 2.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billingdesk.api.keys import apikey_create, apikey_revoke
from billingdesk.api.models import ApiKey, Scope
from billingdesk.core.errors import UserFacingError


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Create, revoke or list API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a key and print it (once)")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scope", action="append", default=[], help=f"one of {', '.join(Scope.values)}"
        )
        create.add_argument("--expires", default="", help="ISO date or time, e.g. 2027-01-31")
        create.add_argument("--ip", action="append", default=[], help="allowed address/network")
        create.add_argument(
            "--role", default="", help="agent (default with --scope actions) or finance"
        )
        create.add_argument("--rate", default="120", help="requests a minute (default 120)")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")
        sub.add_parser("list", help="list keys (prefixes, scopes, last use)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"])(options)
        except UserFacingError as exc:
            raise _fail(exc.message) from None

    def _create(self, options: dict[str, Any]) -> None:
        expires = None
        if options["expires"]:
            try:
                expires = datetime.fromisoformat(options["expires"])
            except ValueError:
                raise _fail(f"--expires {options['expires']!r} is not an ISO date") from None
            if timezone.is_naive(expires):
                expires = timezone.make_aware(expires)
        rate = options["rate"]
        if not str(rate).isascii() or not str(rate).isdigit():
            raise _fail(f"--rate {rate!r} is not a whole number")
        key, text = apikey_create(
            name=options["name"], scopes=options["scope"], expires_at=expires,
            allowed_ips="\n".join(options["ip"]), rate_limit_per_minute=int(rate),
            role=options["role"],
        )  # fmt: skip
        self.stdout.write(f"{text}\n")
        self.stderr.write(f"API key {key.name!r} created; it is not shown again.")

    def _revoke(self, options: dict[str, Any]) -> None:
        key = apikey_revoke(prefix=options["prefix"])
        self.stdout.write(f"revoked {key.name} (bdk_{key.prefix})")

    def _list(self, options: dict[str, Any]) -> None:
        for key in ApiKey.objects.all():
            state = "revoked" if key.revoked_at else ("active" if key.active else "expired")
            used = key.last_used_at.isoformat() if key.last_used_at else "never"
            self.stdout.write(
                f"bdk_{key.prefix}  {key.name}  [{state}]  {','.join(key.scopes)}  used {used}"
            )
