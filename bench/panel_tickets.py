"""The five support tickets in a real browser on the demo: clicks, typed characters, round
trips and time per ticket, from "the agent opens the ticket" (the panel at 350 px).

    .venv/bin/python bench/panel_tickets.py                   # SQLite in var/bench-tickets
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_tickets \
        .venv/bin/python bench/panel_tickets.py

Seeds the demo once (``billingdesk demo --no-serve --persons 120``), starts ``billingdesk
serve`` and ``billingdesk worker`` on a free port (the panel polling every 2 s, so background
work shows soon), signs the demo agent in through the login form in Debian's chromium
(Playwright, ``BILLINGDESK_CHROMIUM``), then for each ticket picks a fresh person of the demo
that has the case and does what an agent does, counting what the agent does:

1. "why was I charged?"             the latest charge's plan, period and invoice on its row
2. "you charged me twice"           a second identical charge is made first (not counted);
                                    "Refund duplicate", confirm
3. "cancel my subscription"         "Cancel", confirm (at the period's end)
4. "resend my invoice"              "Resend" on the latest document
5. "add my VAT number and correct   "Tax ID", type the number, Enter, confirm; then the
    my invoice"                     corrected invoice appears by itself (background job)

Clicks are mouse clicks; typed characters are the characters the agent types (Enter
included); round trips are the requests the page makes to the server (pages, htmx
fragments; not static files, not the panel's polls); time runs from opening the panel to the
answer on screen. Prints a Markdown table.
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants and options

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_panel import BILLINGDESK, ROOT, free_port, wait_ready

CHROMIUM = os.environ.get("BILLINGDESK_CHROMIUM", "/usr/bin/chromium")
AGENT = ("agent", "demo-agent")  # billingdesk demo's agent
VAT_NUMBER = "FR83404833048"

PICK = """
import json
from datetime import timedelta
from django.db.models import Exists, OuterRef
from billingdesk.billing.models import Charge, Customer, Subscription, TaxId
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill
from billingdesk.documents.tax import EU_COUNTRIES

used = set()
def take(qs):
    for person_id in qs.values_list("customer__person_id", flat=True)[:500]:
        if person_id and person_id not in used:
            used.add(person_id)
            return person_id
    return None

paid = Charge.objects.filter(status="captured", deleted=False, customer__person__isnull=False)
why = take(paid.filter(invoice__subscription__isnull=False).order_by("-gateway_created_at"))
def pay_now(customer, amount, currency, times=1):
    # The customer pays now (the sandbox, then a backfill: what a webhook would bring).
    engine = SandboxEngine(customer.account, webhooks=False)
    made = [engine.charge_create(customer_id=customer.gateway_id, amount=amount,
                                 currency=currency, description="Order")
            for _ in range(times)]
    account_backfill(account=customer.account)
    return [Charge.objects.get(account=customer.account, gateway_id=m.object_id) for m in made]

twice_charge = paid.exclude(customer__person_id__in=used).filter(
    payment_method__isnull=False, amount__lte=5000).order_by("-gateway_created_at").first()
twice = None
if twice_charge is not None:
    # "You charged me twice": the same order paid twice a moment ago.
    used.add(twice_charge.customer.person_id)
    twice = twice_charge.customer.person_id
    pay_now(twice_charge.customer, twice_charge.amount, twice_charge.currency, times=2)
active = Subscription.objects.filter(status="active", cancel_at_period_end=False,
                                     customer__person__isnull=False)
cancel = take(active)
from billingdesk.documents.services import document_issue_for_charge

def documented(customer):
    # A payment of the customer now, with its receipt or invoice issued (the worker's job).
    charge, = pay_now(customer, 2900, "EUR")
    return document_issue_for_charge(charge_id=charge.pk)

def eu_customer():
    candidates = Customer.objects.filter(
        country__in=list(EU_COUNTRIES), person__isnull=False, deleted=False,
        account__default_currency="EUR",
    ).exclude(Exists(TaxId.objects.filter(customer=OuterRef("pk"))))
    for c in candidates.filter(Exists(Charge.objects.filter(customer=OuterRef("pk"),
                                                            payment_method__isnull=False)))[:500]:
        if c.person_id not in used and Customer.objects.filter(person_id=c.person_id).count() == 1:
            used.add(c.person_id)
            return c
    return None

resend = vat = None
problems = {}
for key in ("resend", "vat"):
    customer = eu_customer()
    if customer is not None:
        document = documented(customer)
        if document is None:
            problems[key] = "no document issued"
        elif key == "resend":
            resend = customer.person_id
        else:
            vat = customer.person_id
print(json.dumps({"why": why, "twice": twice, "cancel": cancel, "resend": resend, "vat": vat,
                  "problems": problems}))
