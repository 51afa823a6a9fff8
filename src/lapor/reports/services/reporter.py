"""What the reporter does to their own report: answer a question, appeal an archive, confirm,
dispute, rate, refer to the Ombudsman, and claim guest reports filed with their contact."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.core.identifiers import normalize_phone
from lapor.institutions.models import Institution
from lapor.reports import deadlines
from lapor.reports.access import ReporterProof
from lapor.reports.choices import Action, Actor, ClosureReason, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportCopy, guest_email_key, guest_phone_key
from lapor.reports.privacy import mask_for_report
from lapor.reports.services.kernel import (
    MAX_BODY,
    MAX_TITLE,
    Done,
    locked,
    move,
    reason_text,
    record,
    reporter_capacity,
    require_national_institution,
    required_text,
    save_changes,
)
from lapor.reports.workflow import is_allowed


@transaction.atomic
def report_provide_information(
    *, user: User | None, report: Report, answer: str, proof: ReporterProof | None = None
) -> Done:
    """The reporter answers a request for missing details (signed in, or with the proof of their private link)."""
    report = locked(report)
    capacity = reporter_capacity(
        user, report, Action.PROVIDE_INFORMATION, proof, refused=_("No details were asked for.")
    )
    answer = required_text(answer, field="answer", maximum=MAX_BODY)
    now = timezone.now()
    before = move(report, Action.PROVIDE_INFORMATION, capacity, at=now, calendar=deadlines.new_calendar())
    save_changes(report)
    event = record(
        report,
        action=Action.PROVIDE_INFORMATION,
        capacity=capacity,
        user=user,
        from_status=before,
        message=answer,
        visibility=Visibility.REPORTER,
    )
    return Done(report, event)


@transaction.atomic
def report_appeal(
    *,
    user: User | None,
    report: Report,
    message: str,
    title: str = "",
    body: str = "",
    proof: ReporterProof | None = None,
) -> Done:
    """The reporter contests an archive, or resubmits it corrected (when a new title or body is given).
    The report returns to the national queue for a fresh verification."""
    report = locked(report)
    action = Action.RESUBMIT if (title or body) else Action.APPEAL
    capacity = reporter_capacity(user, report, action, proof, refused=_("Only an archived report can be appealed."))
    message = reason_text(message, field="message")
    if action == Action.RESUBMIT:
        if title:
            report.title = required_text(title, field="title", maximum=MAX_TITLE)
            report.public_title = mask_for_report(report, report.title)
        if body:
            report.body = required_text(body, field="body", maximum=MAX_BODY)
            report.public_body = mask_for_report(report, report.body)
    report.owner = report.target_institution or require_national_institution()
    report.archive_reason = ""
    now = timezone.now()
    before = move(report, action, capacity, at=now, calendar=deadlines.new_calendar())
    save_changes(report)
    event = record(report, action=action, capacity=capacity, user=user, from_status=before, message=message)
    return Done(report, event)


@transaction.atomic
def report_confirm(*, user: User | None, report: Report, proof: ReporterProof | None = None) -> Done:
    report = locked(report)
    capacity = reporter_capacity(user, report, Action.CONFIRM, proof)
    now = timezone.now()
    before = move(report, Action.CONFIRM, capacity, at=now, calendar=deadlines.new_calendar())
    report.closure_reason = ClosureReason.CONFIRMED
    report.closed_at = now
    save_changes(report)
    event = record(report, action=Action.CONFIRM, capacity=capacity, user=user, from_status=before)
    return Done(report, event)


@transaction.atomic
def report_dispute(*, user: User | None, report: Report, reason: str, proof: ReporterProof | None = None) -> Done:
    report = locked(report)
    capacity = reporter_capacity(user, report, Action.DISPUTE, proof)
    reason = reason_text(reason)
    now = timezone.now()
    before = move(report, Action.DISPUTE, capacity, at=now, calendar=deadlines.new_calendar())
    report.completed_at = None
    save_changes(report)
    event = record(report, action=Action.DISPUTE, capacity=capacity, user=user, from_status=before, message=reason)
    return Done(report, event)


@transaction.atomic
def report_rate(
    *, user: User | None, report: Report, rating: int, comment: str = "", proof: ReporterProof | None = None
) -> Done:
    report = locked(report)
    capacity = reporter_capacity(user, report, Action.RATE, proof)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:  # noqa: PLR2004
        raise ReportError(ReportErrorCode.INVALID, _("Give 1 to 5 stars."), field="rating")
    if report.rating is not None:
        raise ReportError(ReportErrorCode.ALREADY_RATED, _("This report has been rated already."))
    report.rating = rating
    report.rating_comment = comment.strip()[:2000]
    save_changes(report)
    event = record(
        report,
        action=Action.RATE,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=report.rating_comment,
        details={"rating": rating},
    )
    return Done(report, event)


@transaction.atomic
def report_refer(*, user: User | None, report: Report, proof: ReporterProof | None = None) -> Done:
    """With the reporter's consent, an unresolved report past the overall deadline goes to the Ombudsman."""
    report = locked(report)
    capacity = reporter_capacity(user, report, Action.REFER, proof)
    now = timezone.now()
    if not deadlines.overall_deadline_passed(report, now=now):
        raise ReportError(
            ReportErrorCode.DEADLINE_NOT_PASSED,
            _("A report can go to the Ombudsman once the overall deadline has passed."),
        )
    ombudsman = Institution.objects.filter(code=settings.OMBUDSMAN_INSTITUTION_CODE, is_active=True).first()
    if ombudsman is None:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("The Ombudsman is not set up in this system."))
    previous_owner = report.owner
    before = move(report, Action.REFER, capacity, at=now, calendar=deadlines.new_calendar())
    report.owner = ombudsman
    report.referral_consent_at = now
    save_changes(report)
    ReportCopy.objects.get_or_create(report=report, institution=previous_owner)
    event = record(
        report,
        action=Action.REFER,
        capacity=capacity,
        user=user,
        from_status=before,
        details={"from": previous_owner.pk, "to": ombudsman.pk},
    )
    return Done(report, event)


