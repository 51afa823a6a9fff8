"""The outbox in the admin: superusers only, read-only, filters and search, and "retry now"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from lapor.accounts.services import user_create
from lapor.notifications.choices import Audience, DeliveryStatus, NotificationChannel
from lapor.notifications.models import Notification
from tests.console.conftest import verified_login

CHANGELIST = "admin:notifications_notification_changelist"

pytestmark = pytest.mark.django_db


def outbox_row(key: str, **fields: object) -> Notification:
    values: dict[str, object] = {
        "audience": Audience.REPORTER,
        "channel": NotificationChannel.EMAIL,
        "address": f"{key}@example.id",
        "subject": f"Subjek {key}",
        "body": "Isi pesan.",
        "dedupe_key": f"test:{key}",
    }
    values.update(fields)
    return Notification.objects.create(**values)


def test_retry_now_sends_failed_and_dead_notifications_again_but_never_sent_ones(
    admin_client, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(hours=10)
    dead = outbox_row("dead", status=DeliveryStatus.DEAD, attempts=6, last_error="attempt 6: SMTP server answered 451")
    failed = outbox_row("failed", status=DeliveryStatus.FAILED, attempts=2, next_attempt_at=later)
    sent = outbox_row("sent", status=DeliveryStatus.SENT, attempts=1, sent_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(CHANGELIST),
            {"action": "retry_now", "_selected_action": [dead.pk, failed.pk, sent.pk]},
            follow=True,
        )

    assert response.status_code == 200
    notices = [str(message) for message in get_messages(response.wsgi_request)]
    assert "2 notifikasi akan dikirim ulang sekarang." in notices
    assert "1 notifikasi dilewati: sudah terkirim atau sedang dikirim." in notices
    for row in (dead, failed, sent):
        row.refresh_from_db()
    assert (dead.status, dead.attempts) == (DeliveryStatus.SENT, 7)
    assert (failed.status, failed.attempts) == (DeliveryStatus.SENT, 3)
    assert sent.attempts == 1
    assert sorted(message.to[0] for message in mail.outbox) == ["dead@example.id", "failed@example.id"]


def test_retry_now_delivers_only_once_its_transaction_commits(admin_client):
    dead = outbox_row("dead", status=DeliveryStatus.DEAD, attempts=6)

    admin_client.post(reverse(CHANGELIST), {"action": "retry_now", "_selected_action": [dead.pk]})

    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.PENDING
    assert dead.next_attempt_at <= timezone.now()
    assert mail.outbox == []


def test_the_list_filters_and_searches(admin_client):
    outbox_row("gagal", status=DeliveryStatus.DEAD, last_error="550 No such user")
    outbox_row("terkirim", status=DeliveryStatus.SENT)
    outbox_row("sms", channel=NotificationChannel.SMS, address="+6281234567890", subject="")

    dead = admin_client.get(reverse(CHANGELIST), {"status__exact": DeliveryStatus.DEAD})
    searched = admin_client.get(reverse(CHANGELIST), {"q": "+628123"})
    by_channel = admin_client.get(reverse(CHANGELIST), {"channel__exact": NotificationChannel.SMS})

    assert dead.status_code == searched.status_code == by_channel.status_code == 200
    assert list(dead.context["cl"].result_list.values_list("address", flat=True)) == ["gagal@example.id"]
    assert list(searched.context["cl"].result_list.values_list("address", flat=True)) == ["+6281234567890"]
    assert list(by_channel.context["cl"].result_list.values_list("address", flat=True)) == ["+6281234567890"]


def test_the_outbox_is_read_only(admin_client):
    row = outbox_row("baca")

    page = admin_client.get(reverse("admin:notifications_notification_change", args=[row.pk]))
    changed = admin_client.post(
        reverse("admin:notifications_notification_change", args=[row.pk]), {"address": "lain@example.id"}
    )
    added = admin_client.get(reverse("admin:notifications_notification_add"))
    deleted = admin_client.get(reverse("admin:notifications_notification_delete", args=[row.pk]))

    assert page.status_code == 200
    assert b"baca@example.id" in page.content
    assert changed.status_code == 403
    assert added.status_code == 403
    assert deleted.status_code == 403
    row.refresh_from_db()
    assert row.address == "baca@example.id"


def test_staff_who_are_not_superusers_cannot_see_the_outbox(client):
    staff = user_create(full_name="Admin Biasa", email="staf@example.id")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    verified_login(client, staff)
    row = outbox_row("rahasia", status=DeliveryStatus.DEAD)

    listing = client.get(reverse(CHANGELIST))
    retry = client.post(reverse(CHANGELIST), {"action": "retry_now", "_selected_action": [row.pk]})

    # The admin does not exist for them, second factor or not.
    assert listing.status_code == 404
    assert retry.status_code == 404
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD
