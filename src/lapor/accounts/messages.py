"""Messages to one address that announce no report event (a one-time code, a notice about an account,
an invitation), handed to the notifications outbox. Their words are in ``accounts/messages/<template>/``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from lapor.accounts.models import User
from lapor.core.enqueue import enqueue_within_transaction
from lapor.core.identifiers import looks_like_phone, normalize_email, normalize_phone
from lapor.notifications.choices import Audience, NotificationChannel
from lapor.notifications.drafts import Recipient, draft_render
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_send


def direct_contact(address: str) -> tuple[NotificationChannel, str] | None:
    """The channel and normalised address of a message to one address (a one-time code): SMS for a
    phone number, e-mail otherwise; None when the address is neither."""
    try:
        if looks_like_phone(address):
            return NotificationChannel.SMS, normalize_phone(address)
        return NotificationChannel.EMAIL, normalize_email(address)
    except ValidationError:
        return None


def notify_direct(
    *,
    address: str,
    language: str,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    recipient: User | None = None,
    redact_on_delivery: bool = False,
) -> Notification | None:
    """Write a message to one address into the outbox, delivered once the caller's transaction commits,
    over the channel the address calls for: e-mail or SMS, in ``language``, from
    ``accounts/messages/<template>/`` (``subject.txt`` and ``email.txt`` for e-mail, ``sms.txt`` for
    SMS, one line). The same ``dedupe_key`` never writes a second message. None when the address
    cannot be reached. ``redact_on_delivery``: the message carries a secret (a one-time code) whose
    digits are masked in the stored copy once it is delivered or given up."""
    contact = direct_contact(address)
    if contact is None:
        return None
    channel, normalized = contact
    draft = draft_render(
        recipient=Recipient(
            audience=Audience.REPORTER,
            channel=channel,
            address=normalized,
            language=language,
            user_id=recipient.pk if recipient is not None else None,
        ),
        templates=f"accounts/messages/{template}",
        context={**context, "site_url": getattr(settings, "SITE_URL", "")},
        dedupe_key=dedupe_key,
        redact_on_delivery=redact_on_delivery,
    )
    stored = notification_send(drafts=[draft])
    # Nothing else of the caller's transaction waits to be enqueued: the delivery task is written now,
    # with the message it delivers.
    enqueue_within_transaction()
    return stored[0]
