"""Reads of reports for the faces: the public feed with its filters, search and pages, the headline
statistics, and the similar open reports shown before a new report is filed.

Every selector here starts from the access layer, with what the *public* may see
(`access.visible_reports` of an anonymous visitor, which is `access.public_reports_q()`), whoever
asks: a public list never shows a confidential or unpublished report, not even to the national
admin, who reads those in the console. The ``user`` the selectors take is the viewer, for the
record; the answer does not depend on it.

Lists are paged by keyset (an opaque cursor naming the last row shown), never by OFFSET, and
nothing counts rows per page view: at a million reports both cost a scan of everything before
the page.

Search reads only the public text (``public_title`` and ``public_body``, where personal data is
masked), never the reporter's own words. On PostgreSQL it is full-text search with the
``indonesian`` configuration (stems "jalanan" to "jalan"), answered from the GIN index of
migration 0003; on SQLite every word must appear, in any case, in the public title or body.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import operator
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import reduce
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.choices import Role
from lapor.core import reference
from lapor.core.ids import parse_tracking_id
from lapor.core.tree import subtree_q
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import category_subtree, institution_subtree
from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, parent_code, region_level
from lapor.reports.access import (
    PUBLISHED_STATUSES,
    StaffScope,
    listed_knows_reporter,
    reporter_known_q,
    staff_scope,
    visible_reports,
)
from lapor.reports.choices import OPEN_STATUSES, ClockState, Status
from lapor.reports.deadlines import clock_state
from lapor.reports.models import Report, ReportAssignment, ReportClock, ReportCopy, ReportSupport, SavedFilter
from lapor.reports.privacy import reporter_text

__all__ = [
    "FeedFilters",
    "FeedPage",
    "FeedSort",
    "HeadlineStats",
    "InvalidRegionCode",
    "MapPosition",
    "cached_headline_stats",
    "district_code_of",
    "district_map_positions",
    "headline_stats",
    "public_feed",
    "public_report_detail",
    "public_reports",
    "region_q",
    "report_supported_by",
    "search_words",
    "similar_open_reports",
]

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SEARCH_CONFIG = "indonesian"
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 8
# What a list card, the map and RSS read with each report (public_report_summary): one query in all.
SUMMARY_RELATIONS = ("category", "owner", "village__parent__parent__parent")
# Statistics other than this month's count look at the published reports filed in this window.
STATS_WINDOW_DAYS = 365
# Open reports the public sees: after dispatch and before the end.
OPEN_PUBLISHED_STATUSES = tuple(sorted(OPEN_STATUSES & PUBLISHED_STATUSES))
# Only the newest open reports nearby are compared with a new report's text.
SIMILAR_CANDIDATES = 200
# Words too common in Indonesian reports to tell one from another.
STOPWORDS = frozenset(
    {
        "ada", "adalah", "agar", "akan", "aku", "atau", "bagi", "bahwa", "banyak", "belum", "bisa", "dan",
        "dari", "dengan", "di", "ini", "itu", "ke", "kami", "kita", "lagi", "mohon", "pada", "para", "saja",
        "saya", "sejak", "sudah", "tadi", "tapi", "telah", "tersebut", "tidak", "untuk", "yang",
    }
)  # fmt: skip
_WORD = re.compile(r"\w+")


class FeedSort(StrEnum):
    NEWEST = "terbaru"
    MOST_SUPPORTED = "dukungan"


@dataclasses.dataclass(frozen=True)
class FeedFilters:
    """What a visitor narrows the feed to; every part is optional."""

    region_code: str = ""  # a region at any level: "36", "36.74", "36.74.01" or "36.74.01.1001"
    institution: Institution | None = None  # the owner, with every unit below it
    category: Category | None = None  # with its subcategories
    status: str = ""  # one of the published statuses
    kind: str = ""
    date_from: date | None = None  # filed on or after this day (local time)
    date_to: date | None = None  # filed on or before this day
    text: str = ""  # searched in the public title and body


@dataclasses.dataclass(frozen=True)
class FeedPage:
    reports: list[Report]
    next_cursor: str | None  # None on the last page


# --- the public's reports ---------------------------------------------------------------------------


def public_reports(user: Any = None) -> QuerySet[Report]:
    """Every published, non-confidential report: what the public sees, whoever ``user`` is."""
    return visible_reports(AnonymousUser())


def public_report_detail(tracking_id: str, user: Any = None) -> Report | None:
    """One published report with what `serializers.public_report` reads (its public events with their
    institutions, files and clocks) in four queries; None when the public may not see it or it does
    not exist, which a face answers alike."""
    from django.db.models import Prefetch

    from lapor.reports.models import ReportEvent

    return (
        public_reports(user)
        .filter(tracking_id=tracking_id)
        .select_related(*SUMMARY_RELATIONS)
        .prefetch_related(
            Prefetch("events", queryset=ReportEvent.objects.select_related("actor_institution").order_by("sequence")),
            "attachments",
            "clocks",
        )
        .first()
    )


def tracking_id_received(tracking_id: str) -> bool:
    """Whether any report carries ``tracking_id``, whatever its status or privacy: the one fact the
    portal tells whoever types an ID of a report that is not public (nothing of the report itself)."""
    return Report.objects.filter(tracking_id=tracking_id).exists()


def report_supported_by(report: Report, user: Any) -> bool:
    """Whether ``user`` supports ``report`` already (False for a visitor who is not signed in)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return ReportSupport.objects.filter(report=report, user=user).exists()


def region_q(code: str, *, field: str = "village__code") -> Q:
    """Reports located in the region ``code`` at any level; a region code is the path of its
    ancestors, so a district's reports are those whose village code starts with "36.74.01.".
    Raises InvalidRegionCode for anything else."""
    if region_level(code) == RegionLevel.VILLAGE:
        return Q(**{field: code})
    return Q(**{f"{field}__startswith": f"{code}."})


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filed_between(reports: QuerySet[Report], first: date | None, last: date | None) -> QuerySet[Report]:
    """Reports filed from the local day ``first`` through the local day ``last`` (either may be None)."""
    if first is not None:
        reports = reports.filter(created_at__gte=_local_midnight(first))
    if last is not None:
        reports = reports.filter(created_at__lt=_local_midnight(last + timedelta(days=1)))
    return reports


