"""Search plans among 20,000 reports (PostgreSQL): a rare word is answered from the GIN index, a common
one ranks only its newest matches, and "about N results" never counts every match.

At this size a plan that reads every report costs what the planner would otherwise choose for a tiny
test table, so the plans asserted here are the ones a large deployment gets (docs/adr/0010-search.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.reports.models import Report
from lapor.reports.selectors import (
    COUNT_CAP,
    SEARCH_CANDIDATES,
    FeedFilters,
    FeedSort,
    InboxFilters,
    InboxQueue,
    inbox_page,
    inbox_search_count,
    public_feed,
    public_search_count,
    staff_inbox,
)
from lapor.reports.services import report_dispatch

pytestmark = pytest.mark.postgres

STORED = 20_000
RARE_EVERY = 2_000  # "ambruk" is in one stored report in RARE_EVERY: 10 of them
COMMON_BODY = "jalan rusak berlubang di depan pasar"


@pytest.fixture
def many(world) -> Report:
    """STORED published reports copied from one, each with its own tracking ID and creation time, by one
    INSERT ... SELECT generate_series; then ANALYZE, as autovacuum would. Returns the copied report."""
    template = world.submit(title="Laporan contoh", body=COMMON_BODY)
    template = report_dispatch(user=world.national_admin, report=template, institution=world.city).report
    replaced = {
        "tracking_id": "'T' || lpad(upper(to_hex(n)), 11, '0')",
        "title": "'Laporan warga ' || n",
        "public_title": "'Laporan warga ' || n",
        "body": f"CASE WHEN n %% {RARE_EVERY} = 0 THEN 'jembatan ambruk ' ELSE '' END || '{COMMON_BODY} ' || n",
        "public_body": f"CASE WHEN n %% {RARE_EVERY} = 0 THEN 'jembatan ambruk ' ELSE '' END || '{COMMON_BODY} ' || n",
        "created_at": "r.created_at - n * interval '1 minute'",
        "idempotency_key": "NULL",
    }
    columns = [str(field.column) for field in Report._meta.concrete_fields if not field.primary_key]
    selected = [replaced.get(column, f'r."{column}"') for column in columns]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO reports_report ({quoted}) "
            f"SELECT {', '.join(selected)} FROM reports_report r, generate_series(1, %s) AS n WHERE r.id = %s",
            [STORED, template.pk],
        )
        cursor.execute("ANALYZE reports_report")
    return template


def explain(call) -> list[str]:
    """The plan of each SELECT that ``call`` sends (EXPLAIN, no ANALYZE: what the planner chose)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if query["sql"].startswith("SELECT"):
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def test_a_rare_word_is_found_through_the_gin_index_and_counted_exactly(many):
    filters = FeedFilters(text="ambruk")
    (plan,) = explain(lambda: public_feed(None, filters))
    assert "Bitmap Index Scan on report_public_text_search" in plan, plan
    assert "Seq Scan" not in plan, plan
    (count_plan,) = explain(lambda: public_search_count(None, filters))
    assert "Bitmap Index Scan on report_public_text_search" in count_plan, count_plan

    page = public_feed(None, filters)
    assert len(page.reports) == STORED // RARE_EVERY
    assert all("ambruk" in report.public_body for report in page.reports)
    count = public_search_count(None, filters)
    assert count is not None
    assert (count.value, count.exact) == (STORED // RARE_EVERY, True)


def test_a_common_word_ranks_only_its_newest_matches_read_from_the_newest_first_index(many):
    filters = FeedFilters(text="jalan")
    (plan,) = explain(lambda: public_feed(None, filters, FeedSort.RELEVANCE))
    # The candidates are read newest first from an index of the creation time, and the walk stops at
    # SEARCH_CANDIDATES: no sort of every match, no ranking of every match.
    walk = re.search(r"Index Scan (Backward )?using (report_public_newest|\S*created_at\S*) on reports_report u0", plan)
    assert walk, plan
    assert re.search(rf"Limit  \(cost=\S+ rows={SEARCH_CANDIDATES} ", plan), plan
    assert "Bitmap Index Scan" not in plan, plan
    page = public_feed(None, filters)
    assert len(page.reports) == 20
    assert page.next_cursor is not None


CARD_RELATIONS = {"regions_region", "institutions_category", "institutions_institution"}


def _card_joins(sql: str) -> list[tuple[str, int]]:
    """Each join of a card's relation (category, owner, regions) in ``sql``'s plan (EXPLAIN ANALYZE),
    with the rows it gives."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF) " + sql)
        (row,) = cursor.fetchall()
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    joins: list[tuple[str, int]] = []

    def relations(node: dict[str, Any]) -> set[str]:
        found = {node["Relation Name"]} if "Relation Name" in node else set()
        for child in node.get("Plans", []):
            found |= relations(child)
        return found

    def walk(node: dict[str, Any]) -> None:
        children = node.get("Plans", [])
        if node["Node Type"] in {"Nested Loop", "Hash Join", "Merge Join"} and any(
            relations(child) & CARD_RELATIONS for child in children
        ):
            joins.append((node["Node Type"], node["Actual Rows"] * node["Actual Loops"]))
        for child in children:
            walk(child)

    walk(plan[0]["Plan"])
    return joins


@pytest.mark.parametrize("sort", [FeedSort.RELEVANCE, FeedSort.NEWEST, FeedSort.MOST_SUPPORTED])
def test_a_search_joins_the_relations_of_its_page_only(many, sort):
    filters = FeedFilters(text="jalan")
    with CaptureQueriesContext(connection) as captured:
        page = public_feed(None, filters, sort, page_size=20)
    assert len(page.reports) == 20
    (sql,) = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
    joins = _card_joins(sql)
    # The page (and the row that tells whether there is a next one) is chosen among the candidates
    # first: the relations are joined to those 21 rows, not to each of the 1,000 candidates.
    assert len(joins) >= 3, joins
    assert all(rows <= 21 for _type, rows in joins), joins


def test_about_n_results_counts_at_most_the_cap_then_estimates(many):
    filters = FeedFilters(text="jalan pasar")
    with CaptureQueriesContext(connection) as captured:
        count = public_search_count(None, filters)
    assert count is not None
    assert not count.exact
    # The estimate is the planner's (every stored report matches): near the truth, never under the cap.
    assert count.value > COUNT_CAP
    assert STORED / 2 <= count.value <= STORED * 2
    counting = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counting) == 1, counting
    assert re.search(rf"LIMIT {COUNT_CAP + 1}\b", counting[0]), counting[0]
    assert any(query["sql"].startswith("EXPLAIN (FORMAT JSON)") for query in captured.captured_queries)


def test_relevance_pages_walk_the_ranked_candidates_once_each(many, world):
    # Three reports mention the word in their title too: they rank first, however old.
    oldest = Report.objects.exclude(public_body__contains="ambruk").order_by("created_at", "pk")[:3]
    ids = [report.pk for report in oldest]
    Report.objects.filter(pk__in=ids).update(public_title="Pasar ambruk", title="Pasar ambruk")
    filters = FeedFilters(text="ambruk")
    seen, cursor = [], ""
    for _page in range(10):
        page = public_feed(None, filters, FeedSort.RELEVANCE, cursor, page_size=4)
        seen += [report.pk for report in page.reports]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == STORED // RARE_EVERY + 3
    assert set(seen[:3]) == set(ids)


def test_the_console_search_uses_the_staff_gin_index_and_a_capped_count(many, world):
    box = staff_inbox(world.national_admin)
    filters = InboxFilters(text="ambruk")
    plans = explain(lambda: inbox_page(box, InboxQueue.ALL, filters))
    assert "Bitmap Index Scan on report_staff_text_search" in plans[0], plans[0]
    rows = inbox_page(box, InboxQueue.ALL, filters).rows
    assert len(rows) == STORED // RARE_EVERY
    count = inbox_search_count(box, InboxQueue.ALL, filters)
    assert count is not None
    assert (count.value, count.exact) == (STORED // RARE_EVERY, True)
    common = inbox_search_count(box, InboxQueue.ALL, InboxFilters(text="jalan"))
    assert common is not None
    assert not common.exact
    assert common.value > COUNT_CAP


def test_similar_reports_nearby_read_one_category_of_the_district_from_its_index(many, world):
    from lapor.institutions.services import category_create
    from lapor.reports.selectors import similar_open_reports

    rare = category_create(code="jembatan-bench", name="Jembatan")
    common = category_create(code="jalan-bench", name="Jalan")
    from lapor.regions.choices import RegionKind, RegionLevel
    from lapor.regions.models import Region

    Region.objects.create(
        code="36.03.01", parent_id="36.03", level=RegionLevel.DISTRICT, kind=RegionKind.DISTRICT, name="Balaraja"
    )
    Region.objects.create(
        code="36.03.01.2001",
        parent_id="36.03.01",
        level=RegionLevel.VILLAGE,
        kind=RegionKind.RURAL_VILLAGE,
        name="Saga",
    )
    with connection.cursor() as cursor:
        # One report in 50 is in this district, one in 7 about bridges: the district alone is 400
        # reports, the category alone nearly 3,000, both together 57.
        cursor.execute(
            "UPDATE reports_report SET village_id = CASE WHEN id %% 50 = 0 THEN village_id ELSE '36.03.01.2001' END, "
            "category_id = CASE WHEN id %% 7 = 0 THEN %s ELSE %s END",
            [rare.pk, common.pk],
        )
        cursor.execute("ANALYZE reports_report")
    village = many.village_id

    def similar():
        return similar_open_reports(category=rare, village_code=village, text="jembatan ambruk di pasar")

    candidates, _ranked = explain(similar)
    # The category's reports of the district are one range of the index: neither the district's other
    # reports nor the category's elsewhere are read.
    assert "report_similar_nearby" in candidates, candidates
    found = similar()
    assert 0 < len(found) <= 5
    assert {report.category_id for report in found} == {rare.pk}
    assert {report.village_id for report in found} == {village}
