"""The timers of the report lifecycle, driven through the real services: warnings at yellow,
escalation at breach, reminders and the automatic archive of unanswered requests, deemed completion,
the end of holds, the sweep that catches what no task did, the worker, and two workers at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from lapor.core.audit import chain_verify
from lapor.core.calendar import working_calendar
from lapor.core.management.commands.worker import Sweeper, sweeps_from_settings
from lapor.reports import services, timers
from lapor.reports.choices import Action, Actor, ArchiveReason, Clock, ClosureReason, Status, Visibility
from lapor.reports.errors import ReportError
from lapor.reports.models import Report, ReportClock, ReportEvent
from lapor.reports.tasks import run_clock
from tests.reports.conftest import World, build_world

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SECOND = timedelta(seconds=1)


# Helpers


def clock_of(report: Report, kind: Clock) -> ReportClock:
    return ReportClock.objects.get(report=report, clock=kind, stopped_at__isnull=True)


def events(report: Report, action: Action) -> list[ReportEvent]:
    return list(ReportEvent.objects.filter(report=report, action=action).order_by("sequence"))


def dispatched(world: World, institution=None) -> Report:
    report = world.submit()
    return services.report_dispatch(
        user=world.national_admin, report=report, institution=institution or world.transport
    ).report


def awaiting_information(world: World) -> Report:
    return services.report_request_information(
        user=world.national_admin, report=world.submit(), question="Di RT/RW berapa lampu itu?"
    ).report


def completed(world: World) -> Report:
    report = dispatched(world)
    return services.report_follow_up(
        user=world.officer, report=report, message="Lampu sudah diganti.", final=True
    ).report


def move_into_past(clock: ReportClock, **fields: datetime) -> None:
    ReportClock.objects.filter(pk=clock.pk).update(**fields)
    clock.refresh_from_db()


def started_earlier(clock: ReportClock, by: timedelta) -> None:
    move_into_past(clock, started_at=clock.started_at - by, yellow_at=clock.yellow_at - by, due_at=clock.due_at - by)


@pytest.fixture
def committed_events(committed_rows_purged: None) -> None:
    """Tests that commit leave the append-only trail to the suite's purge before Django's flush."""


# Warning at yellow


def test_the_handlers_are_warned_once_when_a_clock_turns_yellow(world):
    report = dispatched(world, world.city)
    report = services.report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    clock = clock_of(report, Clock.FIRST_FOLLOW_UP)

    assert not timers.clock_warn(clock_id=clock.pk, now=clock.yellow_at - SECOND)
    assert timers.clock_warn(clock_id=clock.pk, now=clock.yellow_at)
    assert not timers.clock_warn(clock_id=clock.pk, now=clock.yellow_at + timedelta(hours=1))
    timers.reconcile(now=clock.yellow_at + timedelta(hours=2))  # warns the resolution clock, due the same day

    [warning] = [event for event in events(report, Action.WARN) if event.details["clock_id"] == clock.pk]
    assert warning.actor_role == Actor.SYSTEM
    assert warning.actor is None
    assert warning.visibility == Visibility.STAFF
    assert warning.from_status == warning.to_status == Status.DISPATCHED
    # The owner's coordinator and the liaison officer of the unit it was forwarded to.
    assert warning.details["notify_user_ids"] == sorted([world.coordinator.pk, world.officer.pk])
    assert warning.details["notify_institution"] == world.city.pk
    clock.refresh_from_db()
    assert clock.warned_at == clock.yellow_at
    assert Report.objects.get(pk=report.pk).status == Status.DISPATCHED


def test_the_national_queue_warns_the_national_admins(world):
    report = world.submit()
    clock = clock_of(report, Clock.VERIFY_DISPATCH)

    assert timers.clock_warn(clock_id=clock.pk, now=clock.yellow_at)

    [warning] = events(report, Action.WARN)
    assert warning.details["notify_user_ids"] == [world.national_admin.pk]


# Escalation at breach


def test_a_breach_goes_to_the_coordinators_above_then_to_the_national_admins_once_each(world):
    report = dispatched(world, world.transport)
    clock = clock_of(report, Clock.FIRST_FOLLOW_UP)

    assert timers.clock_escalate(clock_id=clock.pk, now=clock.due_at - SECOND) == 0
    breach = clock.due_at + timedelta(minutes=5)
    assert timers.clock_escalate(clock_id=clock.pk, now=breach) == 1
    assert timers.clock_escalate(clock_id=clock.pk, now=breach + timedelta(hours=1)) == 0

    clock.refresh_from_db()
    assert (clock.escalation_level, clock.breached_at) == (1, breach)
    level_two = working_calendar().add_working_days(breach, 2, zone=report.time_zone)
    assert timers.level_two_at(clock, zone=report.time_zone) == level_two
    assert timers.clock_escalate(clock_id=clock.pk, now=level_two - SECOND) == 0
    assert timers.clock_escalate(clock_id=clock.pk, now=level_two) == 2
    assert timers.clock_escalate(clock_id=clock.pk, now=level_two + timedelta(days=30)) == 0
    assert timers.reconcile(now=level_two + timedelta(days=90)).escalated > 0  # the other clocks
    assert timers.reconcile(now=level_two + timedelta(days=90)).escalated == 0

    first, second = [event for event in events(report, Action.ESCALATE) if event.details["clock_id"] == clock.pk]
    # Dinas Perhubungan's breach goes to the coordinator of the city above it...
    assert first.details["level"] == 1
    assert first.details["notify_user_ids"] == [world.coordinator.pk]
    assert first.details["notify_institution"] == world.city.pk
    assert first.visibility == Visibility.REPORTER
    # ...and, still overdue two working days later, to the national admins.
    assert second.details["level"] == 2
    assert second.details["notify_user_ids"] == [world.national_admin.pk]
    assert "notify_institution" not in second.details
    clock.refresh_from_db()
    assert clock.escalation_level == 2


def test_without_a_coordinator_above_a_breach_goes_straight_to_the_national_admins(world):
    report = dispatched(world, world.city)  # above the city is only the national root
    clock = clock_of(report, Clock.FIRST_FOLLOW_UP)

    assert timers.clock_escalate(clock_id=clock.pk, now=clock.due_at) == 2
    assert timers.clock_escalate(clock_id=clock.pk, now=clock.due_at + timedelta(days=30)) == 0

    [escalation] = events(report, Action.ESCALATE)
    assert escalation.details["notify_user_ids"] == [world.national_admin.pk]


def test_an_inactive_coordinator_is_passed_over_for_the_next_level(world):
    world.coordinator.is_active = False
    world.coordinator.save()
    report = dispatched(world, world.transport)
    clock = clock_of(report, Clock.FIRST_FOLLOW_UP)

    assert timers.clock_escalate(clock_id=clock.pk, now=clock.due_at) == 2


def test_paused_clocks_are_neither_warned_nor_escalated(world):
    report = dispatched(world)
    report = services.report_request_information(user=world.officer, report=report, question="Foto lampunya?").report
    far = timezone.now() + timedelta(days=400)

    result = timers.reconcile(now=far)

    assert (result.warned, result.escalated) == (0, 0)
    assert events(report, Action.WARN) == events(report, Action.ESCALATE) == []
    clock = clock_of(report, Clock.FIRST_FOLLOW_UP)
    assert (clock.warned_at, clock.escalation_level) == (None, 0)
    assert timers.clock_warn(clock_id=clock.pk, now=far) is False
    assert timers.clock_escalate(clock_id=clock.pk, now=far) == 0

    # Answered, the clocks run again, later by the paused days, and do warn and escalate.
    services.report_provide_information(user=world.reporter, report=report, answer="Terlampir.")
    result = timers.reconcile(now=far)
    assert result.warned == 3  # first follow-up, resolution, overall
    assert len(events(report, Action.WARN)) == 3
    assert len(events(report, Action.ESCALATE)) == 3


def test_clocks_on_hold_are_not_escalated(world, today):
    report = dispatched(world)
    services.report_hold(
        user=world.national_admin, report=report, reason="Menunggu anggaran", resume_on=today + timedelta(days=30)
    )

    result = timers.reconcile(now=timezone.now() + timedelta(days=20))

    assert (result.warned, result.escalated, result.resumed) == (0, 0, 0)


def test_the_escalation_service_refuses_unknown_levels_and_repeats(world):
    report = dispatched(world)
    with pytest.raises(ReportError):
        services.report_escalate(report=report, clock=Clock.RESOLUTION, level=3, notify_user_ids=[])
    assert services.report_escalate(report=report, clock=Clock.RESOLUTION, level=2, notify_user_ids=[]) is not None
    assert services.report_escalate(report=report, clock=Clock.RESOLUTION, level=1, notify_user_ids=[]) is None
    assert services.report_warn(report=report, clock=Clock.RESOLUTION, notify_user_ids=[]) is not None
    assert services.report_warn(report=report, clock=Clock.RESOLUTION, notify_user_ids=[]) is None


# Requests for missing details


def test_two_reminders_then_an_archive_with_the_reason_the_reporter_sees(world):
    report = awaiting_information(world)
    clock = clock_of(report, Clock.INFORMATION_REPLY)
    # The request was made a whole window ago (archiving checks the real time, so the clock moves back).
    started_earlier(clock, clock.due_at - timezone.now() + timedelta(minutes=1))
    first, second = timers.reminder_times(clock)
    window = clock.due_at - clock.started_at
    assert (first, second) == (clock.started_at + window / 3, clock.started_at + window * 2 / 3)

    assert not timers.clock_remind(clock_id=clock.pk, now=first - SECOND)
    assert timers.clock_remind(clock_id=clock.pk, now=first)
    assert not timers.clock_remind(clock_id=clock.pk, now=first + timedelta(hours=1))
    assert not timers.clock_remind(clock_id=clock.pk, now=second - SECOND)
    assert timers.clock_remind(clock_id=clock.pk, now=second)
    assert not timers.clock_remind(clock_id=clock.pk, now=clock.due_at + timedelta(days=5))
    assert not timers.clock_archive_unanswered(clock_id=clock.pk, now=clock.due_at - SECOND)

    reminders = events(report, Action.REMIND)
    assert [event.details["reminder"] for event in reminders] == [1, 2]
    assert {event.visibility for event in reminders} == {Visibility.REPORTER}
    assert Report.objects.get(pk=report.pk).status == Status.AWAITING_INFORMATION

    assert timers.clock_archive_unanswered(clock_id=clock.pk)
    assert not timers.clock_archive_unanswered(clock_id=clock.pk)

    report.refresh_from_db()
    assert report.status == Status.ARCHIVED
    assert report.archive_reason == ArchiveReason.INCOMPLETE
    with translation.override("en"):
        assert report.get_archive_reason_display() == "The report is incomplete"
    [archive] = events(report, Action.ARCHIVE)
    assert archive.actor_role == Actor.SYSTEM
    assert archive.visibility == Visibility.PUBLIC
    assert archive.details == {"reason": ArchiveReason.INCOMPLETE}
    assert "2" in archive.message
    assert not ReportClock.objects.filter(report=report, stopped_at__isnull=True).exists()


def test_no_archive_before_every_reminder_was_sent(world):
    report = awaiting_information(world)
    clock = clock_of(report, Clock.INFORMATION_REPLY)
    assert timers.clock_remind(clock_id=clock.pk, now=timers.reminder_times(clock)[0])
    move_into_past(clock, due_at=timezone.now() - SECOND)

    assert not timers.clock_archive_unanswered(clock_id=clock.pk)
    assert services.report_auto_archive(report=report) is None
    assert Report.objects.get(pk=report.pk).status == Status.AWAITING_INFORMATION


def test_after_an_outage_the_reporter_still_gets_time_between_notices(world):
    report = awaiting_information(world)
    clock = clock_of(report, Clock.INFORMATION_REPLY)
    started_earlier(clock, timedelta(days=30))  # and no worker ran all that time
    notice = timers.minimum_notice(clock)
    assert notice > timedelta(hours=12)
    now = timezone.now()

    assert (timers.reconcile(now=now).reminded, timers.reconcile(now=now).archived) == (1, 0)
    assert timers.reconcile(now=now + notice - timedelta(minutes=1)).total == 0
    after_first = timers.reconcile(now=now + notice + timedelta(minutes=1))
    assert (after_first.reminded, after_first.archived) == (1, 0)
    assert timers.reconcile(now=now + notice + timedelta(minutes=2)).total == 0
    after_second = timers.reconcile(now=now + 2 * notice + timedelta(minutes=2))
    assert (after_second.reminded, after_second.archived) == (0, 1)
    assert Report.objects.get(pk=report.pk).status == Status.ARCHIVED


def test_the_sweep_locks_only_the_requests_with_something_due(world, django_assert_num_queries):
    waiting = [clock_of(awaiting_information(world), Clock.INFORMATION_REPLY) for _ in range(3)]
    due = waiting[0]
    now = timers.reminder_times(due)[0]
    assert all(timers.reminder_times(clock)[0] > now - SECOND for clock in waiting)

    # One read for the running requests, none per request: nothing is due a second before.
    with django_assert_num_queries(6):
        assert timers.reconcile(now=now - SECOND).total == 0
    assert timers.due_information_requests(now - SECOND) == ([], [])

    remind, archive = timers.due_information_requests(now)
    assert due.pk in remind
    assert archive == []
    later = max(clock.due_at for clock in waiting)
    remind, archive = timers.due_information_requests(later)
    assert remind == archive == sorted(clock.pk for clock in waiting)
    result = timers.reconcile(now=now)
    assert result.reminded >= 1
    assert [event.details["reminder"] for event in events(Report.objects.get(pk=due.report_id), Action.REMIND)] == [1]


def test_an_answer_stops_the_reminders(world):
    report = awaiting_information(world)
    clock = clock_of(report, Clock.INFORMATION_REPLY)
    services.report_provide_information(user=world.reporter, report=report, answer="RT 03/RW 05.")

    assert not timers.clock_remind(clock_id=clock.pk, now=clock.due_at)
    assert not timers.clock_archive_unanswered(clock_id=clock.pk, now=clock.due_at)
    assert events(report, Action.REMIND) == []


# The reply window and holds


def test_silence_after_the_final_follow_up_is_deemed_complete_not_confirmed(world):
    report = completed(world)
    clock = clock_of(report, Clock.REPORTER_REPLY)

    assert not timers.clock_deem_complete(clock_id=clock.pk)
    move_into_past(clock, due_at=timezone.now() - SECOND)
    assert timers.reconcile().deemed_complete == 1
    assert timers.reconcile().deemed_complete == 0

    report.refresh_from_db()
    assert report.status == Status.CLOSED
    assert report.closure_reason == ClosureReason.DEEMED_COMPLETE
    [closing] = events(report, Action.DEEM_COMPLETE)
    assert closing.actor_role == Actor.SYSTEM


def test_a_hold_ends_on_its_resume_date(world, today):
    report = services.report_hold(
        user=world.national_admin,
        report=world.submit(),
        reason="Menunggu hasil rapat",
        resume_on=today + timedelta(days=3),
    ).report
    assert not timers.hold_end(report_id=report.pk)
    Report.objects.filter(pk=report.pk).update(hold_until=today)

    assert timers.reconcile().resumed == 1
    assert timers.reconcile().resumed == 0

    report.refresh_from_db()
    assert (report.status, report.hold_until) == (Status.SUBMITTED, None)
    [resume] = events(report, Action.RESUME)
    assert resume.actor_role == Actor.SYSTEM


# The sweep, the tasks and the commands


def test_the_sweep_catches_a_clock_whose_task_never_ran(world):
    report = world.submit()  # the test task backend cannot defer, so nothing was scheduled
    clock = clock_of(report, Clock.VERIFY_DISPATCH)
    assert timers.schedule_clock_tasks(clock) == 0
    move_into_past(clock, yellow_at=timezone.now() - timedelta(hours=2), due_at=timezone.now() - timedelta(hours=1))

    result = timers.reconcile()

    assert (result.warned, result.escalated) == (1, 1)
    assert timers.reconcile().total == 0
    assert [event.details["clock"] for event in events(report, Action.WARN)] == [Clock.VERIFY_DISPATCH]


def test_run_clock_does_what_is_due_and_nothing_else(world):
    report = dispatched(world)
    clock = clock_of(report, Clock.RESOLUTION)

    assert run_clock.call(clock.pk) == []
    move_into_past(clock, yellow_at=timezone.now() - SECOND)
    assert run_clock.enqueue(clock.pk).return_value == ["warned"]
    assert run_clock.call(clock.pk) == []
    assert run_clock.call(999_999) == []


def test_the_task_moments_of_each_kind_of_clock(world):
    report = dispatched(world)
    resolution = clock_of(report, Clock.RESOLUTION)
    assert timers.clock_task_times(resolution) == [resolution.yellow_at, resolution.due_at]
    request = clock_of(awaiting_information(world), Clock.INFORMATION_REPLY)
    assert timers.clock_task_times(request) == [*timers.reminder_times(request), request.due_at]
    reply = clock_of(completed(world), Clock.REPORTER_REPLY)
    assert timers.clock_task_times(reply) == [reply.due_at]


def test_the_reconcile_command_prints_what_it_did(world):
    clock = clock_of(world.submit(), Clock.VERIFY_DISPATCH)
    move_into_past(clock, yellow_at=timezone.now() - SECOND)
    output = StringIO()

    with translation.override("en"):
        call_command("reports", "reconcile", stdout=output)

    assert "deadline warnings: 1" in output.getvalue()
    assert "escalations: 0" in output.getvalue()


@pytest.mark.django_db(transaction=True)
def test_clocks_are_scheduled_on_commit_and_the_worker_runs_their_tasks(committed_events):
    with override_settings(TASKS=DATABASE_TASKS):
        world = build_world()
        report = world.submit()
        clock = clock_of(report, Clock.VERIFY_DISPATCH)
        scheduled = DBTaskResult.objects.filter(task_path="lapor.reports.tasks.run_clock")
        assert sorted(task.run_after for task in scheduled if task.args_kwargs["args"] == [clock.pk]) == [
            clock.yellow_at,
            clock.due_at,
        ]

        # Not due yet: the worker leaves them queued.
        call_command("worker", "--batch", "--sweep-interval", "0", verbosity=0)
        assert set(scheduled.values_list("status", flat=True)) == {"READY"}

        move_into_past(clock, yellow_at=timezone.now() - SECOND)
        due_now = run_clock.enqueue(clock.pk)
        call_command("worker", "--batch", "--sweep-interval", "0", verbosity=0)

        stored = DBTaskResult.objects.get(id=due_now.id)
        assert (stored.status, stored.return_value) == ("SUCCESSFUL", ["warned"])
        assert len(events(report, Action.WARN)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweeps_what_no_task_was_queued_for(committed_events):
    with override_settings(TASKS=DATABASE_TASKS):
        world = build_world()
        report = world.submit()
        DBTaskResult.objects.all().delete()
        move_into_past(clock_of(report, Clock.VERIFY_DISPATCH), yellow_at=timezone.now() - SECOND)

        call_command("worker", "--batch", verbosity=0)

        assert len(events(report, Action.WARN)) == 1


def test_the_worker_thread_sweeps_again_and_again_and_outlives_a_failure():
    calls: list[int] = []
    twice = threading.Event()

    def failing_sweep() -> None:
        calls.append(len(calls))
        if len(calls) >= 2:
            twice.set()
        raise RuntimeError("database away")

    sweeper = Sweeper([failing_sweep], interval=0.01)
    sweeper.start()
    try:
        assert twice.wait(timeout=10)
    finally:
        sweeper.stopped.set()
        sweeper.join(timeout=10)
    assert not sweeper.is_alive()


def test_the_worker_sweeps_the_report_timers_the_outbox_and_the_daily_anchor_by_default():
    from lapor.accounts.services import one_time_code_purge
    from lapor.accounts.signin import login_record_purge
    from lapor.core.audit import anchor_daily
    from lapor.core.ratelimit import sweep_expired
    from lapor.notifications.services import notification_deliver_due
    from lapor.reports.selectors import headline_stats_refresh

    assert sweeps_from_settings() == [
        timers.reconcile,
        notification_deliver_due,
        anchor_daily,
        sweep_expired,
        one_time_code_purge,
        login_record_purge,
        headline_stats_refresh,
    ]


# Two workers at once (PostgreSQL: SQLite lets one writer at a time anyway)


def sweep_in_threads(now: datetime, threads: int = 2) -> list[timers.SweepResult]:
    start = threading.Barrier(threads)
    results: list[timers.SweepResult] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            results.append(timers.reconcile(now=now))
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=120)
    assert failures == []
    assert len(results) == threads
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_warn_and_escalate_once(committed_events):
    world = build_world()
    reports = [dispatched(world, world.transport) for _ in range(12)]
    clocks = list(ReportClock.objects.filter(report__in=reports, stopped_at__isnull=True))
    assert len(clocks) == 36  # first follow-up, resolution and overall of each
    breach = max(clock.due_at for clock in clocks) + timedelta(minutes=1)

    # A worker passes by a report the other one holds, so either may leave a clock to the next sweep.
    first = [*sweep_in_threads(breach), timers.reconcile(now=breach)]
    later = [*sweep_in_threads(breach + timedelta(days=10)), timers.reconcile(now=breach + timedelta(days=10))]

    assert sum(result.warned for result in first) == 36
    assert sum(result.escalated for result in first) == 36
    assert sum(result.escalated for result in later) == 36
    assert sum(result.failed for result in first + later) == 0
    for clock in clocks:
        warnings = ReportEvent.objects.filter(action=Action.WARN, details__clock_id=clock.pk)
        levels = ReportEvent.objects.filter(action=Action.ESCALATE, details__clock_id=clock.pk)
        assert warnings.count() == 1
        assert sorted(levels.values_list("details__level", flat=True)) == [1, 2]
    assert chain_verify(ReportEvent).ok
