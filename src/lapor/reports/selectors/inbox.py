"""The console's inboxes: the queues by role and scope (from `access.staff_scope`), their counts,
filters, staff search over the reporters' own words (masked where the viewer may not know the
reporter), keyset pages of rows with their most urgent deadline, and saved filters."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import operator
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.choices import Role
from lapor.core import reference
from lapor.core.ids import parse_tracking_id
from lapor.core.tree import subtree_q
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import category_subtree
from lapor.reports.access import StaffScope, listed_knows_reporter, reporter_known_q, staff_scope, visible_reports
from lapor.reports.choices import ClockState, Status
from lapor.reports.deadlines import clock_state
from lapor.reports.models import Report, ReportAssignment, ReportClock, ReportCopy, SavedFilter
from lapor.reports.privacy import reporter_text
from lapor.reports.selectors.public import (
    COUNT_CAP,
    MAX_PAGE_SIZE,
    MAX_SEARCH_LENGTH,
    SEARCH_CANDIDATES,
    SEARCH_CONFIG,
    SearchCount,
    StoredVector,
    counted,
    filed_between,
    is_postgresql,
    masked_text_vector,
    region_q,
    relevance,
    search_words,
)

# === the console's inboxes ==========================================================================
#
# What staff see in the operator console (lapor.console.views.inbox): queues by role, each a filter
# on `visible_reports(user)` (the access layer decides what may be seen; a queue only narrows it),
# their counts (up to INBOX_COUNT_CAP) in one query, filters, search in the reporters' own words,
# keyset pages sorted by the nearest deadline, and the rows shown, with the title masked wherever the
# viewer may not know who filed the report.
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
# Each queue is counted up to this many reports; beyond, its tab says "more than" (`inbox_counts`).
INBOX_COUNT_CAP = COUNT_CAP


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
    # A search's best matches among its SEARCH_CANDIDATES newest (docs/adr/0010-search.md); DEADLINE
    # without search words.
    RELEVANCE = "relevan"


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


def _returned_to(owners: list[int]) -> Q:
    """Reports ``owners`` got back: "not our authority" returns, and reports its units handed back (a
    forward since the dispatch withdrawn, none active). Read as the union of the two: the returns
    from the (owner, status) index, the handed back from the withdrawn forwards (few; the partial
    index of migration 0008), not by a look-up for every report the institutions have in progress."""
    returned = Report.objects.filter(owner_id__in=owners, status=Status.RETURNED).values("pk")
    active_since_dispatch = ReportAssignment.objects.filter(
        report_id=OuterRef("report_id"), is_active=True, assigned_at__gte=OuterRef("report__dispatched_at")
    )
    handed_back = (
        ReportAssignment.objects.filter(
            is_active=False,
            assigned_at__gte=F("report__dispatched_at"),
            report__owner_id__in=owners,
            report__status__in=[Status.DISPATCHED, Status.IN_PROGRESS],
        )
        .filter(~Exists(active_since_dispatch))
        .values("report_id")
    )
    return Q(pk__in=returned.union(handed_back))


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
        add(
            InboxQueue.NEW,
            own & (Q(status=Status.SUBMITTED) | (Q(status=Status.DISPATCHED) & ~Q(_forwarded_since_dispatch()))),
        )
        add(InboxQueue.RETURNED, _returned_to(sorted(institution_id for institution_id, _path in coordinated)))
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
    """How many reports each queue holds, counted up to INBOX_COUNT_CAP + 1 each: a count above
    INBOX_COUNT_CAP means "more than INBOX_COUNT_CAP" (a tab shows "1000+"). One query, however many
    queues and reports: each queue's count is a subquery that stops at its first INBOX_COUNT_CAP + 1
    rows, so that a view never reads every report of a large queue (an exact count of a coordinator's
    300,000 reports took PostgreSQL seconds on every view)."""
    if not inbox.queues:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    for index, condition in enumerate(inbox.queues.values()):
        capped = inbox.reports.filter(condition).order_by().values("pk")[: INBOX_COUNT_CAP + 1]
        sql, part_params = capped.query.sql_with_params()
        # Django's own SQL of the queue, its values passed apart as parameters: nothing typed is joined in.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) capped_{index})")  # noqa: S608
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {queue: int(row[index] or 0) if row else 0 for index, queue in enumerate(inbox.queues)}


def _staff_text_vector() -> Any:
    """The search vector of a report's own title and body (what staff search): the stored
    ``staff_search`` column, which the GIN index of migration 0007 indexes."""
    return StoredVector("staff_search")


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
    if is_postgresql():
        from django.contrib.postgres.search import SearchQuery

        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        # The public text is the reporter's own with personal data masked: where it matches, the own
        # text does too. So every match is a match of the own text (which the GIN index of migration
        # 0007 answers), and, where the viewer may not know the reporter, of the masked text as well
        # (read only for the rows the index found; the stored public vector is only of published ones).
        return reports.alias(staff_text=_staff_text_vector(), public_text=masked_text_vector()).filter(
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


def _staff_relevance(inbox: Inbox, text: str) -> Any:
    """How well a report matches ``text``, ranked on the text the match was allowed to read: the
    reporter's own words where the viewer may know the reporter, the masked public text elsewhere (a
    rank read from the own words would order an anonymous report by the name it hides)."""
    if not is_postgresql():
        return relevance(None, text)
    return Case(
        When(_reporter_known_q(inbox), then=relevance(_staff_text_vector(), text)),
        default=relevance(masked_text_vector(), text),
    )


def _ranked_candidates(inbox: Inbox, reports: QuerySet[Report], text: str) -> QuerySet[Report]:
    """The SEARCH_CANDIDATES newest of ``reports``, each with its ``relevance``: only they are ranked."""
    candidates = reports.order_by("-created_at", "-id").values("pk")[:SEARCH_CANDIDATES]
    return inbox.reports.filter(pk__in=candidates).annotate(relevance=_staff_relevance(inbox, text))


def inbox_search_count(inbox: Inbox, queue: InboxQueue, filters: InboxFilters) -> SearchCount | None:
    """About how many reports of ``queue`` a search with ``filters`` finds (exact up to
    `public.COUNT_CAP`, then the planner's estimate); None without search words, or a queue the user
    does not have. Raises InvalidRegionCode for a malformed region."""
    if not filters.text.strip() or queue not in inbox.queues:
        return None
    reports = inbox.reports.filter(inbox.queues[queue])
    return counted(_inbox_filtered(inbox, reports, filters, inbox.now))


def _with_next_due(reports: QuerySet[Report]) -> QuerySet[Report]:
    """``next_due``: the nearest due time of the report's running clocks that are not paused."""
    nearest = _running_clocks().filter(paused_at__isnull=True).order_by("due_at").values("due_at")[:1]
    return reports.annotate(next_due=Subquery(nearest))


# The walk of the running clocks for a large queue (`_deadline_walk`): its first batch, each next one
# DEADLINE_WALK_GROWTH times larger, and how many batches before it gives up.
DEADLINE_WALK_BATCH = 500
# The queues walked so when large: those spanning the nation (the national admin's reports to verify,
# 65,000 of 1,000,000: sorted whole, 2.4 s), a subtree or a unit's whole history. The others are an
# institution's reports in a few statuses (the Ombudsman's referred ones run no clock), read from
# their indexes and sorted: small for an institution working its queue, where a walk would read many
# clocks to find their few reports.
WALKED_QUEUES = frozenset({InboxQueue.VERIFY, InboxQueue.ALL, InboxQueue.OVERDUE, InboxQueue.UNIT})
DEADLINE_WALK_GROWTH = 4
DEADLINE_WALK_ROUNDS = 4


def _unpaused_clocks() -> QuerySet[ReportClock]:
    return ReportClock.objects.filter(stopped_at__isnull=True, paused_at__isnull=True)


def _deadline_walk(
    reports: QuerySet[Report], after: tuple[datetime, int] | None, limit: int
) -> tuple[list[int], bool] | None:
    """The ids of the first ``limit`` of ``reports`` with a running clock that is not paused, in
    deadline order (nearest due time, then id) after ``after`` (a row's next_due and id), and whether
    the clocks ran out before ``limit`` were found; None when the walk gave up.

    The clocks are read in due order (the ``clock_running_unpaused_due`` index of migration 0008), only
    the nearest of each report, in batches; each batch's reports are checked against the queue by id.
    A queue holding a good share of all reports fills a page from the first batch; one holding few
    would need many: after DEADLINE_WALK_ROUNDS the caller sorts the queue itself."""
    found: list[int] = []
    earlier = (
        _unpaused_clocks()
        .filter(report_id=OuterRef("report_id"))
        .filter(Q(due_at__lt=OuterRef("due_at")) | Q(due_at=OuterRef("due_at"), pk__lt=OuterRef("pk")))
    )
    nearest = _unpaused_clocks().filter(~Exists(earlier))
    position = after
    batch = DEADLINE_WALK_BATCH
    for _round in range(DEADLINE_WALK_ROUNDS):
        clocks = nearest
        if position is not None:
            moment, last_pk = position
            clocks = clocks.filter(Q(due_at__gt=moment) | Q(due_at=moment, report_id__gt=last_pk))
        read = list(clocks.order_by("due_at", "report_id").values_list("due_at", "report_id")[:batch])
        members = set(reports.filter(pk__in=[report_id for _due, report_id in read]).values_list("pk", flat=True))
        for _due, report_id in read:
            if report_id in members:
                found.append(report_id)
                if len(found) == limit:
                    return found, False
        if len(read) < batch:
            return found, True
        position = read[-1]
        batch *= DEADLINE_WALK_GROWTH
    return None


def _deadline_page_ids(reports: QuerySet[Report], cursor: str, limit: int) -> list[int] | None:
    """The ids of a DEADLINE page of ``reports`` (a large queue) after ``cursor``: from the walk of the
    running clocks, then, once they run out, the reports without one by id. None when the walk gave up
    (the caller sorts the queue itself)."""
    after = _deadline_cursor(cursor) if cursor else None  # None also for a cursor not ours: the first page
    moment, last_pk = after if after is not None else (None, 0)
    found: list[int] = []
    if after is None or moment is not None:
        walked = _deadline_walk(reports, (moment, last_pk) if moment is not None else None, limit)
        if walked is None:
            return None
        found, exhausted = walked
        if not exhausted:
            return found
        last_pk = 0
    without = reports.filter(~Exists(_unpaused_clocks().filter(report=OuterRef("pk"))), pk__gt=last_pk)
    return found + list(without.order_by("pk").values_list("pk", flat=True)[: limit - len(found)])


def _deadline_cursor(cursor: str) -> tuple[datetime | None, int] | None:
    """The next_due (None: the row had no running clock) and id of the row a DEADLINE ``cursor``
    names; None for one that is not."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, key, last_id = raw.split("|")
        pk = int(last_id)
        moment = datetime.fromisoformat(key) if key else None
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if kind != InboxSort.DEADLINE.value or (moment is not None and timezone.is_naive(moment)):
        return None
    return moment, pk


def _inbox_ordering(sort: InboxSort) -> tuple[Any, ...]:
    if sort == InboxSort.RELEVANCE:
        return ("-relevance", "-created_at", "-id")
    if sort == InboxSort.NEWEST:
        return ("-created_at", "-id")
    if sort == InboxSort.OLDEST:
        return ("created_at", "id")
    return (F("next_due").asc(nulls_last=True), "id")


def _encode_inbox_cursor(sort: InboxSort, report: Report) -> str:
    if sort == InboxSort.DEADLINE:
        due: datetime | None = getattr(report, "next_due", None)
        key = due.isoformat() if due is not None else ""
    elif sort == InboxSort.RELEVANCE:
        key = f"{getattr(report, 'relevance', 0.0)!r}/{report.created_at.isoformat()}"
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
        if sort == InboxSort.RELEVANCE:
            return _after_relevance(key, pk)
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


def _after_relevance(key: str, pk: int) -> Q | None:
    rank, moment = key.split("/")
    score, created = float(rank), datetime.fromisoformat(moment)
    if timezone.is_naive(created):
        return None
    return (
        Q(relevance__lt=score)
        | Q(relevance=score, created_at__lt=created)
        | Q(relevance=score, created_at=created, pk__lt=pk)
    )


def inbox_page(
    inbox: Inbox,
    queue: InboxQueue,
    filters: InboxFilters | None = None,
    sort: InboxSort = InboxSort.DEADLINE,
    cursor: str = "",
    *,
    page_size: int = INBOX_PAGE_SIZE,
    queue_size: int | None = None,
) -> InboxPage:
    """One page of a queue: the rows after ``cursor`` (the previous page's ``next_cursor``; empty for
    the first page); a search by RELEVANCE ranks its SEARCH_CANDIDATES newest matches only. In three
    queries whatever the size of the queue (the reports with their owner,
    category and reporter; their running clocks; their active forwards with the units). A queue the
    user does not have is empty. Raises InvalidRegionCode for a malformed region.

    ``queue_size``: how many reports the queue holds with ``filters``, when the caller knows (the count
    of `inbox_counts` without filters, of `inbox_search_count` for a search). By deadline, a large
    queue spanning a subtree (WALKED_QUEUES) counted past INBOX_COUNT_CAP is read from the running
    clocks in due order instead (`_deadline_walk`: a few queries more, none reading the whole queue)."""
    if queue not in inbox.queues:
        return InboxPage(rows=[], next_cursor=None)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    filters = filters or InboxFilters()
    reports = inbox.reports.filter(inbox.queues[queue])
    reports = _inbox_filtered(inbox, reports, filters, inbox.now)
    if sort == InboxSort.RELEVANCE and not filters.text.strip():
        sort = InboxSort.DEADLINE
    if sort == InboxSort.RELEVANCE:
        reports = _ranked_candidates(inbox, reports, filters.text)
    if sort == InboxSort.DEADLINE:
        reports = _with_next_due(reports)
    after = _after_inbox_cursor(sort, cursor) if cursor else None
    if after is not None:
        reports = reports.filter(after)
    ordering = _inbox_ordering(sort)
    walked = None
    if sort == InboxSort.DEADLINE and queue in WALKED_QUEUES and (queue_size or 0) > INBOX_COUNT_CAP:
        queued = _inbox_filtered(inbox, inbox.reports.filter(inbox.queues[queue]), filters, inbox.now)
        walked = _deadline_page_ids(queued, cursor, page_size + 1)
    if walked is not None:
        reports = _with_next_due(Report.objects.filter(pk__in=walked))
    elif sort != InboxSort.RELEVANCE:
        # The page's ids first, from the queue alone (narrow rows, in the order's index or top-N sort),
        # then only those rows with their owner, category and reporter, in the same statement: joining
        # those to every report of the queue before the sort read all of them (the reporters' whole
        # table among them) for 50 rows.
        page_ids = reports.order_by(*ordering).values("pk")[: page_size + 1]
        reports = Report.objects.filter(pk__in=page_ids)
        if sort == InboxSort.DEADLINE:
            reports = _with_next_due(reports)
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
        .order_by(*ordering)[: page_size + 1]
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
