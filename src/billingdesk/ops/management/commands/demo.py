"""`billingdesk demo`: a working installation on this machine in one command.

Migrates the database, creates the demo administrator, seeds two sandbox gateway accounts
(idempotently: running it again adds nothing), then runs a worker and the web server as child
processes (their output goes to ``demo-server.log`` and ``demo-worker.log`` in the data
directory; earlier runs' logs are kept as ``.1`` … ``.5``) and prints where to go. Ctrl-C
(or SIGTERM) stops both children before exiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from argparse import ArgumentParser
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.models import Count
from django.urls import NoReverseMatch, reverse

from billingdesk.billing.models import Person
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill
from billingdesk.ops.management.commands.serve import port_free
from billingdesk.portal.services import portal_link_create

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "demo-admin"
# One user per role besides the administrator, so approvals can be tried at once:
# (username, password, role, full name). Their limits are ``accounts.defaults``'.
DEMO_AGENTS = [
    ("agent", "demo-agent", "agent", "Alex Agent"),
    ("finance", "demo-finance", "finance", "Fiona Finance"),
    ("viewer", "demo-viewer", "read_only", "Vic Viewer"),
]
HOST = "127.0.0.1"
READY_TIMEOUT = 60.0  # seconds for the server to answer its health check
STOP_TIMEOUT = 10.0  # seconds a child gets to shut down before it is killed


class _Stop(Exception):
    """SIGTERM arrived: shut down the way Ctrl-C does."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError(value)
    return port


# Exit codes of a child stopped by Ctrl-C or SIGTERM (the server and the worker exit 0).
_STOPPED_BY_SIGNAL = {0, 130, -signal.SIGINT, -signal.SIGTERM}


# Logs of earlier runs kept beside the current one (demo-server.log.1 is the previous run).
KEPT_LOGS = 5


