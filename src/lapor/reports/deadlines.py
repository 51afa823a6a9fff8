"""The legal clocks of a report: their budgets, their due times and their green / yellow / red state.

Budgets come from institutions.selectors.effective_deadlines: settings.REPORT_DEADLINES (national
defaults from the regulations) unless the owning institution or one above it overrides them
(institutions.DeadlineOverride, e.g. 48 hours for a first answer in Kabupaten Tangerang). Every due
time is computed by the one working-day calendar in the report's time zone, and moves later by the
working days the report spent paused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from django.utils import timezone

from lapor.core.calendar import Pause, WorkingCalendar, working_calendar
from lapor.institutions.choices import DeadlineClock
from lapor.institutions.models import Institution
from lapor.institutions.selectors import EffectiveDeadline, effective_deadlines, national_deadline
from lapor.reports.choices import Clock, ClockState, ReportWeight
from lapor.reports.models import Report, ReportClock, ReportPause

# Defined by the workflow table; named here as well because services stop them through this module.
from lapor.reports.workflow import INSTITUTION_CLOCKS

WORKING_DAYS = "working_days"
HOURS = "hours"
DAYS = "days"
YELLOW_AT = 0.75

# The resolution budget a report's weight sets (the weight picks which institutions' clock applies).
RESOLUTION_CLOCKS = {
    ReportWeight.LIGHT: DeadlineClock.RESOLUTION_LIGHT,
    ReportWeight.NORMATIVE: DeadlineClock.RESOLUTION_NORMATIVE,
    ReportWeight.NO_INVESTIGATION: DeadlineClock.RESOLUTION_NO_INVESTIGATION,
    ReportWeight.INVESTIGATION: DeadlineClock.RESOLUTION_INVESTIGATION,
}


@dataclasses.dataclass(frozen=True)
class Budget:
    amount: int
    unit: str  # WORKING_DAYS, HOURS or DAYS


def _override_key(clock: Clock, weight: str) -> DeadlineClock | None:
    if clock == Clock.RESOLUTION:
        return RESOLUTION_CLOCKS[ReportWeight(weight or ReportWeight.NORMATIVE)]
    if clock == Clock.INFORMATION_REPLY:
        return None
    return DeadlineClock(clock.value)


def budgets_for(institution: Institution) -> Mapping[DeadlineClock, EffectiveDeadline]:
    """Every clock's budget for ``institution`` (institutions.selectors.effective_deadlines), with its
    overrides kept by the process for a while (lapor.core.reference): one query at most."""
    return effective_deadlines(institution=institution, cached=True)


def budget_for(
    clock: Clock,
    *,
    institution: Institution,
    weight: str = "",
    budgets: Mapping[DeadlineClock, EffectiveDeadline] | None = None,
) -> Budget:
    """The clock's budget; ``budgets``: those of `budgets_for(institution)`, when the caller has them
    already."""
    key = _override_key(clock, weight)
    if key is None:
        amount, unit = national_deadline(clock.value)
        return Budget(amount, unit)
    found = (budgets if budgets is not None else budgets_for(institution))[key]
    return Budget(found.amount, found.unit)


def _add(
    started_at: datetime, amount: float, unit: str, *, zone: str, pauses: list[Pause], calendar: WorkingCalendar
) -> datetime:
    if unit == WORKING_DAYS:
        whole = int(amount)
        end_of_whole = calendar.add_working_days(started_at, whole, zone=zone, pauses=pauses)
        # A share of a working day counts as that share of the next 24 hours.
        return end_of_whole + timedelta(days=amount - whole)
    if unit == HOURS:
        whole_hours = int(amount)
        return calendar.add_hours(started_at, whole_hours, pauses=pauses) + timedelta(hours=amount - whole_hours)
    paused = sum(((end - start) for start, end in pauses), timedelta())
    return started_at + timedelta(days=amount) + paused


def schedule(clock: ReportClock, *, zone: str, pauses: Iterable[Pause], calendar: WorkingCalendar) -> None:
    """Set the clock's due time and the moment it turns yellow (75% of the budget used)."""
    pause_list = list(pauses)
    clock.due_at = _add(
        clock.started_at, clock.budget, clock.budget_unit, zone=zone, pauses=pause_list, calendar=calendar
    )
    yellow = _add(
        clock.started_at, clock.budget * YELLOW_AT, clock.budget_unit, zone=zone, pauses=pause_list, calendar=calendar
    )
    clock.yellow_at = min(yellow, clock.due_at)


