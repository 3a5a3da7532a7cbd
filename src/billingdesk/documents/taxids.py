"""Customer and seller tax ids: offline validation with python-stdnum, optional online VIES.

``tax_id_validate`` checks the format and check digits of a VAT/GST/business number for the
country it belongs to and says *why* a number is refused (wrong length, bad check digit…).
It never touches the network. ``vies_check`` asks the EU VIES service whether an EU VAT number
is registered; it runs only when ``BILLINGDESK_VIES_CHECK`` is on (off by default, never in
tests), with a short timeout, and its failures are operational errors (retry later), not a
verdict on the number.
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from types import ModuleType

from django.conf import settings
from stdnum import exceptions as stdnum_errors
from stdnum.au import abn
from stdnum.ca import bn
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.in_ import gstin
from stdnum.nz import ird

from billingdesk.core.errors import GatewayUnavailable, InvalidRequest
from billingdesk.documents.tax import EU_COUNTRIES

# Which number a business of each country quotes on an invoice, and the stdnum module for it.
_SCHEMES: dict[str, tuple[str, ModuleType]] = {
    "GB": ("gb_vat", gb_vat),
    "XI": ("gb_vat", gb_vat),
    "AU": ("au_abn", abn),
    "NZ": ("nz_gst", ird),
    "CA": ("ca_gst_hst", bn),
    "IN": ("in_gst", gstin),
}

_REASONS: dict[type[Exception], str] = {
    stdnum_errors.InvalidLength: "has the wrong length",
    stdnum_errors.InvalidFormat: "is not in the expected format",
    stdnum_errors.InvalidChecksum: "has an invalid check digit",
    stdnum_errors.InvalidComponent: "contains an invalid part (e.g. country or region code)",
}


@dataclass(frozen=True, slots=True)
class TaxIdCheck:
    valid: bool
    country: str
    kind: str  # eu_vat, gb_vat, au_abn, nz_gst, ca_gst_hst, in_gst
    value: str  # compact, canonical form (EU: with the country prefix)
    reason: str = ""


def _clean(raw: str) -> str:
    return re.sub(r"[\s.\-/,:]", "", raw).upper()


def tax_id_check(*, country: str, value: str) -> TaxIdCheck:
    """Validate ``value`` as the tax id of a business in ``country``; never raises for a bad
    number (``valid`` is False and ``reason`` says why)."""
    cc = (country or "").strip().upper()
    raw = (value or "").strip()
    if cc == "GR":
        cc = "EL"  # Greece's VAT prefix
    if not raw:
        return TaxIdCheck(False, cc, "", "", "the tax id is empty")
    if cc in EU_COUNTRIES or cc == "EL":
        kind, module = "eu_vat", eu_vat
        compact = _clean(raw)
        if not compact[:2].isalpha():
            compact = cc + compact
        elif compact[:2] != cc:
            return TaxIdCheck(
                False, cc, kind, compact, f"is a {compact[:2]} VAT number, not a {cc} one"
            )
    elif cc in _SCHEMES:
        kind, module = _SCHEMES[cc]
        compact = _clean(raw)
    else:
        return TaxIdCheck(False, cc, "", raw, f"tax ids of country {cc or '?'} are not supported")
    try:
        canonical = module.validate(compact)
    except stdnum_errors.ValidationError as exc:
        reason = next((text for cls, text in _REASONS.items() if isinstance(exc, cls)), str(exc))
        return TaxIdCheck(False, cc, kind, compact, reason)
    if kind == "ca_gst_hst" and "RT" not in canonical:
        # A GST/HST registration is the business number's RT program account (BN15).
        return TaxIdCheck(False, cc, kind, canonical, "is not a GST/HST (RT) program account")
    if kind == "eu_vat" and not canonical[:2].isalpha():
        canonical = compact
    if kind == "gb_vat" and not canonical.startswith(("GB", "XI")):
        canonical = ("XI" if cc == "XI" else "GB") + canonical
    return TaxIdCheck(True, cc, kind, canonical)


def tax_id_validate(*, country: str, value: str) -> TaxIdCheck:
    """Like ``tax_id_check`` but raises ``InvalidRequest`` with the reason for a bad number."""
    check = tax_id_check(country=country, value=value)
    if not check.valid:
        raise InvalidRequest(
            f"{value!r} is not a valid tax id for {check.country}: {check.reason}",
            code="invalid_tax_id",
        )
    return check


VIES_URL = "https://ec.europa.eu/taxation_customs/vies/rest-api/check-vat-number"


@dataclass(frozen=True, slots=True)
class ViesResult:
    valid: bool
    name: str
    address: str
    request_identifier: str  # consultation number: proof of the check, when a requester is sent


def vies_check(*, vat_number: str, requester: str = "", timeout: float = 10) -> ViesResult | None:
    """Ask VIES whether an EU VAT number is registered; ``None`` when the check is disabled.

    Calls the REST endpoint directly (python-stdnum 2.2 needs zeep for SOAP and its REST branch
    sends unverified requester field names, see docs/documents.md).
    """
    if not getattr(settings, "BILLINGDESK_VIES_CHECK", False):
        return None
    number = eu_vat.compact(vat_number)
    body: dict[str, str] = {"countryCode": number[:2], "vatNumber": number[2:]}
    if requester:
        req = eu_vat.compact(requester)
        body |= {"requesterMemberStateCode": req[:2], "requesterNumber": req[2:]}
    request = urllib.request.Request(
        VIES_URL,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise GatewayUnavailable(f"VIES did not answer: {exc}") from exc
    if "valid" not in payload:
        raise GatewayUnavailable(f"VIES answered without a verdict: {payload.get('errorWrappers')}")
    return ViesResult(
        valid=bool(payload["valid"]),
        name=str(payload.get("name") or ""),
        address=str(payload.get("address") or ""),
        request_identifier=str(payload.get("requestIdentifier") or ""),
    )


# Older or alternative abbreviations of Indian states, to the codes of ``IN_STATES``.
_IN_ALIASES = {"OR": "OD", "CT": "CG", "UT": "UK", "TG": "TS"}


def in_state(value: str) -> str:
    """An Indian state as its two-letter code (``KA``) from a code, an alias or a GST state
    number (``29``); ``""`` when unknown."""
    from billingdesk.documents.render.labels import IN_STATES

    code = (value or "").strip().upper()
    code = _IN_ALIASES.get(code, code)
    if code in IN_STATES:
        return code
    for letters, (number, _name) in IN_STATES.items():
        if code == number:
            return letters
    return ""


def gstin_state(value: str) -> str:
    """The state a GSTIN is registered in: its first two digits are the GST state number
    (``27AAPFU0939F1ZV`` → ``MH``). Under GST the registration decides the place of supply
    of services to a registered recipient (IGST Act s. 12(2)(a)), whatever the address says."""
    return in_state(value[:2]) if len(value) >= 2 and value[:2].isdigit() else ""
