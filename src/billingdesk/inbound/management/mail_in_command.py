"""Run the inbound SMTP (or LMTP) listener an MTA delivers customers' replies to."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billingdesk.inbound.smtp import listener, tls_context


class Command(BaseCommand):
    help = "Receive customers' replies over SMTP or LMTP (point Postfix's transport here)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8025, help="Port (default 8025).")
        parser.add_argument("--lmtp", action="store_true", help="Speak LMTP instead of SMTP.")
        parser.add_argument("--tls-cert", default="", help="PEM certificate: offer STARTTLS.")
        parser.add_argument("--tls-key", default="", help="PEM private key of --tls-cert.")
        parser.add_argument(
            "--require-starttls", action="store_true", help="Refuse mail before STARTTLS."
        )
        parser.add_argument("--hostname", default=None, help="Name given in the greeting.")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Listener processes sharing the port (SO_REUSEPORT), e.g. one per core.",
        )
        parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.BILLINGDESK_INBOUND_DOMAIN:
            raise CommandError(
                "Set BILLINGDESK_INBOUND_DOMAIN (the domain of the routing addresses) first.",
                returncode=2,
            )
        if not 0 <= options["port"] <= 65535:
            raise CommandError(f"--port {options['port']} is not a port number.", returncode=2)
        cert, key = options["tls_cert"], options["tls_key"]
        if bool(cert) != bool(key):
            raise CommandError("--tls-cert and --tls-key go together.", returncode=2)
        if options["require_starttls"] and options["lmtp"]:
            raise CommandError(
                "--require-starttls is for SMTP: aiosmtpd's LMTP refuses LHLO before TLS. "
                "Keep LMTP on a local address or a unix-only network.",
                returncode=2,
            )
        if not 1 <= options["processes"] <= 64:
            raise CommandError("--processes is between 1 and 64.", returncode=2)
        if options["processes"] > 1 and options["port"] == 0:
            raise CommandError("--processes needs a fixed --port (not 0).", returncode=2)
        if options["require_starttls"] and not cert:
            raise CommandError("--require-starttls needs --tls-cert and --tls-key.", returncode=2)
        try:
            tls = tls_context(cert, key) if cert else None
        except (OSError, ValueError) as exc:
            raise CommandError(
                f"cannot load the TLS certificate or key: {exc}", returncode=2
            ) from exc
        controller = listener(
            host=options["host"],
            port=options["port"],
            lmtp=options["lmtp"],
            tls=tls,
            require_starttls=options["require_starttls"],
            server_hostname=options["hostname"],
            reuse_port=options["reuse_port"] or options["processes"] > 1,
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            controller.start()
        except Exception as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        children = [self._spawn(options) for _ in range(options["processes"] - 1)]
        processes_note = f" ({options['processes']} processes)" if children else ""
        protocol = "LMTP" if options["lmtp"] else "SMTP"
        server = controller.server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else controller.port
        self.stdout.write(
            f"mail-in: {protocol} on {options['host']}:{port} for "
            f"@{settings.BILLINGDESK_INBOUND_DOMAIN}"
            f"{' (STARTTLS)' if tls else ''}"
            f"{processes_note}",
        )
        self.stdout.flush()
        died: list[int] = []
        try:
            while not stop.wait(1.0):
                died = [c.returncode for c in children if c.poll() is not None]
                if died:  # a listener died: stop them all (the supervisor restarts us)
                    stop.set()
        finally:
            for child in children:
                child.terminate()
            controller.stop()
            for child in children:
                child.wait(timeout=30)
        if died:
            raise CommandError(f"a listener process exited ({died[0]}); stopped", returncode=1)

    @staticmethod
    def _spawn(options: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Another listener process on the same port (the same options, sharing it)."""
        argv = [sys.executable, "-m", "billingdesk", "mail-in", "--reuse-port"]
        argv += ["--host", options["host"], "--port", str(options["port"])]
        if options["lmtp"]:
            argv.append("--lmtp")
        if options["tls_cert"]:
            argv += ["--tls-cert", options["tls_cert"], "--tls-key", options["tls_key"]]
        if options["require_starttls"]:
            argv.append("--require-starttls")
        if options["hostname"]:
            argv += ["--hostname", options["hostname"]]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL)  # noqa: S603 - our own argv
