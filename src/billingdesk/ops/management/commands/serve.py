"""`billingdesk serve`: the web server, Granian (HTTP in Rust) running billingdesk's WSGI app.

Granian parses HTTP and keeps connections alive in Rust; Python runs only the application,
in ``--threads`` threads per worker process. Against gunicorn's sync workers that halved the
server's CPU per request (~0.5 → ~0.3 ms with the app; see docs/benchmarks.md, "Webhook
intake"), which is what a 2-core machine spends most of its time on under a webhook burst.

Connections and application threads are separate budgets. Granian's ``backpressure`` is the
number of *connections* a worker holds open at once (a permit is taken at accept and released
when the connection closes, idle keep-alive time included), while ``blocking_threads`` is the
number of requests it runs at once (the rest wait in Granian's queue, in Rust). With the two
equal, four idle keep-alive connections (2 workers x 2 threads) used every permit and new
connections waited in the listen backlog until one timed out (~30 s). So ``--connections``
(default 512 per worker) is far above ``--threads``, and ``--keep-alive-timeout`` bounds how
long an idle connection keeps its permit. Database connections stay bounded by the threads.

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
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import Server

from billingdesk.core.management import require_migrated

# Idle keep-alive connections cost a few kB each in Granian (Rust), not a thread: hold plenty.
DEFAULT_CONNECTIONS = 512
DEFAULT_KEEP_ALIVE_SECONDS = 30


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


def _keep_alive(value: str) -> int:
    seconds = int(value)
    if not 1 <= seconds <= 60:  # Granian's range for the HTTP/1 header read timeout
        raise ValueError(value)
    return seconds


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
        parser.add_argument(
            "--connections",
            type=_positive,
            default=DEFAULT_CONNECTIONS,
            help="Open connections per worker process, idle keep-alive ones included; requests "
            f"beyond --threads wait for a thread (default: {DEFAULT_CONNECTIONS}).",
        )
        parser.add_argument(
            "--keep-alive-timeout",
            type=_keep_alive,
            default=DEFAULT_KEEP_ALIVE_SECONDS,
            help="Seconds an idle HTTP/1.1 keep-alive connection (or a client sending its "
            "headers) is kept open, 1-60; behind a load balancer, keep its idle timeout "
            f"shorter than this (default: {DEFAULT_KEEP_ALIVE_SECONDS}).",
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
            f"({options['workers']} workers, {options['threads']} threads, "
            f"{options['connections']} connections each). "
            f"Webhook URLs use BILLINGDESK_BASE_URL={settings.BASE_URL}"
        )
        self.stdout.flush()
        Server(
            "billingdesk.config.wsgi:application",
            address=host.strip("[]"),
            port=port,
            interface=Interfaces.WSGI,
            workers=options["workers"],
            # Requests run in this many threads per worker, each with its own database
            # connection (Granian's default would start up to 256 threads per worker).
            blocking_threads=options["threads"],
            # Connections, idle keep-alive ones included, are a separate and larger budget:
            # a worker holds up to `connections` of them (Granian's backpressure counts
            # connections, not requests), queueing their requests for a free thread.
            backpressure=max(options["connections"], options["threads"]),
            http1_settings=HTTP1Settings(header_read_timeout=options["keep_alive_timeout"] * 1000),
            websockets=False,
            log_level=LogLevels.info,
            log_access=True,
            # A worker that dies is started again instead of stopping the whole server.
            respawn_failed_workers=True,
        ).serve()
