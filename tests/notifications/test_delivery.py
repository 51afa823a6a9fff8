"""The delivery machinery: backoff, giving up, idempotency, leases, the tasks and the command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lapor.notifications.choices import Audience, DeliveryStatus, NotificationChannel
from lapor.notifications.models import Notification
from lapor.notifications.services import (
    DEFAULT_RETRY_DELAYS,
    max_attempts,
    notification_deliver,
    notification_deliver_due,
    notification_retry,
)
from lapor.notifications.tasks import deliver_due_notifications, deliver_notification

pytestmark = pytest.mark.django_db


def outbox_row(number: int = 1, channel: str = NotificationChannel.SMS, **fields: object) -> Notification:
    address = f"+62812000{number:05d}" if channel == NotificationChannel.SMS else f"warga{number}@example.id"
    return Notification.objects.create(
        audience=Audience.REPORTER,
        channel=channel,
        address=address,
        body=f"LAPOR pesan nomor {number}",
        subject=f"Pesan {number}" if channel == NotificationChannel.EMAIL else "",
        dedupe_key=f"test:{number}",
        **fields,
    )


def test_failures_back_off_1_5_25_minutes_2_and_10_hours_then_give_up(sms_gateway):
    sms_gateway.plan = [500] * 10
    row = outbox_row()
    now = row.next_attempt_at
    waits = []

    while True:
        assert notification_deliver_due(now=now - timedelta(microseconds=1)).total == 0, "not due yet"
        tally = notification_deliver_due(now=now)
        assert tally.total == 1
        row.refresh_from_db()
        if row.status == DeliveryStatus.DEAD:
            break
        assert row.status == DeliveryStatus.FAILED
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=25),
        timedelta(hours=2),
        timedelta(hours=10),
    ]
    assert row.attempts == max_attempts() == len(DEFAULT_RETRY_DELAYS) + 1 == 6
    assert len(sms_gateway.requests) == 6
    assert row.last_error.startswith("attempt 6: SMS gateway answered HTTP 500")
    # A dead notification waits for an admin: the sweeper leaves it alone, even much later.
    assert notification_deliver_due(now=now + timedelta(days=30)).total == 0
    assert len(sms_gateway.requests) == 6


def test_the_retry_schedule_is_a_setting(sms_gateway, settings):
    settings.NOTIFICATION_RETRY_DELAYS = (5,)
    sms_gateway.plan = [503, 503, 503]
    row = outbox_row()

    notification_deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    notification_deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()

    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 2)


def test_a_sent_notification_is_never_sent_again(sms_gateway):
    row = outbox_row()
    assert notification_deliver(notification_id=row.pk) is not None

    assert notification_deliver(notification_id=row.pk) is None
    assert notification_deliver_due(now=timezone.now() + timedelta(days=1)).total == 0
    assert notification_retry(notification_ids=[row.pk]) == 0
    assert deliver_notification.enqueue(row.pk).return_value == "skipped"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)
    assert len(sms_gateway.requests) == 1


def test_a_notification_being_sent_is_left_to_its_worker_until_the_lease_runs_out(sms_gateway):
    now = timezone.now()
    row = outbox_row(status=DeliveryStatus.SENDING, attempts=1, next_attempt_at=now + timedelta(minutes=3))

    assert notification_deliver_due(now=now).total == 0
    assert notification_retry(notification_ids=[row.pk]) == 0

    # The worker died mid-send: once its lease has run out the message is tried again.
    tally = notification_deliver_due(now=now + timedelta(minutes=3))
    assert tally.sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert len(sms_gateway.requests) == 1


def test_the_sweeper_takes_a_batch_at_a_time_oldest_first(sms_gateway):
    now = timezone.now()
    rows = [outbox_row(number, next_attempt_at=now - timedelta(minutes=number)) for number in range(1, 4)]

    assert notification_deliver_due(limit=2, now=now).sent == 2

    assert [message["to"] for message in sms_gateway.messages] == [rows[2].address, rows[1].address]
    assert notification_deliver_due(limit=2, now=now).sent == 1


def test_the_delivery_task_reports_what_it_did(sms_gateway):
    sms_gateway.plan = [500]
    row = outbox_row()

    assert deliver_notification.enqueue(row.pk).return_value == DeliveryStatus.FAILED
    assert deliver_notification.enqueue(row.pk).return_value == "skipped"  # its retry is not due yet
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert deliver_due_notifications.enqueue().return_value == {"sent": 1, "failed": 0, "dead": 0}


def test_on_a_queue_that_can_wait_a_failed_delivery_schedules_its_own_retry(sms_gateway, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sms_gateway.plan = [500]
    row = outbox_row()

    # What a database worker would run: the task itself, not the queue.
    outcome = deliver_notification.call(row.pk)

    assert outcome == DeliveryStatus.FAILED
    row.refresh_from_db()
    [retry] = DBTaskResult.objects.all()
    assert retry.task_path == "lapor.notifications.tasks.deliver_notification"
    assert retry.args_kwargs == {"args": [row.pk], "kwargs": {}}
    assert retry.run_after == row.next_attempt_at


def test_the_command_delivers_everything_due_and_counts_the_outbox(sms_gateway):
    sms_gateway.plan = [500]
    for number in range(1, 4):
        outbox_row(number)
    outbox_row(4, channel=NotificationChannel.EMAIL)
    output = StringIO()

    call_command("notifications", "deliver", "--batch", "--batch-size", "2", stdout=output)

    assert "Terkirim 3, gagal sementara 1, dihentikan 0." in output.getvalue()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["warga4@example.id"]
    status = StringIO()
    call_command("notifications", "status", stdout=status)
    assert "Terkirim: 3" in status.getvalue()
    assert "Gagal: akan dicoba lagi: 1" in status.getvalue()
