"""The workflow table drives these tests: every (action, status, capacity) the table allows works
through the real services and leaves the status and the clocks exactly as its row says, and every
other one is refused with a typed error and changes nothing. Every action and every row is tried."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from lapor.accounts.choices import Role
from lapor.accounts.services import membership_grant, user_create
from lapor.reports import services
from lapor.reports.access import capacities
from lapor.reports.choices import Action, Actor, ArchiveReason, Clock, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportAssignment, ReportClock, ReportCopy, ReportEvent
from lapor.reports.workflow import (
    INSTITUTION_CLOCKS,
    INSTITUTION_HANDS_BACK,
    PUBLISHED,
    RESUME,
    TRANSITIONS,
    UNIT_HANDS_BACK,
    Transition,
    every_case,
    is_allowed,
    rows_for,
    transition_for,
)
from tests.reports.conftest import World, WrittenRows, build_world
from tests.reports.test_claim import verified

GUEST_EMAIL = "tamu@example.id"


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The matrix runs ~1,800 cases: the world is built once per module inside a transaction that
    is rolled back at the end, and each case runs in its own savepoint on top of it."""
    _SUBMITTED.clear()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world: World, db) -> World:
    return shared_world


# The submission every case starts from, per database vendor and guest or not: filed through the services
# by the first case that needs it, its rows written back for the others (submissions themselves are
# the SUBMIT cases', each filed through the services).
_SUBMITTED: dict[tuple[str, bool], tuple[WrittenRows, int]] = {}


def _submitted(world: Any, *, guest: bool) -> Report:
    guest_fields = {"reporter": None, "guest_name": "Tamu", "guest_email": GUEST_EMAIL} if guest else {}
    remembered = _SUBMITTED.get((connection.vendor, guest))
    if remembered is None:
        report, rows = WrittenRows.of(lambda: world.submit(target_institution=world.city, **guest_fields))
        _SUBMITTED[(connection.vendor, guest)] = (rows, report.pk)
        return report
    rows, pk = remembered
    rows.restore()
    return Report.objects.get(pk=pk)


def _force(world: Any, status: Status, *, guest: bool = False) -> Report:
    """A report owned by the city, forwarded to its transport office, copied to the social ministry,
    placed directly in ``status`` with whatever that status implies for its clocks. ``guest``: filed
    without an account, with the e-mail address GUEST_EMAIL."""
    report = _submitted(world, guest=guest)
    now = timezone.now()
    ReportAssignment.objects.create(report=report, unit=world.transport, assigned_by=world.coordinator)
    ReportCopy.objects.create(report=report, institution=world.social_ministry)
    fields: dict[str, Any] = {"status": status, "dispatched_by": world.national_root}
    if status in (Status.AWAITING_INFORMATION, Status.ON_HOLD):
        fields["resume_status"] = Status.SUBMITTED
    if status == Status.ON_HOLD:
        fields["hold_until"] = timezone.localdate() - timedelta(days=1)
    if status == Status.ARCHIVED:
        fields["archive_reason"] = ArchiveReason.INCOMPLETE
    Report.objects.filter(pk=report.pk).update(**fields)
    # Preconditions that are about time, not state: the overall deadline and the reply window have passed.
    ReportClock.objects.filter(report=report, clock=Clock.OVERALL).update(
        due_at=now - timedelta(hours=1), yellow_at=now - timedelta(days=2)
    )
    if status == Status.AWAITING_INFORMATION:
        ReportClock.objects.create(
            report=report,
            clock=Clock.INFORMATION_REPLY,
            started_at=now - timedelta(days=20),
            due_at=now + timedelta(days=10),
            yellow_at=now + timedelta(days=7),
            budget=30,
            budget_unit="calendar_days",
        )
    if status == Status.COMPLETED:
        ReportClock.objects.create(
            report=report,
            clock=Clock.REPORTER_REPLY,
            started_at=now - timedelta(days=20),
            due_at=now - timedelta(hours=1),
            yellow_at=now - timedelta(days=3),
            budget=10,
            budget_unit="working_days",
        )
    return Report.objects.select_related("owner").get(pk=report.pk)


def _user(world: Any, actor: Actor) -> Any:
    return {
        Actor.REPORTER: world.reporter,
        Actor.NATIONAL_ADMIN: world.national_admin,
        Actor.COORDINATOR: world.coordinator,
        Actor.UNIT_OFFICER: world.officer,
        Actor.COPY_HOLDER: world.copy_officer,
        Actor.OVERSIGHT: world.oversight,
        Actor.PUBLIC: world.member_of_public,
        Actor.SYSTEM: None,
    }[actor]


