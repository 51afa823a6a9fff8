"""What the feed writes in Python rather than with templates writes the same HTML: the filters'
selects (lapor.core.form_rendering, as Django's templates) and the report cards (as the card template did)."""

from __future__ import annotations

import dataclasses

import pytest
from django import forms
from django.template import engines
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from lapor.core.form_rendering import PYTHON_WIDGET_RENDERER
from lapor.portal.views.feed import FeedFilterForm, report_cards
from lapor.reports.models import Report
from lapor.reports.serializers import public_report_summary
from lapor.reports.services import report_dispatch

CHOICES = [
    ("", _("All")),
    ("jalan", "Jalan & jembatan"),
    ("air", '<script>"air"</script>'),
    ("sub", "\u2003Sub \u2003kategori"),
    (7, "Seven"),
    ("Grup <a>", [("g1", "Satu"), ("g2", "Dua")]),
]


@pytest.mark.parametrize("value", [None, "", "air", "g2", 7, ["jalan", "g1"]])
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"aria-describedby": "x-help", "aria-invalid": "true"},
        {"required": True, "disabled": False, "data-x": 'a"b'},
    ],
)
def test_selects_written_in_python_are_what_djangos_templates_write(value, attrs):
    for multiple in (False, True):
        widget: forms.Select = forms.SelectMultiple(choices=CHOICES) if multiple else forms.Select(choices=CHOICES)
        quick = widget.render("kategori", value, attrs, renderer=PYTHON_WIDGET_RENDERER)
        assert quick == widget.render("kategori", value, attrs)


def engines_renderer() -> object:
    from django.forms.renderers import get_default_renderer

    return get_default_renderer()


@pytest.mark.django_db
def test_the_filter_form_renders_its_selects_as_before():
    data = {"status": "dispatched", "urut": "terbaru", "jenis": ""}
    quick, plain = FeedFilterForm(data), FeedFilterForm(data, renderer=engines_renderer())
    assert quick.renderer is PYTHON_WIDGET_RENDERER
    for name in ("kategori", "status", "jenis", "urut"):
        attrs: dict[str, str | bool] = {"aria-describedby": f"id_{name}-help"}
        assert quick[name].as_widget(attrs=attrs) == plain[name].as_widget(attrs=attrs)
    assert 'value="dispatched" selected' in quick["status"].as_widget()


# The card as portal/feed/_card.html wrote it before ReportCard: the same HTML, worked out per card.
TEMPLATE_CARD = (
    '{% load i18n portal %}<li class="report-card">\n'
    "  <h3><a href=\"{% url 'portal:report' item.tracking_id %}\">{{ item.title }}</a></h3>\n"
    '  <p class="meta"><span class="badge">{{ item.status.label }}</span> · {{ item.kind_label'
    " }}{% if item.category %} · {{ item.category.name }}{% endif %}</p>\n"
    "  <p>{{ item.body|truncatewords:30 }}</p>\n"
    '  <p class="meta">{% if item.region %}{% if item.region.village %}{{ item.region.village'
    " }}, {% endif %}{% if item.region.district %}{{ item.region.district }}, {% endif %}{{"
    ' item.region.regency|default:"" }} · {% endif %}{{ item.institution.name }}</p>\n'
    '  <p class="meta">{% translate "Filed" %} <time datetime="{{ item.dates.created_at }}">{{'
    ' item.dates.created_at|as_datetime|date:"j M Y" }}</time> · {% blocktranslate count'
    " counter=item.supports %}{{ counter }} supporter{% plural %}{{ counter }} supporters{%"
    " endblocktranslate %} · {{ item.tracking_id|tracking_id }}</p>\n"
    "</li>\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
def test_cards_write_what_the_card_template_wrote(world, language):
    long_body = " ".join(f"kata{index} <b>&" for index in range(40))
    reports = [
        report_dispatch(user=world.national_admin, report=world.submit(**fields), institution=world.city).report
        for fields in ({"title": 'Jalan <rusak> & "licin"'}, {"body": long_body})
    ]
    summaries = [public_report_summary(Report.objects.get(pk=report.pk)) for report in reports]
    region = summaries[0].region
    assert region is not None
    assert region.village
    assert region.district
    summaries += [
        dataclasses.replace(summaries[0], region=None, category=None, supports=1),
        dataclasses.replace(summaries[0], region=dataclasses.replace(region, village=None, regency=None), supports=2),
    ]
    card = get_template("portal/feed/_card.html")
    before = engines["django"].from_string(TEMPLATE_CARD)
    with translation.override(language), timezone.override("Asia/Jayapura"):
        cards = report_cards(summaries)
        for summary, item in zip(summaries, cards, strict=True):
            assert card.render({"card": item}) == before.render({"item": summary})
    # Thirty words of the body, then an ellipsis; escaped by the template.
    assert cards[1].excerpt.endswith("kata14 <b>& …")
    assert "kata14 &lt;b&gt;&amp; …</p>" in card.render({"card": cards[1]})