def clock_start(
    report: Report, clock: Clock, *, at: datetime, institution: Institution, calendar: WorkingCalendar
) -> ReportClock:
    budget = budget_for(clock, institution=institution, weight=report.weight)
    clocks_stop(report, [clock], at=at)
    running = ReportClock(report=report, clock=clock, started_at=at, budget=budget.amount, budget_unit=budget.unit)
    schedule(running, zone=report.time_zone, pauses=(), calendar=calendar)
    running.save(force_insert=True)
    from lapor.reports.timers import schedule_after_commit  # imported late: timers -> services -> deadlines

    schedule_after_commit([running])
    return running


def clocks_restart(
    report: Report,
    *,
    stops: Iterable[Clock],
    starts: Iterable[Clock],
    at: datetime,
    institution: Institution,
    calendar: WorkingCalendar,
    new_report: bool = False,
) -> list[ReportClock]:
    """`clocks_stop` of ``stops``, then `clock_start` of each of ``starts`` (in that order), with one
    UPDATE, one read of the overrides and one INSERT. ``new_report``: the report was created in this
    transaction, so that it has no clock to stop."""
    starting = list(starts)
    if not new_report:
        clocks_stop(report, [*stops, *starting], at=at)
    if not starting:
        return []
    budgets = budgets_for(institution)
    running = []
    for clock in starting:
        budget = budget_for(clock, institution=institution, weight=report.weight, budgets=budgets)
        started = ReportClock(report=report, clock=clock, started_at=at, budget=budget.amount, budget_unit=budget.unit)
        schedule(started, zone=report.time_zone, pauses=(), calendar=calendar)
        running.append(started)
    ReportClock.objects.bulk_create(running)
    from lapor.reports.timers import schedule_after_commit

    schedule_after_commit(running)
    return running


def clocks_stop(report: Report, clocks: Iterable[Clock], *, at: datetime) -> None:
    from lapor.reports.timers import note_clocks_changed

    names = list(clocks)
    ReportClock.objects.filter(report=report, clock__in=names, stopped_at__isnull=True).update(stopped_at=at)
    note_clocks_changed(report.pk, names, stopped_at=at)


def clocks_pause(report: Report, *, at: datetime, reason: str) -> None:
    from lapor.reports.timers import note_clocks_changed

    ReportPause.objects.create(report=report, started_at=at, reason=reason)
    ReportClock.objects.filter(
        report=report, clock__in=INSTITUTION_CLOCKS, stopped_at__isnull=True, paused_at__isnull=True
    ).update(paused_at=at)
    note_clocks_changed(report.pk, INSTITUTION_CLOCKS, paused_at=at)


def clocks_unpause(report: Report, *, at: datetime, calendar: WorkingCalendar) -> None:
    ReportPause.objects.filter(report=report, ended_at__isnull=True).update(ended_at=at)
    running = list(ReportClock.objects.filter(report=report, clock__in=INSTITUTION_CLOCKS, stopped_at__isnull=True))
    if not running:
        return
    pauses = [(pause.started_at, pause.ended_at or at) for pause in ReportPause.objects.filter(report=report)]
    for clock in running:
        relevant = [(max(start, clock.started_at), end) for start, end in pauses if end > clock.started_at]
        schedule(clock, zone=report.time_zone, pauses=relevant, calendar=calendar)
        clock.paused_at = None
    ReportClock.objects.bulk_update(running, ["due_at", "yellow_at", "paused_at"])
    from lapor.reports.timers import schedule_after_commit

    schedule_after_commit(running)


def overall_deadline_passed(report: Report, *, now: datetime | None = None) -> bool:
    """Whether the report's overall deadline (60 days) has passed: then the reporter may ask the
    Ombudsman to take it over."""
    overall = report.clocks.filter(clock=Clock.OVERALL).order_by("-started_at").first()
    return overall is not None and overall.due_at <= (now or timezone.now())


def clock_state(clock: ReportClock, *, now: datetime | None = None) -> ClockState:
    """Green, yellow (75% of the time used), red (overdue) or paused; needs no query."""
    now = now or timezone.now()
    if clock.paused_at is not None and clock.stopped_at is None:
        return ClockState.PAUSED
    end = clock.stopped_at or now
    if end > clock.due_at:
        return ClockState.RED
    return ClockState.YELLOW if end >= clock.yellow_at else ClockState.GREEN


class _CalendarOnDemand:
    """The working calendar, read from the database the first time a due time is computed: a service
    call that starts or moves no clock sends no query for it."""

    def __init__(self) -> None:
        self._calendar: WorkingCalendar | None = None

    def __getattr__(self, name: str) -> Any:
        if self._calendar is None:
            self._calendar = working_calendar()
        return getattr(self._calendar, name)


def new_calendar() -> WorkingCalendar:
    return cast(WorkingCalendar, _CalendarOnDemand())
