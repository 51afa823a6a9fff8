"""Django's stock widget templates, rendered in Python.

A form renders each widget through a template (``django/forms/widgets/select.html`` and so on), and a
select includes one more template per ``<option>``: the filing form, with its category and region
lists, resolved about a thousand template variables per request for markup that never varies in
shape. `PythonWidgetRenderer` writes the same markup, byte for byte, from the same widget context
(the widget still builds it: its attributes, ids, values and selected options do not change), and
hands every template it does not know, or a case it does not cover (option groups, a file input
with a current file), to the project's usual form renderer. tests/core/test_form_rendering.py holds
it to Django's own output.

A form opts in with ``default_renderer = PYTHON_WIDGET_RENDERER``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
# Templates that only include another one; the file's closing line break follows the included output.
INCLUDES = {
    **{
        f"{WIDGETS}{name}.html": f"{WIDGETS}input.html"
        for name in (
            "text", "email", "date", "datetime", "time", "number", "hidden", "password", "url", "search", "tel",
            "color", "checkbox", "file",
        )
    },
    f"{WIDGETS}radio_option.html": f"{WIDGETS}input_option.html",
    f"{WIDGETS}checkbox_option.html": f"{WIDGETS}input_option.html",
    f"{WIDGETS}radio.html": f"{WIDGETS}multiple_input.html",
    f"{WIDGETS}checkbox_select.html": f"{WIDGETS}multiple_input.html",
}  # fmt: skip


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: no localisation; a safe value stays as it is."""
    if isinstance(value, SafeData):
        return str(value)
    return escape("%s" % (str(value) if isinstance(value, tuple) else value))


def _shown(value: Any) -> str:
    """``{{ value }}``: localised, then escaped unless safe."""
    return str(conditional_escape(localize(value)))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_shown(name)}" if value is True else f' {_shown(name)}="{_formatted(value)}"')
    return "".join(parts)


# Each function below writes one template's output as the template engine does, closing line break
# included (an including template keeps it; only the outermost output is stripped); None leaves the
# case to the template.


def _input(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    shown_value = f' value="{_formatted(value)}"' if value is not None else ""
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"{shown_value}'
        f"{_attrs(widget['attrs'])}>\n"
    )


def _input_option(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input_option.html (a radio button or a checkbox of a list)."""
    if not widget.get("wrap_label"):
        return _input(widget) + "\n"
    option_id = widget["attrs"].get("id")
    label_for = f' for="{_shown(option_id)}"' if option_id else ""
    return f"<label{label_for}>{_input(widget)} {_shown(widget['label'])}</label>\n"


def _select_option(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/select_option.html."""
    return (
        f'<option value="{_formatted(widget["value"])}"{_attrs(widget["attrs"])}>{_shown(widget["label"])}</option>\n'
    )


def _select(widget: Mapping[str, Any]) -> str | None:
    """django/forms/widgets/select.html."""
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            return None
        for option in options:
            html = _raw(option["template_name"], option)
            if html is None:
                return None
            parts.append(f"\n  {html}")
    parts.append("\n</select>\n")
    return "".join(parts)


def _multiple_input(widget: Mapping[str, Any]) -> str | None:
    """django/forms/widgets/multiple_input.html (radio buttons, checkbox lists)."""
    widget_id = widget["attrs"].get("id")
    css_class = widget["attrs"].get("class")
    parts = ["<div"]
    if widget_id:
        parts.append(f' id="{_shown(widget_id)}"')
    if css_class:
        parts.append(f' class="{_shown(css_class)}"')
    parts.append(">")
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            return None
        for option in options:
            html = _raw(option["template_name"], option)
            if html is None:
                return None
            parts.append(f"<div>\n    {html}</div>")
    parts.append("\n</div>\n")
    return "".join(parts)


def _textarea(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/textarea.html."""
    value = widget["value"]
    shown_value = _shown(value) if value else ""
    return f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n{shown_value}</textarea>\n'


def _clearable_file_input(widget: Mapping[str, Any]) -> str | None:
    """django/forms/widgets/clearable_file_input.html without a current file."""
    if widget.get("is_initial"):
        return None
    return f'\n<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n'


_TEMPLATES: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    f"{WIDGETS}input.html": _input,
    f"{WIDGETS}input_option.html": _input_option,
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}select_option.html": _select_option,
    f"{WIDGETS}multiple_input.html": _multiple_input,
    f"{WIDGETS}textarea.html": _textarea,
    f"{WIDGETS}clearable_file_input.html": _clearable_file_input,
}


def _raw(template_name: str, widget: Mapping[str, Any]) -> str | None:
    included = INCLUDES.get(template_name)
    if included is not None:
        html = _raw(included, widget)
        return None if html is None else html + "\n"
    render = _TEMPLATES.get(template_name)
    return None if render is None else render(widget)


class PythonWidgetRenderer(BaseRenderer):
    """Django's widget templates written in Python; every other template (errors, labels, fields)
    goes to the project's form renderer (``FORM_RENDERER``)."""

    def get_template(self, template_name: str) -> Any:
        return get_default_renderer().get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if "widget" in context:
            html = _raw(template_name, context["widget"])
            if html is not None:
                # As BaseRenderer.render does with the template's output.
                return html.strip()
        return super().render(template_name, context, request=request)


PYTHON_WIDGET_RENDERER = PythonWidgetRenderer()
