"""Template helpers of the portal: the serialisers hand out ISO 8601 strings (UTC), pages show local
times; tracking IDs are shown in groups that are easy to read aloud."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import date, datetime
from typing import Any

from django import forms, template
from django.conf import settings
from django.core.signals import setting_changed
from django.forms import BoundField
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from lapor.core.ids import format_tracking_id

register = template.Library()


# Fragments that depend only on the language, the URLconf and the arguments given: the site's links and
# the language list of every page. URLs and translations change only with a new deployment, which
# restarts the processes, so nothing here expires (a setting changed in a test empties it).
_fragments: dict[Hashable, SafeString] = {}
_fragments_lock = threading.Lock()


def _forget_fragments(**_kwargs: Any) -> None:
    with _fragments_lock:
        _fragments.clear()


setting_changed.connect(_forget_fragments, dispatch_uid="portal-rendered-once")


@register.simple_tag(takes_context=True)
def rendered_once(context: template.Context, template_name: str, *varies_by: Hashable) -> SafeString:
    """The template rendered once per process for each language, URLconf and ``varies_by``, and reused:
    it must read nothing else from the context (the template says which arguments it varies by)."""
    key = (template_name, get_language(), get_urlconf(), get_script_prefix(), *varies_by)
    html = _fragments.get(key)
    if html is None:
        assert context.template is not None
        with context.push():
            # A template's output is already safe (its variables were escaped as it rendered).
            html = context.template.engine.get_template(template_name).render(context)
        with _fragments_lock:
            _fragments[key] = html
    return html


@register.filter
def as_datetime(value: object) -> datetime | date | None:
    """An ISO 8601 string from a serialiser as an aware datetime (or a date), for the |date filter."""
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str) or not value:
        return None
    parsed = parse_datetime(value)
    if parsed is not None:
        return timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed
    return parse_date(value)


@register.filter
def tracking_id(value: object) -> str:
    return format_tracking_id(str(value)) if value else ""


@register.filter
def stars(value: object) -> str:
    """A rating from 1 to 5 as five stars, the given ones filled ("★★★★☆")."""
    try:
        score = max(0, min(5, int(str(value))))
    except ValueError:
        return ""
    return "★" * score + "☆" * (5 - score)


@register.filter
def without_language_prefix(path: object) -> str:
    """The path without its language prefix ("/en/lacak/" -> "/lacak/"), for the language form's
    ``next``. Django's set_language translates ``next`` by resolving it in the language of its own
    request, which has no prefix and so is always the default one: a prefixed path does not resolve
    there and came back untranslated (English stayed English). Unprefixed, it resolves and is
    translated into the chosen language either way."""
    text = str(path)
    for code, _name in settings.LANGUAGES:
        if text == f"/{code}" or text.startswith((f"/{code}/", f"/{code}?")):
            return "/" + text[len(code) + 1 :].lstrip("/")
    return text


@register.simple_tag
def accessible_widget(field: BoundField) -> str:
    """The field's widget tied to its help text and error (aria-describedby) and marked invalid when
    it has an error, so that screen readers announce both."""
    attrs: dict[str, str | bool] = {}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-help")
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


def _escaped(value: Any) -> str:
    """Escaped unless safe, as a template (or its join filter) writes it."""
    return str(conditional_escape(value))


def _shown(value: Any) -> str:
    """``{{ value }}``: localised, then escaped unless safe."""
    return _escaped(localize(value))


@register.simple_tag
def form_field(field: BoundField) -> SafeString:
    """What ``{% include "portal/_field.html" with field=field %}`` writes, byte for byte, written in
    Python: the filing form has fifteen fields, and the include cost more than the widget inside it.
    tests/portal/test_form_field.py holds it to the template, which stays the reference (and what
    every other page includes): a change there must be made here too."""
    auto_id = _shown(field.auto_id)
    errors = field.errors
    help_text = field.help_text
    help_html = f'<span class="help" id="{auto_id}-help">{_shown(help_text)}</span>' if help_text else ""
    error_html = (
        f'<p class="field-error" id="{auto_id}-error">{" ".join(_escaped(error) for error in errors)}</p>'
        if errors
        else ""
    )
    label = _shown(field.label)
    if is_choice_group(field):
        described = ""
        if help_text or errors:
            described = (
                f' aria-describedby="{f"{auto_id}-help" if help_text else ""}{f" {auto_id}-error" if errors else ""}"'
            )
        choices = "".join(
            f'<div class="choice">{_shown(choice.tag())} <label for="{_shown(choice.id_for_label)}">'
            f"{_shown(choice.choice_label)}</label></div>"
            for choice in field
        )
        html = (
            f'\n<fieldset class="field" id="{auto_id}"{described}>\n  <legend>{label}</legend>\n'
            f"  {help_html}\n  {error_html}\n  {choices}\n</fieldset>\n"
        )
    elif is_checkbox(field):
        html = (
            f'\n<div class="field">\n  <div class="choice">{accessible_widget(field)} <label for="{auto_id}">'
            f"{label}</label></div>\n  {help_html}\n  {error_html}\n</div>\n"
        )
    else:
        optional = "" if field.field.required else f' <span class="muted">({_shown(gettext("optional"))})</span>'
        html = (
            f'\n<div class="field">\n  <label for="{auto_id}">{label}{optional}</label>\n'
            f"  {help_html}\n  {error_html}\n  {accessible_widget(field)}\n</div>\n"
        )
    # The template's closing line break.
    return mark_safe(html + "\n")  # noqa: S308 (every value above is escaped or already safe)


@register.filter
def is_choice_group(field: BoundField) -> bool:
    """Radio buttons and checkbox lists get a fieldset and legend instead of a label."""
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def get_item(mapping: object, key: str) -> object:
    return mapping.get(key) if isinstance(mapping, dict) else None
