"""What the outbox takes: recipients (who, on which channel, at which address, in which language) and
drafts (the words written for each of them), and how a message is laid out on each channel.

The outbox knows nothing of reports or accounts. The apps that have something to say (the reports
app of its events, the accounts app of codes and invitations) decide who hears it and in what words,
and hand the drafts to `services.notification_send`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from lapor.notifications.choices import Audience, NotificationChannel

# The model's subject column: a longer subject is cut, not refused.
SUBJECT_LENGTH = 200
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


@dataclasses.dataclass(frozen=True)
class Recipient:
    audience: Audience
    channel: NotificationChannel
    address: str
    language: str
    # The account the message is for, when there is one (an id: the outbox reads no accounts).
    user_id: int | None = None

    @property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else "guest"


@dataclasses.dataclass(frozen=True)
class Draft:
    recipient: Recipient
    subject: str
    body: str
    # The same key never writes a second message (e.g. "event:123:user:45:email").
    dedupe_key: str
    report_id: int | None = None
    event_id: int | None = None
    # The message carries a secret (a one-time code): its digits are masked in the stored copy once
    # it is delivered or given up.
    redact_on_delivery: bool = False


def one_line(text: str) -> str:
    return " ".join(text.split())


def tidy(text: str) -> str:
    """An e-mail body as templates leave it, without trailing spaces and runs of blank lines."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"


def draft_render(
    *,
    recipient: Recipient,
    templates: str,
    context: dict[str, Any],
    dedupe_key: str,
    redact_on_delivery: bool = False,
) -> Draft:
    """A draft for ``recipient`` in their language, from the folder ``templates``: ``subject.txt`` and
    ``email.txt`` for e-mail, ``sms.txt`` (one line) for SMS."""
    with translation.override(recipient.language):
        if recipient.channel == NotificationChannel.SMS:
            subject, body = "", one_line(render_to_string(f"{templates}/sms.txt", context))
        else:
            subject = one_line(render_to_string(f"{templates}/subject.txt", context))[:SUBJECT_LENGTH]
            body = tidy(render_to_string(f"{templates}/email.txt", context))
    return Draft(
        recipient=recipient, subject=subject, body=body, dedupe_key=dedupe_key, redact_on_delivery=redact_on_delivery
    )
