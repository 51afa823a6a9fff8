"""The notices of a report event, written into the notifications outbox in the event's transaction."""

from __future__ import annotations

from collections.abc import Iterable

from lapor.notifications.drafts import Draft as OutboxDraft
from lapor.notifications.models import Notification
from lapor.notifications.services import notification_send
from lapor.reports.models import Report, ReportClock, ReportEvent
from lapor.reports.notices.compose import drafts_for_event


def notify_for_event(
    *,
    event: ReportEvent,
    report: Report | None = None,
    new_event: bool = False,
    running_clocks: Iterable[ReportClock] | None = None,
    reporter_link: str = "",
) -> list[Notification]:
    """Write the notifications ``event`` calls for into the outbox, in the caller's transaction, and
    have them delivered once it commits. Calling it again for the same event writes nothing new.
    ``report``: the event's report as the caller just saved it (with its reporter and owner loaded),
    which spares reading it again. ``new_event``: the caller's transaction has just written the event,
    so that no notification of it can exist yet. ``running_clocks``: all the report's running clocks,
    when the caller knows them. ``reporter_link``: the reporter's private link (a new report only)."""
    drafts = drafts_for_event(event, report, running_clocks, reporter_link, new_event=new_event)
    return notification_send(
        drafts=[
            OutboxDraft(
                recipient=draft.recipient.for_outbox,
                subject=draft.subject,
                body=draft.body,
                dedupe_key=f"event:{event.pk}:{draft.recipient.key}:{draft.recipient.channel}",
                report_id=event.report_id,
                event_id=event.pk,
            )
            for draft in drafts
        ],
        new_keys=new_event,
    )
