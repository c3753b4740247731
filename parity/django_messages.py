"""Django's own messages that Parity's pages can show, marked so Parity's catalogues carry them.

Django translates its form errors into French, Swahili and Urdu but ships no Hausa or Amharic
catalogue, so an Amharic reporter who leaves a field empty would read "This field is required."
Marking those messages here puts them into ``locale/*/django.po`` (read by ``makemessages``);
catalogues in ``LOCALE_PATHS`` take precedence over Django's, so the same msgid is then found in
every interface language. Nothing imports this module: the marks are its whole purpose.
"""
from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

FORM_ERRORS = [
    gettext_noop("This field is required."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Enter a valid value."),
]
MAX_LENGTH = ngettext_lazy(
    "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
    "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
    "limit_value",
)
