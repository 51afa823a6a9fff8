"""The Python widget renderer writes what Django's widget templates write, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from lapor.core.form_rendering import PYTHON_WIDGET_RENDERER, PythonWidgetRenderer
from lapor.core.forms import BoundedDateField, MultipleFileField

CHOICES = [
    ("", "Choose…"),
    ("36", "Banten"),
    ("36.74", 'Kota "Tangerang" <Selatan> & co'),
    ("7", gettext_lazy("Title")),
]


class EveryWidget(forms.Form):
    kind = forms.ChoiceField(choices=[("a", "A & b"), ("b", mark_safe("<em>B</em>"))], widget=forms.RadioSelect)
    title = forms.CharField(max_length=20, help_text="help")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    incident_date = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    region = forms.ChoiceField(choices=CHOICES, required=False)
    flags = forms.MultipleChoiceField(choices=CHOICES[1:], widget=forms.CheckboxSelectMultiple, required=False)
    several = forms.MultipleChoiceField(choices=CHOICES[1:], required=False)
    latitude = forms.DecimalField(required=False, decimal_places=6, localize=True)
    count = forms.IntegerField(required=False)
    email = forms.EmailField(required=False)
    agree = forms.BooleanField(required=False)
    papers = MultipleFileField(required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    grouped = forms.ChoiceField(choices=[("Java", [("1", "One"), ("2", "Two")]), ("3", "Three")], required=False)


STATES: list[dict[str, Any]] = [
    {},
    {"initial": {"kind": "b", "region": "36.74", "body": "x < y\nz", "agree": True, "flags": ["36", "7"]}},
    {"data": {}},
    {
        "data": {
            "kind": "zzz",
            "title": '"quoted" <b>&amp;',
            "body": "  spaced  ",
            "incident_date": "2024-02-30",
            "region": "36",
            "flags": ["36.74"],
            "several": ["36", "7"],
            "latitude": "-6.2",
            "count": "12",
            "email": "a@b",
            "agree": "on",
            "key": "k&y",
            "secret": "s<",
            "grouped": "2",
        }
    },
]


def rendered(form: forms.Form, renderer: Any) -> list[str]:
    form.renderer = renderer
    html = []
    for field in form:
        html.append(str(field))
        html.append(field.as_widget(attrs={"aria-describedby": "x-help x-error", "aria-invalid": "true"}))
        html.append(field.as_hidden())
        html += (
            [str(choice.tag()) for choice in field] if getattr(field.field.widget, "input_type", "") == "radio" else []
        )
    return html


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("language", ["id", "en"])
def test_every_widget_renders_as_the_templates_do(state: dict[str, Any], language: str):
    from django.utils import translation

    with translation.override(language):
        expected = rendered(EveryWidget(**state), get_default_renderer())
        assert rendered(EveryWidget(**state), PYTHON_WIDGET_RENDERER) == expected


@pytest.mark.parametrize("state", STATES)
def test_the_whole_form_renders_as_the_templates_do(state: dict[str, Any]):
    # The form's own templates (div.html, labels, errors) go through the usual renderer.
    assert str(EveryWidget(**state, renderer=PythonWidgetRenderer())) == str(
        EveryWidget(**state, renderer=get_default_renderer())
    )


def test_the_renderer_writes_the_widgets_itself():
    """A renderer that fell back to the templates for everything would pass the tests above."""
    form = EveryWidget()
    written = []

    class Recording(PythonWidgetRenderer):
        def get_template(self, template_name: str) -> Any:
            written.append(template_name)
            return super().get_template(template_name)

    form.renderer = Recording()
    for name in ("kind", "title", "body", "incident_date", "region", "flags", "agree", "papers", "key"):
        str(form[name])
    assert written == []
    str(form["grouped"])  # option groups are left to the template
    assert written == ["django/forms/widgets/select.html"]


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(choices=st.lists(st.tuples(text, text), max_size=5), value=st.one_of(st.none(), text), typed=text)
def test_any_choice_and_value_renders_as_the_templates_do(
    choices: list[tuple[str, str]], value: str | None, typed: str
):
    class Arbitrary(forms.Form):
        pick = forms.ChoiceField(choices=choices, required=False)
        radio = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, required=False)
        line = forms.CharField(required=False)
        area = forms.CharField(widget=forms.Textarea, required=False)

    for state in ({"initial": {"pick": value, "radio": value, "line": typed, "area": typed}},
                  {"data": {"pick": value or "", "radio": value or "", "line": typed, "area": typed}}):  # fmt: skip
        assert rendered(Arbitrary(**state), PYTHON_WIDGET_RENDERER) == rendered(
            Arbitrary(**state), get_default_renderer()
        )
