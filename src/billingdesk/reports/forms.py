"""The reports' filters: every value checked, every refusal said in words (a 400 page or a
CSV refusal, never a 500)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billingdesk.core.money import normalise_currency
from billingdesk.gateways.models import GatewayAccount

MAX_SPAN_DAYS = 3700  # ten years: a day-by-day table past that helps nobody


def _today() -> date:
    return timezone.localdate()


class CurrencyField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, max_length=3, **kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return ""
        try:
            return normalise_currency(text)
        except ValueError:
            raise forms.ValidationError(
                _("%(value)s is not an ISO 4217 currency code"), params={"value": text[:3]}
            ) from None


class PeriodForm(forms.Form):
    """A period of local days, both ends included; by default the last 30 days."""

    start = forms.DateField(label=_("From"), required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=_("To"), required=False, input_formats=["%Y-%m-%d"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or _today()
        start = data.get("start") or end - timedelta(days=29)
        if "start" in self.errors or "end" in self.errors:
            return data
        if start > end:
            raise forms.ValidationError(_("The period starts after it ends."))
        if (end - start).days > MAX_SPAN_DAYS:
            raise forms.ValidationError(_("The period is longer than ten years."))
        data["start"], data["end"] = start, end
        return data


class RevenueForm(PeriodForm):
    GROUPS = (("day", _("day")), ("week", _("week")), ("month", _("month")))
    BY = (("", _("currency only")), ("account", _("gateway account")), ("product", _("product")))

    group = forms.ChoiceField(label=_("Per"), choices=GROUPS, required=False)
    by = forms.ChoiceField(label=_("Split by"), choices=BY, required=False)
    account = forms.ModelChoiceField(
        label=_("Gateway account"), queryset=GatewayAccount.objects.all(), required=False
    )
    currency = CurrencyField(label=_("Currency"))
    product = forms.CharField(label=_("Product"), required=False, max_length=300)
    convert = CurrencyField(label=_("Also convert to"))

    def clean_group(self) -> str:
        return str(self.cleaned_data.get("group") or "month")


class AuditForm(PeriodForm):
    actor = forms.CharField(label=_("Agent"), required=False, max_length=150)
    action = forms.CharField(label=_("Action"), required=False, max_length=60)
    result = forms.CharField(label=_("Result"), required=False, max_length=30)
    target = forms.CharField(label=_("Target id"), required=False, max_length=255)
    person = forms.IntegerField(label=_("Person"), required=False, min_value=1, max_value=2**62)
    account = forms.ModelChoiceField(
        label=_("Gateway account"), queryset=GatewayAccount.objects.all(), required=False
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)


def form_errors(form: forms.Form) -> list[str]:
    """Every error of ``form`` as one line of text each (``field: message``)."""
    lines = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            lines.append(f"{label}: {error}" if label else str(error))
    return lines


class InvoiceStatusForm(forms.Form):
    STATUSES = (
        ("open", _("open")),
        ("overdue", _("overdue")),
        ("paid", _("paid")),
        ("void", _("void")),
        ("uncollectible", _("uncollectible")),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUSES, required=False)
