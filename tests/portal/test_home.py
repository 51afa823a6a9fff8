"""The home page: what Lapor is, the tracking-ID box, the way to file, the latest public reports and
the headline statistics; Indonesian by default."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lapor.core import reference
from lapor.core.ids import format_tracking_id
from lapor.reports.models import Report
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
    # Building the world wrote reference data in the test's open transaction, which keeps the cache off.
    reference.reset()
    with django_assert_max_num_queries(3):  # the latest reports and the two statistics queries
        client.get(reverse("portal:home"))
    with django_assert_max_num_queries(1):  # the statistics come from the process's cache
        response = client.get(reverse("portal:home"))
    assert len(response.context["latest"]) == 5


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_home_in_indonesian_offers_buat_laporan(client):
    page = client.get("/").content.decode()
    assert "Buat Laporan" in page
    assert '<html lang="id">' in page
