"""Bad input never answers 5xx: every URL pattern, hostile arguments and bodies.

The URL patterns are read from the resolver (admin included), so a new view is swept without
being listed here. Each pattern gets its path arguments as a valid value, a missing row, a
huge integer (2**70), a NUL byte, a word where a number is expected and an oversized value,
with GET (and a hostile query string) and POST (missing, wrong-typed, oversized, NUL,
malformed and deeply nested bodies), as an administrator and anonymously. Webhook and Help
Scout / Intercom requests are validly signed, so the body reaches the parsing behind the
signature check. Any response of 500 or more, or an exception escaping a view, fails.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from billingdesk.actions.models import ActionKind
from billingdesk.api.keys import apikey_create
from billingdesk.api.models import Scope
from billingdesk.core.signing import sign_header
from billingdesk.helpdesks.helpscout import verification as helpscout_signing
from billingdesk.helpdesks.intercom import verification as intercom_signing
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.panel.tests.factories import Shop, build_shop

HUGE = str(2**70)
NUL = "a\x00b"
DEEP = b"[" * 50_000 + b"]" * 50_000
CLOSED = "http://127.0.0.1:9"  # nothing listens: a helpdesk API call fails, it does not hang


def _patterns(
    patterns: list[Any], prefix: str = ""
) -> Iterator[tuple[str, URLPattern | URLResolver]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


ALL_PATTERNS = [route for route, _ in _patterns(get_resolver().url_patterns)]
_ARG = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


@dataclass
class World:
    shop: Shop
    admin: Client
    anon: Client
    connections: dict[str, HelpdeskConnection] = field(default_factory=dict)
    valid: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(db: None) -> World:
    shop = build_shop()
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    # The administrator's client also carries an API key of every scope, so the API's
    # operations are swept past their authentication (sessions do not authenticate the API).
    _, key = apikey_create(name="sweep", scopes=Scope.values, rate_limit_per_minute=100_000)
    admin = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {key}")
    admin.force_login(user)
    admin.user = user  # type: ignore[attr-defined]  # to sign in again after a logout
    secrets = {
        "helpscout": {"secret_key": "hs-secret", "app_secret": "x"},
        "intercom": {"client_secret": "ic-secret", "access_token": "x"},
        "zendesk": {"api_token": "x"},
        "front": {"auth_secret": "fr-secret", "api_token": "x"},
        "freshdesk": {"app_key": "fd-secret", "api_key": "x"},
        "chatwoot": {"api_access_token": "x"},
        "iframe": {"signing_secret": "if-secret"},
    }
    connections = {
        kind: HelpdeskConnection.objects.create(
            name=f"{kind} sweep",
            kind=kind,
            settings={"api_base": CLOSED, "base_url": CLOSED, "subdomain": "acme"},
            secrets=values,
        )
        for kind, values in secrets.items()
    }
    valid = {
        "person_id": str(shop.customer.person_id),
        "target_id": str(shop.charge.pk),
        "request_id": "1",
        "document_id": "1",
        "account_id": str(shop.account.pk),
        "kind": "refund",
        "target_kind": "charge",
        "token": "tok",
        "object_id": str(shop.charge.pk),
        "charge_id": str(shop.charge.pk),
        "content_type_id": "1",
        "app_label": "billing",
        "id": str(user.pk),
        "slug": "charges",
    }
    return World(shop, admin, Client(raise_request_exception=False), connections, valid)


def _path(route: str, world: World, override: str | None) -> str:
    """``route`` with each argument valid, or every argument replaced by ``override``."""

    def arg(match: re.Match[str]) -> str:
        name = match.group("name")
        if override is not None:
            return quote(override, safe="")
        if name == "connection_id":
            kind = route.split("/")[1] if route.startswith("embed/") else "zendesk"
            return str(world.connections.get(kind, world.connections["zendesk"]).pk)
        return world.valid.get(name, "1")

    def group(match: re.Match[str]) -> str:
        # Admin's app list: (?P<app_label>auth|billing|…) — take the first choice.
        return match.group("body").split("|")[0] if override is None else quote(override)

    path = _GROUP.sub(group, _ARG.sub(arg, route)).lstrip("^").rstrip("$").replace("\\", "")
    return "/" + path


def _signed(route: str, world: World, body: bytes) -> dict[str, str]:
    """The headers that make ``body`` validly signed for ``route``."""
    if route.startswith("webhooks/"):
        return {"HTTP_BILLINGDESK_SIGNATURE": sign_header(body, world.shop.account.webhook_secret)}
    if route.startswith("embed/helpscout/"):
        return {"HTTP_X_HELPSCOUT_SIGNATURE": helpscout_signing.signature(body, "hs-secret")}
    if route.startswith("embed/intercom/"):
        return {"HTTP_X_BODY_SIGNATURE": intercom_signing.signature(body, "ic-secret")}
    return {}


# Wrong types for every field a helpdesk, the ticket API or a webhook reads.
WRONG_TYPES = {
    "requester_email": ["a@example.com"],
    "subject": {"a": 1},
    "message": 5,
    "requester_name": None,
    "ticket_id": [1, 2],
    "external_id": {"x": []},
    "person_id": 2**70,
    "document_id": [1],
    "customer": {"email": 5, "emails": [{"value": 3}, 7, None, "x"]},
    "user": "me",
    "admin": {"email": ["root@example.com"]},
    "contact": {"email": {"a": 1}},
    "workspace_id": ["w"],
    "app_id": 7,
    "component_id": f"charge:{HUGE}",
    "input_values": {"amount": ["1"], "when": 5},
    "current_canvas": {"stored_data": {"target": ["x"], "params": [1, 2], "key": {}}},
    "id": 5,
    "type": ["charge.succeeded"],
    "object": "event",
    "data": {"object": "x"},
}

FORM_WRONG = {
    "amount": HUGE,
    "currency": "ZZZ",
    "quantity": HUGE,
    "trial_days": "٣",
    "key": HUGE,
    "when": "later",
    "next": "javascript:alert(1)",
    "back": "javascript:alert(1)",
    "decision": "maybe",
    "username": NUL,
    "password": NUL,
    "person_id": HUGE,
    "q": NUL,
}


def _helpdesk_bodies(world: World) -> list[dict[str, Any]]:
    """Signed Help Scout / Intercom bodies that pass the proof and the person lookup, with a
    wrong type where each parser reads a value."""
    charge = f"charge:{world.shop.charge.pk}"
    who = {"admin": {"email": "root@example.com"}, "contact": {"email": "ana@example.com"}}
    return [
        {"customer": {"email": "ana@example.com", "emails": 5}},
        {"customer": {"emails": {"value": "ana@example.com"}}},
        {**who, "component_id": "confirm", "current_canvas": {"stored_data": {
            "target": charge, "params": [1, 2], "key": {}, "reason_code": ["x"]}}},
        {**who, "component_id": "review", "input_values": ["amount"],
         "current_canvas": {"stored_data": {"target": charge}}},
        {**who, "component_id": "review", "input_values": {"amount": "1e1", "when": [1]},
         "current_canvas": {"stored_data": {"target": charge}}},
        {**who, "component_id": "charge:²"},
        {**who, "component_id": f"charge:{HUGE}"},
        {**who, "component_id": ["charge:1"], "current_canvas": "x"},
    ]  # fmt: skip


def _bodies(route: str, world: World) -> list[tuple[str, bytes, str]]:
    """(label, body, content type) of the hostile POST bodies."""
    form = "application/x-www-form-urlencoded"
    typed = [
        ("helpdesk json", json.dumps(body).encode(), "application/json")
        for body in (_helpdesk_bodies(world) if route.startswith("embed/") else [])
    ]
    return [
        *typed,
        ("empty", b"", form),
        (
            "wrong-typed form",
            "&".join(f"{k}={quote(v)}" for k, v in FORM_WRONG.items()).encode(),
            form,
        ),
        ("nul form", "&".join(f"{k}={quote(NUL)}" for k in FORM_WRONG).encode(), form),
        ("loose amounts", b"amount=1e1&currency=eur&quantity=%C2%B2", form),
        ("bad utf-8", b"amount=%FF%FE&q=\xff\xfe", form),
        ("malformed json", b'{"id": ', "application/json"),
        ("deep json", DEEP, "application/json"),
        ("wrong-typed json", json.dumps(WRONG_TYPES).encode(), "application/json"),
        ("nul json", json.dumps({k: NUL for k in WRONG_TYPES}).encode(), "application/json"),
        ("oversized", b"a=" + b"x" * (3 * 1024 * 1024), form),
    ]


BAD_QUERY = (
    f"?q={quote(NUL)}&p={HUGE}&o=zz&id__exact={HUGE}&e=1&back=javascript:x&next={HUGE}"
    # The reports' filters: impossible dates, unknown choices, codes, accounts and pages.
    f"&start=2026-13-40&end=x&group=year&by=zz&currency=ZZZZ&convert=%E2%82%AC&account=x"
    f"&person={HUGE}&page=0&format=csv&oss=1"
)


class Sweep:
    """Sends requests and keeps every 5xx, so one run reports all of them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.failures: list[str] = []
        self.sent = 0

    def get(self, client: Client, route: str, path: str) -> None:
        self._record(client.generic("GET", path), "GET", route, path, b"")

    def post(self, client: Client, route: str, path: str, body: bytes, ctype: str) -> None:
        headers = _signed(route, self.world, body)
        response = client.generic("POST", path, data=body, content_type=ctype, **headers)
        self._record(response, "POST", route, path, body)

    def _record(self, response: Any, method: str, route: str, path: str, body: bytes) -> None:
        self.sent += 1
        if response.status_code >= 500:
            self.failures.append(
                f"{method} {path[:120]} ({route}) body {body[:60]!r} -> {response.status_code}"
            )

    def signed_in_again(self) -> None:
        """After a route that signs out (``logout/``): the admin stays signed in."""
        self.world.admin.force_login(self.world.admin.user)  # type: ignore[attr-defined]

    def check(self) -> None:
        # The administrator really was signed in to the end (a logout did not make the rest
        # of the sweep anonymous).
        assert self.world.admin.get("/console/").status_code == 200
        assert self.sent > 100, self.sent
        assert not self.failures, f"{len(self.failures)} of {self.sent}:\n" + "\n".join(
            self.failures
        )


