"""Two workers on PostgreSQL never send the same notification twice (SKIP LOCKED claims)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lapor.notifications.choices import Audience, DeliveryStatus, NotificationChannel
from lapor.notifications.models import Notification
from lapor.notifications.services import SENDING_LEASE, _claim, notification_deliver, notification_deliver_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 60


def fill_outbox() -> list[Notification]:
    return Notification.objects.bulk_create(
        Notification(
            audience=Audience.REPORTER,
            channel=NotificationChannel.SMS,
            address=f"+62812000{number:05d}",
            body=f"LAPOR pesan {number}",
            dedupe_key=f"race:{number}",
        )
        for number in range(ROWS)
    )


def run_in_two_workers(work: Callable[[], int]) -> list[int]:
    """Runs ``work`` in two threads started together; returns how many each sent."""
    start = threading.Barrier(2)
    sent = [0, 0]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            start.wait()
            sent[index] = work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return sent


def assert_each_sent_once(gateway) -> None:
    per_address = Counter(message["to"] for message in gateway.messages)
    assert len(per_address) == ROWS
    assert set(per_address.values()) == {1}, [address for address, count in per_address.items() if count > 1]
    assert Notification.objects.filter(status=DeliveryStatus.SENT, attempts=1).count() == ROWS


def test_two_sweepers_share_the_outbox_without_sending_anything_twice(sms_gateway):
    sms_gateway.delay = 0.01  # each send takes a while, so the workers overlap
    fill_outbox()

    def sweep() -> int:
        total = 0
        while (tally := notification_deliver_due(limit=5)).total:
            total += tally.sent
        return total

    sent = run_in_two_workers(sweep)

    assert_each_sent_once(sms_gateway)
    assert sum(sent) == ROWS
    assert all(sent), f"one worker did everything ({sent}): the test did not race"


def test_two_workers_delivering_the_same_ids_send_each_once(sms_gateway):
    sms_gateway.delay = 0.005
    ids = [row.pk for row in fill_outbox()]

    def deliver_all() -> int:
        return sum(1 for pk in ids if notification_deliver(notification_id=pk) is not None)

    sent = run_in_two_workers(deliver_all)

    assert_each_sent_once(sms_gateway)
    assert sum(sent) == ROWS


def test_claims_skip_locked_rows_on_postgresql(sms_gateway):
    fill_outbox()

    with CaptureQueriesContext(connection) as queries:
        notification_deliver_due(limit=1)

    assert any("FOR UPDATE SKIP LOCKED" in query["sql"] for query in queries.captured_queries)


def test_a_claim_on_postgresql_is_one_statement_that_returns_the_claimed_rows(sms_gateway):
    fill_outbox()
    due = list(Notification.objects.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:2])
    now = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        claimed = _claim(Q(), now=now, limit=2)

    [statement] = [query["sql"] for query in queries.captured_queries]
    assert "FOR UPDATE SKIP LOCKED" in statement
    assert "RETURNING" in statement
    assert [notification.pk for notification in claimed] == due
    for notification in claimed:
        stored = Notification.objects.get(pk=notification.pk)
        assert (notification.status, notification.attempts) == (DeliveryStatus.SENDING, 1)
        assert notification.next_attempt_at == stored.next_attempt_at == now + SENDING_LEASE
        assert (notification.body, notification.address, notification.created_at) == (
            stored.body,
            stored.address,
            stored.created_at,
        )
    assert _claim(Q(pk__in=due), now=now, limit=2) == []