def _filtered(reports: QuerySet[Report], filters: FeedFilters) -> QuerySet[Report]:
    if filters.region_code:
        reports = reports.filter(region_q(filters.region_code))
    if filters.institution is not None:
        reports = reports.filter(owner_id__in=institution_subtree(filters.institution).order_by().values("pk"))
    if filters.category is not None:
        reports = reports.filter(category_id__in=category_subtree(filters.category).order_by().values("pk"))
    if filters.status:
        if filters.status not in PUBLISHED_STATUSES:
            return reports.none()
        reports = reports.filter(status=filters.status)
    if filters.kind:
        reports = reports.filter(kind=filters.kind)
    reports = filed_between(reports, filters.date_from, filters.date_to)
    if filters.text.strip():
        reports = _searched(reports, filters.text)
    return reports


# --- search -----------------------------------------------------------------------------------------


def search_words(text: str, *, drop_common: bool = False) -> list[str]:
    """The distinct lower-case words of ``text`` (at most MAX_SEARCH_WORDS), in order.
    ``drop_common``: without the STOPWORDS and words of fewer than three letters."""
    words: list[str] = []
    for word in _WORD.findall(text[:MAX_SEARCH_LENGTH].lower()):
        if drop_common and (len(word) < 3 or word in STOPWORDS):  # noqa: PLR2004
            continue
        if word not in words:
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def public_text_vector() -> Any:
    """The search vector of a report's public text. Migration 0003 indexes exactly this expression
    (the planner uses the GIN index only for the same expression): change both together."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("public_title", "public_body", config=SEARCH_CONFIG)


def _searched(reports: QuerySet[Report], text: str) -> QuerySet[Report]:
    text = text.strip()[:MAX_SEARCH_LENGTH]
    if _is_postgresql():
        from django.contrib.postgres.search import SearchQuery

        # Web search syntax: every word must match (stemmed); "quoted phrases", -excluded, or.
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        return reports.alias(public_text=public_text_vector()).filter(public_text=query)
    words = search_words(text)
    for word in words:
        reports = reports.filter(Q(public_title__icontains=word) | Q(public_body__icontains=word))
    return reports


# --- keyset pages -----------------------------------------------------------------------------------


def _ordering(sort: FeedSort) -> tuple[str, ...]:
    if sort == FeedSort.MOST_SUPPORTED:
        return ("-support_count", "-id")
    return ("-created_at", "-id")


def _encode_cursor(sort: FeedSort, report: Report) -> str:
    if sort == FeedSort.MOST_SUPPORTED:
        raw = f"s|{report.support_count}|{report.pk}"
    else:
        raw = f"n|{report.created_at.isoformat()}|{report.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after_cursor(sort: FeedSort, cursor: str) -> Q | None:
    """The rows after the one ``cursor`` names in ``sort`` order; None for a cursor that is not one
    of ours (or was made for the other order): the first page is shown then."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, key, last_id = raw.split("|")
        pk = int(last_id)
        if sort == FeedSort.MOST_SUPPORTED and kind == "s":
            supports = int(key)
            return Q(support_count__lt=supports) | Q(support_count=supports, pk__lt=pk)
        if sort == FeedSort.NEWEST and kind == "n":
            created = datetime.fromisoformat(key)
            if timezone.is_naive(created):
                return None
            return Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    return None


def public_feed(
    user: Any,
    filters: FeedFilters,
    sort: FeedSort = FeedSort.NEWEST,
    cursor: str = "",
    *,
    page_size: int = PAGE_SIZE,
) -> FeedPage:
    """One page of the public feed, newest or most supported first, in one query: the rows after
    ``cursor`` (from the previous page's ``next_cursor``; empty for the first page), with what
    `serializers.public_report_summary` reads. Raises InvalidRegionCode for a malformed region."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    reports = _filtered(public_reports(user), filters)
    after = _after_cursor(sort, cursor) if cursor else None
    if after is not None:
        reports = reports.filter(after)
    rows = list(reports.select_related(*SUMMARY_RELATIONS).order_by(*_ordering(sort))[: page_size + 1])
    next_cursor = _encode_cursor(sort, rows[page_size - 1]) if len(rows) > page_size else None
    return FeedPage(reports=rows[:page_size], next_cursor=next_cursor)


# --- headline statistics ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HeadlineStats:
    reports_this_month: int  # published reports filed since the first of this month (local time)
    dispatched: int  # published reports filed in the last STATS_WINDOW_DAYS days (all were dispatched)
    followed_up: int  # of those, the ones that got a first follow-up
    # Median of the time from dispatch to the first follow-up, in elapsed hours (calendar time, not
    # working days: what a citizen waits), over those followed up; None without any.
    median_hours_to_first_follow_up: float | None
    window_days: int = STATS_WINDOW_DAYS

    @property
    def followed_up_share(self) -> float | None:
        """From 0 to 1; None when nothing was dispatched in the window."""
        return self.followed_up / self.dispatched if self.dispatched else None

    @property
    def followed_up_percent(self) -> int | None:
        share = self.followed_up_share
        return None if share is None else round(share * 100)

    @property
    def median_whole_hours(self) -> int | None:
        hours = self.median_hours_to_first_follow_up
        return None if hours is None else round(hours)

    @property
    def median_days_to_first_follow_up(self) -> float | None:
        hours = self.median_hours_to_first_follow_up
        return None if hours is None else round(hours / 24, 1)


class _Median(Aggregate):
    """PostgreSQL's median of a number."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _wait() -> ExpressionWrapper[Any]:
    return ExpressionWrapper(F("first_follow_up_at") - F("dispatched_at"), output_field=DurationField())