def rotate_log(path: Path, keep: int = KEPT_LOGS) -> None:
    """Shift ``path`` to ``path.1`` (``.1`` to ``.2``…), so a new run never overwrites a log.

    The oldest beyond ``keep`` is dropped; an empty log (a run that wrote nothing) is not kept.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    for number in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{number}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{number + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _answers(url: str) -> bool:
    # No proxy: the server is on this machine, whatever http_proxy says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


# Pages other apps provide, shown when installed: (label, URL name, takes a person id).
OPTIONAL_PAGES = [
    ("Console", "console", False),
    ("A person, in the console", "console-person", True),
    ("The same, as the panel", "panel-person", True),
    ("Approvals", "console-approvals", False),
    ("Reports (finance)", "reports:home", False),
]


def _sample_person() -> Person | None:
    """A person matched across both demo accounts, to show what matching does."""
    across = (
        Person.objects.annotate(accounts=Count("customers__account", distinct=True))
        .filter(accounts__gte=2)
        .order_by("pk")
        .first()
    )
    return across or Person.objects.order_by("pk").first()


def _optional_pages() -> list[tuple[str, str]]:
    person = _sample_person()
    found = []
    for label, name, per_person in OPTIONAL_PAGES:
        if per_person and person is None:
            continue
        try:
            url = reverse(name, kwargs={"person_id": person.pk} if per_person and person else {})
        except NoReverseMatch:
            continue
        found.append((label, url))
    return found


class Command(BaseCommand):
    help = "Seed sandbox demo data, then run the server and a worker (Ctrl-C stops)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=_port, default=8000, help="Port (default: 8000).")
        parser.add_argument(
            "--persons",
            type=_positive,
            default=400,
            help="How many customers the sandbox invents (default: 400).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Seed only; start neither server nor worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        serve = not options["no_serve"]
        local = f"http://{HOST}:{port}"
        if serve and not port_free(HOST, port):
            raise CommandError(
                f"Port {port} is in use (another billingdesk demo?). Stop it or pass --port."
            )
        # Webhook URLs are built from BASE_URL: make them point at this demo's server, unless
        # the operator set an address explicitly (e.g. a tunnel).
        base_url = os.environ.get("BILLINGDESK_BASE_URL") or local
        settings.BASE_URL = base_url.rstrip("/")

        self.stdout.write(f"Preparing the database in {settings.DATABASES['default']['NAME']}…")
        call_command("migrate", interactive=False, verbosity=0)
        self._ensure_admin()
        self._ensure_agents()
        accounts = self._seed(options["persons"])
        self._seed_limits(accounts)
        self._print_logins()

        if not serve:
            self._print_urls(local, accounts)
            self.stdout.write(
                "Seeded. Start the server with `billingdesk serve` and a worker with "
                "`billingdesk worker`."
            )
            return
        self._run(port=port, local=local, accounts=accounts)

    def _ensure_admin(self) -> None:
        users = get_user_model()
        if users.objects.filter(username=DEMO_USERNAME).exists():
            return
        users.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
        self.stdout.write(f"Created the superuser {DEMO_USERNAME!r}.")

    def _ensure_agents(self) -> None:
        from billingdesk.accounts.models import AgentProfile

        users = get_user_model()
        for username, password, role, name in DEMO_AGENTS:
            if users.objects.filter(username=username).exists():
                continue
            first, _, last = name.partition(" ")
            user = users.objects.create_user(
                username, f"{username}@example.com", password, first_name=first, last_name=last
            )
            AgentProfile.objects.update_or_create(user=user, defaults={"role": role})
            self.stdout.write(f"Created the {role.replace('_', '-')} user {username!r}.")

    def _seed_limits(self, accounts: Sequence[GatewayAccount]) -> None:
        from billingdesk.accounts.defaults import limits_seed
        from billingdesk.billing.models import Charge

        currencies = {a.default_currency for a in accounts if a.default_currency}
        currencies |= set(
            Charge.objects.filter(account__in=accounts)
            .values_list("currency", flat=True)
            .distinct()
        )
        limits_seed(currencies)

    def _print_logins(self) -> None:
        from billingdesk.accounts.defaults import SUGGESTED_LIMITS
        from billingdesk.accounts.models import LimitKind, Role

        self.stdout.write("Demo logins (sign in at /login/):")
        rows = [(DEMO_USERNAME, DEMO_PASSWORD, "admin", "no limits; configures billingdesk")]
        for username, password, role, _name in DEMO_AGENTS:
            limits = SUGGESTED_LIMITS.get(Role(role), {})
            refund = limits.get(LimitKind.REFUND)
            if refund:
                what = f"refunds up to {refund[0]} per charge alone, {refund[1]} a day"
                if role == "finance":
                    what += "; approves agents' requests within that"
                else:
                    what += "; more goes to finance for approval"
            else:
                what = "sees everything, changes nothing"
            rows.append((username, password, role.replace("_", "-"), what))
        for username, password, role, what in rows:
            self.stdout.write(
                f"  {role.ljust(9)}  user {username.ljust(8)} password {password.ljust(13)}  {what}"
            )
        self.stdout.write("  (amounts in each account's currency, e.g. EUR)")

    def _seed(self, persons: int) -> list[GatewayAccount]:
        try:
            from billingdesk.gateways.sandbox.seed import demo_seed
        except ImportError as exc:
            raise CommandError(
                f"The sandbox demo data is not available in this installation ({exc})."
            ) from exc
        # An issuer (legal entity, brand, series) so payments made during the demo get
        # invoices and receipts; the seeded history gets its own just after.
        call_command("documents_demo_setup", stdout=self.stdout._out, verbosity=0)
        self.stdout.write(f"Seeding the sandbox accounts ({persons} persons)…")
        # The raw stream: OutputWrapper would add a newline to every partial write.
        stream = cast(TextIO, self.stdout._out)
        accounts: list[GatewayAccount] = demo_seed(
            persons=persons, stdout=stream, backfill=account_backfill
        )
        from billingdesk.documents.demo import demo_history_documents

        issued = demo_history_documents()
        self.stdout.write(
            f"Issued {issued} documents (receipts, invoices with Factur-X for VAT-registered "
            "customers, credit notes) for the latest payments of the seeded history."
        )
        return accounts

    def _print_urls(self, local: str, accounts: Sequence[GatewayAccount]) -> None:
        rows = [
            ("Home", f"{local}/"),
            *((label, local + url) for label, url in _optional_pages()),
            *(
                ("Customer billing page", portal_link_create(person=p))
                for p in [_sample_person()]
                if p
            ),
            ("Login", f"{local}/login/  (users and passwords above)"),
            ("Admin", f"{local}/admin/"),
            ("Health", f"{local}/healthz"),
        ]
        rows += [(f"Webhooks of {a.name}", settings.BASE_URL + a.webhook_path) for a in accounts]
        width = max(len(label) for label, _ in rows)
        self.stdout.write("")
        for label, url in rows:
            self.stdout.write(f"  {label.ljust(width)}  {url}")
        self.stdout.write("")

    def _run(self, *, port: int, local: str, accounts: Sequence[GatewayAccount]) -> None:
        env = {
            **os.environ,
            "BILLINGDESK_BASE_URL": settings.BASE_URL,
            "BILLINGDESK_DATA_DIR": str(settings.DATA_DIR),
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        }
        python = [sys.executable, "-m", "billingdesk"]
        commands = {
            "worker": [*python, "worker"],
            "server": [*python, "serve", "--host", HOST, "--port", str(port)],
        }
        # Children write to log files, so the terminal keeps the URLs readable; a child that
        # fails has the end of its log printed here.
        logs = {name: settings.DATA_DIR / f"demo-{name}.log" for name in commands}
        # The children open their own connections; do not hold SQLite locks meanwhile.
        connections.close_all()
        previous = signal.signal(signal.SIGTERM, _raise_stop)
        children: dict[str, subprocess.Popen[bytes]] = {}
        interrupted_by_tty = False
        try:
            for name, command in commands.items():
                rotate_log(logs[name])
                with logs[name].open("wb") as log:
                    children[name] = subprocess.Popen(  # noqa: S603
                        command, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
            self._wait_ready(f"{local}/healthz", children, logs)
            self._print_urls(local, accounts)
            self.stdout.write(
                f"Logs: {logs['server']} and {logs['worker']}\n"
                "billingdesk demo is running. Press Ctrl-C to stop."
            )
            while True:
                self._check_alive(children, logs)
                time.sleep(0.5)
        except KeyboardInterrupt:
            interrupted_by_tty = True
            self.stdout.write("\nStopping…")
        except _Stop:
            self.stdout.write("Stopping…")
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._stop(children, already_signalled=interrupted_by_tty)

    def _check_alive(
        self, children: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path]
    ) -> None:
        for name, child in children.items():
            code = child.poll()
            if code is None:
                continue
            if code in _STOPPED_BY_SIGNAL:
                # Stopped by the same Ctrl-C or SIGTERM that is about to reach this process.
                raise _Stop
            raise CommandError(
                f"The {name} stopped (exit code {code}). The end of {logs[name]}:\n"
                + _tail(logs[name])
            )

    def _wait_ready(
        self, url: str, children: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path]
    ) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive(children, logs)
            if _answers(url):
                return
            time.sleep(0.3)
        raise CommandError(
            f"The server did not answer {url} within {READY_TIMEOUT:.0f} s. The end of "
            f"{logs['server']}:\n" + _tail(logs["server"])
        )

    def _stop(
        self, children: dict[str, subprocess.Popen[bytes]], *, already_signalled: bool
    ) -> None:
        """Stop every child gracefully, killing what does not stop in time."""
        if already_signalled:
            # Ctrl-C in a terminal reached the children too: let them finish on their own
            # (a second signal would make the worker abandon the job it is running).
            deadline = time.monotonic() + STOP_TIMEOUT / 2
            while time.monotonic() < deadline and any(c.poll() is None for c in children.values()):
                time.sleep(0.1)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