"""


@dataclass
class Ticket:
    name: str
    clicks: int = 0
    typed: int = 0
    trips: int = 0
    seconds: float = 0.0
    note: str = ""
    answer: str = ""
    extra: dict[str, float] = field(default_factory=dict)


class Agent:
    """The browser page, counting what the agent does and what the page asks the server."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.requests = 0
        self.clicks = 0
        self.typed = 0
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith(self.base) or "/static/" in url or "/fresh/" in url:
            return
        if "favicon" in url:
            return
        self.requests += 1

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.clicks += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.typed += len(text)

    def enter(self) -> None:
        self.page.keyboard.press("Enter")
        self.typed += 1

    def run(self, name: str, person: int | None, steps: Callable[[Agent], str]) -> Ticket:
        ticket = Ticket(name)
        if person is None:
            ticket.note = "no such person in the demo"
            return ticket
        self.requests = self.clicks = self.typed = 0
        start = time.perf_counter()
        self.page.goto(f"{self.base}/panel/person/{person}/")
        ticket.answer = steps(self)
        ticket.seconds = time.perf_counter() - start
        ticket.clicks, ticket.typed, ticket.trips = self.clicks, self.typed, self.requests
        return ticket


def why_charged(agent: Agent) -> str:
    row = agent.page.locator("[data-charge] [data-paid-for]").first
    row.wait_for()
    return " ".join(row.inner_text().split())


def charged_twice(agent: Agent) -> str:
    agent.click("button[data-action=refund_duplicate]")
    agent.page.locator("[data-step=confirm]").wait_for()
    agent.click("[data-step=confirm] button[type=submit]")
    message = agent.page.locator("li.changed .messages")
    message.wait_for()
    return " ".join(message.inner_text().split())


def cancel_subscription(agent: Agent) -> str:
    agent.click("button[data-action=cancel_subscription]")
    agent.page.locator("[data-step=confirm]").wait_for()
    agent.click("[data-step=confirm] button[type=submit]")
    message = agent.page.locator("li.changed .messages")
    message.wait_for()
    return " ".join(message.inner_text().split())


def resend_invoice(agent: Agent) -> str:
    agent.click("#documents button[type=submit]")
    message = agent.page.locator(".messages")
    message.wait_for()
    return " ".join(message.inner_text().split())


def add_vat_number(agent: Agent) -> str:
    agent.click("[data-customer] button[data-action=add_tax_id]")
    agent.page.locator("[data-step=form] input[name=value]").wait_for()
    agent.page.locator("[data-step=form] input[name=value]").focus()  # Tab from the type
    agent.type(VAT_NUMBER)
    agent.enter()
    agent.page.locator("[data-step=confirm]").wait_for()
    agent.click("[data-step=confirm] button[type=submit]")
    agent.page.get_by_text(f"{VAT_NUMBER} added").first.wait_for()
    # "correct my invoice": the re-issued invoice appears without a reload by the agent.
    corrected = agent.page.locator("#documents li", has_text="corrects").first
    corrected.wait_for(timeout=120_000)
    return " ".join(corrected.inner_text().split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=120, help="demo size (default: 120)")
    args = parser.parse_args()
    import playwright.sync_api as sync_api

    data_dir = Path(os.environ.get("BILLINGDESK_DATA_DIR", ROOT / "var" / "bench-tickets"))
    env = {**os.environ, "BILLINGDESK_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["BILLINGDESK_PANEL_POLL"] = "2"
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / f"seeded-{args.persons}"
    if not marker.exists():
        subprocess.run(
            [*BILLINGDESK, "demo", "--no-serve", "--persons", str(args.persons)],
            env=env,
            check=True,
        )
        marker.touch()
    subprocess.run([*BILLINGDESK, "migrate", "-v", "0"], env=env, check=True)
    picked = subprocess.run(
        [*BILLINGDESK, "shell", "-c", PICK], env=env, capture_output=True, text=True, check=True
    )
    persons = json.loads(picked.stdout.strip().splitlines()[-1])
    print("persons:", persons)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [*BILLINGDESK, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    worker = subprocess.Popen([*BILLINGDESK, "worker"], env=env, stdout=log, stderr=log)
    tickets: list[Ticket] = []
    try:
        wait_ready(f"{base}/healthz", server)
        load_at_start = os.getloadavg()
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 350, "height": 800})
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto(f"{base}/console/")
            page.fill("input[name=username]", AGENT[0])
            page.fill("input[name=password]", AGENT[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/console/")
            agent = Agent(page, base)
            for name, key, steps in (
                ("why was I charged?", "why", why_charged),
                ("you charged me twice", "twice", charged_twice),
                ("cancel my subscription", "cancel", cancel_subscription),
                ("resend my invoice", "resend", resend_invoice),
                ("add my VAT number and correct my invoice", "vat", add_vat_number),
            ):
                try:
                    tickets.append(agent.run(name, persons.get(key), steps))
                except sync_api.Error as exc:
                    tickets.append(Ticket(name, note=f"failed: {str(exc).splitlines()[0]}"))
            browser.close()
    finally:
        for child in (server, worker):
            child.terminate()
            child.wait(timeout=30)
        log.close()
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"{database}; {os.cpu_count()} CPUs; load average at the start {load_at_start}, "
          f"at the end {os.getloadavg()}")  # fmt: skip
    print("| ticket | clicks | typed characters | round trips | time | on screen |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for t in tickets:
        shown = t.note or t.answer[:90]
        print(f"| {t.name} | {t.clicks} | {t.typed} | {t.trips} | {t.seconds:.2f} s | {shown} |")


if __name__ == "__main__":
    main()
