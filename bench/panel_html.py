"""CPU time of writing the compact panel's HTML (``panel_page``), data read beforehand.

    DATABASE_URL=sqlite:///var/bench/panel.sqlite3 .venv/bin/python bench/panel_html.py

Run bench/generate.py on the same DATABASE_URL first. Reads ``--persons`` random persons'
panel data and offered actions once, then times only ``panel_page`` for all of them, five
times, and prints the best CPU time per panel. Run it alternately on two checkouts
(``PYTHONPATH=<checkout>/src``) to compare HTML writers under the same load.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(":")[0] or str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory
    from django.utils import translation

    from billingdesk.accounts.models import AgentProfile, Role
    from billingdesk.billing.models import Person
    from billingdesk.panel import views
    from billingdesk.panel.offers import offer_actions
    from billingdesk.panel.render import panel_page
    from billingdesk.panel.selectors import PANEL_ROWS, panel_data

    translation.activate("en")
    user, _ = User.objects.get_or_create(username="bench-agent", defaults={"first_name": "Bench"})
    AgentProfile.objects.update_or_create(user=user, defaults={"role": Role.AGENT})
    factory = RequestFactory()
    ids = list(Person.objects.values_list("pk", flat=True)[:3000])
    rng = random.Random(args.seed)  # noqa: S311 - picks benchmark rows, not secrets
    items = []
    for person_id in rng.sample(ids, min(args.persons, len(ids))):
        request = factory.get(f"/panel/person/{person_id}/")
        request.user = user
        request.session = {}  # type: ignore[assignment]
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
        data = panel_data(person_id, limit=PANEL_ROWS, documents=True)
        items.append((request, data, offer_actions(request, data)))

    def run() -> None:
        for request, data, role in items:
            panel_page(request, data, role=role, back=views._here(request))

    run()
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        run()
        best = min(best, (time.process_time() - started) / len(items) * 1000)
    print(f"panel_page CPU per panel, best of 5 ({len(items)} persons): {best:.3f} ms")


if __name__ == "__main__":
    main()
