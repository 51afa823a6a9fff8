"""The timers of a report's clocks: what happens, unasked, when a deadline comes near or passes.

- An institution's clock (verify and dispatch, first follow-up, resolution, overall) turns yellow:
  the people handling the report are warned, once.
- It passes its due time: the coordinators of the nearest institution above the owner are told
  (escalation level 1); ESCALATION_GRACE_WORKING_DAYS (default 2) working days later, if it is still
  overdue, the national admins (level 2). When no institution above the owner has a coordinator, the
  breach goes straight to the national admins. Each level is told once; paused clocks never escalate.
- A request for missing details: the reporter is reminded at 1/3 and 2/3 of the reply window
  (settings.INFORMATION_REMINDERS, default 2); after the window, with every reminder sent, the report
  is archived as incomplete with a reason the reporter sees and can appeal.
- The reporter's reply window after the final follow-up passes: the report is deemed complete.
- A hold reaches its resume date: the report resumes.

How they run. Each timer function locks the report, then the clock (the order the services lock
them in, so a timer and a staff action never deadlock), re-checks under the lock that its work is
still due and not yet done, and writes through the services, so the event and its notifications
commit together or not at all. On PostgreSQL the locks are taken with SKIP LOCKED: a worker that
meets a report another worker (or a person) is changing passes it by instead of waiting, and the next
sweep comes back to it. Two workers therefore never act twice, and never queue behind each other.

When they run. `schedule_clock_tasks` enqueues `tasks.run_clock` for the moments a clock will need
something (yellow, due, the reminders) each time a clock starts or is rescheduled; `reconcile`, the
sweep every task worker runs once a minute, finds whatever is due but not done (a task lost, a
worker down, a backend that cannot defer tasks) and does it. Both are harmless when nothing is due.

Every function takes ``now`` (default: the current time) to decide what is due. Archiving, deeming
complete and resuming are done by the services, which check the real time again: only warnings,
escalations and reminders follow a ``now`` in the future.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership
from lapor.core.calendar import WorkingCalendar, working_calendar
from lapor.core.enqueue import on_commit_enqueue
from lapor.institutions.models import Institution
from lapor.institutions.selectors import is_national_institution
from lapor.reports import services
from lapor.reports.choices import OPEN_STATUSES, PAUSED_STATUSES, Action, Clock, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportAssignment, ReportClock, ReportEvent
from lapor.reports.workflow import INSTITUTION_CLOCKS

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# The staff who answer a report: its owner's and its assigned units' coordinators and liaison officers.
HANDLING_ROLES = (Role.COORDINATOR, Role.LIAISON_OFFICER)


def escalation_grace_working_days() -> int:
    return int(getattr(settings, "ESCALATION_GRACE_WORKING_DAYS", 2))


def information_reminders() -> int:
    return int(getattr(settings, "INFORMATION_REMINDERS", 2))


# --- whom to tell ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Audience:
    user_ids: tuple[int, ...]
    institution: Institution | None
    roles: tuple[str, ...]


def _active_members() -> QuerySet[Membership]:
    return Membership.objects.filter(is_active=True, user__is_active=True, institution__is_active=True)


def national_admins() -> Audience:
    ids = _active_members().filter(role=Role.NATIONAL_ADMIN).values_list("user_id", flat=True)
    return Audience(tuple(sorted(set(ids))), None, (Role.NATIONAL_ADMIN,))


def handlers(report: Report) -> Audience:
    """Who is warned when a clock turns yellow: the staff of the owner and of the units the report
    was forwarded to; for the national queue, the national admins. A report nobody could answer is
    brought to the national admins rather than warned into the void."""
    units = [
        report.owner_id,
        *ReportAssignment.objects.filter(report=report, is_active=True).values_list("unit_id", flat=True),
    ]
    ids = set(
        _active_members().filter(institution_id__in=units, role__in=HANDLING_ROLES).values_list("user_id", flat=True)
    )
    roles: tuple[str, ...] = HANDLING_ROLES
    if is_national_institution(report.owner) or not ids:
        ids |= set(national_admins().user_ids)
        roles = (*roles, Role.NATIONAL_ADMIN)
    return Audience(tuple(sorted(ids)), report.owner, roles)


def coordinators_above(owner: Institution) -> Audience | None:
    """The coordinators of the nearest institution above ``owner`` that has any (one query)."""
    rows = list(
        _active_members()
        .filter(role=Role.COORDINATOR, institution__path__in=owner.ancestor_paths())
        .values_list("institution_id", "institution__path", "user_id")
    )
    if not rows:
        return None
    # A deeper ancestor's path extends a shallower one's, so the longest path is the nearest.
    nearest_id = max(rows, key=lambda row: len(row[1]))[0]
    ids = sorted({user_id for institution_id, _path, user_id in rows if institution_id == nearest_id})
    return Audience(tuple(ids), Institution.objects.get(pk=nearest_id), (Role.COORDINATOR,))


# --- locking -------------------------------------------------------------------------------------


def _lock(clock_id: int) -> tuple[Report, ReportClock] | None:
    """Inside a transaction: the clock's report, then the clock, locked; None when either is gone or,
    on PostgreSQL, locked by someone else (the caller skips it; a later run comes back)."""
    report_id = ReportClock.objects.filter(pk=clock_id).values_list("report_id", flat=True).first()
    if report_id is None:
        return None
    skip = connections[router.db_for_write(ReportClock)].features.has_select_for_update_skip_locked
    report = Report.objects.select_for_update(skip_locked=skip).filter(pk=report_id).first()
    if report is None:
        return None
    clock = ReportClock.objects.select_for_update(skip_locked=skip).filter(pk=clock_id).first()
    if clock is None:
        return None
    return report, clock


def _is_running(clock: ReportClock) -> bool:
    return clock.stopped_at is None and clock.paused_at is None


def _institution_clock_counts(report: Report, clock: ReportClock) -> bool:
    return (
        clock.clock in INSTITUTION_CLOCKS
        and _is_running(clock)
        and report.status in OPEN_STATUSES
        and report.status not in PAUSED_STATUSES
    )


# --- the timers ----------------------------------------------------------------------------------


def clock_warn(*, clock_id: int, now: datetime | None = None) -> bool:
    """Warn the handlers once the clock has turned yellow. True when this call warned them."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(clock_id)
        if locked is None:
            return False
        report, clock = locked
        if not _institution_clock_counts(report, clock) or clock.warned_at is not None or clock.yellow_at > now:
            return False
        audience = handlers(report)
        event = services.report_warn(
            report=report,
            clock=clock.clock,
            notify_user_ids=audience.user_ids,
            notify_institution=audience.institution,
            notify_roles=audience.roles,
            at=now,
        )
        return event is not None


