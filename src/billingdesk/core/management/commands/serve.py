"""`billingdesk serve`: the web server, Granian (HTTP in Rust) running billingdesk's WSGI app.

Granian parses HTTP and keeps connections alive in Rust; Python runs only the application,
in ``--threads`` threads per worker process. Against gunicorn's sync workers that halved the
server's CPU per request (~0.5 → ~0.3 ms with the app; see docs/benchmarks.md, "Webhook
intake"), which is what a 2-core machine spends most of its time on under a webhook burst.

Web processes are stateless: run as many as needed behind a load balancer, all pointing at the
same ``DATABASE_URL``. Static files are served by WhiteNoise from the installed packages, so no
``collectstatic`` step is needed.
"""

from __future__ import annotations

import socket
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from billingdesk.core.management import require_migrated


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError(value)
    return port


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (checked by binding it for a moment)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Run the web server (Granian) for this installation."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address to listen on (default: 127.0.0.1)."
        )
        parser.add_argument("--port", type=_port, default=8000, help="Port (default: 8000).")
        parser.add_argument(
            "--workers", type=_positive, default=2, help="Worker processes (default: 2)."
        )
        parser.add_argument(
            "--threads",
            type=_positive,
            default=2,
            help="Threads per worker process, each serving one request at a time (default: 2).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated()
        host: str = options["host"]
        port: int = options["port"]
        if not port_free(host, port):
            raise CommandError(
                f"Cannot listen on {host}:{port}: the port is in use. Stop the other server "
                "or pass --port."
            )
        # Granian forks its workers from this process: they must not share its connection.
        connections.close_all()
        bind = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
        self.stdout.write(
            f"Serving billingdesk on http://{bind}/ "
            f"({options['workers']} workers, {options['threads']} threads). "
            f"Webhook URLs use BILLINGDESK_BASE_URL={settings.BASE_URL}"
        )
        self.stdout.flush()
        Server(
            "billingdesk.config.wsgi:application",
            address=host.strip("[]"),
            port=port,
            interface=Interfaces.WSGI,
            workers=options["workers"],
            blocking_threads=options["threads"],
            # A worker takes as many requests at once as it has threads: the rest wait in
            # the listen backlog for whichever worker frees up first (Granian's default
            # would start up to 512 threads, and as many database connections, per worker).
            backpressure=options["threads"],
            websockets=False,
            log_level=LogLevels.info,
            log_access=True,
            # A worker that dies is started again instead of stopping the whole server.
            respawn_failed_workers=True,
        ).serve()
