"""Connect helpdesks from the command line: ``billingdesk helpdesk add|list|…``.

* ``add KIND --name … --setting k=v --secret k=v --origin https://…``: a connection (secrets
  stored encrypted); ``--secret k=@file`` / ``--setting k=@file`` read a value from a file (a
  PEM public key, say). Prints the addresses to configure in the helpdesk.
* ``list``: connections and their embed addresses (never their secrets).
* ``zendesk-package`` / ``freshdesk-package``: the app zip to upload.
* ``iframe-url``: a signed panel URL for the generic iframe connection (for testing a host).
* ``test-ticket``: create a ticket with a billing note, proving the API credentials work.

Bad input prints a plain message on stderr and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from billingdesk.core.errors import BillingdeskError, NotFound
from billingdesk.helpdesks.models import HelpdeskConnection, origin_clean, validate_domains
from billingdesk.helpdesks.registry import kinds, provider_for
from billingdesk.helpdesks.services import ticket_create_with_context


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _fail(f"{flag} must be KEY=VALUE, got {item.split('=')[0]!r}…")
        if value.startswith("@"):
            path = Path(value[1:])
            if not path.is_file():
                raise _fail(f"{flag} {key}: no file {path}")
            value = path.read_text().strip()
        values[key.strip()] = value
    return values


# Kinds whose panel is the signed iframe URL (``helpdesks.iframe.verification``).
SIGNED_IFRAME_KINDS = ("iframe", "zammad", "freescout")


def entry_urls(connection: HelpdeskConnection) -> dict[str, str]:
    """The addresses an administrator pastes into the helpdesk, by what they are."""
    base = settings.BASE_URL
    pk = {"connection_id": connection.pk}
    urls = {
        "zendesk": {"sidebar (in the app package)": reverse("helpdesks:zendesk", kwargs=pk)},
        "helpscout": {"Dynamic Content callback URL": reverse("helpdesks:helpscout", kwargs=pk)},
        "intercom": {
            "initialize URL": reverse("helpdesks:intercom-initialize", kwargs=pk),
            "submit URL": reverse("helpdesks:intercom-submit", kwargs=pk),
        },
        "front": {"plugin URL": reverse("helpdesks:front", kwargs=pk)},
        "freshdesk": {
            "launch URL (in the app package)": reverse("helpdesks:freshdesk-launch", kwargs=pk)
        },
        "chatwoot": {"dashboard app URL": reverse("helpdesks:chatwoot", kwargs=pk)},
        "zammad": {
            "signed iframe URL (add a signed query)": reverse("helpdesks:zammad", kwargs=pk)
        },
        "freescout": {
            "signed iframe URL (add a signed query)": reverse("helpdesks:freescout", kwargs=pk)
        },
        "iframe": {
            "signed iframe URL (add a signed query)": reverse("helpdesks:iframe", kwargs=pk)
        },
    }[connection.kind]
    return {label: base + path for label, path in urls.items()}


class Command(BaseCommand):
    help = "Connect a helpdesk (helpdesk add …), list them, build app packages, test tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="connect a helpdesk account")
        add.add_argument(
            "kind",
            help="zendesk, helpscout, intercom, front, freshdesk, chatwoot, zammad, freescout, "
            "iframe",
        )
        add.add_argument("--name", required=True, help="a name for this connection")
        add.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE")
        add.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE")
        add.add_argument(
            "--origin", action="append", default=[], help="an origin allowed to frame the panel"
        )
        add.add_argument(
            "--agent-domain",
            action="append",
            default=[],
            help="an email domain whose vouched agents act as the user with their email "
            "(never a superuser); others need an agent link in the admin",
        )
        sub.add_parser("list", help="list connections and their addresses")
        for name, what in (("zendesk-package", "Zendesk"), ("freshdesk-package", "Freshdesk")):
            pkg = sub.add_parser(name, help=f"write the {what} app zip")
            pkg.add_argument("--connection", required=True, help="connection name or id")
            pkg.add_argument("--output", required=True, help="where to write the zip")
            pkg.add_argument("--base-url", default="", help="billingdesk's public address")
        url = sub.add_parser("iframe-url", help="print a signed panel URL (generic iframe)")
        url.add_argument("--connection", required=True)
        url.add_argument("--email", required=True, help="the customer's email")
        url.add_argument("--agent", default="", help="the agent's email (vouched)")
        test = sub.add_parser("test-ticket", help="create a test ticket with a billing note")
        test.add_argument("--connection", required=True, help="connection name or id")
        test.add_argument("--email", required=True, help="requester email")
        test.add_argument("--subject", default="billingdesk test ticket")
        test.add_argument(
            "--message", default="This ticket was created by billingdesk to test the connection."
        )
        test.add_argument("--ticket", default="", help="add the note to this existing ticket")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "add":
                self._add(options)
            elif action == "list":
                self._list()
            elif action in ("zendesk-package", "freshdesk-package"):
                self._package(action.split("-")[0], options)
            elif action == "iframe-url":
                self._iframe_url(options)
            else:
                self._test_ticket(options)
        except BillingdeskError as exc:
            raise _fail(exc.message) from None

    def _connection(self, ref: str, kind: str | None = None) -> HelpdeskConnection:
        conn = HelpdeskConnection.objects.filter(name=ref).first()
        if conn is None:
            try:
                conn = HelpdeskConnection.objects.filter(pk=ref).first()
            except ValidationError:
                conn = None
        if conn is None:
            raise _fail(f"no helpdesk connection named {ref!r} (see `billingdesk helpdesk list`)")
        if kind and conn.kind != kind:
            raise _fail(f"{conn.name!r} is a {conn.get_kind_display()} connection, not {kind}")
        return conn

    def _add(self, options: dict[str, Any]) -> None:
        kind = options["kind"]
        try:
            provider = provider_for(kind)
        except NotFound:
            raise _fail(
                f"unknown helpdesk kind {kind!r} (known: {', '.join(k for k, _ in kinds())})"
            ) from None
        name = options["name"].strip()
        if not name:
            raise _fail("--name must not be empty")
        if HelpdeskConnection.objects.filter(name=name).exists():
            raise _fail(f"a connection named {name!r} already exists")
        values = _pairs(options["setting"], "--setting")
        secrets = _pairs(options["secret"], "--secret")
        known_secrets = {s.name for s in provider.secrets}
        errors = provider.settings_errors(values)
        if errors:
            raise _fail(errors[0])
        for key in secrets:
            if key not in known_secrets:
                names = ", ".join(sorted(known_secrets))
                raise _fail(f"{provider.display_name} has no secret {key!r} (secrets: {names})")
        for s in provider.secrets:
            if s.required and not secrets.get(s.name):
                raise _fail(f"{provider.display_name} needs --secret {s.name}=… ({s.help})")
        try:
            origins = [origin_clean(o) for o in options["origin"]]
        except ValidationError as exc:
            raise _fail(exc.messages[0]) from None
        domains = [d.strip().lower().removeprefix("@") for d in options["agent_domain"]]
        try:
            validate_domains(domains)
        except ValidationError as exc:
            raise _fail(exc.messages[0]) from None
        conn = HelpdeskConnection.objects.create(
            name=name,
            kind=kind,
            settings=values,
            secrets=secrets,  # type: ignore[misc]
            allowed_frame_origins=origins,
            agent_email_domains=domains,
        )
        self.stdout.write(f"Connected {conn} — id {conn.pk}")
        for label, url in entry_urls(conn).items():
            self.stdout.write(f"  {label}: {url}")
        self.stdout.write(f"  Next steps: {provider.doc}")

    def _list(self) -> None:
        from billingdesk.helpdesks.embed import frame_origins

        for conn in HelpdeskConnection.objects.all():
            state = "enabled" if conn.enabled else "disabled"
            origins = " ".join(frame_origins(conn)) or "(framing denied)"
            self.stdout.write(
                f"{conn.pk}  {conn.kind:<10} {conn.name}  [{state}]  frame: {origins}"
            )
            for label, url in entry_urls(conn).items():
                self.stdout.write(f"    {label}: {url}")

    def _package(self, kind: str, options: dict[str, Any]) -> None:
        conn = self._connection(options["connection"], kind)
        if kind == "zendesk":
            from billingdesk.helpdesks.zendesk.package import package
        else:
            from billingdesk.helpdesks.freshdesk.package import package
        data = package(conn, options["base_url"] or None)
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise _fail(f"no directory {output.parent}")
        output.write_bytes(data)
        self.stdout.write(f"Wrote {output} ({len(data)} bytes). Next: {provider_for(kind).doc}")

    def _iframe_url(self, options: dict[str, Any]) -> None:
        from billingdesk.helpdesks.iframe.verification import signed_query

        conn = self._connection(options["connection"])
        if conn.kind not in SIGNED_IFRAME_KINDS:
            raise _fail(
                f"{conn.name!r} is a {conn.get_kind_display()} connection, not a signed iframe "
                f"({', '.join(SIGNED_IFRAME_KINDS)})"
            )
        query = signed_query(
            conn.secret("signing_secret"), email=options["email"], agent=options["agent"]
        )
        self.stdout.write(entry_urls(conn)["signed iframe URL (add a signed query)"] + "?" + query)

    def _test_ticket(self, options: dict[str, Any]) -> None:
        conn = self._connection(options["connection"])
        outcome = ticket_create_with_context(
            connection=conn,
            requester_email=options["email"],
            subject=options["subject"],
            message=options["message"],
            ticket_id=options["ticket"],
            ticket_proven=True,  # an operator at the console names the ticket
        )
        verb = "Created ticket" if outcome.created else "Added a note to ticket"
        self.stdout.write(f"{verb} {outcome.ticket_id} in {conn.name} (note {outcome.note_id}).")
        if outcome.url:
            self.stdout.write(f"  {outcome.url}")
