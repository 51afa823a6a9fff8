"""Console plans among 20,000 reports (PostgreSQL): the inbox's tab counts stop at the cap instead of
reading every report of a queue, and a large queue by deadline is read from the running clocks' index.

At this size a plan that reads every report costs what the planner would otherwise choose for a tiny
test table, so the plans asserted here are the ones a large deployment gets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.reports.selectors import INBOX_COUNT_CAP, InboxQueue, InboxSort, inbox_counts, inbox_page, staff_inbox
from tests.reports.test_search_plans import STORED, explain, many  # noqa: F401 (the fixture)

pytestmark = pytest.mark.postgres


def analyzed(sql: str) -> dict[str, Any]:
    """The executed plan of ``sql`` (EXPLAIN ANALYZE, JSON)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        row = cursor.fetchone()
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return plan[0]["Plan"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.usefixtures("many")
def test_the_tab_counts_stop_at_the_cap_instead_of_reading_every_report(world):
    box = staff_inbox(world.coordinator)
    with CaptureQueriesContext(connection) as captured:
        counts = inbox_counts(box)
    assert len(captured.captured_queries) == 1
    # All the copies are the city's, dispatched and not forwarded: new, and in its subtree.
    assert counts[InboxQueue.ALL] == INBOX_COUNT_CAP + 1
    assert counts[InboxQueue.NEW] == INBOX_COUNT_CAP + 1
    plan = analyzed(captured.captured_queries[0]["sql"])
    # One subplan per queue, each counting its capped rows.
    aggregates = [node for node in plan.get("Plans", []) if node["Node Type"] == "Aggregate"]
    assert len(aggregates) == len(box.queues)
    for aggregate in aggregates:
        # Each queue is counted over a LIMIT: never an aggregate over the queue itself.
        (child,) = aggregate["Plans"]
        assert child["Node Type"] == "Limit"
        assert child["Actual Rows"] <= INBOX_COUNT_CAP + 1
    read = sum(
        node["Actual Rows"] * node["Actual Loops"]
        for node in nodes(plan)
        if node.get("Relation Name") == "reports_report"
    )
    assert read < STORED  # an exact count would read every one of them, more than once


@pytest.mark.usefixtures("many")
def test_a_large_queue_by_deadline_walks_the_running_clocks_index(world):
    """Each copy gets a running clock (due within 500 hours); the coordinator's whole queue by deadline
    is then read from the clocks in due order, its first batch enough for a page: never a sort of
    the 20,000 reports by their nearest due time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reports_reportclock (report_id, clock, started_at, due_at, yellow_at, budget, budget_unit, "
            "escalation_level, reminders_sent) "
            "SELECT r.id, 'first_follow_up', now(), now() + (r.id %% %s) * interval '1 hour', "
            "now() + (r.id %% %s) * interval '45 minutes', 5, 'working_days', 0, 0 FROM reports_report r "
            "WHERE NOT EXISTS (SELECT 1 FROM reports_reportclock c WHERE c.report_id = r.id AND c.stopped_at IS NULL)",
            [500, 500],
        )
        cursor.execute("ANALYZE reports_reportclock")
    box = staff_inbox(world.coordinator)
    counts = inbox_counts(box)
    assert counts[InboxQueue.ALL] > INBOX_COUNT_CAP

    def walked():
        return inbox_page(box, InboxQueue.ALL, sort=InboxSort.DEADLINE, queue_size=counts[InboxQueue.ALL])

    with CaptureQueriesContext(connection) as captured:
        page = walked()
    assert len(captured.captured_queries) == 5  # one batch of clocks, its check, the page's three
    plans = explain(walked)
    assert "clock_running_unpaused_due" in plans[0]
    assert not re.search(r"\breports_report\b", plans[0])  # the clocks alone, not the reports
    sorted_whole = inbox_page(box, InboxQueue.ALL, sort=InboxSort.DEADLINE)
    assert [row.report.pk for row in page.rows] == [row.report.pk for row in sorted_whole.rows]
