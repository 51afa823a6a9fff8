"""SMS delivery: a real HTTP gateway (http.server on 127.0.0.1), and the file and console backends."""

from __future__ import annotations

import json

import pytest

from lapor.notifications.choices import DeliveryStatus, NotificationChannel
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_deliver, notification_deliver_due
from tests.notifications.conftest import GATEWAY_TOKEN, free_port

GUEST_PHONE = "0812-3456-7890"
GUEST_ADDRESS = "+6281234567890"


def submit_by_phone(world, capture):
    with capture(execute=True):
        report = world.submit(reporter=None, guest_phone=GUEST_PHONE)
    return Notification.objects.get(report=report)


def test_the_gateway_receives_json_with_the_bearer_token(world, sms_gateway, django_capture_on_commit_callbacks):
    row = submit_by_phone(world, django_capture_on_commit_callbacks)

    assert (row.channel, row.status, row.attempts) == (NotificationChannel.SMS, DeliveryStatus.SENT, 1)
    [request] = sms_gateway.requests
    assert request["path"] == "/v1/messages"
    assert request["headers"]["Authorization"] == f"Bearer {GATEWAY_TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Idempotency-Key"] == f"lapor-notification-{row.pk}"
    assert request["json"] == {"to": GUEST_ADDRESS, "message": row.body}
    assert row.body.startswith("LAPOR ")


def test_a_gateway_error_is_retried_and_then_sent(world, sms_gateway, django_capture_on_commit_callbacks):
    sms_gateway.plan = [500]
    row = submit_by_phone(world, django_capture_on_commit_callbacks)

    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "HTTP 500" in row.last_error

    tally = notification_deliver_due(now=row.next_attempt_at)

    assert tally.sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    # The retry is recognisable as the same message by a gateway that deduplicates.
    assert [request["headers"]["Idempotency-Key"] for request in sms_gateway.requests] == [
        f"lapor-notification-{row.pk}"
    ] * 2


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (500, DeliveryStatus.FAILED),
        (503, DeliveryStatus.FAILED),
        (429, DeliveryStatus.FAILED),
        (401, DeliveryStatus.FAILED),
        (400, DeliveryStatus.DEAD),
        (404, DeliveryStatus.DEAD),
        (422, DeliveryStatus.DEAD),
        (302, DeliveryStatus.DEAD),
    ],
)
def test_server_errors_are_temporary_and_refusals_permanent(
    world, sms_gateway, django_capture_on_commit_callbacks, answer, outcome
):
    sms_gateway.plan = [answer]

    row = submit_by_phone(world, django_capture_on_commit_callbacks)

    assert (row.status, row.attempts) == (outcome, 1)
    assert f"HTTP {answer}" in row.last_error
    # A redirect is not followed: the token goes nowhere else.
    assert len(sms_gateway.requests) == 1


def test_a_slow_gateway_times_out_as_a_temporary_failure(
    world, sms_gateway, settings, django_capture_on_commit_callbacks
):
    sms_gateway.delay = 1.5
    settings.SMS_GATEWAY_TIMEOUT = 0.3

    row = submit_by_phone(world, django_capture_on_commit_callbacks)

    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "timed out" in row.last_error


def test_an_unreachable_gateway_is_a_temporary_failure(world, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{free_port()}/send"

    row = submit_by_phone(world, django_capture_on_commit_callbacks)

    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "unreachable" in row.last_error
    assert GATEWAY_TOKEN not in row.last_error


def test_a_misconfigured_backend_keeps_the_message_for_later(world, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "carrier-pigeon"

    row = submit_by_phone(world, django_capture_on_commit_callbacks)

    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "Unknown SMS_BACKEND" in row.last_error


def test_the_file_backend_appends_json_lines_under_the_data_directory(
    world, settings, django_capture_on_commit_callbacks
):
    first = submit_by_phone(world, django_capture_on_commit_callbacks)
    second = submit_by_phone(world, django_capture_on_commit_callbacks)

    lines = (settings.DATA_DIR / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(record["to"], record["message"]) for record in records] == [
        (GUEST_ADDRESS, first.body),
        (GUEST_ADDRESS, second.body),
    ]
    assert records[0]["reference"] == f"lapor-notification-{first.pk}"
    assert {first.status, second.status} == {DeliveryStatus.SENT}


def test_the_console_backend_prints_the_message(world, settings, capsys, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "console"
    with django_capture_on_commit_callbacks(execute=False):
        report = world.submit(reporter=None, guest_phone=GUEST_PHONE)
    row = Notification.objects.get(report=report)

    delivered = notification_deliver(notification_id=row.pk)

    assert delivered is not None
    assert delivered.status == DeliveryStatus.SENT
    printed = capsys.readouterr().out
    assert f"SMS to {GUEST_ADDRESS}" in printed
    assert row.body in printed