def _overrides(route: str) -> list[str]:
    """Path argument values to try beyond the valid ones."""
    if not _ARG.search(route) and not _GROUP.search(route):
        return []
    return [HUGE, "987654321", NUL, "abc", "x" * 3000, str(uuid.uuid4())]  # 987654321: absent


APP_ROUTES = [r for r in ALL_PATTERNS if not r.startswith("admin/")]
ADMIN_ROUTES = [r for r in ALL_PATTERNS if r.startswith("admin/")]
FORM = "application/x-www-form-urlencoded"


def test_the_sweep_covers_every_url_pattern() -> None:
    assert len(APP_ROUTES) > 25 and len(ADMIN_ROUTES) > 100
    assert "webhooks/<uuid:account_id>/" in APP_ROUTES
    assert any(r.startswith("api/v1/charges") for r in APP_ROUTES)
    assert any(r.startswith("admin/billing/charge/") for r in ADMIN_ROUTES)


def test_app_urls_never_answer_5xx(world: World) -> None:
    sweep = Sweep(world)
    for route in APP_ROUTES:
        path = _path(route, world, None)
        for client in (world.admin, world.anon):
            sweep.get(client, route, path)
            sweep.get(client, route, path + BAD_QUERY)
            for label, body, ctype in _bodies(route, world):
                if client is world.anon and label not in ("empty", "wrong-typed json"):
                    continue
                sweep.post(client, route, path, body, ctype)
        for value in _overrides(route):
            bad = _path(route, world, value)
            sweep.get(world.admin, route, bad)
            sweep.post(world.admin, route, bad, b"amount=" + HUGE.encode(), FORM)
        sweep.get(world.anon, route, _path(route, world, HUGE))
        sweep.signed_in_again()
    sweep.check()


