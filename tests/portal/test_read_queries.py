"""What each public read page costs in queries, the same for a few reports as for many: no query per
report shown, no count of every report."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lapor.reports.services import report_comment, report_dispatch, report_follow_up
from tests.portal.test_tracking import guest_report, open_private


def publish(world, **overrides):
    return report_dispatch(user=world.national_admin, report=world.submit(**overrides), institution=world.city).report


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"q": "jalan"}, {"q": "jalan", "urut": "terbaru"}, {}])
def test_the_feed_and_its_searches_cost_the_same_queries_for_few_or_many_reports(
    client, world, query, django_assert_num_queries
):
    for _ in range(2):
        publish(world, title="Jalan rusak")
    # The category tree for the filters, the page, and (a first page of a search) its capped count.
    expected = 3 if query else 2
    with django_assert_num_queries(expected):
        client.get(reverse("portal:feed"), query)
    for _ in range(23):
        publish(world, title="Jalan rusak")
    with django_assert_num_queries(expected):
        response = client.get(reverse("portal:feed"), query)
    assert len(response.context["cards"]) == 20


@pytest.mark.django_db
def test_a_public_report_page_costs_four_queries_whatever_its_history(client, world, django_assert_num_queries):
    report = publish(world)
    url = reverse("portal:report", args=[report.tracking_id])
    with django_assert_num_queries(4):  # the report with its card's relations, its events, files and deadlines
        client.get(url)
    report = report_follow_up(user=world.coordinator, report=report, message="Sedang ditangani.").report
    for index in range(5):
        report_comment(user=world.member_of_public, report=report, message=f"Saya juga mengalami ini {index}.")
    client.logout()
    with django_assert_num_queries(4):
        response = client.get(url)
    assert "Saya juga mengalami ini 4" in response.content.decode()


@pytest.mark.django_db
def test_the_reporters_page_reads_the_regions_of_its_report_in_one_query(client, world):
    report, secret = guest_report(world)
    page = open_private(client, report, secret)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page)
    assert response.status_code == 200
    regions = [query["sql"] for query in captured.captured_queries if 'FROM "regions_region"' in query["sql"]]
    # The report comes with its village (access.reporter_proof_by_link); the three regions above it
    # come in one query, not one per level.
    assert len(regions) == 1, regions
    assert len(captured.captured_queries) <= 8
