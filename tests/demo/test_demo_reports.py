"""The demo reports: about 200, in every status, moved there by the services and the right people."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import translation

from lapor.accounts.models import User
from lapor.demo.reports import (
    CITIZENS,
    DEMO_EMAIL_DOMAIN,
    DEMO_REPORT_COUNT,
    SCENARIOS,
    scenario_counts,
    seed_demo_reports,
)
from lapor.demo.services import demo_load
from lapor.notifications.models import Notification
from lapor.reports.access import capacities, reporter_identity
from lapor.reports.choices import (
    Action,
    Actor,
    ArchiveReason,
    Channel,
    ClosureReason,
    ReportKind,
    Status,
)
from lapor.reports.models import Report, ReportAssignment, ReportCopy, ReportEvent


@pytest.fixture(autouse=True)
def debug(settings):
    settings.DEBUG = True


def test_scenario_counts_cover_every_status_first_and_add_up():
    every_status = {scenario.status for scenario in SCENARIOS}

    assert every_status == set(Status)
    assert sum(scenario_counts(DEMO_REPORT_COUNT).values()) == DEMO_REPORT_COUNT
    assert set(scenario_counts(len(SCENARIOS)).values()) == {1}
    assert sum(scenario_counts(3).values()) == 3
    assert sum(scenario_counts(0).values()) == 0


def test_demo_load_seeds_reports_in_every_status_through_the_services(banten_regions):
    result = demo_load()

    reports = Report.objects.all()
    assert result.reports_created == reports.count() == DEMO_REPORT_COUNT
    by_status = dict(reports.values_list("status").annotate(count=Count("id")))
    assert set(by_status) == set(Status)
    assert set(reports.exclude(archive_reason="").values_list("archive_reason", flat=True)) == set(ArchiveReason)
    assert set(reports.exclude(closure_reason="").values_list("closure_reason", flat=True)) == set(ClosureReason)
    assert set(reports.values_list("kind", flat=True)) == set(ReportKind)
    assert {Channel.WEB, Channel.SMS, Channel.EMAIL, Channel.API} <= set(reports.values_list("channel", flat=True))
    assert not reports.filter(status=Status.CLOSED, closure_reason=ClosureReason.CONFIRMED, rating__isnull=True)
    assert reports.filter(is_confidential=True).exists()
    assert reports.filter(reporter__isnull=True).exclude(guest_email_ciphertext="").exists()
    assert reports.filter(reporter__isnull=True, guest_email_ciphertext="").exclude(guest_phone_ciphertext="").exists()
    assert reports.filter(reporter__isnull=False).values("reporter").distinct().count() == len(CITIZENS)
    assert not reports.filter(village__isnull=True)
    assert all(code.startswith(("36.74.", "36.03.")) for code in reports.values_list("village_id", flat=True))
    assert not reports.filter(category__isnull=True)
    assert reports.filter(status=Status.MERGED, merged_into__isnull=False).count() == by_status[Status.MERGED]
    assert set(reports.filter(status=Status.REFERRED).values_list("owner__code", flat=True)) == {"ombudsman"}
    assert ReportAssignment.objects.exists()
    assert ReportCopy.objects.exists()
    assert Notification.objects.exists()

    # Each report's trail starts with its submission, and each step was taken in the right capacity.
    assert set(ReportEvent.objects.filter(sequence=1).values_list("action", flat=True)) == {Action.SUBMIT}
    assert ReportEvent.objects.filter(sequence=1).count() == DEMO_REPORT_COUNT
    roles = {
        action: set(ReportEvent.objects.filter(action=action).values_list("actor_role", flat=True))
        for action in (Action.DISPATCH, Action.FORWARD, Action.FOLLOW_UP, Action.FOLLOW_UP_FINAL, Action.CONFIRM)
    }
    assert roles[Action.DISPATCH] == {Actor.NATIONAL_ADMIN, Actor.COORDINATOR}
    assert roles[Action.FORWARD] == {Actor.COORDINATOR}
    assert roles[Action.FOLLOW_UP] == roles[Action.FOLLOW_UP_FINAL] == {Actor.UNIT_OFFICER}
    assert roles[Action.CONFIRM] == {Actor.REPORTER}
    assert set(ReportEvent.objects.filter(action=Action.DEEM_COMPLETE).values_list("actor_role", flat=True)) == {
        Actor.SYSTEM
    }

    with translation.override("en"):
        output = StringIO()
        call_command("audit", "verify", stdout=output)
    events = ReportEvent.objects.count()
    assert f"OK: {events} events in {DEMO_REPORT_COUNT} chains (reports.reportevent)" in output.getvalue()
    call_command("audit", "anchor", "--model", "reports.ReportEvent", stdout=StringIO())
    call_command("audit", "verify", "--model", "reports.ReportEvent", stdout=StringIO())

    # Anonymous reports, by account holders and guests alike, hide the reporter from the staff.
    national_admin = User.objects.get(email="nasional@demo.lapor.id")
    anonymous = list(reports.filter(is_anonymous=True).select_related("reporter", "owner"))
    assert len(anonymous) >= DEMO_REPORT_COUNT // 20
    assert any(report.reporter is None for report in anonymous)
    assert any(report.reporter is not None for report in anonymous)
    for report in anonymous:
        assert reporter_identity(report, capacities(national_admin, report)) is None
        if report.reporter is not None:
            assert reporter_identity(report, capacities(report.reporter, report)) is not None
    named = reports.filter(is_anonymous=False, reporter__isnull=False).select_related("reporter", "owner").first()
    assert named is not None
    assert reporter_identity(named, capacities(national_admin, named)) is not None


def test_second_demo_load_adds_no_reports(banten_regions):
    demo_load()
    counts = (Report.objects.count(), ReportEvent.objects.count(), User.objects.count())

    again = demo_load()

    assert again.reports_created == 0
    assert counts == (Report.objects.count(), ReportEvent.objects.count(), User.objects.count())
    assert seed_demo_reports() == 0
    assert User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).count() == counts[2]


def test_a_small_demo_still_covers_every_status(banten_regions):
    demo_load(reports=0)
    assert not Report.objects.exists()

    created = seed_demo_reports(count=len(SCENARIOS), seed=7)

    assert created == len(SCENARIOS)
    assert set(Report.objects.values_list("status", flat=True)) == set(Status)


def test_demo_command_loads_reports_on_request(banten_regions):
    output = StringIO()
    call_command("demo", "load", "--reports", "20", "--quiet-logins", stdout=output)

    assert Report.objects.count() == 20
    assert "20 reports" in output.getvalue()
