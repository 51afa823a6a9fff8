"""How well reports are handled, measured: each measure defined once, here, in code and in plain words.

The statistics pages, the scorecards, the open data and the rollups that keep them fast all answer
with these definitions; the rollups must equal what these functions compute directly from the reports
(the reports are the record; a rollup is a faster way to the same number). Every measure takes a
`Scope`: any region level, an institution alone or with the units below it, a category, a kind, a
channel and a period of filing.

Rates are kept as their two counts (`Rate`), so that a page can say "520 of 523" beside "99,43 %" and
a rate over nothing is shown as no figure rather than as 0 %. Reports closed because the reporter said
nothing within the reply window are always counted apart from reports the reporter confirmed
(`ClosureSplit`): silence is not satisfaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from lapor.institutions.models import Category, Institution
from lapor.reports.choices import OPEN_STATUSES, ClosureReason, Status
from lapor.reports.models import Report
from lapor.reports.selectors import region_q

PERCENT_PLACES = Decimal("0.01")
# The age bands of the backlog, in whole days since filing (the last has no end): a first follow-up is
# due within 5 working days, a field investigation within 60.
BACKLOG_BANDS: tuple[tuple[int, int | None], ...] = ((0, 5), (6, 14), (15, 60), (61, None))


@dataclasses.dataclass(frozen=True, slots=True)
class Definition:
    """A measure's name and what it counts, in the words the page that shows it uses."""

    title: Promise
    meaning: Promise


DEFINITIONS: Mapping[str, Definition] = {
    "status_counts": Definition(
        _("Reports by status"),
        _("How many reports filed in the period are in each status now."),
    ),
    "follow_up_rate": Definition(
        _("Follow-up rate"),
        _(
            "Of the reports dispatched to an institution, the share that has received at least one "
            "follow-up (tindak lanjut) from it."
        ),
    ),
    "closure_split": Definition(
        _("Closed: confirmed or by silence"),
        _(
            "Closed reports, counted apart: those whose reporter confirmed the result, and those deemed "
            "complete because the reporter did not reply within the reply window."
        ),
    ),
    "backlog_by_age": Definition(
        _("Open reports by age"),
        _(
            "Reports not yet closed, archived, merged or referred, by how many days have passed since "
            "they were filed: up to 5, 6 to 14, 15 to 60, and more than 60 days."
        ),
    ),
    "satisfaction": Definition(
        _("Satisfaction"),
        _(
            "The reporters' ratings of the result, from 1 (very dissatisfied) to 5 (very satisfied): how "
            "many, and their mean."
        ),
    ),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """Which reports a measure counts. Empty fields do not narrow it."""

    region: str = ""  # a region code at any level: its reports and those of every region below it
    institution: Institution | None = None  # the owning institution...
    with_units: bool = True  # ... and the units below it, or it alone
    category: Category | None = None
    kind: str = ""
    channel: str = ""
    filed_from: datetime | None = None  # filed at or after
    filed_before: datetime | None = None  # filed before


def scoped_reports(scope: Scope) -> QuerySet[Report]:
    """The reports ``scope`` counts (every report, confidential ones included: measures publish counts,
    never a report; open data applies its own small-cell rules on top)."""
    reports = Report.objects.all()
    if scope.region:
        reports = reports.filter(region_q(scope.region))
    if scope.institution is not None:
        if scope.with_units:
            reports = reports.filter(owner__path__startswith=scope.institution.path)
        else:
            reports = reports.filter(owner=scope.institution)
    if scope.category is not None:
        reports = reports.filter(category=scope.category)
    if scope.kind:
        reports = reports.filter(kind=scope.kind)
    if scope.channel:
        reports = reports.filter(channel=scope.channel)
    if scope.filed_from is not None:
        reports = reports.filter(created_at__gte=scope.filed_from)
    if scope.filed_before is not None:
        reports = reports.filter(created_at__lt=scope.filed_before)
    return reports


@dataclasses.dataclass(frozen=True, slots=True)
class Rate:
    """``part`` of ``whole``; ``percent`` rounded half up to two places, None over nothing."""

    part: int
    whole: int

    @property
    def percent(self) -> Decimal | None:
        if not self.whole:
            return None
        return (Decimal(100 * self.part) / Decimal(self.whole)).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True, slots=True)
