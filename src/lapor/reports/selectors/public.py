"""What the public reads: the feed with its filters, search and keyset pages, the headline statistics,
the public map, and the similar open reports shown before a new report is filed.

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
``indonesian`` configuration (stems "jalanan" to "jalan") over the stored vector of migration 0007
and its GIN index; on SQLite every word must appear, in any case, in the public title or body.
A search is shown by relevance (docs/adr/0010-search.md): the SEARCH_CANDIDATES newest matches,
ranked, so that a word found in half a million reports ranks a thousand of them, not all; and its
"about N results" counts at most COUNT_CAP matches, then takes the planner's estimate.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import operator
import re
import zoneinfo
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
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from lapor.core import reference
from lapor.core.models import ReferenceDataLoad
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import category_subtree, institution_subtree
from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, parent_code, region_level
from lapor.reports.access import PUBLISHED_STATUSES, visible_reports
from lapor.reports.choices import OPEN_STATUSES
from lapor.reports.models import Report, ReportSupport

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
WORD = re.compile(r"\w+")
# A search ranks only its newest matches, this many (ADR 0010): ranking reads each candidate's vector.
SEARCH_CANDIDATES = 1000
# "About N results" counts matches up to this many; beyond, it is the planner's estimate.
COUNT_CAP = 1000


class FeedSort(StrEnum):
    NEWEST = "terbaru"
    MOST_SUPPORTED = "dukungan"
    # A search's default: the best matches among its SEARCH_CANDIDATES newest; NEWEST without words.
    RELEVANCE = "relevan"


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


def public_tracking_id(tracking_id: str) -> bool:
    """Whether ``tracking_id`` is a report the public may see (one index lookup): a fact its public
    page (not rate-limited) tells anyone who asks for it."""
    return public_reports().filter(tracking_id=tracking_id).exists()


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
    for word in WORD.findall(text[:MAX_SEARCH_LENGTH].lower()):
        if drop_common and (len(word) < 3 or word in STOPWORDS):  # noqa: PLR2004
            continue
        if word not in words:
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class StoredVector(Expression):
    """A search vector PostgreSQL stores with each report (a generated column of migration 0007, not a
    model field: SQLite has none), named in the query's own table, whatever alias a subquery gives it."""

    def __init__(self, column: str) -> None:
        from django.contrib.postgres.search import SearchVectorField

        super().__init__(output_field=SearchVectorField())
        self.column = column

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.column!r})"

    # A list of parameters, as Django's own expressions give: its search lookups add them to a list.
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name(self.column)}", []


def public_text_vector() -> Any:
    """The search vector of a published report's public text: the stored ``public_search`` column,
    which the GIN index of migration 0007 indexes (its title weighs more than its body); NULL for a
    report the public may not see (`masked_text_vector` reads any report's)."""
    return StoredVector("public_search")


