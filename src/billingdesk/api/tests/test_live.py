"""Over real HTTP against a running server (pytest-django's live server): authentication,
the rate limit, and schemathesis driving every operation from the live OpenAPI schema."""

from __future__ import annotations

from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from billingdesk.api.keys import apikey_create
from billingdesk.api.models import Scope
from billingdesk.panel.tests.factories import build_shop


def test_keys_over_http(live_server: Any, transactional_db: None) -> None:
    _, text = apikey_create(name="live", scopes=["read"], rate_limit_per_minute=3)
    url = f"{live_server.url}/api/v1/charges"
    assert requests.get(url, timeout=10).status_code == 401
    wrong = requests.get(url, headers={"Authorization": f"Bearer {text}x"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_key"
    good = {"Authorization": f"Bearer {text}"}
    statuses = [requests.get(url, headers=good, timeout=10).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    last = requests.get(url, headers=good, timeout=10)
    assert last.status_code == 429 and 0 < int(last.headers["Retry-After"]) <= 60
    assert last.json()["code"] == "rate_limited"


def test_no_operation_answers_5xx_or_breaks_its_schema(
    live_server: Any, transactional_db: None
) -> None:
    """schemathesis generates requests for every operation of the live schema (a bounded
    number each) and checks each answer: never 5xx, always what the schema says."""
    build_shop()
    _, text = apikey_create(name="fuzz", scopes=Scope.values, rate_limit_per_minute=100_000)
    loaded = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {text}"}
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 14
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )
            statuses.append(response.status_code)

        run()
    # Both accepted and refused requests were made (it really reached past authentication).
    assert len(statuses) > 3 * len(operations)
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    assert 401 not in statuses