def level_two_at(clock: ReportClock, *, zone: str, calendar: WorkingCalendar | None = None) -> datetime | None:
    """When an overdue clock at level 1 goes to the national admins: the grace is counted from the
    moment level 1 was told, so a worker that was down never shortens the time the coordinator gets."""
    if clock.escalation_level != 1 or clock.breached_at is None:
        return None
    calendar = calendar or working_calendar()
    return calendar.add_working_days(clock.breached_at, escalation_grace_working_days(), zone=zone)


def clock_escalate(*, clock_id: int, now: datetime | None = None, calendar: WorkingCalendar | None = None) -> int:
    """Escalate an overdue clock one level if that level is due. Returns the level reached by this
    call, or 0 when it did nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(clock_id)
        if locked is None:
            return 0
        report, clock = locked
        if not _institution_clock_counts(report, clock) or clock.due_at > now:
            return 0
        if clock.escalation_level == 0:
            above = coordinators_above(report.owner)
            level, audience = (1, above) if above is not None else (2, national_admins())
        elif clock.escalation_level == 1:
            due = level_two_at(clock, zone=report.time_zone, calendar=calendar)
            if due is None or due > now:
                return 0
            level, audience = 2, national_admins()
        else:
            return 0
        event = services.report_escalate(
            report=report,
            clock=clock.clock,
            level=level,
            notify_user_ids=audience.user_ids,
            notify_institution=audience.institution,
            notify_roles=audience.roles,
            at=now,
        )
        if event is None:
            return 0
        if level == 1:
            clock.refresh_from_db(fields=["escalation_level", "breached_at"])
            after = level_two_at(clock, zone=report.time_zone, calendar=calendar)
            if after is not None:
                transaction.on_commit(partial(_enqueue_run_clock, clock.pk, after), robust=True)
        return level


def reminder_times(clock: ReportClock) -> list[datetime]:
    """When the reporter is reminded: evenly inside the reply window (1/3 and 2/3 for two reminders)."""
    count = information_reminders()
    return [_reminder_at(clock.started_at, clock.due_at, number, count) for number in range(1, count + 1)]


def _reminder_at(started_at: datetime, due_at: datetime, number: int, count: int) -> datetime:
    """The time of reminder ``number`` (from 1) of ``count`` in the window from ``started_at`` to ``due_at``."""
    window = due_at - started_at
    return started_at + window * number / (count + 1)


def minimum_notice(clock: ReportClock) -> timedelta:
    """The least time the reporter gets between two notices, also after a worker outage that let
    several fall due at once: half the regular spacing between reminders."""
    return (clock.due_at - clock.started_at) / (information_reminders() + 1) / 2


def _last_reminder_at(clock: ReportClock) -> datetime | None:
    """When the last reminder of this request was sent, as the timers counted it."""
    last = (
        ReportEvent.objects.filter(report_id=clock.report_id, action=Action.REMIND, created_at__gte=clock.started_at)
        .order_by("-sequence")
        .values_list("details", "created_at")
        .first()
    )
    if last is None:
        return None
    details, created_at = last
    return parse_datetime(details.get("at", "")) or created_at


def _awaits_information(report: Report, clock: ReportClock) -> bool:
    return (
        clock.clock == Clock.INFORMATION_REPLY
        and clock.stopped_at is None
        and report.status == Status.AWAITING_INFORMATION
    )


def clock_remind(*, clock_id: int, now: datetime | None = None) -> bool:
    """Send the next reminder of a request for missing details if it is due. One per call."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(clock_id)
        if locked is None:
            return False
        report, clock = locked
        if not _awaits_information(report, clock) or clock.reminders_sent >= information_reminders():
            return False
        if reminder_times(clock)[clock.reminders_sent] > now:
            return False
        last = _last_reminder_at(clock) if clock.reminders_sent else None
        if last is not None and now - last < minimum_notice(clock):
            return False
        return services.report_remind_information(report=report, at=now) is not None


