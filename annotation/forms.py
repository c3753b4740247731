"""The public issue-report form (rendered by the web UI; validated here, stored by ``report_create``)."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from annotation.models import Report
from evaluators.languages import LanguageCodeError, parse_tag

HONEYPOT_FIELD = "website"


class LanguageSelect(forms.Select):
    """A language list whose options carry their own ``lang`` and ``dir``, so አማርኛ and اردو are
    shaped and read in their script, whatever the interface language is."""

    def __init__(self, *, options: list[tuple[str, str, dict]], placeholder: str, attrs=None):
        super().__init__(attrs, choices=[("", placeholder)] + [(value, text) for value, text, _ in options])
        self.option_attrs = {value: extra for value, _, extra in options}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.option_attrs.get(str(value), {}))
        return option


class ReportForm(forms.Form):
    """Fields of :func:`annotation.services.report_create` plus a honeypot.

    ``website`` is the honeypot: hide it from people (CSS, ``tabindex=-1``, ``autocomplete=off``);
    a bot that fills it in gets a form error and nothing is stored.
    """

    language = forms.CharField(
        label=_("Language"), max_length=16, help_text=_("ISO 639-3 code and script, e.g. hau_Latn or urd_Arab")
    )
    input_text = forms.CharField(label=_("What you asked or typed"), widget=forms.Textarea, max_length=5000)
    model_output = forms.CharField(label=_("What the model answered"), widget=forms.Textarea, max_length=5000)
    category = forms.ChoiceField(label=_("What is wrong"), choices=Report.Category.choices)
    suggested_correction = forms.CharField(
        label=_("What it should have said (optional)"), widget=forms.Textarea, max_length=5000, required=False
    )
    contact = forms.CharField(label=_("Contact (optional)"), max_length=200, required=False)
    website = forms.CharField(
        label=_("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_language(self) -> str:
        value = self.cleaned_data["language"].strip()
        from annotation.selectors import served_language

        try:
            tag = parse_tag(value).tag
            served = served_language(tag)
        except LanguageCodeError as exc:
            raise ValidationError(str(exc)) from exc
        if served is None:
            raise ValidationError(_("%(tag)s is not a language we serve yet.") % {"tag": tag})
        return tag

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            raise ValidationError(_("This field must be left empty."))
        return ""

    def save(self) -> Report:
        """Store the report through the service (raises ValidationError for a language nobody serves)."""
        from annotation.services import report_create

        data = {key: value for key, value in self.cleaned_data.items() if key != HONEYPOT_FIELD}
        return report_create(**data)
