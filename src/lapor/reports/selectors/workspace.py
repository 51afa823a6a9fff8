"""What staff read beside one report in the console's workspace: the report with what `staff_view`
reads, routing suggestions, possible duplicates, and the institutions its events name."""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Iterable
from functools import reduce
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q

from lapor.accounts.choices import Role
from lapor.core.tree import subtree_q
from lapor.institutions.models import Institution

# Reads for console/views/workspace.py: the report with what `serializers.staff_view` reads, routing
# suggestions for dispatch and forward, duplicate candidates for a merge. Each takes a report the
# access layer already handed out (`access.access_report`); none widens what the viewer may see.
# (Imports kept with the code that needs them: the top of this module is edited by others.)
from lapor.institutions.selectors import CoveringReason, covering_reason, units_covering
from lapor.reports.access import StaffScope, staff_scope, visible_reports
from lapor.reports.models import Report, ReportAssignment, ReportCopy, ReportEvent
from lapor.reports.selectors.public import (
    OPEN_PUBLISHED_STATUSES,
    STOPWORDS,
    SUMMARY_RELATIONS,
    WORD,
    district_code_of,
    region_q,
)

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
# What the comparison reads of each report of the pool (the candidates shown are read whole).
COMPARED_FIELDS = (
    "id",
    "public_title",
    "public_body",
    "category_id",
    "village_id",
    "latitude",
    "longitude",
    "created_at",
)
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
        for word in WORD.findall(f"{report.public_title} {report.public_body}".lower())
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
    when the caller has read it already. Two queries (three without ``scope``) besides the access layer's:
    the pool in narrow rows, then the candidates shown whole (none without a candidate)."""
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
    # The pool in narrow rows (what the comparison reads); only the candidates shown are read whole.
    rows = list(
        pool.filter(status__in=OPEN_PUBLISHED_STATUSES, is_confidential=False, merged_into__isnull=True)
        .exclude(pk=report.pk)
        .only(*COMPARED_FIELDS)
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
    chosen = sorted(found, key=lambda candidate: candidate.rank, reverse=True)[:limit]
    if not chosen:
        return []
    whole = Report.objects.select_related(*SUMMARY_RELATIONS).in_bulk([candidate.report.pk for candidate in chosen])
    return [dataclasses.replace(candidate, report=whole[candidate.report.pk]) for candidate in chosen]


def institutions_by_id(ids: Iterable[int]) -> dict[int, Institution]:
    """Institutions by primary key (the trail's details name them by id), in one query or none."""
    wanted = {pk for pk in ids if isinstance(pk, int)}
    return Institution.objects.in_bulk(wanted) if wanted else {}
