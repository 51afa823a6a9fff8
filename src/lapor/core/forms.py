"""Form pieces shared by the faces (portal, console)."""

from __future__ import annotations

from typing import Any

from django import forms


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none was chosen)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        clean_one = super().clean  # bound here: a comprehension has no zero-argument super() (Python 3.11)
        return [clean_one(item, initial) for item in files]