def _call(world: Any, action: Action, user: Any, report: Report) -> Callable[[], object]:
    survivor: list[Report] = []

    def merge() -> object:
        survivor.append(world.submit(target_institution=world.city, title="Laporan yang sama"))
        Report.objects.filter(pk=survivor[0].pk).update(status=Status.DISPATCHED)
        return services.report_merge(user=user, report=report, into=survivor[0]).report

    calls: dict[Action, Callable[[], object]] = {
        Action.REQUEST_INFORMATION: lambda: (
            services.report_request_information(
                user=user, report=report, question="Di nomor berapa tiang lampunya?"
            ).report
        ),
        Action.PROVIDE_INFORMATION: lambda: (
            services.report_provide_information(user=user, report=report, answer="Tiang nomor 14.").report
        ),
        Action.HOLD: lambda: (
            services.report_hold(
                user=user, report=report, reason="Menunggu anggaran", resume_on=timezone.localdate() + timedelta(days=7)
            ).report
        ),
        Action.RESUME: lambda: services.report_resume(user=user, report=report).report,
        Action.ARCHIVE: lambda: (
            services.report_archive(user=user, report=report, reason=ArchiveReason.DUPLICATE).report
        ),
        Action.APPEAL: lambda: services.report_appeal(user=user, report=report, message="Ini bukan duplikat.").report,
        Action.RESUBMIT: lambda: (
            services.report_appeal(
                user=user,
                report=report,
                message="Saya lengkapi.",
                body="Lampu di tiang nomor 14 mati sejak 1 November.",
            ).report
        ),
        Action.DISPATCH: lambda: services.report_dispatch(user=user, report=report, institution=world.city).report,
        Action.FORWARD: lambda: services.report_forward(user=user, report=report, units=[world.environment]).report,
        Action.RETURN_TO_DISPATCHER: lambda: (
            services.report_return(user=user, report=report, reason="Jalan nasional, bukan wewenang kota.").report
        ),
        Action.FOLLOW_UP: lambda: (
            services.report_follow_up(user=user, report=report, message="Dijadwalkan besok.").report
        ),
        Action.FOLLOW_UP_FINAL: lambda: (
            services.report_follow_up(user=user, report=report, message="Sudah diganti.", final=True).report
        ),
        Action.CONFIRM: lambda: services.report_confirm(user=user, report=report).report,
        Action.DISPUTE: lambda: services.report_dispute(user=user, report=report, reason="Masih mati.").report,
        Action.RATE: lambda: services.report_rate(user=user, report=report, rating=4).report,
        Action.MERGE: merge,
        Action.REFER: lambda: services.report_refer(user=user, report=report).report,
        Action.COMMENT: lambda: services.report_comment(user=user, report=report, message="Saya juga mengalami.").event,
        Action.NOTE: lambda: services.report_note(user=user, report=report, message="Cek anggaran pemeliharaan.").event,
        Action.REDACT: lambda: (
            services.report_redact(
                user=user, report=report, public_title="Lampu jalan mati", public_body="Lampu jalan mati di Ciater."
            ).report
        ),
        Action.DEEM_COMPLETE: lambda: services.report_deem_complete(report=report),
        Action.CLAIM: lambda: services.report_claim_by_contact(user=user),
        Action.REMIND: lambda: services.report_remind_information(report=report),
        Action.WARN: lambda: services.report_warn(report=report, clock=Clock.OVERALL, notify_user_ids=[]),
        Action.ESCALATE: lambda: services.report_escalate(
            report=report, clock=Clock.OVERALL, level=1, notify_user_ids=[]
        ),
    }
    return calls[action]


def _submit(world: Any, actor: Actor) -> Report:
    """A report filed by the reporter's account, or for a guest by staff (the system's capacity)."""
    if actor == Actor.REPORTER:
        return world.submit(target_institution=world.city)
    assert actor == Actor.SYSTEM
    return world.submit(
        target_institution=world.city,
        reporter=None,
        guest_name="Tamu",
        guest_email=GUEST_EMAIL,
        submitted_by=world.national_admin,
    )