def headline_stats(now: datetime | None = None) -> HeadlineStats:
    """The home page's figures, from published reports only, in two aggregate queries."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    window_start = now - timedelta(days=STATS_WINDOW_DAYS)
    in_window = Q(created_at__gte=window_start, dispatched_at__isnull=False)
    # A report re-dispatched after its first follow-up has no meaningful wait: it is left out.
    answered = in_window & Q(first_follow_up_at__isnull=False, first_follow_up_at__gte=F("dispatched_at"))
    reports = public_reports().filter(created_at__gte=min(month_start, window_start), created_at__lte=now)
    counts = reports.aggregate(
        this_month=Count("pk", filter=Q(created_at__gte=month_start)),
        dispatched=Count("pk", filter=in_window),
        followed_up=Count("pk", filter=in_window & Q(first_follow_up_at__isnull=False)),
        answered=Count("pk", filter=answered),
    )
    median_seconds: float | None = None
    waits = reports.filter(answered)
    if counts["answered"]:
        if _is_postgresql():
            seconds = Func(_wait(), template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())
            median_seconds = waits.aggregate(median=_Median(seconds))["median"]
        else:
            # SQLite has no median: the middle one or two of the sorted waits (a small deployment's data).
            middle = counts["answered"]
            values = list(
                waits.annotate(wait=_wait())
                .order_by("wait")
                .values_list("wait", flat=True)[(middle - 1) // 2 : middle // 2 + 1]
            )
            median_seconds = sum(value.total_seconds() for value in values) / len(values)
    return HeadlineStats(
        reports_this_month=counts["this_month"],
        dispatched=counts["dispatched"],
        followed_up=counts["followed_up"],
        median_hours_to_first_follow_up=None if median_seconds is None else float(median_seconds) / 3600,
    )


def cached_headline_stats() -> HeadlineStats:
    """`headline_stats` as of now, kept by the process for REFERENCE_CACHE_SECONDS (lapor.core.reference):
    every home page view would otherwise aggregate a year of reports."""
    now = timezone.now()
    # "This month" starts at local midnight on the first: in the viewer's zone (WIB, WITA or WIT).
    key = ("portal-headline-stats", timezone.get_current_timezone_name(), timezone.localtime(now).strftime("%Y-%m"))
    return reference.cached(key, lambda: headline_stats(now))


# --- similar open reports ---------------------------------------------------------------------------


def _nearby_area(village_code: str) -> str | None:
    """The region in which reports count as nearby: a village's district; a higher region itself."""
    try:
        level = region_level(village_code)
    except InvalidRegionCode:
        return None
    if level == RegionLevel.VILLAGE:
        return parent_code(village_code)
    return village_code


def _shared_words(report: Report, words: Iterable[str]) -> int:
    found = set(_WORD.findall(f"{report.public_title} {report.public_body}".lower()))
    return sum(1 for word in words if word in found)


def similar_open_reports(
    category: Category | None,
    village_code: str,
    text: str,
    limit: int = 5,
    user: Any = None,
) -> list[Report]:
    """Open published reports near ``village_code`` (its district, the village included) in the same
    ``category`` (any category when None), most similar to ``text`` first, then newest. Shown before
    a new report is submitted, so that the citizen may support one instead. Similarity: on PostgreSQL
    the ts_rank of the text's words in the public text, on SQLite the number of words shared; only
    the SIMILAR_CANDIDATES newest open reports nearby are compared. With what
    `serializers.public_report_summary` reads; an empty list without a valid region."""
    area = _nearby_area(village_code)
    if area is None or limit <= 0:
        return []
    nearby = public_reports(user).filter(region_q(area), status__in=OPEN_PUBLISHED_STATUSES)
    if category is not None:
        nearby = nearby.filter(category=category)
    newest = ("-created_at", "-id")
    candidates = nearby.order_by(*newest)
    words = search_words(text, drop_common=True)
    if not words:
        return list(candidates.select_related(*SUMMARY_RELATIONS)[:limit])
    if _is_postgresql():
        from django.contrib.postgres.search import SearchQuery, SearchRank

        query = reduce(operator.or_, (SearchQuery(word, config=SEARCH_CONFIG) for word in words))
        newest_ids = candidates.values("pk")[:SIMILAR_CANDIDATES]
        ranked = (
            nearby.filter(pk__in=newest_ids)
            .annotate(similarity=SearchRank(public_text_vector(), query))
            .select_related(*SUMMARY_RELATIONS)
            .order_by("-similarity", *newest)
        )
        return list(ranked[:limit])
    rows = list(candidates.select_related(*SUMMARY_RELATIONS)[:SIMILAR_CANDIDATES])
    # sorted() keeps the newest first among reports that share as many words.
    return sorted(rows, key=lambda report: -_shared_words(report, words))[:limit]


# --- the public map ---------------------------------------------------------------------------------

# A district is placed on the public map only when at least this many people put map points on its
# published reports (docs/adr/0004-public-map.md): the position is their mean, so that no one
# reporter's point can be read back from it.
MAP_MIN_SOURCES = 5
# Decimal places of a published position: 0.01 degree is about 1.1 km.
MAP_PRECISION = 2
DISTRICT_CODE_LENGTH = len("36.74.01")


@dataclasses.dataclass(frozen=True)
class MapPosition:
    district_code: str
    latitude: float
    longitude: float


def district_code_of(village_code: str | None) -> str | None:
    """The district ("36.74.01") of a village code, from the code alone; None for anything else."""
    if not village_code:
        return None
    try:
        level = region_level(village_code)
    except InvalidRegionCode:
        return None
    return parent_code(village_code) if level == RegionLevel.VILLAGE else None


