"""Delivery tasks. Both take ids, are idempotent and safe to run twice: the claim in the services
decides who sends, so a duplicate task finds nothing to do."""

from __future__ import annotations

from django_tasks import task

from lapor.notifications.choices import DeliveryStatus
from lapor.notifications.services import DEFAULT_BATCH_SIZE, notification_deliver, notification_deliver_due


@task()
def deliver_notification(notification_id: int) -> str:
    """Send one notification; after a temporary failure, come back when its retry is due.

    Backends that cannot run a task later (the immediate backend) leave the retry to the sweeper.
    Returns the notification's status, or "skipped" when it was not due.
    """
    notification = notification_deliver(notification_id=notification_id)
    if notification is None:
        return "skipped"
    if notification.status == DeliveryStatus.FAILED and deliver_notification.get_backend().supports_defer:
        deliver_notification.using(run_after=notification.next_attempt_at).enqueue(notification_id)
    return str(notification.status)


@task()
def deliver_due_notifications(limit: int = DEFAULT_BATCH_SIZE) -> dict[str, int]:
    """The sweeper: sends what is due, including retries and rows whose task was lost. Enqueue it
    every minute or so (or run `lapor notifications deliver`)."""
    tally = notification_deliver_due(limit=limit)
    return {"sent": tally.sent, "failed": tally.failed, "dead": tally.dead}
