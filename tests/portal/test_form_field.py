"""{% form_field %} writes what portal/_field.html writes, byte for byte, for every field of the
filing steps and every kind of widget, with and without values, help texts and errors."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe

from lapor.portal.views.filing import DetailsForm, SendForm
from tests.core.test_form_rendering import STATES, EveryWidget
from tests.portal.test_filing import details
from tests.reports.conftest import World

TEMPLATE = engines["django"].from_string('{% include "portal/_field.html" with field=field %}')
TAG = engines["django"].from_string("{% load portal %}{% form_field field %}")


class Tricky(forms.Form):
    """Labels, help texts and errors that need escaping, or are already safe."""

    name = forms.CharField(label='Name <"quoted">', help_text="Use <b>bold</b> & more")
    safe = forms.CharField(
        label=mark_safe("<em>Safe</em>"), help_text=mark_safe("<a href='#'>link</a>"), required=False
    )
    pick = forms.ChoiceField(choices=[("x", "<X>")], widget=forms.RadioSelect, help_text="one <only>")
    agree = forms.BooleanField(label="I agree & <sign>", help_text="really?")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.add_error("safe", "First <problem>")
        self.add_error("safe", mark_safe("Second <i>problem</i>"))
        self.add_error("agree", "Not <agreed>")
        return cleaned


def assert_same(form: forms.Form) -> None:
    for field in form:
        expected = TEMPLATE.render({"field": field})
        assert TAG.render({"field": field}) == expected, field.name


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("state", STATES)
def test_every_widget_as_the_template_writes_it(state: dict[str, Any], language: str):
    with translation.override(language):
        form = EveryWidget(**state)
        form.is_valid()
        assert_same(form)


@pytest.mark.parametrize("data", [None, {}, {"name": "a", "pick": "x", "agree": "on"}])
def test_escaping_and_errors_as_the_template_writes_them(data: dict[str, str] | None):
    form = Tricky(data)
    form.is_valid()
    assert_same(form)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
def test_the_filing_steps_as_the_template_writes_them(world: World, language: str):
    with translation.override(language):
        assert_same(DetailsForm())
        assert_same(DetailsForm(initial={"kind": "aspirasi", "province": "36", "regency": "36.74"}))
        for data in (details(), details(title="", incident_date="2999-99-99", latitude="1"), {}):
            form = DetailsForm(data)
            form.is_valid()
            assert_same(form)
        for guest in (True, False):
            assert_same(SendForm(initial={"idempotency_key": "k"}, guest=guest))
            send = SendForm({"guest_email": "bad", "is_anonymous": "on"}, guest=guest)
            send.is_valid()
            assert_same(send)
