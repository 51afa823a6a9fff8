"""Random sequences of actions by random people, checked against the invariants of a report:
it always has an active owner, its clocks agree with its status, and its trail records every
action that happened and nothing else, in an unbroken hash chain."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from lapor.core.audit import chain_verify
from lapor.reports.choices import OPEN_STATUSES, PAUSED_STATUSES, Action, Actor, Status
from lapor.reports.errors import ReportError
from lapor.reports.models import Report, ReportClock, ReportEvent, ReportPause
from lapor.reports.workflow import INSTITUTION_CLOCKS
from tests.reports.test_workflow import _call, _user

ACTIONS = [
    Action.REQUEST_INFORMATION,
    Action.PROVIDE_INFORMATION,
    Action.HOLD,
    Action.RESUME,
    Action.ARCHIVE,
    Action.APPEAL,
    Action.RESUBMIT,
    Action.DISPATCH,
    Action.FORWARD,
    Action.RETURN_TO_DISPATCHER,
    Action.FOLLOW_UP,
    Action.FOLLOW_UP_FINAL,
    Action.CONFIRM,
    Action.DISPUTE,
    Action.RATE,
    Action.COMMENT,
    Action.NOTE,
    Action.REDACT,
]
ACTORS = [actor for actor in Actor if actor != Actor.SYSTEM]
FINAL_STATUSES = frozenset(Status) - OPEN_STATUSES


def test_random_action_sequences_keep_the_invariants(world):
    class ReportLife(RuleBasedStateMachine):
        report: Report
        recorded: int

        @initialize(target_institution=st.sampled_from([None, "city"]))
        def file_a_report(self, target_institution: str | None) -> None:
            target = world.city if target_institution else None
            self.report = world.submit(target_institution=target)
            self.recorded = 1

        @rule(action=st.sampled_from(ACTIONS), actor=st.sampled_from(ACTORS))
        def act(self, action: Action, actor: Actor) -> None:
            before = Report.objects.get(pk=self.report.pk)
            user = _user(world, actor)
            try:
                _call(world, action, user, before)()
            except ReportError:
                after = Report.objects.get(pk=self.report.pk)
                assert after.status == before.status
                assert after.owner_id == before.owner_id
                return
            self.recorded += 1

        @invariant()
        def one_active_owner(self) -> None:
            report = Report.objects.select_related("owner").get(pk=self.report.pk)
            assert report.owner is not None
            assert report.owner.is_active

        @invariant()
        def clocks_agree_with_the_status(self) -> None:
            report = Report.objects.get(pk=self.report.pk)
            running = list(ReportClock.objects.filter(report=report, stopped_at__isnull=True))
            kinds = [clock.clock for clock in running]
            assert len(kinds) == len(set(kinds)), "one running clock per kind"
            for clock in running:
                assert clock.started_at <= clock.yellow_at <= clock.due_at
            open_pauses = ReportPause.objects.filter(report=report, ended_at__isnull=True).count()
            if report.status in PAUSED_STATUSES:
                assert open_pauses == 1
                assert all(clock.paused_at is not None for clock in running if clock.clock in INSTITUTION_CLOCKS)
            else:
                assert open_pauses == 0
                assert all(clock.paused_at is None for clock in running)
            if report.status in FINAL_STATUSES:
                assert running == []
            if report.status in OPEN_STATUSES:
                assert "overall" in kinds

        @invariant()
        def trail_is_complete_and_unbroken(self) -> None:
            report = Report.objects.get(pk=self.report.pk)
            events = list(ReportEvent.objects.filter(report=report).order_by("sequence"))
            assert len(events) == self.recorded
            assert [event.sequence for event in events] == list(range(1, len(events) + 1))
            status_changes = [event for event in events if event.from_status != event.to_status]
            assert status_changes[-1].to_status == report.status
            assert chain_verify(ReportEvent, chain_id=report.pk).ok

    run_state_machine_as_test(
        ReportLife,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
