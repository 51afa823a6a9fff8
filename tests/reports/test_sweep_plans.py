"""The timers' sweep among 20,000 reports on hold or waiting for details (PostgreSQL): each of its
queries reads a partial index that holds only the rows it looks for, never the reports or the clocks
of the whole table. At this size a plan that reads every report or every running clock costs what
the planner would otherwise choose for a tiny test table, so the plans asserted here are the ones a
large deployment gets (the sweep runs every minute in every task worker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from lapor.reports import timers
from lapor.reports.choices import Clock, Status
from lapor.reports.models import Report, ReportClock

pytestmark = pytest.mark.postgres

STORED = 20_000


def _copy(model: type[Report] | type[ReportClock], source_id: int, replaced: dict[str, str], source: str) -> None:
    columns = [str(field.column) for field in model._meta.concrete_fields if not field.primary_key]
    selected = [replaced.get(column, f't."{column}"') for column in columns]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {', '.join(selected)} FROM {table} t, {source} WHERE t.id = %s",
            [source_id],
        )


@pytest.fixture
def many(world) -> Report:
    """STORED reports on hold until next month, each with a running verify-and-dispatch clock (warned,
    not yet due) and a running request for details whose first reminder is hours away; then ANALYZE,
    as autovacuum would. Returns the report they were copied from."""
    template = world.submit()
    clock = ReportClock.objects.get(report=template, clock=Clock.VERIFY_DISPATCH, stopped_at__isnull=True)
    _copy(
        Report,
        template.pk,
        {
            "tracking_id": "'H' || lpad(upper(to_hex(n)), 11, '0')",
            "idempotency_key": "NULL",
            "status": f"'{Status.ON_HOLD}'",
            "hold_until": "CURRENT_DATE + 30",
        },
        f"generate_series(1, {STORED}) AS n",
    )
    copies = f"reports_report r WHERE r.id <> {template.pk} AND r.status = '{Status.ON_HOLD}' AND t.id = %s"
    for kind, fields in (
        (Clock.VERIFY_DISPATCH, {"warned_at": "now() - interval '1 day'", "due_at": "now() + interval '1 day'"}),
        (
            Clock.INFORMATION_REPLY,
            {
                "started_at": "now() - interval '1 hour'",
                "yellow_at": "now() + interval '5 days'",
                "due_at": "now() + interval '10 days'",
                "reminders_sent": "0",
            },
        ),
    ):
        columns = [str(field.column) for field in ReportClock._meta.concrete_fields if not field.primary_key]
        replaced = {"report_id": "r.id", "clock": f"'{kind}'", "stopped_at": "NULL", "paused_at": "NULL", **fields}
        selected = [replaced.get(column, f't."{column}"') for column in columns]
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO reports_reportclock ({quoted}) SELECT {', '.join(selected)} "
                f"FROM reports_reportclock t, {copies}",
                [clock.pk],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_report")
        cursor.execute("ANALYZE reports_reportclock")
    return template


def plan_of(queryset) -> str:
    sql, params = queryset.order_by().values_list("pk", flat=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_fixture_holds_what_the_sweep_passes_over(many):
    assert Report.objects.filter(status=Status.ON_HOLD).count() == STORED
    running = ReportClock.objects.filter(stopped_at__isnull=True)
    assert running.filter(clock=Clock.INFORMATION_REPLY).count() == STORED
    assert running.filter(clock=Clock.VERIFY_DISPATCH).count() == STORED + 1


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (timers.overdue_warnings, "clock_to_warn"),
        (timers.overdue_escalations, "clock_to_escalate"),
        (timers.open_information_requests, "information_request_running"),
        (timers.overdue_reply_windows, "reply_window_running"),
        (timers.ended_holds, "report_hold_ends"),
    ],
)
def test_each_sweep_query_reads_its_partial_index(many, query, index):
    plan = plan_of(query(timezone.now()))
    assert f"Index Scan using {index}" in plan or f"Bitmap Index Scan on {index}" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_sweep_finds_nothing_to_do_among_them_and_locks_none(many, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        result = timers.reconcile()
    assert result.total == result.failed == 0
    # A month later the holds have ended and every request has passed its window: all are found.
    later = timezone.now() + timedelta(days=31)
    assert len(list(timers.ended_holds(later).values_list("pk", flat=True))) == STORED
    remind, archive = timers.due_information_requests(later)
    assert len(remind) == len(archive) == STORED
