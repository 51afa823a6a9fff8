"""What a lifecycle step writes, and how: its tasks commit with its event (database task backend),
a new report's chain and clocks are not read back, and a report's UPDATE carries only what changed."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from lapor.core.audit import chain_append_owner_locked
from lapor.notifications.models import Notification
from lapor.reports.choices import Action, Actor, ReportWeight
from lapor.reports.models import ReportEvent
from lapor.reports.services import report_dispatch
from tests.reports.conftest import build_world

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RUN_CLOCK = "lapor.reports.tasks.run_clock"
DELIVER = "lapor.notifications.tasks.deliver_notification"


def task_paths() -> list[str]:
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


@pytest.mark.django_db
def test_the_tasks_of_a_step_are_written_in_its_transaction():
    with override_settings(TASKS=DATABASE_TASKS):
        world = build_world()
        # The test's own transaction never commits: the rows are there because they were written in it.
        report = world.submit()
        paths = task_paths()
        # verify_dispatch and overall: a warning and a deadline each; one notification to the reporter.
        assert paths.count(RUN_CLOCK) == 4
        assert paths.count(DELIVER) == Notification.objects.filter(report=report).count() == 1


@pytest.mark.django_db
def test_a_step_rolled_back_leaves_no_task_behind():
    with override_settings(TASKS=DATABASE_TASKS):
        world = build_world()
        written: list[list[str]] = []

        def failing_request() -> None:
            with transaction.atomic():
                world.submit()
                written.append(task_paths())
                raise RuntimeError("the request failed after the service returned")

        with pytest.raises(RuntimeError):
            failing_request()
        assert written[0] != []
        assert task_paths() == []


@pytest.mark.django_db(transaction=True)
def test_tasks_of_other_backends_still_wait_for_the_commit(committed_rows_purged):
    # The immediate backend (tests' default) runs a task as it is enqueued: it must not run before the
    # step commits, when its rows would not yet be visible to another connection.
    world = build_world()
    with transaction.atomic():
        report = world.submit()
        assert Notification.objects.get(report=report).status == "pending"
    assert Notification.objects.get(report=report).status == "sent"


@pytest.mark.django_db
def test_a_new_report_is_not_read_back_for_its_chain_or_clocks():
    world = build_world()
    with CaptureQueriesContext(connection) as captured:
        world.submit()
    statements = [query["sql"] for query in captured]
    assert not [sql for sql in statements if re.match(r'SELECT .* FROM "reports_reportevent"', sql)]
    assert not [sql for sql in statements if sql.startswith('UPDATE "reports_reportclock"')]
    # The report itself is read only for the idempotency and tracking-ID checks (LIMIT 1), never back.
    read_back = [sql for sql in statements if re.match(r'SELECT .* FROM "reports_report"\s', sql)]
    assert all("LIMIT 1" in sql for sql in read_back)


@pytest.mark.django_db
def test_an_event_for_a_new_owner_is_refused_when_the_chain_is_not_empty():
    world = build_world()
    report = world.submit()
    with pytest.raises(IntegrityError), transaction.atomic():
        chain_append_owner_locked(
            ReportEvent,
            chain_id=report.pk,
            owner_new=True,
            actor=None,
            actor_role=Actor.SYSTEM,
            action=Action.COMMENT,
            from_status=report.status,
            to_status=report.status,
        )


@pytest.mark.django_db
def test_a_step_updates_only_the_columns_it_changed():
    world = build_world()
    report = world.submit()
    with CaptureQueriesContext(connection) as captured:
        report_dispatch(user=world.national_admin, report=report, institution=world.city, weight=ReportWeight.LIGHT)
    [update] = [query["sql"] for query in captured if query["sql"].startswith('UPDATE "reports_report" ')]
    assigned = set(re.findall(r'"(\w+)" = ', update.split(" WHERE ")[0]))
    assert assigned == {"weight", "status", "owner_id", "dispatched_by_id", "dispatched_at", "updated_at"}
    report.refresh_from_db()
    assert (report.owner_id, report.weight, report.title) == (world.city.pk, ReportWeight.LIGHT, report.title)


def test_a_report_not_read_under_its_lock_is_saved_whole(world) -> None:
    from lapor.reports.models import Report
    from lapor.reports.services import kernel

    report = world.submit()
    stored = Report.objects.get(pk=report.pk)
    stored.title = "Lampu jalan padam di Jalan Merpati"
    kernel.save_changes(stored)
    assert Report.objects.get(pk=report.pk).title == "Lampu jalan padam di Jalan Merpati"
