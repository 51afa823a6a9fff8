"""Console plans among 20,000 reports (PostgreSQL): the inbox's tab counts stop at the cap instead of
reading every report of a queue.

At this size a plan that reads every report costs what the planner would otherwise choose for a tiny
test table, so the plans asserted here are the ones a large deployment gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.reports.selectors import INBOX_COUNT_CAP, InboxQueue, inbox_counts, staff_inbox
from tests.reports.test_search_plans import STORED, many  # noqa: F401 (the fixture)

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