def test_every_action_on_every_target_never_answers_5xx(world: World) -> None:
    """Every action's form, review and confirm for every kind of target (a refund form for a
    subscription once raised in the ``money`` filter)."""
    shop = world.shop
    ids = {
        "charge": shop.charge.pk,
        "subscription": shop.subscription.pk,
        "invoice": shop.charge.invoice_id or 1,
        "customer": shop.customer.pk,
    }
    sweep = Sweep(world)
    for kind in ActionKind:
        for target in ("charge", "subscription", "invoice", "customer"):
            base = f"/console/actions/{kind.value}/{target}/{ids[target]}/"
            sweep.get(world.admin, base, base)
            for step in ("review/", "confirm/"):
                for body in (
                    b"amount=12.50&key=k&currency=EUR&quantity=2&when=now&reason_code=duplicate",
                    b"amount=1,00&currency=ZZZ&quantity=%D9%A3&trial_days=" + HUGE.encode(),
                ):
                    sweep.post(world.admin, base, base + step, body, FORM)
    sweep.check()


# Hostile values for every filter of the console's lists (issue 20 #7).
LIST_FILTERS = {
    "account": [HUGE, NUL, "abc", str(uuid.uuid4()), "x" * 3000],
    "status": [NUL, "captured'--", "x" * 3000],
    "kind": [NUL, "refund", "nope"],
    "from": ["2026-02-30", "0000-01-01", "9999-12-31", NUL, "٢٠٢٦-01-01", HUGE],
    "to": ["-1", "2026-13-01", NUL],
    "agent": [HUGE, "-1", NUL, "1"],
    "currency": ["ZZZ", NUL, "€", "eur"],
    "min": [HUGE, "1e9", "-5", NUL, "NaN", "1,00"],
    "max": ["Infinity", "0", "99999999999999999999999999"],
    "after": [NUL, "x" * 3000, "LQ", "MjAyNi0wMy0wMXw5", "bm9wZXwx", HUGE],
}


