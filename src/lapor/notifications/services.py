"""The outbox: notifications are written in the transaction of the event they announce, and delivered
after it commits, by tasks, over the channels in `channels.py`.

Delivery is at-least-once and never concurrent: a worker first *claims* a row (status "sending", a
lease in ``next_attempt_at``) in a short transaction, sends outside any transaction, then records the
outcome. Claims are conditional updates, and on PostgreSQL the candidates are picked with
``SELECT ... FOR UPDATE SKIP LOCKED``, so two workers never claim the same row and never wait for
each other. A sent row is never claimed again. Only a worker that dies between sending and recording
leaves a row to be tried again when its lease runs out (a duplicate is better than a lost message).

Failures retry with backoff (``NOTIFICATION_RETRY_DELAYS``, seconds after each failed attempt);
a permanent failure, or a temporary one after the last delay, is "dead" and waits for an admin.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from lapor.core.enqueue import on_commit_enqueue
from lapor.notifications.channels import Channel, DeliveryError, channel_for
from lapor.notifications.choices import CLAIMABLE_STATUSES, DeliveryStatus
from lapor.notifications.drafts import Draft
from lapor.notifications.models import Notification

logger = logging.getLogger(__name__)

# 1 min, 5 min, 25 min, 2 h, 10 h: a gateway outage of a working day is ridden out, then a human looks.
DEFAULT_RETRY_DELAYS = (60, 300, 1500, 7200, 36000)
# Longer than any channel's own timeout, so that a live worker never loses its claim mid-send.
SENDING_LEASE = timedelta(minutes=10)
DEFAULT_BATCH_SIZE = 100
LAST_ERROR_LENGTH = 2000
# What a secret looks like in a message to be redacted: a run of digits (a one-time code has six; the
# minutes of its validity, one or two, stay readable).
SECRET_DIGITS = re.compile(r"\d{4,}")
REDACTION_MARK = "•"


# --- writing ------------------------------------------------------------------------------------------


def notification_send(*, drafts: Iterable[Draft], new_keys: bool = False) -> list[Notification]:
    """Write ``drafts`` into the outbox, in the caller's transaction, and have them delivered once it
    commits. A draft whose ``dedupe_key`` is stored already writes nothing new. Returns the stored
    rows of the drafts. ``new_keys``: no draft's key can be stored yet (the caller's transaction has
    just written what they announce), which spares reading them again.

    The delivery tasks are collected with the transaction's other tasks (`lapor.core.enqueue`); a
    caller that has nothing else to enqueue writes them with `enqueue_within_transaction`."""
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=draft.recipient.user_id,
            audience=draft.recipient.audience,
            channel=draft.recipient.channel,
            address=draft.recipient.address,
            language=draft.recipient.language,
            subject=draft.subject,
            body=draft.body,
            dedupe_key=draft.dedupe_key,
            report_id=draft.report_id,
            event_id=draft.event_id,
            next_attempt_at=now,
            created_at=now,
            redact_on_delivery=draft.redact_on_delivery,
        )
        for draft in drafts
    ]
    if not rows:
        return []
    if new_keys:
        # Nothing can be stored under these keys yet: the rows are inserted as they are (the first of
        # any two with the same key, as ON CONFLICT DO NOTHING would keep) and come back with their
        # ids, with no second read.
        unique = list({row.dedupe_key: row for row in reversed(rows)}.values())[::-1]
        stored = Notification.objects.bulk_create(unique)
    else:
        # Conflicts are skipped rather than raised: an error here would roll back the caller's work.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        stored = list(Notification.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).order_by("pk"))
    _deliver_after_commit([row.pk for row in stored if row.status == DeliveryStatus.PENDING])
    return stored


def _deliver_after_commit(notification_ids: Sequence[int]) -> None:
    if notification_ids:
        # A failure to enqueue must not fail the request that committed (it is logged); the sweeper
        # (`lapor notifications deliver`) picks up whatever stays pending. The tasks are written with
        # the transaction's other tasks (its timers), in one INSERT on the database backend.
        on_commit_enqueue(partial(_delivery_jobs, list(notification_ids)))


def _delivery_jobs(notification_ids: list[int]) -> list[tuple[Any, tuple[int]]]:
    from lapor.notifications.tasks import deliver_notification

    return [(deliver_notification, (notification_id,)) for notification_id in notification_ids]


def notification_retry(*, notification_ids: Iterable[int], now: datetime | None = None) -> int:
    """An admin's "retry now": failed, dead or waiting rows become due immediately. Sent rows are
    never sent again, and rows being sent are left to their worker. Returns how many were reset."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.filter(
                pk__in=list(notification_ids),
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.DEAD],
            )
            # A code message given up on has its code masked: sending it again would deliver no code.
            .exclude(status=DeliveryStatus.DEAD, redact_on_delivery=True)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, next_attempt_at=now)
        _deliver_after_commit(ids)
    return len(ids)


