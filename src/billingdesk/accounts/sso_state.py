"""What the sign-in pages need to know of single sign-on (the flow is ``config.sso``): is it
on, its button's label, the session keys, and the refusals told to the person."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

SSO_SESSION_KEY = "billingdesk_sso"  # the session was made by SSO
REFUSAL_KEY = "billingdesk_sso_refused"  # why the last SSO attempt was refused

REFUSALS = {
    "no_role": _(
        "Your account exists but has no role yet: ask a billingdesk administrator to give you "
        "one, then sign in again."
    ),
    "deactivated": _("This account is deactivated in billingdesk."),
    "wrong_issuer": _("The sign-in came from an identity provider billingdesk does not trust."),
    "wrong_audience": _("The sign-in was meant for another application."),
    "incomplete_token": _("The identity provider's answer was incomplete."),
    "invalid_token": _("The identity provider's answer could not be verified."),
    "userinfo_mismatch": _("The identity provider's answer was inconsistent."),
    "failed": _("Single sign-on did not complete. Try again, or ask your administrator."),
}


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def sso_only() -> bool:
    return sso_enabled() and bool(getattr(settings, "BILLINGDESK_SSO_ONLY", False))


def sign_in_context(request: HttpRequest) -> dict[str, object]:
    """For a sign-in page: the SSO button (if on) and the last refusal's reason, once."""
    if not sso_enabled():
        return {"sso": None}
    code = request.session.pop(REFUSAL_KEY, None)
    if code is None and request.GET.get("sso") == "refused":
        code = "failed"
    return {
        "sso": {
            "label": str(getattr(settings, "BILLINGDESK_SSO_LABEL", "")),
            "only": sso_only(),
            "refused": str(REFUSALS.get(str(code), REFUSALS["failed"])) if code else "",
        }
    }
