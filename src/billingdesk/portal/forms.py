"""Forms of the customer billing pages (Django forms: CSRF by the middleware, errors shown
next to the field in the customer's language)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billingdesk.billing.identity import normalize_email
from billingdesk.documents.taxids import tax_id_check


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip()
        if not normalize_email(email):
            raise forms.ValidationError(_("Enter a valid email address."))
        return email


class TaxIdForm(forms.Form):
    country = forms.CharField(
        label=_("Country (two letters, e.g. FR)"),
        min_length=2,
        max_length=2,
        widget=forms.TextInput(attrs={"autocomplete": "country", "autocapitalize": "characters"}),
    )
    value = forms.CharField(label=_("VAT or tax ID"), max_length=40)

    def clean_country(self) -> str:
        country = str(self.cleaned_data["country"]).strip().upper()
        if not country.isalpha() or not country.isascii():
            raise forms.ValidationError(_("Enter the two-letter country code, e.g. FR."))
        return country

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        country, value = data.get("country"), data.get("value")
        if isinstance(country, str) and isinstance(value, str):
            check = tax_id_check(country=country, value=value)
            if not check.valid:
                if not check.kind:
                    self.add_error(
                        "country", _("Tax IDs of this country cannot be checked here yet.")
                    )
                else:
                    self.add_error(
                        "value",
                        _("This is not a valid tax ID for %(country)s: %(reason)s.")
                        % {"country": country, "reason": _reason(check.reason)},
                    )
        return data


_REASONS = {
    "has the wrong length": _("the number has the wrong length"),
    "is not in the expected format": _("the number is not in the expected format"),
    "has an invalid check digit": _("a check digit is wrong"),
    "contains an invalid part (e.g. country or region code)": _(
        "a part of it is invalid, such as the country code"
    ),
}


def _reason(reason: str) -> str:
    if reason.startswith("is a ") and "VAT number, not a" in reason:
        return str(_("it is the VAT number of another country"))
    return str(_REASONS.get(reason) or _("the number is not in the expected format"))


class QuestionForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(
        label=_("Your question"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )


class CancelForm(forms.Form):
    """Why the customer cancels (the merchant's cancellation reasons, less the agents' own)."""

    reason = forms.ChoiceField(label=_("Why are you cancelling?"), choices=())
    reason_text = forms.CharField(
        label=_("Anything you would like to tell us (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=400)

    def __init__(self, *args: object, reasons: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["reason"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a reason")), *reasons]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("reason") == "other" and not str(data.get("reason_text") or "").strip():
            self.add_error("reason_text", _("Tell us in a few words why you are cancelling."))
        return data