def district_map_positions(district_codes: Iterable[str]) -> dict[str, MapPosition]:
    """A coarse public position for each district that has one, in one query: the mean of the map
    points of its published reports, where each person (an account, or a guest's contact) counts
    once with the mean of their own points, rounded to MAP_PRECISION; only districts with points
    from at least MAP_MIN_SOURCES people are placed. A report's own point is never published."""
    codes = sorted({code for code in district_codes if code and region_level(code) == RegionLevel.DISTRICT})
    if not codes:
        return {}
    from django.db.models import Avg
    from django.db.models.functions import Substr

    per_person = (
        public_reports()
        .filter(
            reduce(operator.or_, (region_q(code) for code in codes)), latitude__isnull=False, longitude__isnull=False
        )
        .annotate(district=Substr("village_id", 1, DISTRICT_CODE_LENGTH))
        # Accounts' reports carry no guest contact, guests' reports no account: one group per person
        # (guests by the keyed hashes of their contacts, which are stored encrypted).
        .values("district", "reporter_id", "guest_email_index", "guest_phone_index")
        .annotate(person_latitude=Avg("latitude"), person_longitude=Avg("longitude"))
        .order_by()
    )
    sql, params = per_person.query.sql_with_params()
    quote = connection.ops.quote_name
    query = (
        f"SELECT {quote('district')}, AVG({quote('person_latitude')}), AVG({quote('person_longitude')}), COUNT(*) "  # noqa: S608 - the ORM's SQL
        f"FROM ({sql}) AS per_person GROUP BY {quote('district')}"
    )
    positions: dict[str, MapPosition] = {}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for district, latitude, longitude, people in cursor.fetchall():
            if people < MAP_MIN_SOURCES or district not in codes:
                continue
            positions[district] = MapPosition(
                district_code=district,
                latitude=round(float(latitude), MAP_PRECISION),
                longitude=round(float(longitude), MAP_PRECISION),
            )
    return positions


# --- the console's report workspace ------------------------------------------------------------------
# Reads for console/views/workspace.py: the report with what `serializers.staff_view` reads, routing
# suggestions for dispatch and forward, duplicate candidates for a merge. Each takes a report the
# access layer already handed out (`access.access_report`); none widens what the viewer may see.
# (Imports kept with the code that needs them: the top of this module is edited by others.)


from lapor.institutions.selectors import CoveringReason, covering_reason, units_covering  # noqa: E402
from lapor.reports.models import ReportEvent  # noqa: E402

# Relations `serializers.staff_view` reads through the report: joined to it, or fetched once each.
WORKSPACE_RELATIONS = (
    "owner",
    "category",
    "village__parent__parent__parent",
    "reporter",
    "target_institution",
    "dispatched_by",
)
ROUTING_SUGGESTIONS = 8
DUPLICATE_CANDIDATES = 5
# Only the newest open reports nearby (or of the category) are compared with the report's text.
DUPLICATE_POOL = 200
# Words a duplicate must share with the report when its category differs (or either has none).
DUPLICATE_MIN_SHARED_WORDS = 2
DUPLICATE_SHOWN_WORDS = 6
# A word found in at least this share of the compared reports ("jalan", "raya", "mohon" in most
# places) says nothing about which problem a report is about: it is left out of the comparison. Below
# DUPLICATE_COMMON_MIN_REPORTS compared reports the shares mean nothing and no word is left out.
DUPLICATE_COMMON_WORD_SHARE = 0.25
DUPLICATE_COMMON_MIN_REPORTS = 8
# Two map points this close are "the same place", nearer than any shared village.
DUPLICATE_NEAR_METRES = 300
_EARTH_RADIUS_METRES = 6_371_000


def workspace_report(report: Report) -> Report:
    """``report`` (as the access layer returned it) again, with everything `serializers.staff_view`
    reads: one query for the report and its institutions, category, village chain and reporter, and
    one for each of its events, files, clocks, units and copies, however many of them there are."""
    return (
        Report.objects.filter(pk=report.pk)
        .select_related(*WORKSPACE_RELATIONS)
        .prefetch_related(
            Prefetch("events", queryset=ReportEvent.objects.select_related("actor", "actor_institution")),
            "attachments",
            "clocks",
            Prefetch("assignments", queryset=ReportAssignment.objects.select_related("unit")),
            Prefetch("copies", queryset=ReportCopy.objects.select_related("institution")),
        )
        .get()
    )


@dataclasses.dataclass(frozen=True)
class RoutingSuggestion:
    institution: Institution
    reason: CoveringReason


def routing_suggestions(
    report: Report,
    *,
    within: Institution | None = None,
    include_within: bool = True,
    limit: int = ROUTING_SUGGESTIONS,
) -> list[RoutingSuggestion]:
    """Where ``report`` could go: the active institutions whose area covers its village and that
    handle its category (`institutions.selectors.units_covering`), deepest first, each with the reason
    it matched. ``within``: only that institution's subtree (a coordinator dispatches or forwards
    inside its own institution); ``include_within``: the institution itself too. The national
    dispatcher is never suggested. No village, no suggestion: coverage is by area. One query."""
    if report.village_id is None:
        return []
    units = units_covering(village_code=report.village_id, category=report.category).exclude(
        code=settings.NATIONAL_INSTITUTION_CODE
    )
    if within is not None:
        units = units.filter(subtree_q(within.path, include_self=include_within))
    return [RoutingSuggestion(institution=unit, reason=covering_reason(unit)) for unit in units[:limit]]


@dataclasses.dataclass(frozen=True)
class DuplicateCandidate:
    report: Report
    same_category: bool
    same_village: bool
    same_district: bool
    shared_words: tuple[str, ...]
    # Metres between the two reports' map points, when both have one.
    distance_metres: int | None = None

    @property
    def nearness(self) -> int:
        """How close the two reports are: 3 the same spot, 2 the same village, 1 the same district."""
        if self.distance_metres is not None and self.distance_metres <= DUPLICATE_NEAR_METRES:
            return 3
        return 2 if self.same_village else 1 if self.same_district else 0

    @property
    def rank(self) -> tuple[int, int, int]:
        """Category and place weigh first; words only order candidates alike in both."""
        return (int(self.same_category), self.nearness, len(self.shared_words))


def _public_words(report: Report) -> set[str]:
    return {
        word
        for word in _WORD.findall(f"{report.public_title} {report.public_body}".lower())
        if len(word) >= 3 and word not in STOPWORDS  # noqa: PLR2004
    }


