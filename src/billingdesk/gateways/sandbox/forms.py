"""The card form of the sandbox's hosted pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone


class CardForm(forms.Form):
    number = forms.CharField(label="Card number", max_length=23)
    exp_month = forms.IntegerField(label="Expiry month", min_value=1, max_value=12)
    exp_year = forms.IntegerField(label="Expiry year", min_value=2000, max_value=2100)
    # Asked for realism and checked for shape; never stored or passed on.
    cvc = forms.RegexField(label="CVC", regex=r"^[0-9]{3,4}$", max_length=4)

    def clean_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["number"] if ch not in " -")
        if not digits.isdigit() or not 13 <= len(digits) <= 19:
            raise forms.ValidationError("Enter the card number's 13 to 19 digits.")
        return digits

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        month, year = cleaned.get("exp_month"), cleaned.get("exp_year")
        if month and year:
            today = timezone.now()
            if (year, month) < (today.year, today.month):
                raise forms.ValidationError("The card has expired.")
        return cleaned
