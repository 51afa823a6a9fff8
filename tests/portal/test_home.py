"""The home page: what Lapor is, the tracking-ID box, the way to file, the latest public reports and
the headline statistics; Indonesian by default."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lapor.core import reference
from lapor.core.ids import format_tracking_id
from lapor.core.management.commands.worker import sweeps_from_settings
from lapor.core.models import ReferenceDataLoad
from lapor.reports.models import Report
from lapor.reports.selectors import (
    HEADLINE_STATS_DATASET,
    HEADLINE_STATS_REFRESH_SECONDS,
    headline_stats_refresh,
    stored_headline_stats,
)
from lapor.reports.services import report_dispatch, report_follow_up


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_home_is_indonesian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "id"
    assert b'<html lang="id">' in response.content
    assert "Lompat ke konten" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_home_switches_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    response = client.get(response["Location"])
    assert b'<html lang="en">' in response.content
    assert "Skip to content" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_english_url_prefix(client):
    response = client.get("/en/")
    assert response.status_code == 200
    assert b'<html lang="en">' in response.content


def publish(world, **overrides) -> Report:
    return report_dispatch(user=world.national_admin, report=world.submit(**overrides), institution=world.city).report


def test_home_offers_filing_tracking_and_the_latest_public_reports(client, world):
    reports = [publish(world, title=f"Laporan publik {index}") for index in range(7)]
    publish(world, title="Laporan rahasia sekali", is_confidential=True)
    world.submit(title="Laporan belum diverifikasi")
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="{reverse("portal:file")}"' in page
    assert "File a report (Buat Laporan)" in page
    assert f'<form method="get" action="{reverse("portal:track")}">' in page
    assert 'name="id"' in page
    assert '<label for="home-tracking-id">Tracking ID</label>' in page
    # The five newest public reports, newest first, and nothing the public may not see.
    shown = [item.tracking_id for item in response.context["latest"]]
    assert shown == [report.tracking_id for report in reversed(reports[-5:])]
    assert format_tracking_id(reports[-1].tracking_id) in page
    assert "Laporan rahasia sekali" not in page
    assert "Laporan belum diverifikasi" not in page
    assert f'href="{reverse("portal:feed")}"' in page


def test_home_shows_the_headline_statistics(client, world):
    followed = [report_follow_up(user=world.coordinator, report=publish(world), message="Ok.").report for _ in range(2)]
    publish(world)
    publish(world, is_confidential=True)
    now = timezone.now()
    for report, hours in zip(followed, (10, 14), strict=True):
        Report.objects.filter(pk=report.pk).update(dispatched_at=now - timedelta(hours=hours), first_follow_up_at=now)
    response = client.get(reverse("portal:home"))
    page = response.content.decode()
    stats = response.context["stats"]
    assert stats.reports_this_month == 3
    assert stats.followed_up_percent == 67
    assert "<dd>3</dd>" in page
    assert "<dd>67%</dd>" in page
    assert "<dd>12 hours</dd>" in page
    assert "calendar time" in page


def test_home_statistics_without_reports_say_so(client, db):
    page = client.get(reverse("portal:home")).content.decode()
    assert "none yet" in page
    assert "No public report yet." in page


def test_home_costs_a_few_queries_and_keeps_its_statistics_for_a_while(client, world, django_assert_max_num_queries):
    for _ in range(12):
        publish(world)
    report_follow_up(user=world.coordinator, report=publish(world), message="Ok.")
    assert headline_stats_refresh() is True  # the worker's sweep
    # Building the world wrote reference data in the test's open transaction, which keeps the cache off.
    reference.reset()
    with django_assert_max_num_queries(2):  # the latest reports and the stored statistics
        client.get(reverse("portal:home"))
    with django_assert_max_num_queries(1):  # the statistics come from the process's cache
        response = client.get(reverse("portal:home"))
    assert len(response.context["latest"]) == 5
    assert response.context["stats"].reports_this_month == 13


def _statements(client) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("portal:home")).status_code == 200
    return [query["sql"].upper() for query in context.captured_queries]


def test_home_never_counts_reports_once_figures_are_stored(client, world):
    publish(world)
    headline_stats_refresh()
    reference.reset()
    statements = _statements(client)
    assert len(statements) == 2
    # The latest reports read five rows; nothing aggregates the reports table.
    for sql in statements:
        assert "COUNT(" not in sql
        assert "PERCENTILE" not in sql
    assert any("REPORTS_REPORT" in sql and "LIMIT 6" in sql for sql in statements)
    # Even stale figures are shown as they are: the sweep recounts them, never a page view.
    publish(world)
    reference.reset()
    statements = _statements(client)
    assert not any("COUNT(" in sql for sql in statements)
    assert client.get(reverse("portal:home")).context["stats"].reports_this_month == 1


def test_home_before_any_sweep_counts_once_and_stores_the_figures(client, world):
    publish(world)
    publish(world)
    reference.reset()
    assert not ReferenceDataLoad.objects.filter(dataset=HEADLINE_STATS_DATASET).exists()
    response = client.get(reverse("portal:home"))
    assert response.context["stats"].reports_this_month == 2
    stored = ReferenceDataLoad.objects.get(dataset=HEADLINE_STATS_DATASET)
    assert stored.summary["dispatched"] == 2
    reference.reset()
    statements = _statements(client)
    assert not any("COUNT(" in sql for sql in statements)


def test_the_sweep_recounts_the_statistics_when_they_are_old(client, world):
    publish(world)
    now = timezone.now()
    assert headline_stats_refresh(now) is True
    publish(world)
    publish(world, is_confidential=True)
    # Young figures are kept: N workers sweeping every minute do not recount a year of reports each.
    assert headline_stats_refresh(now + timedelta(seconds=HEADLINE_STATS_REFRESH_SECONDS - 1)) is False
    reference.reset()
    assert stored_headline_stats().reports_this_month == 1
    later = now + timedelta(seconds=HEADLINE_STATS_REFRESH_SECONDS)
    assert headline_stats_refresh(later) is True
    reference.reset()
    stats = stored_headline_stats()
    assert (stats.reports_this_month, stats.dispatched, stats.counted_at) == (2, 2, later)
    page = client.get(reverse("portal:home")).content.decode()
    assert "<dd>2</dd>" in page
    assert "Last counted on" in page


def test_the_worker_sweeps_the_statistics():
    assert headline_stats_refresh in sweeps_from_settings()


def test_stored_figures_keep_this_month_for_every_zone_and_say_when_a_month_is_not_counted(client, world):
    report = publish(world)
    # 1 March 00:30 in Jakarta is still February in UTC; 1 March in Jayapura began even earlier.
    Report.objects.filter(pk=report.pk).update(created_at=datetime(2026, 2, 28, 17, 30, tzinfo=UTC))
    counted = datetime(2026, 3, 2, tzinfo=UTC)
    headline_stats_refresh(counted, max_age_seconds=0)
    reference.reset()
    for zone in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"):
        with timezone.override(zone):
            assert stored_headline_stats(counted).reports_this_month == 1
    with timezone.override("Asia/Jakarta"):
        # In April, figures counted in March say nothing of this month.
        assert stored_headline_stats(datetime(2026, 4, 1, tzinfo=UTC)).reports_this_month is None
    stored = ReferenceDataLoad.objects.get(dataset=HEADLINE_STATS_DATASET)
    stored.summary["this_month"] = {zone: {"month": "2020-01", "count": 9} for zone in stored.summary["this_month"]}
    stored.save()
    reference.reset()
    page = client.get(reverse("portal:home")).content.decode()
    assert "not counted yet" in page
    assert "<dd>9</dd>" not in page


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_home_in_indonesian_offers_buat_laporan(client):
    page = client.get("/").content.decode()
    assert "Buat Laporan" in page
    assert '<html lang="id">' in page