def _claimant() -> Any:
    """An account that proved GUEST_EMAIL, the way the portal has it proved."""
    return verified(user_create(full_name="Tamu Terdaftar", email=GUEST_EMAIL, password=None), GUEST_EMAIL)


# Actions only the timers take: no person can ask for them, so they are tried in the system's capacity.
TIMER_ACTIONS = frozenset({Action.DEEM_COMPLETE, Action.REMIND, Action.WARN, Action.ESCALATE})
# What a service that finds nothing to do answers instead of a refusal (the timers and the claim run
# over many reports and pass over those the table does not allow).
QUIET_REFUSALS: dict[Action, object] = {Action.DEEM_COMPLETE: None, Action.REMIND: None, Action.CLAIM: []}

CASE_TUPLES: list[tuple[Action, Status | None, Actor]] = [
    (action, status, actor)
    for action, status, actor, allowed in every_case()
    # A submission makes the report: it has no status before, and is taken in the capacities of its row.
    if (status is None) == (action == Action.SUBMIT)
    and (allowed or action != Action.SUBMIT)
    and not (action in TIMER_ACTIONS and actor != Actor.SYSTEM)
    # Who may claim is decided by the guest's contact: the account that proved it becomes the reporter.
    and not (action == Action.CLAIM and actor != Actor.REPORTER)
]
CASES = [pytest.param(action, status, actor, id=f"{action}-{status}-{actor}") for action, status, actor in CASE_TUPLES]


# Which row of an action with several applies to whom in this world: the officer acts for the transport
# office the report was forwarded to, so hands it back to the city's coordinator; the city's coordinator
# hands it back to the national admin who dispatched it.
_CASE_OF = {
    (Action.RETURN_TO_DISPATCHER, Actor.UNIT_OFFICER): UNIT_HANDS_BACK,
    (Action.RETURN_TO_DISPATCHER, Actor.COORDINATOR): INSTITUTION_HANDS_BACK,
}


def _row(action: Action, actor: Actor) -> Transition:
    rows = rows_for(action)
    if len(rows) == 1:
        return rows[0]
    case = _CASE_OF[(action, actor)]
    return next(row for row in rows if row.case == case)


def _running(report: Report) -> dict[str, ReportClock]:
    return {clock.clock: clock for clock in ReportClock.objects.filter(report=report, stopped_at__isnull=True)}


def _assert_row_applied(
    row: Transition, report: Report, before: Status | None, resume: str, clocks: dict[str, ReportClock]
) -> None:
    """The report's status and clocks are exactly what ``row`` says, and nothing else moved."""
    report.refresh_from_db()
    if row.target is None:
        assert report.status == before
    elif row.target == RESUME:
        assert report.status == (resume or Status.SUBMITTED)
    else:
        assert report.status == row.target
    running = _running(report)
    for clock in Clock:
        if clock in row.starts:
            assert clock in running, clock
            assert running[clock].pk != getattr(clocks.get(clock), "pk", None), f"{clock} started anew"
        elif clock in row.stops:
            assert clock not in running, clock
        else:
            assert getattr(running.get(clock), "pk", None) == getattr(clocks.get(clock), "pk", None), clock
    if row.pauses:
        assert all(running[clock].paused_at is not None for clock in INSTITUTION_CLOCKS if clock in running)
    if row.unpauses:
        assert all(clock.paused_at is None for clock in running.values())


@pytest.mark.parametrize(("action", "status", "actor"), CASES)
def test_every_transition_of_the_table(world, action, status, actor):
    if action == Action.SUBMIT:
        report = _submit(world, actor)
        assert ReportEvent.objects.get(report=report).actor_role == actor
        _assert_row_applied(_row(action, actor), report, None, "", {})
        return
    report = _force(world, status, guest=action == Action.CLAIM)
    if action == Action.CLAIM:
        user = _claimant()
        held = frozenset({Actor.REPORTER})  # what the claim makes of the account
    else:
        user = _user(world, actor)
        held = capacities(user, report) if user is not None else frozenset({Actor.SYSTEM})
    # The fixture really gives this person the capacity under test (the public only sees published reports).
    if actor != Actor.PUBLIC or status in PUBLISHED:
        assert actor in held
    expected = any(is_allowed(action, status, capacity) for capacity in held)
    events_before = ReportEvent.objects.filter(report=report).count()
    clocks_before = _running(report)
    resume = report.resume_status

    if expected:
        _call(world, action, user, report)()
        _assert_row_applied(_row(action, actor), report, status, resume, clocks_before)
        assert ReportEvent.objects.filter(report=report).count() > events_before
    else:
        if action in QUIET_REFUSALS:
            assert _call(world, action, user, report)() == QUIET_REFUSALS[action]
        else:
            with pytest.raises(ReportError) as refused:
                _call(world, action, user, report)()
            assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED
        report.refresh_from_db()
        assert report.status == status
        assert ReportEvent.objects.filter(report=report).count() == events_before
        assert {clock: running.pk for clock, running in _running(report).items()} == {
            clock: running.pk for clock, running in clocks_before.items()
        }


