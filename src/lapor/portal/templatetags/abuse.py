"""``{% abuse_fields_context %}``: the proof-of-work challenge for ``portal/abuse/fields.html`` when the
view did not put one in the context as ``pow``."""

from __future__ import annotations

from typing import Any

from django import template

from lapor.portal.abuse import DEFAULT_FORM, pow_context

register = template.Library()


@register.simple_tag(takes_context=True)
def abuse_fields_context(context: template.Context, form: str = "") -> dict[str, Any]:
    given = context.get("pow")
    if isinstance(given, dict) and given.get("challenge") and (not form or given.get("form") == form):
        return given
    return pow_context(context["request"], form=form or DEFAULT_FORM)
