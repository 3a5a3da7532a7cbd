"""Run a gateway's fake as a demo server, to try a real connector without an account:

    .venv/bin/python -m tests.fakes.demo_server paypal      # or: braintree
    # then, in another terminal, the command it prints:
    .venv/bin/billingdesk gateway add paypal --name "PayPal (demo)" --currency USD \\
        --credential client_id=demo … --credential api_base=http://127.0.0.1:<port>
    .venv/bin/billingdesk sync <account id>

The fake is the one the tests hold the connector to (``tests/fakes/paypal_api.py``,
``tests/fakes/braintree_gateway.py``): real HTTP, the gateway's auth, pagination, error
bodies and decimal amounts. It is seeded with ``--payers`` invented customers, each with a
payment (PayPal: a completed checkout; Braintree: a customer with a card and a sale), and
keeps everything in memory until it is stopped (Ctrl-C). Run it from a checkout of the
repository (``tests/`` is not part of the installed package).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
import threading
from typing import Any

NAMES = [
    *("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Tim Berners-Lee"),
    *("Margaret Hamilton", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Frances Allen"),
]


def _emails(n: int) -> list[tuple[str, str, str]]:
    people = []
    for i in range(n):
        first, last = NAMES[i % len(NAMES)].split(" ", 1)
        suffix = "" if i < len(NAMES) else str(i // len(NAMES))
        email = f"{first}.{last}{suffix}".lower().replace(" ", "").replace("-", "") + "@example.org"
        people.append((first, last, email))
    return people


def paypal(payers: int) -> tuple[Any, dict[str, str], str]:
    from tests.fakes.paypal_api import PayPalFake

    fake = PayPalFake().__enter__()
    merchant = fake.merchant("demo", "demo-secret", "USD")
    merchant.webhooks.add("WH-DEMO")
    for i, (first, last, email) in enumerate(_emails(payers)):
        payer = fake.payer(email, given=first, surname=last)
        fake.add_payment(merchant, email=email, amount=f"{19 + i}.00", payer=payer)
    credentials = {"client_id": "demo", "client_secret": "demo-secret", "environment": "sandbox",
                   "webhook_id": "WH-DEMO", "api_base": fake.url}  # fmt: skip
    return fake, credentials, "USD"


def braintree(payers: int) -> tuple[Any, dict[str, str], str]:
    from tests.fakes.braintree_gateway import BraintreeFake

    fake = BraintreeFake().__enter__()
    merchant = fake.merchant("demo", "demo-public", "demo-private", "EUR")
    for first, last, email in _emails(payers):
        customer = fake.add_customer(merchant, email=email, first_name=first, last_name=last)
        fake.add_card(merchant, customer["id"])
    credentials = {"merchant_id": "demo", "public_key": "demo-public",
                   "private_key": "demo-private", "environment": "sandbox",
                   "api_base": fake.url}  # fmt: skip
    return fake, credentials, "EUR"


FAKES = {"paypal": paypal, "braintree": braintree}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(FAKES))
    parser.add_argument("--payers", type=int, default=10, help="customers to seed (default 10)")
    args = parser.parse_args(argv)
    fake, credentials, currency = FAKES[args.kind](max(args.payers, 0))
    command = ["billingdesk", "gateway", "add", args.kind, "--name", f"{args.kind} (demo)",
               "--currency", currency]  # fmt: skip
    for key, value in credentials.items():
        command += ["--credential", f"{key}={value}"]
    print(f"{args.kind} demo server at {fake.url} with {args.payers} customers.")
    print("Connect it with:\n  .venv/bin/" + shlex.join(command))
    print("demo-credentials " + json.dumps({"kind": args.kind, "currency": currency,
                                              "credentials": credentials}), flush=True)  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fake.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
