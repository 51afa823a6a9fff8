"""The report's privacy flags (anonymous, confidential): they change only through here, with an event
and the reporter told."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.reports.choices import Action, Actor, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportEvent
from lapor.reports.services.kernel import Done, act, locked, record, save_changes


@transaction.atomic
def report_set_privacy(
    *, user: User, report: Report, is_anonymous: bool, is_confidential: bool, note: str = ""
) -> Done:
    """Set the report's privacy flags at any time, not only when dispatching it: anonymous hides the
    reporter from the institutions, confidential hides the report from the public. Staff who may
    redact the public text may make a report more private; only the national admin may make it less
    private (`_apply_privacy`). A staff-only redaction event records the flags as they now are, and
    the reporter is told (reports.notices.recipients.reporter_hears_of)."""
    report = locked(report)
    if is_anonymous == report.is_anonymous and is_confidential == report.is_confidential:
        act(user, report, Action.REDACT)
        raise ReportError(ReportErrorCode.INVALID, _("The privacy flags are as they were: nothing to change."))
    event = change_privacy(report, user=user, is_anonymous=is_anonymous, is_confidential=is_confidential, note=note)
    return Done(report, event)


def change_privacy(report: Report, *, user: User, is_anonymous: bool, is_confidential: bool, note: str) -> ReportEvent:
    """The one way privacy flags change, on a report locked by the caller: checked, saved, recorded."""
    capacity = act(user, report, Action.REDACT)
    _apply_privacy(report, is_anonymous=is_anonymous, is_confidential=is_confidential, capacity=capacity)
    save_changes(report)
    return record(
        report,
        action=Action.REDACT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=note.strip(),
        visibility=Visibility.STAFF,
        details={"privacy": {"is_anonymous": report.is_anonymous, "is_confidential": report.is_confidential}},
    )


def _apply_privacy(report: Report, *, is_anonymous: bool | None, is_confidential: bool | None, capacity: Actor) -> None:
    """Staff may make a report more private; only the national admin may make it less private."""
    for field, wanted in (("is_anonymous", is_anonymous), ("is_confidential", is_confidential)):
        if wanted is None or wanted == getattr(report, field):
            continue
        if not wanted and capacity != Actor.NATIONAL_ADMIN:
            raise ReportError(
                ReportErrorCode.ACTION_NOT_ALLOWED, _("Only the national admin may make a report less private.")
            )
        setattr(report, field, wanted)
