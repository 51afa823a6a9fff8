"""The lifecycle's clocks take their budgets from the institution's effective deadlines (one rule, in
institutions.selectors), and the clocks that count against an institution are named once."""

from __future__ import annotations

from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lapor.core import reference
from lapor.institutions.choices import DeadlineClock, DeadlineUnit
from lapor.institutions.selectors import effective_deadlines, national_deadline
from lapor.institutions.services import deadline_override_set
from lapor.reports import deadlines, serializers, services, workflow
from lapor.reports.choices import Clock, ReportWeight
from lapor.reports.models import ReportClock


def test_every_budget_of_a_clock_is_the_institutions_effective_deadline(world):
    deadline_override_set(institution=world.city, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit="hours")
    deadline_override_set(
        institution=world.transport, clock=DeadlineClock.RESOLUTION_LIGHT, amount=1, unit=DeadlineUnit.WORKING_DAYS
    )
    effective = effective_deadlines(institution=world.transport)
    for clock in Clock:
        for weight in ReportWeight:
            budget = deadlines.budget_for(clock, institution=world.transport, weight=weight)
            if clock == Clock.INFORMATION_REPLY:
                expected = national_deadline(clock.value)
            else:
                key = deadlines.RESOLUTION_CLOCKS[weight] if clock == Clock.RESOLUTION else DeadlineClock(clock.value)
                expected = (effective[key].amount, effective[key].unit)
            assert (budget.amount, budget.unit) == expected, (clock, weight)
    assert (deadlines.budget_for(Clock.FIRST_FOLLOW_UP, institution=world.transport).unit) == "hours"


def test_a_dispatched_reports_clocks_carry_the_overrides_in_force(world):
    deadline_override_set(institution=world.city, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit="hours")
    deadline_override_set(
        institution=world.transport, clock=DeadlineClock.RESOLUTION_LIGHT, amount=1, unit=DeadlineUnit.WORKING_DAYS
    )
    report = services.report_dispatch(
        user=world.national_admin, report=world.submit(), institution=world.transport, weight=ReportWeight.LIGHT
    ).report
    running = {
        clock.clock: (clock.budget, clock.budget_unit)
        for clock in ReportClock.objects.filter(report=report, stopped_at__isnull=True)
    }
    assert running[Clock.FIRST_FOLLOW_UP] == (48, "hours")
    assert running[Clock.RESOLUTION] == (1, "working_days")
    assert running[Clock.OVERALL] == (60, "days")


def test_starting_one_clock_reads_the_overrides_from_the_reference_cache(world):
    report = world.submit()
    reference.reset()  # the world was written in this (still open) test transaction
    deadlines.budgets_for(world.city)
    with CaptureQueriesContext(connection) as captured:
        deadlines.clock_start(
            report, Clock.VERIFY_DISPATCH, at=timezone.now(), institution=world.city, calendar=deadlines.new_calendar()
        )
    assert not [query for query in captured if "institutions_deadlineoverride" in query["sql"]]


def test_the_institutions_clocks_are_named_once():
    source = Path(deadlines.__file__).parent
    defined = [path.name for path in sorted(source.rglob("*.py")) if "INSTITUTION_CLOCKS =" in path.read_text()]
    assert defined == ["workflow.py"]
    assert serializers.PUBLIC_CLOCKS is workflow.INSTITUTION_CLOCKS