def _common_words(texts: list[set[str]]) -> set[str]:
    """The words found in at least DUPLICATE_COMMON_WORD_SHARE of ``texts`` (document frequency)."""
    if len(texts) < DUPLICATE_COMMON_MIN_REPORTS:
        return set()
    counts: dict[str, int] = {}
    for words in texts:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    least = DUPLICATE_COMMON_WORD_SHARE * len(texts)
    return {word for word, count in counts.items() if count >= least}


def _distance_metres(one: Report, other: Report) -> int | None:
    points = (one.latitude, one.longitude, other.latitude, other.longitude)
    if any(value is None for value in points):
        return None
    lat1, lon1, lat2, lon2 = (math.radians(float(value)) for value in points)  # type: ignore[arg-type]
    # Haversine: exact enough at the scale of a neighbourhood.
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return round(2 * _EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(h))))


def duplicate_candidates(
    report: Report, user: Any, *, limit: int = DUPLICATE_CANDIDATES, scope: StaffScope | None = None
) -> list[DuplicateCandidate]:
    """Open reports ``report`` could be merged into, most alike first, each with why it is a candidate:
    the same category, the same spot, village or district (nearby), and the words their public texts
    share. Category and place rank first; words only order candidates alike in both, and words most
    compared reports share (DUPLICATE_COMMON_WORD_SHARE: "jalan raya") do not count at all.

    Compared are the DUPLICATE_POOL newest reports of the report's district (or, without a village,
    of its category) that `services.report_merge` would accept as the survivor for ``user``: visible
    to them, open and published (the public follows the survivor), not confidential, not merged, and,
    unless ``user`` is the national admin, owned within an institution they coordinate. A candidate
    shares the category, or at least DUPLICATE_MIN_SHARED_WORDS uncommon words. Public texts only
    (personal data masked): a reason never shows what the public may not read. ``scope``: the user's,
    when the caller has read it already. One query (two without ``scope``) besides the access layer's."""
    if limit <= 0:
        return []
    district = district_code_of(report.village_id)
    if district is not None:
        pool = visible_reports(user).filter(region_q(district))
    elif report.category_id is not None:
        pool = visible_reports(user).filter(category_id=report.category_id)
    else:
        return []
    scope = scope or staff_scope(user)
    if not scope.national:
        coordinated = [path for _pk, path, role in scope.memberships if role == Role.COORDINATOR]
        if not coordinated:
            return []
        pool = pool.filter(reduce(operator.or_, (Q(owner__path__startswith=path) for path in coordinated)))
    rows = list(
        pool.filter(status__in=OPEN_PUBLISHED_STATUSES, is_confidential=False, merged_into__isnull=True)
        .exclude(pk=report.pk)
        .select_related(*SUMMARY_RELATIONS)
        .order_by("-created_at", "-id")[:DUPLICATE_POOL]
    )
    words = _public_words(report)
    words_of = {row.pk: _public_words(row) for row in rows}
    common = _common_words([words, *words_of.values()])
    words -= common
    found = []
    for row in rows:
        shared = tuple(sorted(words & words_of[row.pk]))
        candidate = DuplicateCandidate(
            report=row,
            same_category=report.category_id is not None and row.category_id == report.category_id,
            same_village=report.village_id is not None and row.village_id == report.village_id,
            same_district=district is not None and district_code_of(row.village_id) == district,
            shared_words=shared[:DUPLICATE_SHOWN_WORDS],
            distance_metres=_distance_metres(report, row),
        )
        if candidate.same_category or len(shared) >= DUPLICATE_MIN_SHARED_WORDS:
            found.append(candidate)
    # sorted() keeps the newest first among equally alike candidates.
    return sorted(found, key=lambda candidate: candidate.rank, reverse=True)[:limit]


def latest_event_by(report: Report, *, actor: Any, actions: Iterable[str]) -> ReportEvent | None:
    """The newest event of ``report`` that ``actor`` wrote with one of ``actions`` (a face joins the
    files sent with a follow-up to the follow-up it just posted, in the same transaction)."""
    return (
        ReportEvent.objects.filter(report=report, actor=actor, action__in=list(actions)).order_by("-sequence").first()
    )


def institutions_by_id(ids: Iterable[int]) -> dict[int, Institution]:
    """Institutions by primary key (the trail's details name them by id), in one query or none."""
    wanted = {pk for pk in ids if isinstance(pk, int)}
    return Institution.objects.in_bulk(wanted) if wanted else {}


# === the console's inboxes ==========================================================================
#
# What staff see in the operator console (lapor.console.views.inbox): queues by role, each a filter
# on `visible_reports(user)` (the access layer decides what may be seen; a queue only narrows it),
# their counts in one query, filters, search in the reporters' own words, keyset pages sorted by the
# nearest deadline, and the rows shown, with the title masked wherever the viewer may not know who
# filed the report.
#
# The queues, per DOMAIN.md (who acts next on a report):
#   national admin  verify     unverified reports held by the national institution (submitted, or
#                              waiting for the reporter's details)
#                   returned   "not our authority" returns that came back to the national institution
#                   overdue    every report with a running deadline past due, nationwide
#                   all        everything
#   coordinator     new        reports its own institution holds that nobody has worked on yet: sent
#                              to it directly (submitted), or dispatched to it and not yet forwarded
#                   returned   "not our authority" returns to its institution, and reports its units
#                              handed back (the forwards since the dispatch are all withdrawn)
#                   overdue    reports owned in its subtree with a running deadline past due
#                   copies     reports its institution holds a copy of
#                   all        everything owned in its subtree
#   liaison officer unit       its unit's reports: forwarded to it (an active assignment) or owned by it
#                   overdue    those with a running deadline past due
#                   copies     reports its unit holds a copy of
#   oversight       all        everything owned in the subtree it oversees (read only)
#   Ombudsman staff referred   reports referred to the Ombudsman. Whoever holds a membership at the
#                              Ombudsman institution (settings.OMBUDSMAN_INSTITUTION_CODE) or below it
#                              is its staff: an oversight membership is held at the institution
#                              overseen, which does not tell the Ombudsman from other overseers.
# Someone with several memberships gets every queue of each, a queue of one name joining them all.
# A deadline is "overdue" when a running clock that is not paused is past its due time.

