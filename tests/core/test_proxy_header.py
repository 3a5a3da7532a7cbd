"""X-Forwarded-Proto is trusted only when the operator says a TLS proxy sets it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Settings are read once per process: each case runs in a fresh interpreter.
PROBE = """
import django
django.setup()
from django.test import RequestFactory
request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
print(request.is_secure())
"""


@pytest.mark.parametrize(
    ("trust", "secure"), [("true", "True"), ("false", "False"), (None, "False")]
)
def test_forwarded_proto_makes_a_request_secure_only_when_trusted(
    tmp_path: Path, trust: str | None, secure: str
) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "billingdesk.config.settings"}
    env.pop("BILLINGDESK_TRUST_X_FORWARDED_PROTO", None)
    env["BILLINGDESK_DATA_DIR"] = str(tmp_path)
    if trust is not None:
        env["BILLINGDESK_TRUST_X_FORWARDED_PROTO"] = trust
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == secure
