"""Verification before dispatch: asking the reporter for missing details (and reminding them),
holding, resuming and archiving with a reason the reporter sees."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, override

from lapor.accounts.models import User
from lapor.reports import deadlines
from lapor.reports.choices import Action, Actor, ArchiveReason, Clock, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report
from lapor.reports.services.kernel import (
    Done,
    act,
    clock_details,
    locked,
    move,
    reason_text,
    record,
    running_clock,
    save_changes,
)


@transaction.atomic
def report_request_information(*, user: User, report: Report, question: str) -> Done:
    report = locked(report)
    capacity = act(user, report, Action.REQUEST_INFORMATION)
    question = reason_text(question, field="question")
    now = timezone.now()
    before = move(report, Action.REQUEST_INFORMATION, capacity, at=now, calendar=deadlines.new_calendar())
    save_changes(report)
    event = record(
        report, action=Action.REQUEST_INFORMATION, capacity=capacity, user=user, from_status=before, message=question
    )
    return Done(report, event)


@transaction.atomic
def report_hold(*, user: User, report: Report, reason: str, resume_on: date) -> Done:
    report = locked(report)
    capacity = act(user, report, Action.HOLD)
    reason = reason_text(reason)
    if resume_on <= timezone.localdate():
        raise ReportError(ReportErrorCode.INVALID, _("The resume date must be in the future."), field="resume_on")
    now = timezone.now()
    before = move(report, Action.HOLD, capacity, at=now, calendar=deadlines.new_calendar())
    report.hold_until = resume_on
    save_changes(report)
    event = record(
        report,
        action=Action.HOLD,
        capacity=capacity,
        user=user,
        from_status=before,
        message=reason,
        details={"resume_on": resume_on.isoformat()},
    )
    return Done(report, event)


@transaction.atomic
def report_resume(*, user: User | None, report: Report) -> Done:
    report = locked(report)
    capacity = act(user, report, Action.RESUME)
    if capacity == Actor.SYSTEM and (report.hold_until is None or report.hold_until > timezone.localdate()):
        raise ReportError(ReportErrorCode.DEADLINE_NOT_PASSED, _("The hold has not ended yet."))
    now = timezone.now()
    before = move(report, Action.RESUME, capacity, at=now, calendar=deadlines.new_calendar())
    report.hold_until = None
    save_changes(report)
    event = record(report, action=Action.RESUME, capacity=capacity, user=user, from_status=before)
    return Done(report, event)


@transaction.atomic
def report_archive(*, user: User | None, report: Report, reason: str, explanation: str = "") -> Done:
    report = locked(report)
    capacity = act(user, report, Action.ARCHIVE)
    if reason not in ArchiveReason.values:
        raise ReportError(ReportErrorCode.MISSING_REASON, _("Choose why the report is archived."), field="reason")
    now = timezone.now()
    before = move(report, Action.ARCHIVE, capacity, at=now, calendar=deadlines.new_calendar())
    report.archive_reason = reason
    report.resume_status = ""
    save_changes(report)
    event = record(
        report,
        action=Action.ARCHIVE,
        capacity=capacity,
        user=user,
        from_status=before,
        message=explanation.strip(),
        details={"reason": reason},
    )
    return Done(report, event)


@transaction.atomic
def report_remind_information(*, report: Report, at: datetime | None = None) -> Done | None:
    """Remind the reporter that details were asked for. At most settings.INFORMATION_REMINDERS times
    per request: None once they have all been sent, or when no details are awaited. ``at`` is the
    moment the timers count the next notice from (default: now)."""
    report = locked(report)
    if report.status != Status.AWAITING_INFORMATION:
        return None
    running = running_clock(report, Clock.INFORMATION_REPLY, lock=True)
    reminders = settings.INFORMATION_REMINDERS
    if running is None or running.reminders_sent >= reminders:
        return None
    act(None, report, Action.REMIND)
    running.reminders_sent += 1
    running.save(update_fields=["reminders_sent"])
    event = record(
        report,
        action=Action.REMIND,
        capacity=Actor.SYSTEM,
        user=None,
        from_status=report.status,
        visibility=Visibility.REPORTER,
        details={
            **clock_details(running),
            "reminder": running.reminders_sent,
            "of": reminders,
            "at": (at or timezone.now()).isoformat(),
        },
    )
    return Done(report, event)


def report_auto_archive(*, report: Report) -> Done | None:
    """Archive, as incomplete, a report whose requested details never came: only once the reply window
    has passed and every reminder was sent. The reporter sees the reason and may appeal with the
    details. None when the report is not (or no longer) waiting, or it is too early."""
    with transaction.atomic():
        report = locked(report)
        if report.status != Status.AWAITING_INFORMATION:
            return None
        window = running_clock(report, Clock.INFORMATION_REPLY)
        reminders = settings.INFORMATION_REMINDERS
        if window is None or window.due_at > timezone.now() or window.reminders_sent < reminders:
            return None
        # The trail is written in the default language, whoever's request happens to run this.
        with override(settings.LANGUAGE_CODE):
            explanation = ngettext(
                "The details asked for did not arrive, after %(count)d reminder. "
                "Appeal with the missing details to have the report verified again.",
                "The details asked for did not arrive, after %(count)d reminders. "
                "Appeal with the missing details to have the report verified again.",
                window.reminders_sent,
            ) % {"count": window.reminders_sent}
        return report_archive(user=None, report=report, reason=ArchiveReason.INCOMPLETE, explanation=explanation)
