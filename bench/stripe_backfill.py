"""Backfill benchmark: billingdesk's Stripe connector vs dj-stripe, same data, same run.

    .venv/bin/python bench/stripe_backfill.py --customers 200 --charges 5

1. Starts localstripe (isolated state, as the test suite does) and seeds N customers, each
   with a card and M charges, through the official SDK. By default localstripe runs through
   ``bench/localstripe_fast.py``, which indexes its store by object type: as released it
   scans the whole store three times for every charge it renders (quadratic in the data),
   which both sides pay and which then dwarfs billingdesk's own work. ``--server plain``
   runs it as released.
2. Both sides read it through the same small proxy (the test suite's Stripe fake, which adds
   the ``/v1/account`` dj-stripe needs and counts every API call the server receives).
   The proxy keeps every GET answer it forwards.
3. billingdesk: ``account_backfill`` of customers (+ embedded cards) and charges (+ embedded
   refunds) into a fresh SQLite database; DB queries counted with ``execute_wrapper``.
4. dj-stripe 2.11.0, installed in its own virtualenv (``var/bench/djstripe-venv``, created
   on first run; dj-stripe needs stripe<16 so it cannot share ours): ``djstripe_sync_models
   Customer PaymentMethod Charge`` into its own fresh SQLite database, in a subprocess.
   Then a second pass: the same backfill again over the mirror it just filled, with
   nothing changed at the gateway; it must write nothing to the mirror and send no change
   signal (reported as ``second_pass``).
5. Replay: both sides again, into fresh databases, with the proxy answering each GET from
   the answers kept in steps 3-4 instead of asking localstripe: the two sync engines
   themselves, as against the real API, where the server's time is not spent on this
   machine. Both rows are reported.

Prints a JSON summary and a Markdown table for docs/benchmarks.md.
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DJSTRIPE_VENV = ROOT / "var" / "bench" / "djstripe-venv"
DJSTRIPE_PINS = ["dj-stripe==2.11.0", "Django==5.2.19"]
KEY = "sk_test_" + "benchmark" * 3  # dj-stripe insists on 24+ characters
LAUNCHER = Path(__file__).resolve().with_name("localstripe_fast.py")


def seed(url: str, customers: int, charges: int) -> None:
    import stripe

    client = stripe.StripeClient(KEY, base_addresses={"api": url})
    card = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}
    for i in range(customers):
        pm = client.v1.payment_methods.create(params={"type": "card", "card": dict(card)})  # type: ignore[typeddict-item]
        cust = client.v1.customers.create(
            params={
                "email": f"customer{i}@example.com",
                "name": f"Customer {i}",
                "payment_method": pm.id,
                "invoice_settings": {"default_payment_method": pm.id},
            }
        )
        for j in range(charges):
            client.v1.charges.create(
                params={"amount": 1000 + j, "currency": "eur", "customer": cust.id}
            )


def index_check(url: str) -> dict[str, Any]:
    """The indexed server's own check that every listing equals localstripe's store scan."""
    import urllib.request

    with urllib.request.urlopen(url + "/_config/index-check", timeout=30) as resp:  # noqa: S310
        check: dict[str, Any] = json.load(resp)
    if check["differing_types"]:
        raise SystemExit(f"indexed localstripe lists differ from its store: {check}")
    return check


class ReplayProxy:
    """The test suite's Stripe fake, keeping each GET answer it forwards to localstripe.

    With ``replay`` on, a GET already answered once is answered again from memory, so the
    side being measured pays the proxy's HTTP handling but not localstripe's rendering.
    """

    def __init__(self, upstream: str) -> None:
        from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake

        proxy = self
        self.replay = False
        self.answers: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.misses: list[str] = []

        class Keeping(StripeFake):
            def _forward(
                self, method: str, raw_path: str, body: str, headers: dict[str, str]
            ) -> tuple[int, bytes, dict[str, str]]:
                if method != "GET":
                    return super()._forward(method, raw_path, body, headers)
                if proxy.replay and raw_path in proxy.answers:
                    return proxy.answers[raw_path]
                if proxy.replay:
                    proxy.misses.append(raw_path)
                answer = super()._forward(method, raw_path, body, headers)
                proxy.answers[raw_path] = answer
                return answer

        self.fake = Keeping(upstream=upstream)

    def __enter__(self) -> ReplayProxy:
        self.fake.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.fake.url

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.fake.requests


def run_billingdesk(url: str, workdir: Path) -> dict[str, Any]:
    os.environ["BILLINGDESK_DATA_DIR"] = str(workdir / "billingdesk")
    os.environ["DJANGO_SETTINGS_MODULE"] = "billingdesk.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from billingdesk.billing.models import Charge, Customer, PaymentMethod
    from billingdesk.gateways.interface import ObjectKind
    from billingdesk.gateways.models import GatewayAccount
    from billingdesk.gateways.registry import kinds, register
    from billingdesk.gateways.stripe.connector import StripeConnector
    from billingdesk.gateways.sync import account_backfill

    class BenchStripe(StripeConnector):
        """The same connector, limited to the kinds dj-stripe syncs here."""

        kind = "stripe_bench"
        backfill_kinds = (ObjectKind.CUSTOMER, ObjectKind.CHARGE)

    if "stripe_bench" not in dict(kinds()):
        register(BenchStripe)
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # a fresh mirror for each pass
    account = GatewayAccount.objects.create(
        kind="stripe_bench", name="bench", credentials={"secret_key": KEY, "api_base": url}
    )
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    # The same pages fetched and mapped without writing anything: the server's share.
    connector = BenchStripe(account)
    started = time.perf_counter()
    for kind in BenchStripe.backfill_kinds:
        cursor = None
        while True:
            page = connector._fetch_page(kind, cursor)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    fetch_only = time.perf_counter() - started
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            with cProfile.Profile() as profile:
                account_backfill(account=account)
            pstats.Stats(profile, stream=sys.stderr).sort_stats(
                os.environ.get("BENCH_PROFILE_SORT", "cumulative")
            ).print_stats(40)
        else:
            account_backfill(account=account)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "fetch_and_map_only_seconds": round(fetch_only, 3),
        "queries": queries,
        "customers": Customer.objects.count(),
        "payment_methods": PaymentMethod.objects.count(),
        "charges": Charge.objects.count(),
        "second_pass": resync(account),
    }


def resync(account: Any) -> dict[str, Any]:
    """The same backfill again over the mirror it just filled (nothing changed at the
    gateway): what it writes to the mirror and how many change signals it sends. Both must
    be 0; the run's own bookkeeping (its cursor, one UPDATE per page) is counted apart."""
    from django.db import connection

    from billingdesk.billing.signals import mirror_changed
    from billingdesk.gateways.sync import sync_run_execute, sync_run_start

    writes = {"mirror": 0, "mirror_rows": 0, "run_bookkeeping": 0}
    signals = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        verb = sql.lstrip().split(None, 1)[0].upper()
        result = execute(sql, params, many, context)
        if verb in {"INSERT", "UPDATE", "DELETE"}:
            if "gateways_syncrun" in sql:
                writes["run_bookkeeping"] += 1
            else:
                writes["mirror"] += 1
                writes["mirror_rows"] += max(context["cursor"].rowcount, 0)
        return result

    def signalled(sender: Any, **kwargs: Any) -> None:
        nonlocal signals
        signals += 1

    mirror_changed.connect(signalled, dispatch_uid="bench-resync")
    try:
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            result = sync_run_execute(run=sync_run_start(account=account))
            seconds = time.perf_counter() - started
    finally:
        mirror_changed.disconnect(dispatch_uid="bench-resync")
    return {
        "seconds": round(seconds, 3),
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "stale": result.stale,
        "mirror_write_statements": writes["mirror"],
        "mirror_rows_written": writes["mirror_rows"],
        "run_bookkeeping_writes": writes["run_bookkeeping"],
        "change_signals": signals,
    }


