"""Helpdesk connections wired to the HTTP fakes in tests/fakes/helpdesks.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from tests.fakes.helpdesks import (
    ChatwootFake,
    FreeScoutFake,
    FreshdeskFake,
    FrontFake,
    HelpdeskFake,
    HelpScoutFake,
    IntercomFake,
    ZammadFake,
    ZendeskFake,
)

from billingdesk.helpdesks import http
from billingdesk.helpdesks.models import HelpdeskConnection


@dataclass
class Wired:
    kind: str
    fake: HelpdeskFake
    connection: HelpdeskConnection


def _connection(kind: str, settings: dict[str, Any], secrets: dict[str, str]) -> HelpdeskConnection:
    return HelpdeskConnection.objects.create(
        name=f"{kind} test", kind=kind, settings=settings, secrets=secrets
    )


@contextmanager
def wired(kind: str) -> Iterator[Wired]:
    fake: HelpdeskFake
    if kind == "zendesk":
        fake = ZendeskFake(email="bot@acme.example", token="zd-token")
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"subdomain": "acme", "api_email": "bot@acme.example", "api_base": fake.url},
                    {"api_token": "zd-token"},
                ),
            )
    elif kind == "helpscout":
        fake = HelpScoutFake(app_id="hs-app", app_secret="hs-app-secret")
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"mailbox_id": "85", "app_id": "hs-app", "api_base": fake.url},
                    {"secret_key": "x", "app_secret": "hs-app-secret"},
                ),
            )
    elif kind == "intercom":
        fake = IntercomFake(token="ic-token")
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"admin_id": "123", "api_base": fake.url},
                    {"client_secret": "x", "access_token": "ic-token"},
                ),
            )
    elif kind == "front":
        fake = FrontFake(token="fr-token", inbox="inb_1")
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {
                        "inbox_id": "inb_1",
                        "inbox_address": "billing@acme.example",
                        "api_base": fake.url,
                    },
                    {"auth_secret": "x", "api_token": "fr-token"},
                ),
            )
    elif kind == "freshdesk":
        fake = FreshdeskFake(api_key="fd-key")
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"domain": "acme", "api_base": fake.url},
                    {"app_key": "x", "api_key": "fd-key"},
                ),
            )
    elif kind == "chatwoot":
        fake = ChatwootFake(token="cw-token", account=7)
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"base_url": fake.url, "account_id": "7", "inbox_id": "3"},
                    {"api_access_token": "cw-token"},
                ),
            )
    elif kind == "zammad":
        fake = ZammadFake(token="zm-token", groups=("Users", "Billing"))
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"base_url": fake.url, "group": "Billing"},
                    {"signing_secret": "x", "api_token": "zm-token"},
                ),
            )
    elif kind == "freescout":
        fake = FreeScoutFake(api_key="fs-key", mailboxes=(1, 2), users=(1, 5))
        with fake:
            yield Wired(
                kind,
                fake,
                _connection(
                    kind,
                    {"base_url": fake.url, "mailbox_id": "2", "user_id": "5"},
                    {"signing_secret": "x", "api_key": "fs-key"},
                ),
            )
    else:  # pragma: no cover
        raise ValueError(kind)


TICKET_KINDS = [
    "zendesk",
    "helpscout",
    "intercom",
    "front",
    "freshdesk",
    "chatwoot",
    "zammad",
    "freescout",
]


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the client's back-off sleeps instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr(http.time, "sleep", slept.append)
    original = http.HelpdeskHttp.__init__

    def init(self: http.HelpdeskHttp, *args: Any, **kwargs: Any) -> None:
        kwargs["sleep"] = slept.append
        original(self, *args, **kwargs)

    monkeypatch.setattr(http.HelpdeskHttp, "__init__", init)
    return slept


@pytest.fixture
def wire(db: None) -> Callable[[str], Any]:
    return wired