INBOX_PAGE_SIZE = 50


class InboxQueue(StrEnum):
    """The queues, in the order of the tabs; the values appear in links (?antrian=...)."""

    VERIFY = "verifikasi"
    NEW = "baru"
    UNIT = "unit"
    RETURNED = "dikembalikan"
    OVERDUE = "terlambat"
    REFERRED = "rujukan"
    COPIES = "salinan"
    ALL = "semua"

    @property
    def label(self) -> Any:
        return {
            InboxQueue.VERIFY: _("To verify"),
            InboxQueue.NEW: _("New"),
            InboxQueue.UNIT: _("Our unit"),
            InboxQueue.RETURNED: _("Returned"),
            InboxQueue.OVERDUE: _("Overdue"),
            InboxQueue.REFERRED: _("Referred to the Ombudsman"),
            InboxQueue.COPIES: _("Copies"),
            InboxQueue.ALL: _("All"),
        }[self]


class InboxSort(StrEnum):
    DEADLINE = "tenggat"  # nearest running deadline first; reports without one last
    NEWEST = "terbaru"
    OLDEST = "terlama"


@dataclasses.dataclass(frozen=True)
class InboxFilters:
    """What a staff member narrows a queue to; every part is optional."""

    status: str = ""
    deadline_state: str = ""  # a ClockState value
    category: Category | None = None  # with its subcategories
    region_code: str = ""  # a region at any level (its code is the prefix of its villages' codes)
    channel: str = ""
    kind: str = ""
    date_from: date | None = None  # filed on or after this day (local time)
    date_to: date | None = None  # filed on or before this day
    text: str = ""  # a tracking ID, or words of the title or body


@dataclasses.dataclass(frozen=True)
class Inbox:
    """One staff member's inboxes, as of ``now``: ``reports`` are those they may see (the access
    layer's answer, read once), ``queues`` the filter of each of their queues, in tab order."""

    user: Any
    scope: StaffScope
    reports: QuerySet[Report]
    queues: dict[InboxQueue, Q]
    now: datetime

    @property
    def may_dispatch(self) -> bool:
        """Bulk dispatch is the national admin's: it routes reports to the institution with authority."""
        return bool(self.scope.national)

    @property
    def may_merge(self) -> bool:
        return bool(self.scope.national) or any(role == Role.COORDINATOR for _id, _path, role in self.scope.memberships)


