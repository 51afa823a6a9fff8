"""Form pieces shared by the faces (portal, console)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none was chosen)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        clean_one = super().clean  # bound here: a comprehension has no zero-argument super() (Python 3.11)
        return [clean_one(item, initial) for item in files]


# Dates a person may mean. Beyond these, "the day after" or the conversion of a local midnight to UTC
# overflows Python's date range (0001-01-01 to 9999-12-31) and a filter would answer 500 instead of a
# clear message.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


class BoundedDateField(forms.DateField):
    """A date between EARLIEST_DATE and LATEST_DATE, so that every calculation with it stays in range."""

    def to_python(self, value: Any) -> date | None:
        result = super().to_python(value)
        if result is not None and not EARLIEST_DATE <= result <= LATEST_DATE:
            raise forms.ValidationError(
                _("Enter a date between %(earliest)s and %(latest)s.")
                % {"earliest": date_format(EARLIEST_DATE, "j F Y"), "latest": date_format(LATEST_DATE, "j F Y")},
                code="out_of_range",
            )
        return result