def clock_archive_unanswered(*, clock_id: int, now: datetime | None = None) -> bool:
    """Archive as incomplete a report whose requested details did not come in the reply window,
    after every reminder. True when this call archived it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(clock_id)
        if locked is None:
            return False
        report, clock = locked
        if not _awaits_information(report, clock) or clock.due_at > now:
            return False
        if clock.reminders_sent < information_reminders():
            return False
        last = _last_reminder_at(clock)
        if last is not None and now - last < minimum_notice(clock):
            return False
        return services.report_auto_archive(report=report) is not None


def clock_deem_complete(*, clock_id: int, now: datetime | None = None) -> bool:
    """Close as deemed complete (never as confirmed) a report whose reply window passed in silence."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(clock_id)
        if locked is None:
            return False
        report, clock = locked
        if clock.clock != Clock.REPORTER_REPLY or clock.stopped_at is not None or clock.due_at > now:
            return False
        if report.status != Status.COMPLETED:
            return False
        return services.report_deem_complete(report=report) is not None


def hold_end(*, report_id: int, now: datetime | None = None) -> bool:
    """Resume a report whose hold has reached its resume date."""
    today = timezone.localdate(now or timezone.now())
    with transaction.atomic():
        skip = connections[router.db_for_write(Report)].features.has_select_for_update_skip_locked
        report = Report.objects.select_for_update(skip_locked=skip).filter(pk=report_id).first()
        if report is None or report.status != Status.ON_HOLD or report.hold_until is None or report.hold_until > today:
            return False
        try:
            services.report_resume(user=None, report=report)
        except ReportError as error:
            if error.code == ReportErrorCode.DEADLINE_NOT_PASSED:
                return False
            raise
        return True