def masked_text_vector() -> Any:
    """The search vector of any report's public (masked) text, computed as it is read: for the few
    rows a search has already found by another vector."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("public_title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "public_body", weight="B", config=SEARCH_CONFIG
    )


def _search_query(text: str) -> Any:
    from django.contrib.postgres.search import SearchQuery

    # Web search syntax: every word must match (stemmed); "quoted phrases", -excluded, or.
    return SearchQuery(text.strip()[:MAX_SEARCH_LENGTH], config=SEARCH_CONFIG, search_type="websearch")


def _searched(reports: QuerySet[Report], text: str) -> QuerySet[Report]:
    text = text.strip()[:MAX_SEARCH_LENGTH]
    if is_postgresql():
        return reports.alias(public_text=public_text_vector()).filter(public_text=_search_query(text))
    words = search_words(text)
    for word in words:
        reports = reports.filter(Q(public_title__icontains=word) | Q(public_body__icontains=word))
    return reports


def relevance(vector: Any, text: str) -> Any:
    """How well a report matches ``text``: PostgreSQL's ts_rank of ``vector``, as a double precision
    (a cursor carries it exactly then); 0 on SQLite, whose plain word search has no rank, so that its
    results come newest first."""
    if not is_postgresql():
        return Value(0.0, output_field=FloatField())
    from django.contrib.postgres.search import SearchRank

    return Cast(SearchRank(vector, _search_query(text)), FloatField())


@dataclasses.dataclass(frozen=True)
class SearchCount:
    """How many reports a search finds: ``value`` exactly when ``exact``, else an estimate (more than
    COUNT_CAP, rounded to two significant digits)."""

    value: int
    exact: bool


def rounded_estimate(value: float) -> int:
    """``value`` to two significant digits (48,213 -> 48,000): an estimate claims no more."""
    whole = max(int(value), 0)
    if whole < 100:  # noqa: PLR2004
        return whole
    scale = 10 ** (len(str(whole)) - 2)
    return round(whole / scale) * scale


def planner_rows(reports: QuerySet[Any]) -> float:
    """PostgreSQL's estimate of the rows ``reports`` would return, from EXPLAIN: planning only, no row
    read (a fraction of a millisecond)."""
    import json

    sql, params = reports.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        row = cursor.fetchone()
    plan = row[0] if row else []
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"]) if plan else 0.0


def counted(matches: QuerySet[Any]) -> SearchCount:
    """How many rows ``matches`` holds, counting at most COUNT_CAP + 1 of them (one query); beyond, the
    planner's estimate on PostgreSQL (a second, planning only), or the exact count on SQLite, the
    store of small deployments."""
    matches = matches.order_by()
    found = matches.values("pk")[: COUNT_CAP + 1].count()
    if found <= COUNT_CAP:
        return SearchCount(value=found, exact=True)
    if not is_postgresql():
        return SearchCount(value=matches.count(), exact=True)
    # Never fewer than those counted: the estimate of a filter the statistics know little about may be.
    return SearchCount(value=rounded_estimate(max(planner_rows(matches.values("pk")), COUNT_CAP + 1)), exact=False)


def public_search_count(user: Any, filters: FeedFilters) -> SearchCount | None:
    """About how many public reports the feed's ``filters`` find; None without search words (the
    feed itself is not counted). Raises InvalidRegionCode for a malformed region."""
    if not filters.text.strip():
        return None
    return counted(_filtered(public_reports(user), filters))


# --- keyset pages -----------------------------------------------------------------------------------


def _ordering(sort: FeedSort) -> tuple[str, ...]:
    if sort == FeedSort.RELEVANCE:
        return ("-relevance", "-created_at", "-id")
    if sort == FeedSort.MOST_SUPPORTED:
        return ("-support_count", "-id")
    return ("-created_at", "-id")


def _encode_cursor(sort: FeedSort, report: Report) -> str:
    if sort == FeedSort.RELEVANCE:
        raw = f"r|{getattr(report, 'relevance', 0.0)!r}|{report.created_at.isoformat()}|{report.pk}"
    elif sort == FeedSort.MOST_SUPPORTED:
        raw = f"s|{report.support_count}|{report.pk}"
    else:
        raw = f"n|{report.created_at.isoformat()}|{report.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after_cursor(sort: FeedSort, cursor: str) -> Q | None:
    """The rows after the one ``cursor`` names in ``sort`` order; None for a cursor that is not one
    of ours (or was made for the other order): the first page is shown then."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if sort == FeedSort.RELEVANCE:
            return _after_relevance_cursor(raw)
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


def _after_relevance_cursor(raw: str) -> Q | None:
    kind, rank, moment, last_id = raw.split("|")
    created = datetime.fromisoformat(moment)
    if kind != "r" or timezone.is_naive(created):
        return None
    score, pk = float(rank), int(last_id)
    return (
        Q(relevance__lt=score)
        | Q(relevance=score, created_at__lt=created)
        | Q(relevance=score, created_at=created, pk__lt=pk)
    )


def _ranked(user: Any, filters: FeedFilters) -> QuerySet[Report]:
    """The SEARCH_CANDIDATES newest reports that ``filters`` find, each with its ``relevance``: the
    candidates come from the newest-first index (or, for a rare word, the GIN index), and only they
    are ranked, however many reports match."""
    candidates = _filtered(public_reports(user), filters).order_by("-created_at", "-id").values("pk")
    return (
        public_reports(user)
        .filter(pk__in=candidates[:SEARCH_CANDIDATES])
        .annotate(relevance=relevance(public_text_vector(), filters.text))
    )