# --- delivering ---------------------------------------------------------------------------------------


def retry_delays() -> tuple[int, ...]:
    return tuple(int(delay) for delay in getattr(settings, "NOTIFICATION_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def max_attempts() -> int:
    return len(retry_delays()) + 1


def _due(now: datetime) -> Q:
    return Q(status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now)


def _claim(candidates: Q, *, now: datetime, limit: int) -> list[Notification]:
    """Mark up to ``limit`` due rows as being sent by this worker and return them."""
    if connection.vendor == "postgresql":
        return _claim_in_one_statement(candidates, now=now, limit=limit)
    with transaction.atomic():
        # SKIP LOCKED: rows another worker is claiming right now are passed over, not waited for.
        # (SQLite has no row locks; there its write lock serialises claims, and the conditional
        # update below is what keeps two workers apart.)
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(candidates, _due(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        claimed = [
            pk
            for pk in ids
            if Notification.objects.filter(_due(now), pk=pk).update(
                status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE
            )
        ]
        rows = Notification.objects.in_bulk(claimed)
        return [rows[pk] for pk in claimed]


def _claim_in_one_statement(candidates: Q, *, now: datetime, limit: int) -> list[Notification]:
    """`_claim` on PostgreSQL in one statement (its own transaction outside one): the due rows are
    picked and locked by a sub-select (FOR UPDATE SKIP LOCKED, so rows another worker is claiming are
    passed over, not waited for), marked as being sent, and returned (RETURNING) in the order they
    were picked, in one round trip rather than five (BEGIN, the pick, the update, the read of the
    claimed rows, COMMIT)."""
    picked = (
        Notification.objects.filter(candidates, _due(now))
        .order_by("next_attempt_at", "pk")
        .values("pk", "next_attempt_at")[:limit]
    )
    pick_sql, pick_params = picked.query.sql_with_params()
    fields = list(Notification._meta.concrete_fields)
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(f"{table}.{connection.ops.quote_name(str(field.column))}" for field in fields)
    sql = (
        f"WITH picked AS ({pick_sql} FOR UPDATE SKIP LOCKED) "  # noqa: S608 (Django's SQL, quoted names)
        f"UPDATE {table} SET status = %s, attempts = {table}.attempts + 1, next_attempt_at = %s "
        f"FROM picked WHERE {table}.id = picked.pk RETURNING picked.next_attempt_at, {columns}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*pick_params, DeliveryStatus.SENDING, now + SENDING_LEASE])
        rows = sorted(cursor.fetchall(), key=lambda row: (row[0], row[1 + fields.index(Notification._meta.pk)]))
    names = [field.attname for field in fields]
    claimed = []
    for row in rows:
        values = []
        for field, stored in zip(fields, row[1:], strict=True):
            value = stored
            column = field.get_col(Notification._meta.db_table)
            for converter in [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]:
                value = converter(value, field, connection)
            values.append(value)
        claimed.append(Notification.from_db(connection.alias, names, values))
    return claimed


def _send(notification: Notification, channels: dict[str, Channel], *, now: datetime) -> Notification:
    try:
        if notification.channel not in channels:
            channels[notification.channel] = channel_for(notification.channel)
        channels[notification.channel].send(notification)
    except DeliveryError as error:
        return _record_failure(notification, error.message, temporary=error.temporary, now=now)
    except Exception as error:
        # A bug or a misconfiguration (an unknown SMS_BACKEND) must not lose the message: it is kept
        # and retried like a temporary failure, and the trace goes to the log for whoever fixes it.
        logger.exception("Delivering notification %s failed unexpectedly", notification.pk)
        return _record_failure(notification, f"{type(error).__name__}: {error}", temporary=True, now=now)
    # Only the claim this worker holds is closed: a row whose lease ran out belongs to another worker.
    held = Notification.objects.filter(pk=notification.pk, attempts=notification.attempts)
    redacted = _redacted(notification)
    held.filter(status=DeliveryStatus.SENDING).update(status=DeliveryStatus.SENT, sent_at=now, **redacted)
    notification.status, notification.sent_at = DeliveryStatus.SENT, now
    for field, value in redacted.items():
        setattr(notification, field, value)
    return notification


def _mask_secrets(text: str) -> str:
    return SECRET_DIGITS.sub(lambda found: REDACTION_MARK * len(found.group()), text)


def _redacted(notification: Notification) -> dict[str, str]:
    """The stored subject and body with their secrets masked, for a row that must not keep them once it
    is delivered or given up (empty: nothing to change)."""
    if not notification.redact_on_delivery:
        return {}
    return {"subject": _mask_secrets(notification.subject), "body": _mask_secrets(notification.body)}


def _record_failure(notification: Notification, message: str, *, temporary: bool, now: datetime) -> Notification:
    delays = retry_delays()
    attempt = notification.attempts
    if temporary and attempt <= len(delays):
        status, next_attempt_at = DeliveryStatus.FAILED, now + timedelta(seconds=delays[attempt - 1])
    else:
        status, next_attempt_at = DeliveryStatus.DEAD, now
    last_error = f"attempt {attempt}: {message}"[:LAST_ERROR_LENGTH]
    # Given up: the code it carried is of no use to its owner any more, nor must it be to anyone else.
    redacted = _redacted(notification) if status == DeliveryStatus.DEAD else {}
    Notification.objects.filter(pk=notification.pk, status=DeliveryStatus.SENDING, attempts=attempt).update(
        status=status, next_attempt_at=next_attempt_at, last_error=last_error, **redacted
    )
    notification.status, notification.next_attempt_at, notification.last_error = status, next_attempt_at, last_error
    for field, value in redacted.items():
        setattr(notification, field, value)
    if status == DeliveryStatus.DEAD:
        logger.warning("Notification %s gave up after %d attempts: %s", notification.pk, attempt, message)
    return notification


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> Notification | None:
    """Send one notification if it is due. Returns it with its new status, or None when it is not
    due (already sent, being sent by another worker, waiting for its retry, or gone)."""
    now = now or timezone.now()
    claimed = _claim(Q(pk=notification_id), now=now, limit=1)
    if not claimed:
        return None
    return _send(claimed[0], {}, now=now)


@dataclasses.dataclass
class DeliveryTally:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.dead

    def add(self, notification: Notification) -> None:
        if notification.status == DeliveryStatus.SENT:
            self.sent += 1
        elif notification.status == DeliveryStatus.DEAD:
            self.dead += 1
        else:
            self.failed += 1


def notification_deliver_due(*, limit: int = DEFAULT_BATCH_SIZE, now: datetime | None = None) -> DeliveryTally:
    """Claim and send up to ``limit`` due notifications (the sweeper; safe to run in many workers)."""
    now = now or timezone.now()
    tally = DeliveryTally()
    channels: dict[str, Channel] = {}
    for notification in _claim(Q(), now=now, limit=limit):
        tally.add(_send(notification, channels, now=now))
    return tally
