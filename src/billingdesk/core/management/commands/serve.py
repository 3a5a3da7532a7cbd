"""`billingdesk serve`: the web server, through gunicorn's Python API.

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
from gunicorn.app.base import BaseApplication

from billingdesk.core.management import require_migrated


class _Server(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from our options only (it must not parse billingdesk's argv)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from billingdesk.config.wsgi import application

        return application


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
    help = "Run the web server (gunicorn) for this installation."

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
            default=1,
            help="Threads per worker process (default: 1; above 1 uses gunicorn's gthread).",
        )
        parser.add_argument(
            "--timeout", type=_positive, default=30, help="Request timeout in seconds."
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
        # gunicorn forks its workers from this process: they must not share its connection.
        connections.close_all()
        bind = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
        self.stdout.write(
            f"Serving billingdesk on http://{bind}/ "
            f"({options['workers']} workers, {options['threads']} threads). "
            f"Webhook URLs use BILLINGDESK_BASE_URL={settings.BASE_URL}"
        )
        _Server(
            {
                "bind": bind,
                "workers": options["workers"],
                "threads": options["threads"],
                "timeout": options["timeout"],
                "accesslog": "-",
                "errorlog": "-",
                "proc_name": "billingdesk",
                # gunicorn's control socket lives at one path per user: two servers on one
                # machine (two installations, parallel tests) would fight over it.
                "control_socket_disable": True,
            }
        ).run()