def public_feed(
    user: Any,
    filters: FeedFilters,
    sort: FeedSort = FeedSort.NEWEST,
    cursor: str = "",
    *,
    page_size: int = PAGE_SIZE,
) -> FeedPage:
    """One page of the public feed, newest or most supported first, or (a search) by relevance among
    its SEARCH_CANDIDATES newest matches, in one query: the rows after ``cursor`` (from the previous
    page's ``next_cursor``; empty for the first page), with what `serializers.public_report_summary`
    reads. RELEVANCE without search words is NEWEST. Raises InvalidRegionCode for a malformed region."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    if sort == FeedSort.RELEVANCE and not filters.text.strip():
        sort = FeedSort.NEWEST
    after = _after_cursor(sort, cursor) if cursor else None
    if sort == FeedSort.RELEVANCE:
        reports = _ranked(user, filters)
        if after is not None:
            reports = reports.filter(after)
        # The page's rows are chosen among the candidates alone, then read with their relations:
        # joining the relations of every candidate before sorting cost more than the ranking itself.
        page = reports.order_by(*_ordering(sort)).values("pk")[: page_size + 1]
        reports = (
            public_reports(user).filter(pk__in=page).annotate(relevance=relevance(public_text_vector(), filters.text))
        )
    else:
        reports = _filtered(public_reports(user), filters)
        if after is not None:
            reports = reports.filter(after)
        if filters.text.strip():
            # The same rows as the plain LIMIT, but a planner that guesses how many reports a word is
            # in (a word its statistics do not list is guessed at up to 0.5%) then weighs reading
            # SEARCH_CANDIDATES matches: it walks the ordering index for a common word, and takes the
            # GIN index for a rare one instead of walking every report looking for its few matches.
            # The page is chosen among them before the relations are joined (as above).
            bounded = reports.order_by(*_ordering(sort)).values("pk")[:SEARCH_CANDIDATES]
            page = public_reports(user).filter(pk__in=bounded).order_by(*_ordering(sort)).values("pk")
            reports = public_reports(user).filter(pk__in=page[: page_size + 1])
    rows = list(reports.select_related(*SUMMARY_RELATIONS).order_by(*_ordering(sort))[: page_size + 1])
    next_cursor = _encode_cursor(sort, rows[page_size - 1]) if len(rows) > page_size else None
    return FeedPage(reports=rows[:page_size], next_cursor=next_cursor)


# --- headline statistics ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HeadlineStats:
    # Published reports filed since the first of this month (local time); None when the stored
    # figures were counted in an earlier month (the sweep has not counted since the month began).
    reports_this_month: int | None
    dispatched: int  # published reports filed in the last STATS_WINDOW_DAYS days (all were dispatched)
    followed_up: int  # of those, the ones that got a first follow-up
    # Median of the time from dispatch to the first follow-up, in elapsed hours (calendar time, not
    # working days: what a citizen waits), over those followed up; None without any.
    median_hours_to_first_follow_up: float | None
    window_days: int = STATS_WINDOW_DAYS
    counted_at: datetime | None = None  # when the figures were counted (stored figures only)

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


def _month_start(now: datetime, zone: str) -> datetime:
    local = timezone.localtime(now, zoneinfo.ZoneInfo(zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _headline_stats_by_zone(now: datetime, zones: Iterable[str]) -> dict[str, HeadlineStats]:
    """The home page's figures as of ``now``, with "this month" in each of ``zones``, in two
    aggregate queries whatever the number of zones."""
    month_starts = {zone: _month_start(now, zone) for zone in dict.fromkeys(zones)}
    window_start = now - timedelta(days=STATS_WINDOW_DAYS)
    in_window = Q(created_at__gte=window_start, dispatched_at__isnull=False)
    # A report re-dispatched after its first follow-up has no meaningful wait: it is left out.
    answered = in_window & Q(first_follow_up_at__isnull=False, first_follow_up_at__gte=F("dispatched_at"))
    reports = public_reports().filter(created_at__gte=min([*month_starts.values(), window_start]), created_at__lte=now)
    this_month = {
        f"this_month_{index}": Count("pk", filter=Q(created_at__gte=start))
        for index, start in enumerate(month_starts.values())
    }
    counts = reports.aggregate(
        **this_month,
        dispatched=Count("pk", filter=in_window),
        followed_up=Count("pk", filter=in_window & Q(first_follow_up_at__isnull=False)),
        answered=Count("pk", filter=answered),
    )
    median_seconds: float | None = None
    waits = reports.filter(answered)
    if counts["answered"]:
        if is_postgresql():
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
    return {
        zone: HeadlineStats(
            reports_this_month=counts[f"this_month_{index}"],
            dispatched=counts["dispatched"],
            followed_up=counts["followed_up"],
            median_hours_to_first_follow_up=None if median_seconds is None else float(median_seconds) / 3600,
        )
        for index, zone in enumerate(month_starts)
    }


def headline_stats(now: datetime | None = None) -> HeadlineStats:
    """The home page's figures, from published reports only, in two aggregate queries, with "this
    month" in the current time zone. They read a year of reports: pages show the stored figures
    (`stored_headline_stats`), which the task workers' sweep recounts."""
    zone = timezone.get_current_timezone_name()
    return _headline_stats_by_zone(now or timezone.now(), [zone])[zone]