def clock_run(*, clock_id: int, now: datetime | None = None) -> list[str]:
    """Everything due for one clock now, in order; what was done, by name (empty: nothing was due)."""
    now = now or timezone.now()
    clock = ReportClock.objects.filter(pk=clock_id, stopped_at__isnull=True).first()
    if clock is None:
        return []
    done: list[str] = []
    if clock.clock in INSTITUTION_CLOCKS:
        if clock_warn(clock_id=clock_id, now=now):
            done.append("warned")
        if level := clock_escalate(clock_id=clock_id, now=now):
            done.append(f"escalated:{level}")
    elif clock.clock == Clock.INFORMATION_REPLY:
        if clock_remind(clock_id=clock_id, now=now):
            done.append("reminded")
        elif clock_archive_unanswered(clock_id=clock_id, now=now):
            done.append("archived")
    elif clock.clock == Clock.REPORTER_REPLY and clock_deem_complete(clock_id=clock_id, now=now):
        done.append("deemed_complete")
    return done


# --- the sweep -----------------------------------------------------------------------------------


@dataclasses.dataclass
class SweepResult:
    warned: int = 0
    escalated: int = 0
    reminded: int = 0
    archived: int = 0
    deemed_complete: int = 0
    resumed: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @property
    def total(self) -> int:
        return sum(self.as_dict().values()) - self.failed


