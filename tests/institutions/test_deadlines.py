"""An institution's effective deadlines: one function says every clock's budget and where it comes from
(its own override, the nearest institution's above it, or the national default of the settings)."""

from __future__ import annotations

import copy

from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.core import reference
from lapor.institutions.choices import DeadlineClock, DeadlineUnit
from lapor.institutions.selectors import (
    DeadlineSource,
    effective_deadline,
    effective_deadlines,
    national_deadline,
)
from lapor.institutions.services import deadline_override_remove, deadline_override_set


def test_own_override_wins_over_the_nearest_ancestor_which_wins_over_the_national_default(
    banten, django_assert_num_queries
):
    deadline_override_set(
        institution=banten.province, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=4, unit=DeadlineUnit.WORKING_DAYS
    )
    deadline_override_set(
        institution=banten.regency, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit=DeadlineUnit.HOURS
    )
    deadline_override_set(
        institution=banten.balaraja,
        clock=DeadlineClock.RESOLUTION_LIGHT,
        amount=1,
        unit=DeadlineUnit.WORKING_DAYS,
        basis="SOP Kecamatan",
    )

    with django_assert_num_queries(1):
        budgets = effective_deadlines(institution=banten.balaraja)

    assert list(budgets) == list(DeadlineClock)
    own = budgets[DeadlineClock.RESOLUTION_LIGHT]
    assert (own.amount, own.unit, own.source, own.institution, own.basis) == (
        1,
        "working_days",
        DeadlineSource.OWN,
        banten.balaraja,
        "SOP Kecamatan",
    )
    # The regency is nearer than the province: its 2x24 hours apply, not the province's 4 days.
    inherited = budgets[DeadlineClock.FIRST_FOLLOW_UP]
    assert (inherited.amount, inherited.unit, inherited.source, inherited.institution) == (
        48,
        "hours",
        DeadlineSource.INHERITED,
        banten.regency,
    )
    national = budgets[DeadlineClock.VERIFY_DISPATCH]
    assert (national.amount, national.unit, national.source, national.institution, national.basis) == (
        3,
        "working_days",
        DeadlineSource.NATIONAL,
        None,
        "",
    )
    assert (budgets[DeadlineClock.OVERALL].amount, budgets[DeadlineClock.OVERALL].unit) == (60, "days")
    assert budgets[DeadlineClock.RESOLUTION_INVESTIGATION].amount == 60

    # Another branch of the tree sees only the province's override.
    city_follow_up = effective_deadlines(institution=banten.city)[DeadlineClock.FIRST_FOLLOW_UP]
    assert (city_follow_up.amount, city_follow_up.source, city_follow_up.institution) == (
        4,
        DeadlineSource.INHERITED,
        banten.province,
    )
    # Removing the regency's override lets the province's apply below it.
    deadline_override_remove(institution=banten.regency, clock=DeadlineClock.FIRST_FOLLOW_UP)
    fallback = effective_deadlines(institution=banten.balaraja_village)[DeadlineClock.FIRST_FOLLOW_UP]
    assert (fallback.amount, fallback.source, fallback.institution) == (4, DeadlineSource.INHERITED, banten.province)
    # The single-clock question answers from the same rule.
    found = effective_deadline(institution=banten.balaraja_village, clock=DeadlineClock.FIRST_FOLLOW_UP)
    assert found is not None
    assert found.institution == banten.province
    assert effective_deadline(institution=banten.city, clock=DeadlineClock.VERIFY_DISPATCH) is None


def test_national_defaults_are_read_from_the_settings_each_time(banten, settings):
    deadline_override_set(
        institution=banten.regency, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit=DeadlineUnit.HOURS
    )
    changed = copy.deepcopy(settings.REPORT_DEADLINES)
    changed["verify_dispatch"] = (2, "working_days")
    changed["resolution"]["normatif"] = (7, "working_days")
    changed["information_reply"] = (12, "working_days")
    settings.REPORT_DEADLINES = changed

    budgets = effective_deadlines(institution=banten.transport_office, cached=True)
    assert budgets[DeadlineClock.VERIFY_DISPATCH].amount == 2
    assert budgets[DeadlineClock.RESOLUTION_NORMATIVE].amount == 7
    assert budgets[DeadlineClock.FIRST_FOLLOW_UP].amount == 48
    # The reporter's clock, which no institution overrides, has only its national default.
    assert national_deadline("information_reply") == (12, "working_days")
    assert national_deadline(DeadlineClock.RESOLUTION_NORMATIVE) == (7, "working_days")


def test_the_cached_answer_costs_no_query_and_follows_a_change(banten):
    reference.reset()  # the fixtures wrote institutions in this (still open) test transaction

    def queries(action: object) -> int:
        with CaptureQueriesContext(connection) as captured:
            action()  # type: ignore[operator]
        return len(captured)

    assert queries(lambda: effective_deadlines(institution=banten.jayanti, cached=True)) == 1
    assert queries(lambda: effective_deadlines(institution=banten.jayanti, cached=True)) == 0
    assert effective_deadlines(institution=banten.jayanti, cached=True)[DeadlineClock.OVERALL].source == "national"

    deadline_override_set(institution=banten.jayanti, clock=DeadlineClock.OVERALL, amount=30, unit=DeadlineUnit.HOURS)

    budget = effective_deadlines(institution=banten.jayanti, cached=True)[DeadlineClock.OVERALL]
    assert (budget.amount, budget.unit, budget.source) == (30, "hours", DeadlineSource.OWN)