def _claimed_contact(report: Report, user: User) -> str | None:
    """Which verified contact of ``user`` the guest gave on ``report``: "email", "phone" or None."""
    if user.email_is_verified and report.guest_email.strip().lower() == user.email:
        return "email"
    if user.phone_is_verified and report.guest_phone:
        try:
            if normalize_phone(report.guest_phone) == user.phone:
                return "phone"
        except ValidationError:
            return None
    return None


def report_claim_candidates(*, user: User) -> QuerySet[Report]:
    """Reports filed as a guest (no account) with an e-mail address or phone number that ``user`` has
    verified with a one-time code. A contact the user has not proven matches nothing.
    (A read beside the service that acts on it, so that both ask exactly the same question.)"""
    condition = Q(pk__in=[])
    # Guests' contacts are encrypted: they are found by the keyed hash of the normalised contact.
    if user.email_is_verified and user.email:
        condition |= Q(guest_email_index=guest_email_key(user.email))
    if user.phone_is_verified and user.phone:
        condition |= Q(guest_phone_index=guest_phone_key(user.phone))
    return Report.objects.filter(reporter__isnull=True).filter(condition)


@transaction.atomic
def report_claim_by_contact(*, user: User) -> list[Report]:
    """Attach to ``user`` every guest report filed with one of their verified contacts (see
    `report_claim_candidates`), each with a CLAIM event in its trail (visible to the reporter and
    staff, naming only which kind of contact matched). Reports of any other contact, and reports that
    already belong to an account, are never touched. Returns the reports claimed (none is an answer).

    The guest's name and contact stay on the report as filed; from now on the account is the reporter.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise ReportError(ReportErrorCode.ACTION_NOT_ALLOWED, _("Sign in to add reports to your account."))
    claimed = []
    for pk in report_claim_candidates(user=user).order_by("pk").values_list("pk", flat=True):
        report = locked(Report(pk=pk))
        contact = _claimed_contact(report, user)
        if report.reporter_id is not None or contact is None:
            continue  # claimed meanwhile, or only alike (the database compared loosely)
        if not is_allowed(Action.CLAIM, Status(report.status), Actor.REPORTER):
            continue
        report.reporter = user
        save_changes(report)
        record(
            report,
            action=Action.CLAIM,
            capacity=Actor.REPORTER,
            user=user,
            from_status=report.status,
            visibility=Visibility.REPORTER,
            details={"contact": contact},
        )
        claimed.append(report)
    return claimed
