"""Follow-up and closure: the institution's answers, closing in silence after the reply window, and
the deadline warnings and escalations the timers write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.institutions.models import Institution
from lapor.reports import deadlines
from lapor.reports.attachments import PreparedFile, prepare_uploads
from lapor.reports.choices import Action, Actor, Clock, ClosureReason, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report
from lapor.reports.privacy import mask_reporter_identity
from lapor.reports.services.kernel import (
    MAX_BODY,
    Done,
    act,
    checked_file_visibility,
    clock_details,
    files_removed_on_failure,
    files_stored,
    locked,
    move,
    record,
    required_text,
    running_clock,
    save_changes,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile


def report_follow_up(
    *,
    user: User,
    report: Report,
    message: str,
    final: bool = False,
    files: Sequence[UploadedFile[Any] | PreparedFile] = (),
    file_visibility: str = Visibility.REPORTER,
) -> Done:
    """A follow-up (tindak lanjut): progress, or the final answer that asks the reporter to confirm,
    with its files (photos of the work done): all stored with it, or no follow-up, so that the
    officer sends both again together."""
    if files:
        file_visibility = checked_file_visibility(file_visibility)
    # Files are checked and pictures re-encoded before the report is locked.
    checked = prepare_uploads(files) if files else []
    with files_removed_on_failure() as stored, transaction.atomic():
        report = locked(report)
        action = Action.FOLLOW_UP_FINAL if final else Action.FOLLOW_UP
        capacity = act(user, report, action)
        message = required_text(message, field="message", maximum=MAX_BODY)
        now = timezone.now()
        if report.first_follow_up_at is None:
            report.first_follow_up_at = now
        before = move(report, action, capacity, at=now, calendar=deadlines.new_calendar())
        if final:
            report.completed_at = now
        save_changes(report)
        event = record(
            report,
            action=action,
            capacity=capacity,
            user=user,
            from_status=before,
            message=message,
            # The institution's answer: only the reporter's identity is masked, never the office's own contact.
            details={"public_message": mask_reporter_identity(report, message)},
        )
        attachments = files_stored(report, checked, visibility=file_visibility, event=event, stored=stored)
    return Done(report, event, attachments)


@transaction.atomic
def report_deem_complete(*, report: Report) -> Done | None:
    """After the reply window passes in silence: closed as deemed complete (never as confirmed).
    Idempotent: returns None when the report is no longer waiting or the window is still open."""
    report = locked(report)
    if report.status != Status.COMPLETED:
        return None
    window = running_clock(report, Clock.REPORTER_REPLY)
    now = timezone.now()
    if window is None or window.due_at > now:
        return None
    before = move(report, Action.DEEM_COMPLETE, Actor.SYSTEM, at=now, calendar=deadlines.new_calendar())
    report.closure_reason = ClosureReason.DEEMED_COMPLETE
    report.closed_at = now
    save_changes(report)
    event = record(report, action=Action.DEEM_COMPLETE, capacity=Actor.SYSTEM, user=None, from_status=before)
    return Done(report, event)


# Written by lapor.reports.timers, which decides when each one is due and whom to tell. Each is also
# idempotent on its own: it re-reads the clock under the report's lock and does nothing (returns None)
# when its work was already done.

# Level 1: the coordinators of the nearest institution above the owner; level 2: the national admins.
MAX_ESCALATION_LEVEL = 2


def _audience(user_ids: Sequence[int], institution: Institution | None, roles: Sequence[str]) -> dict[str, Any]:
    """Whom the notifications tell: the users resolved now (so the trail shows who was told), and the
    institution and roles they were chosen by."""
    details: dict[str, Any] = {"notify_user_ids": sorted(set(user_ids)), "notify_roles": sorted(set(roles))}
    if institution is not None:
        details["notify_institution"] = institution.pk
    return details


@transaction.atomic
def report_warn(
    *,
    report: Report,
    clock: str,
    notify_user_ids: Sequence[int],
    notify_institution: Institution | None = None,
    notify_roles: Sequence[str] = (),
    at: datetime | None = None,
) -> Done | None:
    """Tell the people handling the report that its ``clock`` (a Clock value) has turned yellow.
    Once per clock: None when it was warned already or is no longer running."""
    report = locked(report)
    running = running_clock(report, clock, lock=True)
    if running is None or running.warned_at is not None:
        return None
    act(None, report, Action.WARN)
    running.warned_at = at or timezone.now()
    running.save(update_fields=["warned_at"])
    event = record(
        report,
        action=Action.WARN,
        capacity=Actor.SYSTEM,
        user=None,
        from_status=report.status,
        visibility=Visibility.STAFF,
        details={**clock_details(running), **_audience(notify_user_ids, notify_institution, notify_roles)},
    )
    return Done(report, event)


@transaction.atomic
def report_escalate(
    *,
    report: Report,
    clock: str,
    level: int,
    notify_user_ids: Sequence[int],
    notify_institution: Institution | None = None,
    notify_roles: Sequence[str] = (),
    at: datetime | None = None,
) -> Done | None:
    """Tell those above the owner that the report's ``clock`` is overdue. Levels only go up, to at
    most MAX_ESCALATION_LEVEL, and each is told once: None when ``level`` was reached already."""
    if not 1 <= level <= MAX_ESCALATION_LEVEL:
        raise ReportError(ReportErrorCode.INVALID, _("Unknown escalation level."), field="level")
    report = locked(report)
    running = running_clock(report, clock, lock=True)
    if running is None or running.escalation_level >= level:
        return None
    act(None, report, Action.ESCALATE)
    now = at or timezone.now()
    running.escalation_level = level
    # When the breach was first acted on: the grace before the next level is counted from here.
    running.breached_at = running.breached_at or now
    running.save(update_fields=["escalation_level", "breached_at"])
    event = record(
        report,
        action=Action.ESCALATE,
        capacity=Actor.SYSTEM,
        user=None,
        from_status=report.status,
        # The reporter sees that the silence was noticed and passed up, not only "dispatched".
        visibility=Visibility.REPORTER,
        details={
            **clock_details(running),
            "level": level,
            **_audience(notify_user_ids, notify_institution, notify_roles),
        },
    )
    return Done(report, event)
