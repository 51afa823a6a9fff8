"""The public side of a report and its moderation: comments, staff notes, the redacted public text,
support ("dukung") and hiding comments."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.reports.access import visible_reports
from lapor.reports.choices import Action, Actor, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportEvent, ReportSupport
from lapor.reports.privacy import mask_for_report, mask_reporter_identity
from lapor.reports.services.kernel import (
    MAX_BODY,
    MAX_TITLE,
    Done,
    act,
    locked,
    reason_text,
    record,
    required_text,
    save_changes,
)
from lapor.reports.workflow import INSTITUTION_STAFF


@transaction.atomic
def report_comment(*, user: User, report: Report, message: str) -> Done:
    report = locked(report)
    capacity = act(user, report, Action.COMMENT)
    message = required_text(message, field="message", maximum=5000)
    event = record(
        report,
        action=Action.COMMENT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=message,
        details={"public_message": _public_copy(report, message, capacity)},
    )
    return Done(report, event)


def _public_copy(report: Report, message: str, capacity: Actor) -> str:
    """The published copy of a comment: staff speak for their office, whose contacts stay; a citizen's
    words are masked of every personal number and address, and of the reporter's names."""
    if capacity in INSTITUTION_STAFF:
        return mask_reporter_identity(report, message)
    return mask_for_report(report, message)


@transaction.atomic
def report_note(*, user: User, report: Report, message: str) -> Done:
    report = locked(report)
    capacity = act(user, report, Action.NOTE)
    message = required_text(message, field="message", maximum=MAX_BODY)
    event = record(
        report,
        action=Action.NOTE,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=message,
        visibility=Visibility.STAFF,
    )
    return Done(report, event)


@transaction.atomic
def report_redact(*, user: User, report: Report, public_title: str, public_body: str) -> Done:
    """Staff edit the public copy of the text (the original stays, for those allowed to see it)."""
    report = locked(report)
    capacity = act(user, report, Action.REDACT)
    report.public_title = mask_for_report(report, required_text(public_title, field="public_title", maximum=MAX_TITLE))
    report.public_body = mask_for_report(report, required_text(public_body, field="public_body", maximum=MAX_BODY))
    save_changes(report)
    event = record(
        report,
        action=Action.REDACT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        visibility=Visibility.STAFF,
    )
    return Done(report, event)


@transaction.atomic
def report_support(*, user: User, report: Report) -> Report:
    """ "Dukung": one support per account; the reporter follows their own report already."""
    if not user.is_authenticated:
        raise ReportError(ReportErrorCode.ACTION_NOT_ALLOWED, _("Sign in to support a report."))
    if not visible_reports(user).filter(pk=report.pk).exists():
        # Exactly what access_report answers for a report one may not see: its existence stays hidden.
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    if report.reporter_id == user.pk:
        raise ReportError(ReportErrorCode.DUPLICATE_SUPPORT, _("You filed this report."))
    _support, created = ReportSupport.objects.get_or_create(report=report, user=user)
    if not created:
        raise ReportError(ReportErrorCode.DUPLICATE_SUPPORT, _("You support this report already."))
    Report.objects.filter(pk=report.pk).update(support_count=F("support_count") + 1)
    report.refresh_from_db(fields=["support_count"])
    return report


@transaction.atomic
def report_comment_hide(*, user: User, report: Report, sequence: int, reason: str) -> Done:
    """Staff who may redact the report's public text hide one public comment (abusive, off topic, or
    personal data the masking missed). The comment stays in the trail; a staff-only redaction event
    names it, and the public and reporter views leave it out (serializers.HIDDEN_COMMENT_KEY)."""
    from lapor.reports.serializers import HIDDEN_COMMENT_KEY

    report = locked(report)
    capacity = act(user, report, Action.REDACT)
    reason = reason_text(reason)
    if not ReportEvent.objects.filter(report=report, sequence=sequence, action=Action.COMMENT).exists():
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("No such comment on this report."), field="sequence")
    hidden = {f"details__{HIDDEN_COMMENT_KEY}": sequence}
    if ReportEvent.objects.filter(report=report, action=Action.REDACT, **hidden).exists():
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("This comment is hidden already."), field="sequence")
    event = record(
        report,
        action=Action.REDACT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=reason,
        visibility=Visibility.STAFF,
        details={HIDDEN_COMMENT_KEY: sequence},
    )
    return Done(report, event)
