"""Numbers as a person reads them in the admin console: metrics rounded to three decimals, and
floating-point noise around zero (κ = -2.2e-16) shown as 0.000 rather than a 20-digit value."""
from __future__ import annotations

from django.contrib import admin


def metric(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    text = f"{float(value):.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def admin_metric(field: str, description, digits: int = 3):
    """A list_display/readonly column showing ``field`` through :func:`metric`, still sortable.
    ``description`` is the column's heading: a ``gettext_lazy`` string (or a symbol such as κ)."""

    @admin.display(description=description, ordering=field)
    def column(self, obj):
        return metric(getattr(obj, field), digits)

    column.__name__ = f"{field}_rounded"
    return column
