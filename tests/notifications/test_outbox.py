"""The outbox's one entry point: recipients and drafts in, rows written in the caller's transaction and
delivered once it commits; the same key never writes a second message."""

from __future__ import annotations

import pytest
from django.db import transaction

from lapor.accounts.services import user_create
from lapor.notifications.choices import Audience, DeliveryStatus, NotificationChannel
from lapor.notifications.drafts import Draft, Recipient, draft_render
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_send

pytestmark = pytest.mark.django_db


def sms_draft(key: str, *, user_id: int | None = None, body: str = "LAPOR: kode 123456") -> Draft:
    recipient = Recipient(
        audience=Audience.REPORTER,
        channel=NotificationChannel.SMS,
        address="+6281234567890",
        language="id",
        user_id=user_id,
    )
    return Draft(recipient=recipient, subject="", body=body, dedupe_key=key, redact_on_delivery=True)


def test_drafts_are_written_with_the_callers_transaction_and_delivered_after_it_commits(
    django_capture_on_commit_callbacks,
):
    user = user_create(full_name="Siti Aminah", phone="081234567890", password=None)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        stored = notification_send(drafts=[sms_draft("test:a", user_id=user.pk), sms_draft("test:b")])
        # Written, not yet sent: delivery waits for the commit.
        assert [row.status for row in stored] == [DeliveryStatus.PENDING, DeliveryStatus.PENDING]

    rows = list(Notification.objects.order_by("dedupe_key"))
    assert [(row.dedupe_key, row.recipient_id, row.status) for row in rows] == [
        ("test:a", user.pk, DeliveryStatus.SENT),
        ("test:b", None, DeliveryStatus.SENT),
    ]
    # The secret the draft carried is masked in the stored copy once delivered.
    assert "123456" not in rows[0].body


def _send_then_fail() -> None:
    with transaction.atomic():
        notification_send(drafts=[sms_draft("test:rolled-back")])
        raise RuntimeError


def test_a_rolled_back_transaction_leaves_nothing_in_the_outbox():
    with pytest.raises(RuntimeError):
        _send_then_fail()

    assert not Notification.objects.exists()


def test_the_same_key_never_writes_a_second_message():
    first = notification_send(drafts=[sms_draft("test:once", body="pertama")])
    again = notification_send(drafts=[sms_draft("test:once", body="kedua")])

    assert [row.pk for row in again] == [row.pk for row in first]
    assert list(Notification.objects.values_list("body", flat=True)) == ["pertama"]


def test_nothing_to_send_writes_nothing():
    assert notification_send(drafts=[]) == []
    assert not Notification.objects.exists()


def test_a_draft_is_rendered_for_its_channel_in_the_recipients_language():
    recipient = Recipient(
        audience=Audience.REPORTER, channel=NotificationChannel.EMAIL, address="siti@example.id", language="id"
    )
    draft = draft_render(
        recipient=recipient,
        templates="accounts/messages/one_time_code",
        context={"code": "654321", "purpose": "Daftar", "minutes": 10, "site_url": ""},
        dedupe_key="test:render",
    )
    sms = draft_render(
        recipient=Recipient(
            audience=Audience.REPORTER, channel=NotificationChannel.SMS, address="+6281234567890", language="id"
        ),
        templates="accounts/messages/one_time_code",
        context={"code": "654321", "purpose": "Daftar", "minutes": 10, "site_url": ""},
        dedupe_key="test:render-sms",
    )

    assert draft.subject
    assert "654321" in draft.body
    assert sms.subject == ""
    assert "654321" in sms.body
    assert "\n" not in sms.body
