"""The demo reports: about 200, in every status, moved there by the services and the right people."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone, translation
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from lapor.accounts.models import User
from lapor.core.audit import anchor_create
from lapor.demo.reports import (
    CITIZENS,
    DEMO_EMAIL_DOMAIN,
    DEMO_REPORT_COUNT,
    SCENARIOS,
    scenario_counts,
    seed_demo_reports,
)
from lapor.demo.services import demo_load, demo_logins
from lapor.notifications.choices import DeliveryStatus
from lapor.notifications.models import Notification
from lapor.reports.access import capacities, reporter_identity
from lapor.reports.choices import (
    OPEN_STATUSES,
    Action,
    Actor,
    ArchiveReason,
    Channel,
    ClosureReason,
    ReportKind,
    Status,
)
from lapor.reports.models import Report, ReportAssignment, ReportCopy, ReportEvent
from lapor.reports.timers import reconcile


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


def test_demo_history_is_spread_over_weeks_and_stays_where_the_demo_left_it(banten_regions):
    """Every step used to happen in the same minute: ages read "0 hours". The history now spans weeks,
    in order, ends before now, and no timer changes a report's status once the demo is loaded."""
    demo_load(reports=0)
    started = timezone.now()
    seed_demo_reports(count=40, seed=3)

    submitted = sorted(Report.objects.values_list("created_at", flat=True))
    assert submitted[-1] - submitted[0] >= timedelta(weeks=3)
    assert max(ReportEvent.objects.values_list("created_at", flat=True)) <= started
    oldest_open = Report.objects.filter(status__in=OPEN_STATUSES).order_by("created_at").first()
    assert oldest_open is not None
    assert started - oldest_open.created_at > timedelta(days=1)
    # Steps take hours and days, not the same instant: the median time to dispatch is over an hour.
    dispatched = Report.objects.filter(dispatched_at__isnull=False).values_list("created_at", "dispatched_at")
    waits = sorted(at - created for created, at in dispatched if at is not None)
    assert waits[len(waits) // 2] > timedelta(hours=1)
    for report in Report.objects.all():
        times = list(report.events.order_by("sequence").values_list("created_at", flat=True))
        assert times == sorted(times)
        assert times[0] == report.created_at

    statuses = dict(Report.objects.values_list("id", "status"))
    swept = reconcile()
    assert (swept.archived, swept.deemed_complete, swept.resumed, swept.failed) == (0, 0, 0, 0)
    assert dict(Report.objects.values_list("id", "status")) == statuses
    with translation.override("en"):
        output = StringIO()
        call_command("audit", "verify", "--model", "reports.ReportEvent", stdout=output)
    assert "OK:" in output.getvalue()


def test_demo_history_never_goes_before_the_latest_anchor(banten_regions):
    demo_load(reports=0)
    anchor = anchor_create(ReportEvent, upto=timezone.now() - timedelta(days=2))

    seed_demo_reports(count=len(SCENARIOS), seed=5)

    assert Report.objects.filter(created_at__lte=anchor.upto).count() == 0
    call_command("audit", "verify", "--model", "reports.ReportEvent", stdout=StringIO())


def test_demo_load_leaves_no_demo_mail_for_the_worker_and_ends_with_the_logins(
    committed_rows_purged, banten_regions, settings, tmp_path, capsys
):
    """`make run` starts the worker right after `demo load`: the demo's own messages (hundreds) must be
    written to files by the load itself, not printed by the worker over the demo logins."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # as `make run` has it
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.SMS_BACKEND = "console"
    settings.DATA_DIR = tmp_path
    output = StringIO()

    call_command("demo", "load", "--reports", "40", stdout=output)

    assert "Subject:" not in capsys.readouterr().out
    # Guests known only by a phone number are demo reporters too: the timers were settled anyway.
    assert Report.objects.filter(reporter__isnull=True, guest_email_index="").exists()
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()
    assert not Notification.objects.exclude(status=DeliveryStatus.SENT).exists()
    assert Notification.objects.count() > 20
    assert any((tmp_path / "mail").iterdir())
    assert (tmp_path / "sms" / "outbox.jsonl").exists()
    lines = output.getvalue().rstrip().splitlines()
    last_login = demo_logins()[-1][0]
    assert lines[-1].strip().startswith(last_login)
    assert str(tmp_path / "mail") in output.getvalue()
    assert reconcile().total == 0