def _ids_in_batches(queryset: QuerySet[ReportClock] | QuerySet[Report], batch_size: int) -> Iterator[int]:
    """The primary keys of what is due, each visited once per sweep.

    They are read in one unordered query and sorted here: with ORDER BY id LIMIT, PostgreSQL walks the
    primary key and filters millions of running clocks to find the few due ones (0.6-0.9 s at a
    million reports); without it, it reads the partial indexes that hold only clocks with something
    left to do. The ids of even a large backlog are small; acting on them is what takes time.
    """
    ids = sorted(queryset.order_by().values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        yield from ids[start : start + batch_size]


def _running() -> QuerySet[ReportClock]:
    # stopped_at IS NULL is the condition of the partial indexes on due_at and yellow_at.
    return ReportClock.objects.filter(stopped_at__isnull=True)


def overdue_warnings(now: datetime) -> QuerySet[ReportClock]:
    return _running().filter(
        yellow_at__lte=now, clock__in=INSTITUTION_CLOCKS, paused_at__isnull=True, warned_at__isnull=True
    )


def overdue_escalations(now: datetime) -> QuerySet[ReportClock]:
    # Level 2 comes a number of working days after level 1, so never sooner than that many calendar
    # days: the bound keeps clocks still inside their grace out of every sweep but the last few.
    grace = timedelta(days=escalation_grace_working_days())
    return _running().filter(
        Q(escalation_level=0) | Q(escalation_level=1, breached_at__lte=now - grace),
        due_at__lte=now,
        clock__in=INSTITUTION_CLOCKS,
        paused_at__isnull=True,
    )


def open_information_requests(now: datetime) -> QuerySet[ReportClock]:
    # Reminder times are fractions of each clock's own window, which an index cannot order by: every
    # running request with a reminder to come or a window that has passed is read (see
    # `due_information_requests`).
    return _running().filter(
        Q(reminders_sent__lt=information_reminders()) | Q(due_at__lte=now), clock=Clock.INFORMATION_REPLY
    )


def due_information_requests(now: datetime) -> tuple[list[int], list[int]]:
    """The requests for details whose next reminder is due, and those whose reply window has passed
    (archive candidates), by id.

    The times are worked out here from one read of the running requests (a few columns each), and
    only the clocks with something due are locked and checked again by `clock_remind` and
    `clock_archive_unanswered`. Locking each running request in its own transaction every sweep only
    to find nothing due cost two transactions per request waiting for its reporter, every minute: at
    a million reports (25,000 such requests) a sweep took minutes of CPU.
    """
    count = information_reminders()
    remind: list[int] = []
    archive: list[int] = []
    rows = open_information_requests(now).order_by().values_list("pk", "started_at", "due_at", "reminders_sent")
    for clock_id, started_at, due_at, sent in rows:
        if sent < count and _reminder_at(started_at, due_at, sent + 1, count) <= now:
            remind.append(clock_id)
        if due_at <= now:
            archive.append(clock_id)
    return sorted(remind), sorted(archive)


def overdue_reply_windows(now: datetime) -> QuerySet[ReportClock]:
    return _running().filter(due_at__lte=now, clock=Clock.REPORTER_REPLY)


def ended_holds(now: datetime) -> QuerySet[Report]:
    return Report.objects.filter(status=Status.ON_HOLD, hold_until__lte=timezone.localdate(now))


def _each(ids: Iterable[int], action: Callable[[int], object], result: SweepResult, field: str) -> None:
    for item_id in ids:
        try:
            outcome = action(item_id)
        except Exception:
            # One broken report must not stop the sweep for every other one; it is retried next time.
            logger.exception("Timer %s failed for id %s", field, item_id)
            result.failed += 1
            continue
        if outcome:
            setattr(result, field, getattr(result, field) + 1)


def reconcile(*, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> SweepResult:
    """Do everything that is due and not done: the safety net under the scheduled tasks. Idempotent,
    and safe to run in several workers at once."""
    now = now or timezone.now()
    calendar = working_calendar()
    result = SweepResult()
    _each(
        _ids_in_batches(overdue_warnings(now), batch_size),
        lambda clock_id: clock_warn(clock_id=clock_id, now=now),
        result,
        "warned",
    )
    _each(
        _ids_in_batches(overdue_escalations(now), batch_size),
        lambda clock_id: clock_escalate(clock_id=clock_id, now=now, calendar=calendar),
        result,
        "escalated",
    )
    remind, archive = due_information_requests(now)
    _each(remind, lambda clock_id: clock_remind(clock_id=clock_id, now=now), result, "reminded")
    _each(archive, lambda clock_id: clock_archive_unanswered(clock_id=clock_id, now=now), result, "archived")
    _each(
        _ids_in_batches(overdue_reply_windows(now), batch_size),
        lambda clock_id: clock_deem_complete(clock_id=clock_id, now=now),
        result,
        "deemed_complete",
    )
    _each(
        _ids_in_batches(ended_holds(now), batch_size),
        lambda report_id: hold_end(report_id=report_id, now=now),
        result,
        "resumed",
    )
    if result.total or result.failed:
        logger.info("Timer sweep: %s", result.as_dict())
    return result


# --- scheduling ----------------------------------------------------------------------------------


def clock_task_times(clock: ReportClock) -> list[datetime]:
    """The moments at which `run_clock` has something to do for this clock, as it stands."""
    if clock.clock in INSTITUTION_CLOCKS:
        return [clock.yellow_at, clock.due_at] if clock.warned_at is None else [clock.due_at]
    if clock.clock == Clock.INFORMATION_REPLY:
        return [*reminder_times(clock)[clock.reminders_sent :], clock.due_at]
    if clock.clock == Clock.REPORTER_REPLY:
        return [clock.due_at]
    return []


def _enqueue_run_clock(clock_id: int, at: datetime) -> bool:
    from lapor.reports.tasks import run_clock

    # A backend that cannot defer (the immediate one in tests and development) would run the task
    # now, when nothing is due: such deployments rely on the sweep alone.
    if not run_clock.get_backend().supports_defer:
        return False
    run_clock.using(run_after=at).enqueue(clock_id)
    return True


def schedule_clock_tasks(clock: ReportClock) -> int:
    """Enqueue `run_clock` for each moment this running clock will need something. Returns how many
    tasks were enqueued. Tasks left over from an earlier schedule of the same clock are harmless:
    `run_clock` does only what is due."""
    if not _is_running(clock):
        return 0
    return sum(_enqueue_run_clock(clock.pk, at) for at in clock_task_times(clock))


def _schedule_committed(clock_ids: Sequence[int]) -> None:
    for clock in ReportClock.objects.filter(pk__in=clock_ids, stopped_at__isnull=True, paused_at__isnull=True):
        schedule_clock_tasks(clock)


def _clock_jobs(clocks: Sequence[ReportClock]) -> Iterator[tuple[object, tuple[int]]]:
    from lapor.reports.tasks import run_clock

    # A backend that cannot defer (the immediate one in tests and development) would run the task
    # now, when nothing is due: such deployments rely on the sweep alone.
    if not run_clock.get_backend().supports_defer:
        return
    for clock in clocks:
        if _is_running(clock):
            for at in clock_task_times(clock):
                yield run_clock.using(run_after=at), (clock.pk,)


def schedule_after_commit(clocks: Iterable[ReportClock]) -> None:
    """Schedule the clocks' tasks once the transaction that started or moved them commits (a rolled
    back start schedules nothing), with the transaction's other tasks. The clocks are the objects the
    transaction holds: `deadlines` marks those it stops or pauses later in the same transaction. A
    failure to enqueue is logged, not raised: the sweep catches up."""
    pending = [clock for clock in clocks if clock.pk is not None]
    if pending:
        waiting = _waiting_clocks()
        waiting[:] = [entry for entry in waiting if entry() is not None]
        waiting.extend(weakref.ref(clock) for clock in pending)
        on_commit_enqueue(partial(_scheduled_jobs, pending))


def _scheduled_jobs(clocks: list[ReportClock]) -> list[tuple[object, tuple[int]]]:
    done = {id(clock) for clock in clocks}
    waiting = _waiting_clocks()
    waiting[:] = [entry for entry in waiting if (clock := entry()) is not None and id(clock) not in done]
    return list(_clock_jobs(clocks))


_local = threading.local()


def _waiting_clocks() -> list[weakref.ref[ReportClock]]:
    """The clocks of this thread's transaction that wait for its commit to be scheduled (held weakly:
    those of a rolled back transaction go with its hooks)."""
    if not hasattr(_local, "clocks"):
        _local.clocks = []
    clocks: list[weakref.ref[ReportClock]] = _local.clocks
    return clocks


def note_clocks_changed(
    report_id: int, clocks: Iterable[str], *, stopped_at: datetime | None = None, paused_at: datetime | None = None
) -> None:
    """Tell the clocks waiting to be scheduled what an UPDATE in ``deadlines`` just did to their rows
    (stopped, or paused, the report's running ``clocks``), as a read after commit would show it."""
    names = set(clocks)
    for entry in _waiting_clocks():
        clock = entry()
        if clock is None or clock.report_id != report_id or clock.clock not in names or clock.stopped_at is not None:
            continue
        if stopped_at is not None:
            clock.stopped_at = stopped_at
        elif paused_at is not None and clock.paused_at is None:
            clock.paused_at = paused_at
