"""Tax id validation: good numbers normalised, bad ones refused with the reason."""

from __future__ import annotations

import re

import pytest

from billingdesk.core.errors import InvalidRequest
from billingdesk.documents.taxids import tax_id_check, tax_id_validate, vies_check


@pytest.mark.parametrize(
    ("country", "value", "kind", "canonical"),
    [
        ("FR", "FR 40 303 265 045", "eu_vat", "FR40303265045"),
        ("FR", "40303265045", "eu_vat", "FR40303265045"),
        ("DE", "DE136695976", "eu_vat", "DE136695976"),
        ("ES", "ESB58378431", "eu_vat", "ESB58378431"),
        ("GR", "EL094259216", "eu_vat", "EL094259216"),
        ("GB", "GB 980 7806 84", "gb_vat", "GB980780684"),
        ("AU", "51 824 753 556", "au_abn", "51824753556"),
        ("NZ", "49-091-850", "nz_gst", "49091850"),
        ("CA", "123456782RT0001", "ca_gst_hst", "123456782RT0001"),
        ("IN", "27AAPFU0939F1ZV", "in_gst", "27AAPFU0939F1ZV"),
    ],
)
def test_valid_tax_ids_are_normalised(country, value, kind, canonical):
    check = tax_id_validate(country=country, value=value)
    assert (check.valid, check.kind, check.value) == (True, kind, canonical)


@pytest.mark.parametrize(
    ("country", "value", "reason"),
    [
        ("FR", "FR40303265046", "invalid check digit"),
        ("DE", "DE12345", "wrong length"),
        ("FR", "DE136695976", "is a DE VAT number, not a FR one"),
        ("AU", "51824753557", "invalid check digit"),
        ("IN", "27AAPFU0939F1ZX", "invalid check digit"),
        ("CA", "123456782", "not a GST/HST (RT) program account"),
        ("GB", "GB98078068", "wrong length"),
        ("US", "12-3456789", "not supported"),
        ("FR", "  ", "empty"),
    ],
)
def test_bad_tax_ids_are_refused_with_the_reason(country, value, reason):
    check = tax_id_check(country=country, value=value)
    assert not check.valid
    assert reason in check.reason
    with pytest.raises(InvalidRequest, match=re.escape(reason)) as info:
        tax_id_validate(country=country, value=value)
    assert info.value.code == "invalid_tax_id"


def test_vies_is_off_by_default(settings):
    settings.BILLINGDESK_VIES_CHECK = False
    assert vies_check(vat_number="FR40303265045") is None
