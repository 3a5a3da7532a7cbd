"""Bearer API keys, one required scope per operation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from billingdesk.accounts.throttle import client_ip
from billingdesk.api.keys import apikey_authenticate
from billingdesk.api.models import ApiKey, Scope


class KeyAuth(HttpBearer):
    """``Authorization: Bearer bdk_…``; the key must have ``scope``."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        return apikey_authenticate(token=token, ip=client_ip(request), scope=self.scope)


def key_of(request: HttpRequest) -> ApiKey:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    return key


READ = KeyAuth(Scope.READ)
ACTIONS = KeyAuth(Scope.ACTIONS)
PUSH = KeyAuth(Scope.PUSH)
REPORTS = KeyAuth(Scope.REPORTS)
ADMIN = KeyAuth(Scope.ADMIN)
