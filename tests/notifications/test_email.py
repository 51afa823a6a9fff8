"""E-mail delivery through Django's SMTP backend to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from lapor.core.ids import format_tracking_id
from lapor.notifications.choices import DeliveryStatus, NotificationChannel
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_deliver_due
from lapor.reports.services import report_dispatch, report_follow_up, report_forward
from tests.notifications.conftest import free_port


def test_a_report_life_reaches_reporter_and_staff_over_smtp(
    world, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "Lapor <noreply@lapor.example.id>"
    with django_capture_on_commit_callbacks(execute=True):
        report = world.submit()
    with django_capture_on_commit_callbacks(execute=True):
        report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    with django_capture_on_commit_callbacks(execute=True):
        report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    with django_capture_on_commit_callbacks(execute=True):
        report = report_follow_up(user=world.officer, report=report, message="Lampu sudah diganti.", final=True).report

    tracking_id = format_tracking_id(report.tracking_id)
    to_reporter = smtp_server.by_recipient("rina@example.id")
    assert [message["Subject"] for message in to_reporter] == [
        f"Lapor {tracking_id}: Laporan diterima",
        f"Lapor {tracking_id}: Didisposisikan ke Pemerintah Kota Tangerang Selatan",
        f"Lapor {tracking_id}: Tindak lanjut akhir: mohon ditanggapi",
    ]
    final = to_reporter[-1]
    assert final["From"] == "Lapor <noreply@lapor.example.id>"
    assert final["Auto-Submitted"] == "auto-generated"
    body = final.get_content()
    assert "Lampu sudah diganti." in body
    assert "Batas waktu berikutnya: " in body
    assert [message["Subject"] for message in smtp_server.by_recipient("koordinator@example.id")] == [
        f"Lapor {tracking_id}: Laporan baru untuk Pemerintah Kota Tangerang Selatan"
    ]
    assert len(smtp_server.by_recipient("dishub@example.id")) == 1
    assert ("noreply@lapor.example.id", ["dishub@example.id"]) in smtp_server.envelopes

    rows = Notification.objects.filter(report=report)
    assert rows.count() == 5
    assert set(rows.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}
    assert all(row.sent_at is not None for row in rows)


def test_a_temporary_smtp_refusal_is_retried_after_the_backoff(world, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.data_replies = ["451 4.3.0 Mailbox busy, try again later"]
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        report = world.submit()

    row = Notification.objects.get(report=report)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "451" in row.last_error
    assert before + timedelta(seconds=60) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert smtp_server.messages == []

    assert notification_deliver_due(now=row.next_attempt_at - timedelta(seconds=1)).total == 0
    tally = notification_deliver_due(now=row.next_attempt_at)

    assert (tally.sent, tally.failed, tally.dead) == (1, 0, 0)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert len(smtp_server.by_recipient("rina@example.id")) == 1
    assert smtp_server.data_attempts == 2


def test_a_mailbox_that_does_not_exist_is_given_up_at_once(world, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.refused["rina@example.id"] = "550 5.1.1 No such user"
    with django_capture_on_commit_callbacks(execute=True):
        report = world.submit()

    row = Notification.objects.get(report=report)
    assert (row.status, row.attempts, row.channel) == (DeliveryStatus.DEAD, 1, NotificationChannel.EMAIL)
    assert "550" in row.last_error
    assert "No such user" in row.last_error


def test_an_unreachable_smtp_server_is_a_temporary_failure(world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    with django_capture_on_commit_callbacks(execute=True):
        report = world.submit()

    row = Notification.objects.get(report=report)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "unreachable" in row.last_error
