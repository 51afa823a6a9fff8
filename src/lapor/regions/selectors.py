"""Reads of regions. Each selector costs one query at most (none when the answer needs no database)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length

from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, ancestor_codes, region_level
from lapor.regions.models import Region, RegionNameToken
from lapor.regions.tokens import name_tokens, prefix_upper_bound

__all__ = [
    "InvalidRegionCode",
    "ancestor_codes",
    "region_ancestors",
    "region_children",
    "region_get",
    "region_names",
    "region_search",
    "region_search_queryset",
]

# Words beyond these add little to a place name search and each costs a subquery.
MAX_QUERY_TOKENS: Final = 6
MAX_SEARCH_LIMIT: Final = 200


def region_get(code: str) -> Region:
    """The region with this code, active or not. Raises InvalidRegionCode or Region.DoesNotExist."""
    region_level(code)
    return Region.objects.get(code=code)


def region_children(code: str | None, *, include_inactive: bool = False) -> QuerySet[Region]:
    """The regions directly below ``code`` (the provinces for None), ordered by code."""
    if code is None:
        children = Region.objects.filter(level=RegionLevel.PROVINCE)
    else:
        region_level(code)
        children = Region.objects.filter(parent_id=code)
    if not include_inactive:
        children = children.filter(is_active=True)
    return children.order_by("code")


def region_ancestors(code: str, *, include_self: bool = False) -> list[Region]:
    """The regions above ``code``, province first, read in one query from the prefixes of the code.

    Deactivated ancestors are included: a region's history does not change when a code is retired.
    """
    codes = ancestor_codes(code)
    if not include_self:
        codes = codes[:-1]
    if not codes:
        return []
    return list(Region.objects.filter(code__in=codes).order_by("level"))


def region_search(
    query: str,
    *,
    limit: int = 20,
    level: RegionLevel | int | None = None,
    within: str | None = None,
    include_inactive: bool = False,
) -> list[Region]:
    """Regions whose name has a word starting with each word of ``query``, best first, in one query.

    "tangerang sel" finds Kota Tangerang Selatan. Every word must match; among the matches, higher
    levels come first (provinces and regencies before villages), then shorter names, then codes.
    ``level`` keeps one level; ``within`` keeps the regions below the region with that code.
    """
    return list(
        region_search_queryset(query, limit=limit, level=level, within=within, include_inactive=include_inactive)
    )


def region_search_queryset(
    query: str,
    *,
    limit: int = 20,
    level: RegionLevel | int | None = None,
    within: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[Region]:
    """The single query behind ``region_search``, unevaluated (to EXPLAIN it, or add select_related)."""
    if within is not None:
        region_level(within)
    # The longest word is likely the rarest: it drives, the others only confirm.
    tokens = sorted(name_tokens(query)[:MAX_QUERY_TOKENS], key=len, reverse=True)
    limit = min(limit, MAX_SEARCH_LIMIT)
    if not tokens or limit <= 0:
        return Region.objects.none()
    candidates = RegionNameToken.objects.filter(_prefix_range(tokens[0]))
    for token in tokens[1:]:
        candidates = candidates.filter(
            region_id__in=RegionNameToken.objects.filter(_prefix_range(token)).values("region_id")
        )
    if level is not None:
        candidates = candidates.filter(region_level=level)
    if within is not None:
        candidates = candidates.filter(region__code__startswith=f"{within}.")
    if not include_inactive:
        candidates = candidates.filter(region_is_active=True)
    # Ranked and cut on the token table, so that only `limit` regions are read. Grouping drops the
    # second token of a region that matches the driving word twice ("sel" in "Selat Selatan").
    best = (
        candidates.values("region_id", "region_level", "region_name_length")
        .annotate(matched_tokens=Count("id"))
        .order_by("region_level", "region_name_length", "region_id")
        .values("region_id")[:limit]
    )
    return Region.objects.filter(code__in=best).order_by("level", Length("name"), "code")


def _prefix_range(prefix: str) -> Q:
    # A prefix as a range, which both databases answer from the (token, region) index.
    upper_bound = prefix_upper_bound(prefix)
    if upper_bound is None:
        return Q(token__gte=prefix)
    return Q(token__gte=prefix, token__lt=upper_bound)


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """The names of the regions with these codes, in one query (codes not stored are left out)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return dict(Region.objects.filter(code__in=wanted).order_by().values_list("code", "name"))
