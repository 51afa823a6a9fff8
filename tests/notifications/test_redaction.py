"""One-time codes do not stay readable in the outbox: once a code's message is delivered (or given up),
the stored copy has its digits masked; the person received the code itself."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from lapor.accounts.choices import OneTimeCodePurpose
from lapor.accounts.services import one_time_code_send
from lapor.notifications.choices import DeliveryStatus
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_deliver, notification_retry

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b\d{6}\b")


def _code_message(address: str, django_capture_on_commit_callbacks) -> Notification:
    with django_capture_on_commit_callbacks(execute=True):
        one_time_code_send(address=address, purpose=OneTimeCodePurpose.LOGIN, language="id")
    return Notification.objects.get(address=address)


def test_a_delivered_code_message_keeps_no_digit_of_the_code(django_capture_on_commit_callbacks):
    row = _code_message("warga@example.id", django_capture_on_commit_callbacks)
    assert row.status == DeliveryStatus.SENT
    delivered = str(mail.outbox[-1].body)
    found = CODE.search(delivered)
    assert found is not None, delivered
    code = found.group()
    row.refresh_from_db()
    assert code not in row.body
    assert code not in row.subject
    assert not CODE.search(row.body)
    assert "••••••" in row.body
    # The rest of the message stays readable for whoever looks into a delivery.
    assert "10" in row.body


def test_a_code_message_given_up_is_redacted_too(sms_gateway, django_capture_on_commit_callbacks):
    sms_gateway.plan = [400]  # a permanent refusal: dead at once
    row = _code_message("+6281234567890", django_capture_on_commit_callbacks)
    assert row.status == DeliveryStatus.DEAD, row.last_error
    sent = sms_gateway.messages[-1]
    assert CODE.search(str(sent)), sent
    assert not CODE.search(row.body)
    # "Retry now" would send the masked copy, no code at all: such a row is not retried.
    assert notification_retry(notification_ids=[row.pk]) == 0
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DEAD


def test_other_messages_keep_their_numbers(django_capture_on_commit_callbacks):
    row = Notification.objects.create(
        channel="email", address="warga@example.id", body="Laporan LAP-2026-123456 diteruskan.", dedupe_key="t:1"
    )
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert row.body == "Laporan LAP-2026-123456 diteruskan."