@dataclasses.dataclass(frozen=True)
class InboxRow:
    """One line of an inbox: never the reporter's identity; the title masked (as the public text is)
    when the viewer may not know who filed the report (an anonymous report, or a copy holder)."""

    report: Report
    title: str
    units: list[Institution]
    deadline: ReportClock | None  # the clock that sets the state: the most urgent running one
    deadline_state: str  # a ClockState value, or "" without a running clock
    age: timedelta

    @property
    def age_hours(self) -> int:
        return int(self.age.total_seconds() // 3600)


@dataclasses.dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None  # None on the last page


def _ombudsman_path() -> str | None:
    code = settings.OMBUDSMAN_INSTITUTION_CODE
    return reference.cached(
        ("ombudsman-path", code),
        lambda: Institution.objects.filter(code=code, is_active=True).values_list("path", flat=True).first(),
    )


def _running_clocks() -> QuerySet[ReportClock]:
    return ReportClock.objects.filter(report=OuterRef("pk"), stopped_at__isnull=True)


def deadline_state_q(state: str, now: datetime) -> Q:
    """Reports in a deadline state, from their running clocks: red when one that is not paused is past
    its due time; yellow when one is past its yellow time (75% used) and none is red; green when one
    runs and none is yellow or red; paused when one is paused. Anything else matches nothing."""
    running = _running_clocks()
    unpaused = running.filter(paused_at__isnull=True)
    red = Q(Exists(unpaused.filter(due_at__lt=now)))
    yellow = Q(Exists(unpaused.filter(yellow_at__lte=now)))
    if state == ClockState.RED:
        return red
    if state == ClockState.YELLOW:
        return yellow & ~red
    if state == ClockState.GREEN:
        return Q(Exists(unpaused)) & ~yellow
    if state == ClockState.PAUSED:
        return Q(Exists(running.filter(paused_at__isnull=False)))
    return Q(pk__in=[])


def _assigned_to(unit_ids: Iterable[int]) -> Q:
    return Q(pk__in=ReportAssignment.objects.filter(unit_id__in=sorted(unit_ids), is_active=True).values("report_id"))


def _copied_to(institution_ids: Iterable[int]) -> Q:
    return Q(pk__in=ReportCopy.objects.filter(institution_id__in=sorted(institution_ids)).values("report_id"))


def _in_subtrees(paths: Iterable[str]) -> Q:
    return reduce(operator.or_, (subtree_q(path, field="owner__path") for path in sorted(set(paths))), Q(pk__in=[]))


def _forwarded_since_dispatch(*, active: bool | None = None) -> Exists:
    forwards = ReportAssignment.objects.filter(report=OuterRef("pk"), assigned_at__gte=OuterRef("dispatched_at"))
    if active is not None:
        forwards = forwards.filter(is_active=active)
    return Exists(forwards)


def inbox_queues(scope: StaffScope, *, now: datetime) -> dict[InboxQueue, Q]:
    """The queues of someone with ``scope`` (access.StaffScope), in tab order, each as a filter to
    apply to the reports they may see. Sends no query (but one, cached, for the Ombudsman's path)."""
    found: dict[InboxQueue, list[Q]] = {}

    def add(queue: InboxQueue, condition: Q) -> None:
        found.setdefault(queue, []).append(condition)

    overdue = deadline_state_q(ClockState.RED, now)
    if scope.national:
        national = Q(owner__code=settings.NATIONAL_INSTITUTION_CODE)
        add(InboxQueue.VERIFY, national & Q(status__in=[Status.SUBMITTED, Status.AWAITING_INFORMATION]))
        add(InboxQueue.RETURNED, national & Q(status=Status.RETURNED))
        add(InboxQueue.OVERDUE, overdue)
        add(InboxQueue.ALL, Q())
    by_role: dict[str, list[tuple[int, str]]] = {}
    for institution_id, path, role in scope.memberships:
        by_role.setdefault(role, []).append((institution_id, path))
    coordinated = by_role.get(Role.COORDINATOR, [])
    if coordinated:
        own = Q(owner_id__in=sorted(institution_id for institution_id, _path in coordinated))
        subtree = _in_subtrees(path for _id, path in coordinated)
        with_institution = [Status.DISPATCHED, Status.IN_PROGRESS]
        add(
            InboxQueue.NEW,
            own & (Q(status=Status.SUBMITTED) | (Q(status=Status.DISPATCHED) & ~Q(_forwarded_since_dispatch()))),
        )
        handed_back = (
            Q(status__in=with_institution)
            & ~Q(_forwarded_since_dispatch(active=True))
            & Q(_forwarded_since_dispatch(active=False))
        )
        add(InboxQueue.RETURNED, own & (Q(status=Status.RETURNED) | handed_back))
        add(InboxQueue.OVERDUE, overdue & subtree)
        add(InboxQueue.COPIES, _copied_to(institution_id for institution_id, _path in coordinated))
        add(InboxQueue.ALL, subtree)
    units = by_role.get(Role.LIAISON_OFFICER, [])
    if units:
        unit_ids = [institution_id for institution_id, _path in units]
        theirs = _assigned_to(unit_ids) | Q(owner_id__in=sorted(unit_ids))
        add(InboxQueue.UNIT, theirs)
        add(InboxQueue.OVERDUE, overdue & theirs)
        add(InboxQueue.COPIES, _copied_to(unit_ids))
    if scope.oversight_paths:
        # Oversight's reach, not the institution it sits in (see access.StaffScope.oversight_paths).
        add(InboxQueue.ALL, _in_subtrees(scope.oversight_paths) | Q(owner_id__in=sorted(scope.oversight_bodies)))
    ombudsman = _ombudsman_path() if scope.memberships else None
    if ombudsman is not None and any(path.startswith(ombudsman) for _id, path, _role in scope.memberships):
        add(InboxQueue.REFERRED, Q(status=Status.REFERRED) & _in_subtrees([ombudsman]))
    return {
        queue: reduce(operator.or_, found[queue]) if all(found[queue]) else Q()
        for queue in InboxQueue
        if queue in found
    }


def staff_inbox(user: Any, *, scope: StaffScope | None = None, now: datetime | None = None) -> Inbox:
    """The inboxes of ``user`` (staff: a national admin or someone with an active membership); a
    person without any gets no queue. ``scope``: their access.StaffScope, when the caller has it."""
    now = now or timezone.now()
    scope = scope if scope is not None else staff_scope(user)
    return Inbox(user=user, scope=scope, reports=visible_reports(user), queues=inbox_queues(scope, now=now), now=now)


def inbox_counts(inbox: Inbox) -> dict[InboxQueue, int]:
    """How many reports each queue holds, in one query (conditional aggregation)."""
    if not inbox.queues:
        return {}
    counts = inbox.reports.order_by().aggregate(
        **{
            queue.value: Count("pk", filter=condition) if condition else Count("pk")
            for queue, condition in inbox.queues.items()
        }
    )
    return {queue: int(counts[queue.value] or 0) for queue in inbox.queues}


def _staff_text_vector() -> Any:
    """The search vector of a report's own title and body (what staff search). Migration 0005 indexes
    exactly this expression on PostgreSQL: change both together."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("title", "body", config=SEARCH_CONFIG)


def _reporter_known_q(inbox: Inbox) -> Q:
    """The reports whose reporter the viewer may know (`access.reporter_known_q`)."""
    return reporter_known_q(inbox.user, inbox.scope)


def _staff_searched(inbox: Inbox, reports: QuerySet[Report], text: str) -> QuerySet[Report]:
    """A tracking ID (in any grouping or case) finds that report exactly; otherwise every word must
    appear in the title or body (full text, stemmed, on PostgreSQL). The reporter's own words are
    searched only where the viewer may know who filed the report; elsewhere (anonymous reports, a copy
    holder's) the masked public text is, so that a name typed in the search box never tells who filed
    an anonymous report. Never the reporter's name or contact fields."""
    text = text.strip()[:MAX_SEARCH_LENGTH]
    tracking_id = parse_tracking_id(text)
    if tracking_id is not None:
        return reports.filter(tracking_id=tracking_id)
    known = _reporter_known_q(inbox)
    if _is_postgresql():
        from django.contrib.postgres.search import SearchQuery

        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        # The public text is the reporter's own with personal data masked: where it matches, the own
        # text does too. So every match is a match of the own text (which the GIN index of migration
        # 0005 answers), and, where the viewer may not know the reporter, of the public text as well.
        return reports.alias(staff_text=_staff_text_vector(), public_text=public_text_vector()).filter(
            Q(staff_text=query) & (known | Q(public_text=query))
        )
    for word in search_words(text):
        own_words = Q(title__icontains=word) | Q(body__icontains=word)
        public_words = Q(public_title__icontains=word) | Q(public_body__icontains=word)
        reports = reports.filter(own_words & (known | public_words))
    return reports


def _inbox_filtered(inbox: Inbox, reports: QuerySet[Report], filters: InboxFilters, now: datetime) -> QuerySet[Report]:
    if filters.status:
        reports = reports.filter(status=filters.status)
    if filters.deadline_state:
        reports = reports.filter(deadline_state_q(filters.deadline_state, now))
    if filters.category is not None:
        reports = reports.filter(category_id__in=category_subtree(filters.category).order_by().values("pk"))
    if filters.region_code:
        reports = reports.filter(region_q(filters.region_code))
    if filters.channel:
        reports = reports.filter(channel=filters.channel)
    if filters.kind:
        reports = reports.filter(kind=filters.kind)
    reports = filed_between(reports, filters.date_from, filters.date_to)
    if filters.text.strip():
        reports = _staff_searched(inbox, reports, filters.text)
    return reports


def _with_next_due(reports: QuerySet[Report]) -> QuerySet[Report]:
    """``next_due``: the nearest due time of the report's running clocks that are not paused."""
    nearest = _running_clocks().filter(paused_at__isnull=True).order_by("due_at").values("due_at")[:1]
    return reports.annotate(next_due=Subquery(nearest))


def _inbox_ordering(sort: InboxSort) -> tuple[Any, ...]:
    if sort == InboxSort.NEWEST:
        return ("-created_at", "-id")
    if sort == InboxSort.OLDEST:
        return ("created_at", "id")
    return (F("next_due").asc(nulls_last=True), "id")


def _encode_inbox_cursor(sort: InboxSort, report: Report) -> str:
    if sort == InboxSort.DEADLINE:
        due: datetime | None = getattr(report, "next_due", None)
        key = due.isoformat() if due is not None else ""
    else:
        key = report.created_at.isoformat()
    raw = f"{sort.value}|{key}|{report.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after_inbox_cursor(sort: InboxSort, cursor: str) -> Q | None:
    """The rows after the one ``cursor`` names in ``sort`` order; None for a cursor that is not one of
    ours (or was made for another order): the first page is shown then."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, key, last_id = raw.split("|")
        pk = int(last_id)
        if kind != sort.value:
            return None
        moment = datetime.fromisoformat(key) if key else None
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if moment is not None and timezone.is_naive(moment):
        return None
    if sort == InboxSort.DEADLINE:
        if moment is None:
            return Q(next_due__isnull=True, pk__gt=pk)
        return Q(next_due__gt=moment) | Q(next_due=moment, pk__gt=pk) | Q(next_due__isnull=True)
    if moment is None:
        return None
    if sort == InboxSort.NEWEST:
        return Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk)
    return Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk)


def inbox_page(
    inbox: Inbox,
    queue: InboxQueue,
    filters: InboxFilters | None = None,
    sort: InboxSort = InboxSort.DEADLINE,
    cursor: str = "",
    *,
    page_size: int = INBOX_PAGE_SIZE,
) -> InboxPage:
    """One page of a queue: the rows after ``cursor`` (the previous page's ``next_cursor``; empty for
    the first page), in three queries whatever the size of the queue (the reports with their owner,
    category and reporter; their running clocks; their active forwards with the units). A queue the
    user does not have is empty. Raises InvalidRegionCode for a malformed region."""
    if queue not in inbox.queues:
        return InboxPage(rows=[], next_cursor=None)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    reports = inbox.reports.filter(inbox.queues[queue])
    reports = _inbox_filtered(inbox, reports, filters or InboxFilters(), inbox.now)
    if sort == InboxSort.DEADLINE:
        reports = _with_next_due(reports)
    after = _after_inbox_cursor(sort, cursor) if cursor else None
    if after is not None:
        reports = reports.filter(after)
    rows = list(
        reports.select_related("owner", "category", "reporter")
        .prefetch_related(
            Prefetch("clocks", queryset=ReportClock.objects.filter(stopped_at__isnull=True), to_attr="running_clocks"),
            Prefetch(
                "assignments",
                queryset=ReportAssignment.objects.filter(is_active=True).select_related("unit").order_by("pk"),
                to_attr="active_assignments",
            ),
        )
        .order_by(*_inbox_ordering(sort))[: page_size + 1]
    )
    next_cursor = _encode_inbox_cursor(sort, rows[page_size - 1]) if len(rows) > page_size else None
    return InboxPage(rows=[_inbox_row(inbox, report) for report in rows[:page_size]], next_cursor=next_cursor)


_STATE_URGENCY = {"red": 0, "yellow": 1, "green": 2}


def _most_urgent(clocks: Iterable[ReportClock], now: datetime) -> tuple[ReportClock | None, str]:
    """The running clock that sets a report's deadline state (the worst state; the nearest due time
    among those in it) and that state; a paused clock only when no other runs."""
    running = [clock for clock in clocks if clock.stopped_at is None]
    unpaused = [clock for clock in running if clock.paused_at is None]
    if unpaused:
        states = [(clock, clock_state(clock, now=now)) for clock in unpaused]
        clock, state = min(states, key=lambda pair: (_STATE_URGENCY[pair[1]], pair[0].due_at))
        return clock, str(state)
    if running:
        return min(running, key=lambda clock: clock.due_at), str(ClockState.PAUSED)
    return None, ""


def _may_know_reporter(inbox: Inbox, report: Report, unit_ids: set[int]) -> bool:
    """The access layer's answer for a report in the viewer's inbox, with no query (``unit_ids``: its
    active forwards, prefetched)."""
    return listed_knows_reporter(inbox.user, report, inbox.scope, assigned=unit_ids)


def _inbox_row(inbox: Inbox, report: Report) -> InboxRow:
    assignments = getattr(report, "active_assignments", [])
    units = [assignment.unit for assignment in assignments]
    deadline, state = _most_urgent(getattr(report, "running_clocks", []), inbox.now)
    known = _may_know_reporter(inbox, report, {unit.pk for unit in units})
    return InboxRow(
        report=report,
        title=reporter_text(report, "title", known=known),
        units=units,
        deadline=deadline,
        deadline_state=state,
        age=inbox.now - report.created_at,
    )


def saved_filters_of(user: Any) -> QuerySet[SavedFilter]:
    """The user's own saved inbox filters, by name (nobody else's, whoever asks)."""
    if getattr(user, "pk", None) is None:
        return SavedFilter.objects.none()
    return SavedFilter.objects.filter(user_id=user.pk).order_by("name", "pk")
