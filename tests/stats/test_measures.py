"""Each measure on hand-built data whose answer is known (lapor.stats.measures)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django.utils.translation import override

from lapor.institutions.services import category_create
from lapor.reports.choices import Channel, ClosureReason, ReportKind, Status
from lapor.reports.models import Report
from lapor.stats import measures
from lapor.stats.measures import Rate, Scope
from tests.reports.conftest import World

pytestmark = pytest.mark.django_db


def copies(template: Report, count: int, **fields: Any) -> list[Report]:
    """``count`` reports like ``template`` with ``fields`` set, stored at once."""
    made: list[Report] = []
    for _ in range(count):
        report = Report.objects.get(pk=template.pk)
        report.pk = None
        report.tracking_id = f"T{Report.objects.count() + len(made):011d}"
        report.idempotency_key = None
        for name, value in fields.items():
            setattr(report, name, value)
        made.append(report)
    return Report.objects.bulk_create(made)


@pytest.fixture
def template(world: World) -> Report:
    return world.submit()


def test_the_follow_up_rate_is_the_share_of_dispatched_reports_with_a_follow_up(world: World, template: Report):
    # Kota Tangerang Selatan's own figure: 523 reports, "99,43 persen telah ditindaklanjuti".
    now = timezone.now()
    copies(template, 520, owner=world.city, dispatched_at=now, first_follow_up_at=now)
    copies(template, 3, owner=world.city, dispatched_at=now)
    # Reports never dispatched are not in the whole: no institution could follow them up yet.
    rate = measures.follow_up_rate(Scope(institution=world.city))
    assert rate == Rate(part=520, whole=523)
    assert rate.percent == Decimal("99.43")


def test_a_rate_over_nothing_has_no_percent():
    assert Rate(0, 0).percent is None
    assert Rate(1, 3).percent == Decimal("33.33")
    assert Rate(2, 3).percent == Decimal("66.67")  # half up


def test_the_scope_narrows_by_region_institution_category_kind_channel_and_period(world: World, template: Report):
    now = timezone.now()
    roads = category_create(code="jalan-statistik", name="Jalan")
    copies(template, 2, owner=world.city, dispatched_at=now, created_at=now - timedelta(days=40))
    copies(template, 3, owner=world.transport, dispatched_at=now, category=roads, kind=ReportKind.SUGGESTION)
    copies(template, 4, owner=world.regency, dispatched_at=now, village_id=None, channel=Channel.SMS)

    def whole(**scope: Any) -> int:
        return measures.follow_up_rate(Scope(**scope)).whole

    assert whole() == 9
    assert whole(institution=world.city) == 5  # with its units
    assert whole(institution=world.city, with_units=False) == 2
    assert whole(institution=world.transport) == 3
    assert whole(region="36.74") == 5
    assert whole(region="36.74.01") == 5
    assert whole(region="36.03") == 0
    assert whole(category=roads) == 3
    assert whole(kind=ReportKind.SUGGESTION) == 3
    assert whole(channel=Channel.SMS) == 4
    assert whole(filed_from=now - timedelta(days=30)) == 7
    assert whole(filed_before=now - timedelta(days=30)) == 2


def test_closed_by_silence_is_counted_apart_from_confirmed(world: World, template: Report):
    copies(template, 3, status=Status.CLOSED, closure_reason=ClosureReason.CONFIRMED)
    copies(template, 2, status=Status.CLOSED, closure_reason=ClosureReason.DEEMED_COMPLETE)
    copies(template, 4, status=Status.COMPLETED)
    split = measures.closure_split(Scope())
    assert (split.confirmed, split.by_silence, split.closed) == (3, 2, 5)
    assert split.silence_share.percent == Decimal("40.00")


def test_satisfaction_counts_each_rating_and_their_mean(world: World, template: Report):
    for rating, count in ((5, 2), (4, 1), (1, 1)):
        copies(template, count, rating=rating)
    found = measures.satisfaction(Scope())
    assert found.ratings == {5: 2, 4: 1, 1: 1}
    assert (found.count, found.mean) == (4, Decimal("3.75"))
    assert measures.satisfaction(Scope(kind=ReportKind.SUGGESTION)).mean is None


def test_status_counts_name_every_status(world: World, template: Report):
    copies(template, 2, status=Status.IN_PROGRESS)
    counts = measures.status_counts(Scope())
    assert set(counts) == set(Status)
    assert counts[Status.IN_PROGRESS] == 2
    assert counts[Status.SUBMITTED] == 1  # the template itself
    assert counts[Status.ARCHIVED] == 0
    assert sum(counts.values()) == 3


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_measure_says_what_it_counts_in_both_languages(language: str):
    functions = {name for name in dir(measures) if name in measures.DEFINITIONS}
    assert functions == set(measures.DEFINITIONS)
    with override(language):
        for definition in measures.DEFINITIONS.values():
            assert str(definition.title)
            assert len(str(definition.meaning)) > 40


def test_a_region_that_is_not_a_code_is_refused():
    from lapor.regions.codes import InvalidRegionCode

    with pytest.raises(InvalidRegionCode):
        measures.status_counts(Scope(region="Banten"))


def test_the_backlog_counts_open_reports_by_whole_days_since_filing(world: World, template: Report):
    now = timezone.now()
    Report.objects.filter(pk=template.pk).update(created_at=now)  # 0 days old, open
    copies(template, 2, created_at=now - timedelta(days=5, hours=23))  # 5 days: still the first band
    copies(template, 1, created_at=now - timedelta(days=6))  # 6 days
    copies(template, 3, created_at=now - timedelta(days=60, hours=1))  # 60 days
    copies(template, 1, created_at=now - timedelta(days=61))  # 61 days
    copies(template, 4, created_at=now - timedelta(days=90), status=Status.CLOSED)  # not open
    bands = measures.backlog_by_age(Scope(), now=now)
    assert [(band.from_days, band.to_days, band.count) for band in bands] == [
        (0, 5, 3),
        (6, 14, 1),
        (15, 60, 3),
        (61, None, 1),
    ]