class ClosureSplit:
    confirmed: int
    by_silence: int

    @property
    def closed(self) -> int:
        return self.confirmed + self.by_silence

    @property
    def silence_share(self) -> Rate:
        return Rate(self.by_silence, self.closed)


@dataclasses.dataclass(frozen=True, slots=True)
class Satisfaction:
    ratings: Mapping[int, int]  # rating (1-5) -> how many reports have it

    @property
    def count(self) -> int:
        return sum(self.ratings.values())

    @property
    def mean(self) -> Decimal | None:
        if not self.count:
            return None
        total = sum(rating * count for rating, count in self.ratings.items())
        return (Decimal(total) / Decimal(self.count)).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def status_counts(scope: Scope) -> dict[Status, int]:
    """Every status, with how many of the scope's reports are in it now (0 included)."""
    counted = dict(scoped_reports(scope).order_by().values_list("status").annotate(count=Count("pk")))
    return {status: int(counted.get(status.value, 0)) for status in Status}


def follow_up_rate(scope: Scope) -> Rate:
    """Dispatched reports (ever dispatched to an institution) with at least one follow-up."""
    counted = scoped_reports(scope).aggregate(
        whole=Count("pk", filter=Q(dispatched_at__isnull=False)),
        part=Count("pk", filter=Q(dispatched_at__isnull=False, first_follow_up_at__isnull=False)),
    )
    return Rate(part=int(counted["part"] or 0), whole=int(counted["whole"] or 0))


def closure_split(scope: Scope) -> ClosureSplit:
    """Closed reports by why they closed: the reporter confirmed, or the reply window passed in silence."""
    closed = scoped_reports(scope).filter(status=Status.CLOSED)
    counted = closed.aggregate(
        confirmed=Count("pk", filter=Q(closure_reason=ClosureReason.CONFIRMED)),
        by_silence=Count("pk", filter=Q(closure_reason=ClosureReason.DEEMED_COMPLETE)),
    )
    return ClosureSplit(confirmed=int(counted["confirmed"] or 0), by_silence=int(counted["by_silence"] or 0))


def satisfaction(scope: Scope) -> Satisfaction:
    rated = scoped_reports(scope).filter(rating__isnull=False).order_by()
    ratings = dict(rated.values_list("rating").annotate(count=Count("pk")))
    return Satisfaction(ratings={int(rating): int(count) for rating, count in ratings.items()})


@dataclasses.dataclass(frozen=True, slots=True)
class AgeBand:
    from_days: int
    to_days: int | None  # inclusive; None: and older
    count: int


def backlog_by_age(scope: Scope, *, now: datetime | None = None) -> list[AgeBand]:
    """Open reports by whole days since filing, in BACKLOG_BANDS; one query."""
    moment = now or timezone.now()
    counts: dict[str, Count] = {}
    for index, (first, last) in enumerate(BACKLOG_BANDS):
        # A report is ``days`` old from ``days`` whole days after its filing until the next day.
        band = Q(created_at__lte=moment - timedelta(days=first))
        if last is not None:
            band &= Q(created_at__gt=moment - timedelta(days=last + 1))
        counts[f"band_{index}"] = Count("pk", filter=band)
    counted = scoped_reports(scope).filter(status__in=OPEN_STATUSES).aggregate(**counts)
    return [
        AgeBand(from_days=first, to_days=last, count=int(counted[f"band_{index}"] or 0))
        for index, (first, last) in enumerate(BACKLOG_BANDS)
    ]
