"""The built-in SMTP/LMTP listener (aiosmtpd) that an MTA such as Postfix delivers to.

Recipients are checked at ``RCPT TO``: only the bare inbound address and valid routing
addresses of ``BILLINGDESK_INBOUND_DOMAIN`` are accepted (``550`` otherwise), so the MTA bounces
mail for anyone else before any data is sent. The size limit is advertised (``SIZE``) and
enforced by aiosmtpd (``552``). ``250`` is answered only once the message is stored; a storage
failure answers ``451`` so the sending MTA keeps the message and tries again. STARTTLS is
offered when a certificate and key are given.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections

from billingdesk.core.mailroute import address_is_ours
from billingdesk.inbound.intake import message_store

log = logging.getLogger(__name__)


def _store(raw: bytes, source: str, mail_from: str, rcpt_tos: list[str]) -> None:
    close_old_connections()
    try:
        message_store(raw, source=source, envelope_from=mail_from, envelope_to=rcpt_tos)
    finally:
        close_old_connections()


class InboundHandler:
    def __init__(self, source: str = "smtp") -> None:
        self.source = source

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not address_is_ours(address):
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", errors="surrogateescape")
        mail_from = envelope.mail_from or ""
        try:
            await asyncio.to_thread(_store, raw, self.source, mail_from, list(envelope.rcpt_tos))
        except Exception:
            log.exception("inbound message could not be stored; the sender will retry")
            return "451 4.3.0 Temporary failure storing the message, try again later"
        return "250 2.0.0 Message accepted"


class _LMTPController(Controller):
    def factory(self) -> SMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


class _SharedPort:
    """A listener on a port other processes listen on too (``SO_REUSEPORT``: the kernel
    spreads the connections), so one ``mail-in`` can use every core.

    aiosmtpd checks its server by connecting to its own port once; with the port shared
    that connection may reach another process, so it connects again until its own answered.
    """

    def _create_server(self) -> Any:
        return self.loop.create_server(  # type: ignore[attr-defined]
            self._factory_invoker,  # type: ignore[attr-defined]
            host=self.hostname,  # type: ignore[attr-defined]
            port=self.port,  # type: ignore[attr-defined]
            ssl=self.ssl_context,  # type: ignore[attr-defined]
            reuse_port=True,
        )

    def _trigger_server(self) -> None:
        for _ in range(100):
            super()._trigger_server()  # type: ignore[misc]
            if self._factory_invoked.is_set():  # type: ignore[attr-defined]
                return


class _SharedController(_SharedPort, Controller):
    pass


class _SharedLMTPController(_SharedPort, _LMTPController):
    pass


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def listener(
    *,
    host: str = "127.0.0.1",
    port: int = 8025,
    lmtp: bool = False,
    tls: ssl.SSLContext | None = None,
    require_starttls: bool = False,
    server_hostname: str | None = None,
    reuse_port: bool = False,
) -> Controller:
    """A started-on-demand aiosmtpd controller (call ``.start()``/``.stop()``);
    ``reuse_port``: one of several processes listening on the same port."""
    kwargs: dict[str, Any] = {
        "data_size_limit": settings.BILLINGDESK_INBOUND_MAX_BYTES,
        "server_hostname": server_hostname,
    }
    if tls is not None:
        kwargs["tls_context"] = tls
        kwargs["require_starttls"] = require_starttls
    handler = InboundHandler("lmtp" if lmtp else "smtp")
    cls: type[Controller]
    if reuse_port:
        cls = _SharedLMTPController if lmtp else _SharedController
    else:
        cls = _LMTPController if lmtp else Controller
    # Storing waits on the database (a commit per message), not on the CPU: as many threads
    # (each with its own connection) as the MTA opens sessions, so their commits overlap.
    loop = asyncio.new_event_loop()
    loop.set_default_executor(
        ThreadPoolExecutor(
            max_workers=settings.BILLINGDESK_INBOUND_STORE_THREADS, thread_name_prefix="mail-in"
        )
    )
    return cls(handler, hostname=host, port=port, loop=loop, **kwargs)