# --- the stored headline statistics -------------------------------------------------------------------
#
# Counting a year of reports takes seconds at a million reports, so no page view counts them: the task
# workers' sweep (settings.WORKER_SWEEPS) recounts them every HEADLINE_STATS_REFRESH_SECONDS into one
# row of core's ReferenceDataLoad (the key-value row the worker heartbeat uses too: no table of its own
# for one row), with "this month" for every zone a visitor can see pages in. Each web process reads
# that row (one query by its unique key) at most once per REFERENCE_CACHE_SECONDS. Only when no
# figures were ever stored (a new database before the first worker sweep) does a page view count
# them, once, and store them: the home page always shows figures, and the sweep recounts them later.

HEADLINE_STATS_DATASET = "portal-headline-stats"
HEADLINE_STATS_REFRESH_SECONDS = 300
# "This month" is kept for the zones of accounts (WIB, WITA, WIT) and the site's own (settings.TIME_ZONE).
HEADLINE_STATS_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
_CACHE_KEY = ("portal-headline-stats",)


def _stats_zones() -> list[str]:
    return list(dict.fromkeys([settings.TIME_ZONE, *HEADLINE_STATS_ZONES]))


def _stored_row() -> ReferenceDataLoad | None:
    return ReferenceDataLoad.objects.filter(dataset=HEADLINE_STATS_DATASET).first()


def headline_stats_refresh(now: datetime | None = None, *, max_age_seconds: float | None = None) -> bool:
    """Count the headline statistics and store them, unless the stored ones are younger than
    ``max_age_seconds`` (HEADLINE_STATS_REFRESH_SECONDS by default; 0 always counts). A sweep of
    `lapor worker`: idempotent, and N workers sweeping at once at worst count twice. Returns whether
    it counted."""
    now = now or timezone.now()
    max_age = HEADLINE_STATS_REFRESH_SECONDS if max_age_seconds is None else max_age_seconds
    row = _stored_row()
    counted_at = parse_datetime(row.checksum) if row is not None else None
    if counted_at is not None and max_age > 0 and now - counted_at < timedelta(seconds=max_age):
        return False
    _store(now)
    return True


def _store(now: datetime) -> dict[str, Any]:
    figures = _headline_stats_by_zone(now, _stats_zones())
    common = next(iter(figures.values()))
    summary: dict[str, Any] = {
        "counted_at": now.isoformat(),
        "this_month": {
            zone: {"month": _month_start(now, zone).strftime("%Y-%m"), "count": stats.reports_this_month}
            for zone, stats in figures.items()
        },
        "dispatched": common.dispatched,
        "followed_up": common.followed_up,
        "median_hours": common.median_hours_to_first_follow_up,
        "window_days": common.window_days,
    }
    ReferenceDataLoad.objects.update_or_create(
        dataset=HEADLINE_STATS_DATASET, defaults={"checksum": now.isoformat(), "summary": summary}
    )
    return summary


def _load_stored() -> dict[str, Any]:
    row = _stored_row()
    if row is not None and isinstance(row.summary, dict) and "this_month" in row.summary:
        return row.summary
    return _store(timezone.now())


def stored_headline_stats(now: datetime | None = None) -> HeadlineStats:
    """The headline statistics as last counted (see above), with "this month" in the current zone
    (the site's zone's figure for another); one query per process per REFERENCE_CACHE_SECONDS, none
    of them over the reports once figures are stored."""
    summary = reference.cached(_CACHE_KEY, _load_stored)
    now = now or timezone.now()
    zone = timezone.get_current_timezone_name()
    months: dict[str, Any] = summary["this_month"]
    month = months.get(zone) or months.get(settings.TIME_ZONE) or next(iter(months.values()))
    local_month = timezone.localtime(now).strftime("%Y-%m")
    counted_at = parse_datetime(summary["counted_at"])
    return HeadlineStats(
        reports_this_month=month["count"] if month["month"] == local_month else None,
        dispatched=summary["dispatched"],
        followed_up=summary["followed_up"],
        median_hours_to_first_follow_up=summary["median_hours"],
        window_days=summary.get("window_days", STATS_WINDOW_DAYS),
        counted_at=counted_at,
    )


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
    found = set(WORD.findall(f"{report.public_title} {report.public_body}".lower()))
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
    if is_postgresql():
        from django.contrib.postgres.search import SearchQuery, SearchRank

        query = reduce(operator.or_, (SearchQuery(word, config=SEARCH_CONFIG) for word in words))
        # The candidates first, in a query of their own: as a subquery, the planner (misjudging how few
        # rows a district has in a category) ran it again for every row nearby, 90 ms at 1M reports.
        newest_ids = list(candidates.values_list("pk", flat=True)[:SIMILAR_CANDIDATES])
        if not newest_ids:
            return []
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