def test_list_filters_never_answer_5xx(world: World) -> None:
    """Every list of the console and one person's charges, each filter hostile alone and
    with a currency (amounts are read in the currency), as an administrator."""
    from billingdesk.panel.lists import SPECS

    person = world.shop.customer.person_id
    paths = [f"/console/lists/{slug}/" for slug in SPECS]
    paths.append(f"/console/person/{person}/charges/")
    sweep = Sweep(world)
    for path in paths:
        for name, values in LIST_FILTERS.items():
            for value in values:
                for extra in ("", "&currency=EUR"):
                    sweep.get(world.admin, path, f"{path}?{name}={quote(value)}{extra}")
    sweep.check()


def test_admin_urls_never_answer_5xx(world: World) -> None:
    """Every admin page with a hostile query string, its forms posted with NUL bytes, and
    object ids that are huge, NUL or not numbers; anonymously, the login redirect."""
    sweep = Sweep(world)
    nul_form = "&".join(f"{k}={quote(NUL)}" for k in FORM_WRONG).encode()
    for route in ADMIN_ROUTES:
        path = _path(route, world, None)
        sweep.get(world.admin, route, path + BAD_QUERY)
        if route.endswith(("/add/", "/change/", "/password/")):
            sweep.post(world.admin, route, path, nul_form, FORM)
        for value in (HUGE, NUL, "abc") if _ARG.search(route) or _GROUP.search(route) else ():
            sweep.get(world.admin, route, _path(route, world, value))
        sweep.signed_in_again()
    for route in ("admin/", "admin/billing/charge/", f"admin/billing/charge/{HUGE}/change/"):
        sweep.get(world.anon, route, "/" + route)
    sweep.check()