def test_every_row_of_the_table_is_exercised():
    """Each row, every case of an action with several included, is taken by some allowed case above."""
    taken = {id(_row(action, actor)) for action, status, actor in CASE_TUPLES if is_allowed(action, status, actor)}
    missing = [(row.action, row.case) for row in TRANSITIONS if id(row) not in taken]
    assert missing == []


def test_an_officer_of_the_owning_institution_hands_the_report_back_to_its_dispatcher(world):
    """Acting as an officer but for the owner itself, not for a unit it was forwarded to: the
    institution's row applies (RETURNED, back to the dispatcher, verify-and-dispatch again)."""
    officer = user_create(full_name="Petugas Kota", email="petugas.kota@example.id", password=None)
    membership_grant(user=officer, institution=world.city, role=Role.LIAISON_OFFICER)
    report = _force(world, Status.DISPATCHED)
    assert capacities(officer, report) & {Actor.UNIT_OFFICER, Actor.COORDINATOR} == {Actor.UNIT_OFFICER}
    clocks = _running(report)
    services.report_return(user=officer, report=report, reason="Jalan nasional, bukan wewenang kota.")
    _assert_row_applied(
        transition_for(Action.RETURN_TO_DISPATCHER, INSTITUTION_HANDS_BACK), report, Status.DISPATCHED, "", clocks
    )
    assert report.owner == world.national_root


def test_submit_starts_the_verification_and_overall_clocks(world):
    report = world.submit()
    running = set(ReportClock.objects.filter(report=report, stopped_at__isnull=True).values_list("clock", flat=True))
    assert running == {Clock.VERIFY_DISPATCH, Clock.OVERALL}
    assert report.owner == world.national_root
    event = ReportEvent.objects.get(report=report)
    assert (event.action, event.actor_role, event.to_status) == (Action.SUBMIT, Actor.REPORTER, Status.SUBMITTED)


def test_submit_to_a_chosen_institution_goes_to_its_coordinator(world):
    report = world.submit(target_institution=world.city)
    assert report.owner == world.city
    assert Actor.COORDINATOR in capacities(world.coordinator, report)
    dispatched = services.report_dispatch(user=world.coordinator, report=report, institution=world.city).report
    assert dispatched.status == Status.DISPATCHED
    assert dispatched.dispatched_by == world.city


def test_coordinator_cannot_dispatch_outside_its_institution(world):
    report = world.submit(target_institution=world.city)
    with pytest.raises(ReportError) as refused:
        services.report_dispatch(user=world.coordinator, report=report, institution=world.regency)
    assert refused.value.code == ReportErrorCode.INVALID_TARGET


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": "   "}, "body"),
        ({"incident_date": "2026-01-01"}, "incident_date"),
        ({"kind": "keluhan"}, "kind"),
        ({"village_code": "36.74.01"}, "village_code"),
        ({"village_code": "99.99.99.9999"}, "village_code"),
        ({"latitude": 1}, "latitude"),
        ({"reporter": None}, "guest_email"),
    ],
)
def test_bad_submissions_are_refused_field_by_field(world, fields, field):
    with pytest.raises(ReportError) as refused:
        world.submit(**fields)
    assert refused.value.code == ReportErrorCode.INVALID
    assert refused.value.field == field
    assert not Report.objects.exists()


def test_future_incident_is_refused(world):
    with pytest.raises(ReportError) as refused:
        world.submit(incident_date=timezone.localdate() + timedelta(days=1))
    assert refused.value.field == "incident_date"


def test_every_action_has_its_rows_and_is_tried_above():
    rows = [(transition.action, transition.case) for transition in TRANSITIONS]
    assert len(rows) == len(set(rows))
    assert {action for action, _case in rows} == set(Action)
    assert {action for action, _status, _actor in CASE_TUPLES} == set(Action)