DJSTRIPE_SETTINGS = """
import stripe
SECRET_KEY = "bench"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "djstripe"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %(db)r}}
USE_TZ = True
STRIPE_LIVE_MODE = False
STRIPE_TEST_SECRET_KEY = %(key)r
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_SECRET = "whsec_bench"
stripe.api_base = %(url)r
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

DJSTRIPE_RUNNER = """
import json, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
queries = 0
def count(execute, sql, params, many, context):
    global queries
    queries += 1
    return execute(sql, params, many, context)
from djstripe import models
with connection.execute_wrapper(count):
    started = time.perf_counter()
    call_command("djstripe_sync_models", "Customer", "PaymentMethod", "Charge", verbosity=1,
                 stdout=sys.stderr)
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "queries": queries,
                  "customers": models.Customer.objects.count(),
                  "payment_methods": models.PaymentMethod.objects.count(),
                  "charges": models.Charge.objects.count()}))
"""


def ensure_djstripe_venv() -> Path:
    python = DJSTRIPE_VENV / "bin" / "python"
    if not python.exists():
        DJSTRIPE_VENV.parent.mkdir(parents=True, exist_ok=True)
        venv.create(DJSTRIPE_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DJSTRIPE_PINS], check=True)
    return python


def run_djstripe(url: str, workdir: Path, name: str = "djstripe_project") -> dict[str, Any]:
    python = ensure_djstripe_venv()
    project = workdir / name
    project.mkdir()
    (project / "bench_settings.py").write_text(
        DJSTRIPE_SETTINGS % {"db": str(project / "db.sqlite3"), "key": KEY, "url": url}
    )
    (project / "runner.py").write_text(DJSTRIPE_RUNNER)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_settings", "PYTHONPATH": str(project)}
    env.pop("BILLINGDESK_DATA_DIR", None)
    done = subprocess.run(
        [str(python), str(project / "runner.py")],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-3000:]}
    if os.environ.get("BENCH_VERBOSE"):
        print(done.stderr[-6000:], file=sys.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def both_sides(proxy: ReplayProxy, workdir: Path, mode: str, skip_djstripe: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    before = len(proxy.requests)
    ours = run_billingdesk(proxy.url, workdir)
    # fetch-only pass, backfill, second pass: the same calls each
    ours["api_calls"] = (len(proxy.requests) - before) // 3
    results["billingdesk"] = ours
    if not skip_djstripe:
        before = len(proxy.requests)
        theirs = run_djstripe(proxy.url, workdir, f"djstripe_{mode}")
        theirs["api_calls"] = len(proxy.requests) - before
        results["djstripe"] = theirs
    return results


def summarise(results: dict[str, Any], objects: int) -> None:
    for side in ("billingdesk", "djstripe"):
        r = results.get(side)
        if r and "seconds" in r:
            r["objects_per_second"] = round(objects / r["seconds"], 1)
            r["queries_per_object"] = round(r["queries"] / objects, 2)
            r["api_calls_per_object"] = round(r["api_calls"] / objects, 3)
    if "seconds" in results.get("djstripe", {}):
        results["speedup"] = round(
            results["djstripe"]["seconds"] / results["billingdesk"]["seconds"], 1
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--charges", type=int, default=5, help="charges per customer")
    parser.add_argument("--skip-djstripe", action="store_true")
    parser.add_argument(
        "--server",
        choices=("indexed", "plain"),
        default="indexed",
        help="localstripe with its listings indexed by type (bench/localstripe_fast.py, the "
        "default) or as released (python -m localstripe)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from billingdesk.gateways.stripe.tests.localstripe_server import start_localstripe

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        launcher = LAUNCHER if args.server == "indexed" else None
        proc, localstripe = start_localstripe(workdir, launcher)
        try:
            t0 = time.perf_counter()
            seed(localstripe, args.customers, args.charges)
            seeded = time.perf_counter() - t0
            results: dict[str, Any] = {
                "customers": args.customers,
                "charges_per_customer": args.charges,
                "seed_seconds": round(seeded, 1),
                "server": args.server,
            }
            with ReplayProxy(localstripe) as proxy:
                results["direct"] = both_sides(proxy, workdir, "direct", args.skip_djstripe)
                proxy.replay = True
                results["replay"] = both_sides(proxy, workdir, "replay", args.skip_djstripe)
                results["replay"]["answers_not_replayed"] = proxy.misses[:20]
            if launcher:
                results["index_check"] = index_check(localstripe)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    objects = args.customers * (2 + args.charges)  # customer + card + charges
    for mode in ("direct", "replay"):
        summarise(results[mode], objects)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
