"""Reads of institutions and categories. Each selector is one query answered from indexes."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lapor.core import reference
from lapor.core.tree import subtree_q
from lapor.institutions.choices import DeadlineClock
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import (
    Category,
    DeadlineOverride,
    FollowUpTemplate,
    Institution,
    InstitutionCategory,
    InstitutionCoverage,
)
from lapor.regions.selectors import InvalidRegionCode, ancestor_codes

__all__ = [
    "CoveringReason",
    "DeadlineSource",
    "EffectiveDeadline",
    "category_ancestors",
    "category_subtree",
    "category_tree",
    "covering_reason",
    "deadline_overrides_in_force",
    "effective_deadline",
    "effective_deadlines",
    "effective_time_zone",
    "follow_up_templates_for",
    "institution_ancestors",
    "institution_category_codes",
    "institution_region_codes",
    "institution_subtree",
    "is_national_institution",
    "national_deadline",
    "national_institution",
    "region_codes_covering",
    "units_covering",
]


def institution_subtree(institution: Institution, *, include_self: bool = True) -> QuerySet[Institution]:
    """The institution and every unit below it, in tree order (one index range scan)."""
    return Institution.objects.filter(subtree_q(institution.path, include_self=include_self)).order_by("path")


def institution_ancestors(institution: Institution, *, include_self: bool = False) -> QuerySet[Institution]:
    """The institutions above this one, root first; paths come from the string, so no recursion.

    For a root without ``include_self`` the queryset is empty and costs no query.
    """
    return Institution.objects.filter(path__in=institution.ancestor_paths(include_self=include_self)).order_by("path")


def national_institution() -> Institution | None:
    """The national institution: where the national admin verifies and dispatches, and where a report
    with no target institution starts (``settings.NATIONAL_INSTITUTION_CODE``); None while it is not
    loaded or not active. The one way to find it. Kept in the reference cache (`lapor.core.reference`):
    a copy is returned, since the caller may attach it to a report and the cached one is shared."""
    code = settings.NATIONAL_INSTITUTION_CODE
    shared = reference.cached(
        ("national-institution", code), lambda: Institution.objects.filter(code=code, is_active=True).first()
    )
    return copy.copy(shared)


def is_national_institution(institution: Institution | None) -> bool:
    """Whether ``institution`` is the national institution (no query)."""
    return institution is not None and institution.code == settings.NATIONAL_INSTITUTION_CODE


def institution_region_codes(institution: Institution) -> list[str]:
    """The codes of the regions the institution covers, sorted (its whole-country row left out)."""
    return sorted(
        InstitutionCoverage.objects.filter(institution=institution, region__isnull=False).values_list(
            "region_id", flat=True
        )
    )


def institution_category_codes(institution: Institution) -> set[str]:
    """The codes of the categories the institution handles (not those it handles through
    ``handles_all_categories``, nor subcategories of those it handles)."""
    return set(InstitutionCategory.objects.filter(institution=institution).values_list("category__code", flat=True))


def region_codes_covering(village_code: str) -> list[str]:
    """The region codes whose coverage includes ``village_code``: the code itself and its ancestors."""
    try:
        return ancestor_codes(village_code)
    except InvalidRegionCode as error:
        raise InstitutionError(
            InstitutionErrorCode.INVALID_REGION_CODE,
            _("Not a region code: %(codes)s.") % {"codes": village_code},
            codes=[village_code],
        ) from error


def units_covering(
    *,
    village_code: str,
    category: Category | None = None,
    kinds: Iterable[str] | None = None,
    sectors: Iterable[str] | None = None,
) -> QuerySet[Institution]:
    """The active institutions and units that serve ``village_code``, deepest first.

    An institution serves the village when one of its coverage rows is the village or a region above
    it, or it covers the whole country; with ``category``, it must also handle that category or one
    above it (or handle every category). Each row carries why it matched, for dispatchers to see:
    ``matched_region_code`` / ``matched_region_name`` (the narrowest matching coverage; None for
    whole-country coverage) and ``matched_category_code`` / ``matched_category_name`` (the narrowest
    handled category; None without ``category`` or for units that handle everything). Read them
    through :func:`covering_reason`. ``village_code`` may also be a district or regency code.
    """
    region_codes = region_codes_covering(village_code)
    # The whole-country coverage is a row with no region (see InstitutionCoverage), so this is one
    # index lookup on coverage.region rather than an OR with a column of the institution table.
    covering = Q(region_id__in=region_codes) | Q(region__isnull=True)
    # An uncorrelated IN (not EXISTS) lets SQLite, too, start from the few matching coverage rows and
    # fetch institutions by primary key, instead of testing every institution.
    covering_ids = InstitutionCoverage.objects.filter(covering).values("institution_id")
    narrowest_coverage = InstitutionCoverage.objects.filter(covering, institution_id=OuterRef("pk")).order_by(
        F("region_id").desc(nulls_last=True)
    )
    units = Institution.objects.filter(pk__in=covering_ids, is_active=True).annotate(
        matched_region_code=Subquery(narrowest_coverage.values("region_id")[:1]),
        matched_region_name=Subquery(narrowest_coverage.values("region__name")[:1]),
    )
    if category is None:
        units = units.annotate(
            matched_category_code=Value(None, output_field=CharField()),
            matched_category_name=Value(None, output_field=CharField()),
        )
    else:
        handled = InstitutionCategory.objects.filter(
            institution_id=OuterRef("pk"), category__path__in=category.ancestor_paths(include_self=True)
        )
        narrowest_category = handled.order_by("-category__path")
        units = units.filter(Q(handles_all_categories=True) | Exists(handled)).annotate(
            matched_category_code=Subquery(narrowest_category.values("category__code")[:1]),
            matched_category_name=Subquery(narrowest_category.values("category__name")[:1]),
        )
    if kinds is not None:
        units = units.filter(kind__in=list(kinds))
    if sectors is not None:
        units = units.filter(sector__in=list(sectors))
    return units.order_by("-depth", "path")


@dataclass(frozen=True)
class CoveringReason:
    """Why ``units_covering`` returned a unit, in words a dispatcher can read."""

    region_code: str | None
    region_name: str | None
    category_code: str | None
    category_name: str | None
    nationally: bool
    all_categories: bool

    def __str__(self) -> str:
        if self.region_code is not None:
            area = _("covers %(region)s (%(code)s)") % {"region": self.region_name, "code": self.region_code}
        else:
            area = _("covers the whole country")
        if self.category_code is not None:
            handles = _("handles %(category)s") % {"category": self.category_name}
        elif self.all_categories:
            handles = _("handles every category")
        else:
            return area
        return _("%(area)s; %(handles)s") % {"area": area, "handles": handles}


def covering_reason(unit: Institution) -> CoveringReason:
    """The reason carried by a row of :func:`units_covering` (no query)."""
    region_code = getattr(unit, "matched_region_code", None)
    return CoveringReason(
        region_code=region_code,
        region_name=getattr(unit, "matched_region_name", None),
        category_code=getattr(unit, "matched_category_code", None),
        category_name=getattr(unit, "matched_category_name", None),
        nationally=region_code is None and unit.covers_nationally,
        all_categories=unit.handles_all_categories,
    )


class DeadlineSource(StrEnum):
    """Where a budget comes from: the institution's own override, an override of an institution above
    it (inherited), or the national default of settings.REPORT_DEADLINES."""

    OWN = "own"
    INHERITED = "inherited"
    NATIONAL = "national"


# settings.REPORT_DEADLINES keeps the resolution budgets by the report's weight (the values of
# reports.choices.ReportWeight, which this app may not import).
_NATIONAL_RESOLUTION_KEYS = {
    DeadlineClock.RESOLUTION_LIGHT: "ringan",
    DeadlineClock.RESOLUTION_NORMATIVE: "normatif",
    DeadlineClock.RESOLUTION_NO_INVESTIGATION: "tidak_berkadar_pengawasan",
    DeadlineClock.RESOLUTION_INVESTIGATION: "berkadar_pengawasan",
}
_UNIT_LABELS = {
    "working_days": gettext_lazy("working days"),
    "hours": gettext_lazy("hours"),
    "days": gettext_lazy("calendar days"),
}


@dataclass(frozen=True)
class EffectiveDeadline:
    """The budget of one clock for an institution, and where it comes from."""

    clock: DeadlineClock
    amount: int
    unit: str  # "working_days", "hours" or "days" (the national overall deadline counts calendar days)
    source: DeadlineSource
    # The override in force (the institution's own or the nearest one above it's); None: national.
    override: DeadlineOverride | None = None

    @property
    def institution(self) -> Institution | None:
        """The institution whose override sets the budget; None for the national default."""
        return None if self.override is None else self.override.institution

    @property
    def basis(self) -> str:
        return "" if self.override is None else self.override.basis

    @property
    def unit_label(self) -> str:
        return str(_UNIT_LABELS.get(self.unit, self.unit))


def national_deadline(clock: str) -> tuple[int, str]:
    """The national default (amount, unit) of settings.REPORT_DEADLINES for ``clock``: a DeadlineClock,
    or a clock no institution overrides (the reporter's "information_reply")."""
    defaults: dict[str, Any] = settings.REPORT_DEADLINES
    weight = _NATIONAL_RESOLUTION_KEYS.get(DeadlineClock(clock)) if clock in DeadlineClock.values else None
    amount, unit = defaults["resolution"][weight] if weight is not None else defaults[clock]
    return int(amount), str(unit)


def deadline_overrides_in_force(*, institution: Institution, cached: bool = False) -> Mapping[str, DeadlineOverride]:
    """The override that applies to ``institution`` for each clock that has one: its own, or that of
    the nearest institution above it. One query, each override with its institution loaded; with
    ``cached``, kept by the process for a while (lapor.core.reference), for the lifecycle's services."""
    paths = tuple(institution.ancestor_paths(include_self=True))
    if cached:
        return reference.cached(("deadline-overrides", paths), lambda: _overrides_in_force(paths))
    return _overrides_in_force(paths)


def _overrides_in_force(paths: Sequence[str]) -> Mapping[str, DeadlineOverride]:
    found: dict[str, DeadlineOverride] = {}
    rows = (
        DeadlineOverride.objects.filter(institution__path__in=paths)
        .select_related("institution")
        .order_by("-institution__depth", "pk")
    )
    for override in rows:
        found.setdefault(override.clock, override)
    return MappingProxyType(found)


def effective_deadlines(*, institution: Institution, cached: bool = False) -> dict[DeadlineClock, EffectiveDeadline]:
    """The budget of every clock for ``institution``, each with its source: its own override, else the
    nearest institution's above it, else the national default. The one place that rule lives: the
    lifecycle's services (with ``cached``), the console's deadline page and statistics all ask here.
    One query (none while cached)."""
    overrides = deadline_overrides_in_force(institution=institution, cached=cached)
    budgets: dict[DeadlineClock, EffectiveDeadline] = {}
    for clock in DeadlineClock:
        override = overrides.get(clock.value)
        if override is None:
            amount, unit = national_deadline(clock)
            budgets[clock] = EffectiveDeadline(clock, amount, unit, DeadlineSource.NATIONAL)
        else:
            own = override.institution_id == institution.pk
            source = DeadlineSource.OWN if own else DeadlineSource.INHERITED
            budgets[clock] = EffectiveDeadline(clock, override.amount, override.unit, source, override)
    return budgets


def effective_deadline(*, institution: Institution, clock: str) -> DeadlineOverride | None:
    """The override of ``clock`` that applies to ``institution`` (see `effective_deadlines`); None when
    the national default applies."""
    return effective_deadlines(institution=institution)[DeadlineClock(clock)].override


def effective_time_zone(*, institution: Institution) -> str:
    """The time zone set on the institution or the nearest one above it; "" when none is set (then
    the zone of its region or the site default applies)."""
    zone = (
        Institution.objects.filter(path__in=institution.ancestor_paths(include_self=True))
        .exclude(time_zone="")
        .order_by("-depth")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone or ""


def follow_up_templates_for(institution: Institution) -> QuerySet[FollowUpTemplate]:
    """The follow-up templates ``institution`` may use: its own and those of every institution above
    it; the nearest institution's first, then by name (one query). Each row has its institution
    loaded, to show whose template it is."""
    return (
        FollowUpTemplate.objects.filter(institution__path__in=institution.ancestor_paths(include_self=True))
        .select_related("institution")
        .order_by("-institution__depth", "name", "pk")
    )


def category_ancestors(category: Category, *, include_self: bool = False) -> QuerySet[Category]:
    """The categories above this one, top-level first (for breadcrumbs: Infrastruktur > ...)."""
    return Category.objects.filter(path__in=category.ancestor_paths(include_self=include_self)).order_by("path")


def category_subtree(category: Category, *, include_self: bool = True) -> QuerySet[Category]:
    """The category and all its subcategories, in tree order."""
    return Category.objects.filter(subtree_q(category.path, include_self=include_self)).order_by("path")


def category_tree(*, include_inactive: bool = False) -> list[Category]:
    """Every category in tree order, for pickers: indent by ``depth``; one query.

    Without ``include_inactive``, an inactive category hides its whole subtree, so a picker never
    offers a subcategory whose area was withdrawn.
    """
    categories = list(Category.objects.order_by("path"))
    if include_inactive:
        return categories
    shown: list[Category] = []
    hidden_prefix: str | None = None
    for category in categories:
        if hidden_prefix is not None and category.path.startswith(hidden_prefix):
            continue
        hidden_prefix = None
        if not category.is_active:
            hidden_prefix = category.path
            continue
        shown.append(category)
    return shown
