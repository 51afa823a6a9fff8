"""Files on a report: checked and re-encoded before the lock, stored all or none, joined to the entry
they belong to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.reports.access import acting_capacity, capacities
from lapor.reports.choices import Action, Actor, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportEvent
from lapor.reports.services.kernel import locked, record

# --- attachments -----------------------------------------------------------------------------------

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from lapor.reports.attachments import PreparedFile
    from lapor.reports.models import Attachment

# The submit flow attaches the files sent with a report right after report_submit; long after, the
# same call would let anyone holding a guest report's object add files to it.
SUBMISSION_ATTACH_WINDOW = timedelta(minutes=15)


def _attach_capacity(
    user: User | None, report: Report, *, visibility: str, event: ReportEvent | None, via_submission: bool
) -> tuple[Actor, ReportEvent | None]:
    """In which capacity ``user`` attaches files to ``report``, and the event the files belong to."""
    if via_submission:
        first_events = list(ReportEvent.objects.filter(report=report).order_by("sequence")[:2])
        submitter_ids = {report.reporter_id, report.submitted_by_id} - {None}
        is_submitter = (user.pk in submitter_ids) if user is not None else not submitter_ids
        fresh = (
            report.status == Status.SUBMITTED
            and len(first_events) == 1
            and first_events[0].action == Action.SUBMIT
            and timezone.now() - report.created_at <= SUBMISSION_ATTACH_WINDOW
        )
        if not (is_submitter and fresh):
            raise ReportError(
                ReportErrorCode.ACTION_NOT_ALLOWED, _("Files can be sent with a report only while it is filed.")
            )
        if visibility == Visibility.STAFF:
            raise ReportError(ReportErrorCode.INVALID, _("Choose who may see the files."), field="visibility")
        return Actor.REPORTER, first_events[0]
    if user is None or not user.is_authenticated:
        raise ReportError(ReportErrorCode.ACTION_NOT_ALLOWED, _("Sign in to add files to a report."))
    if Actor.REPORTER in capacities(user, report):
        if not report.is_open:
            raise ReportError(
                ReportErrorCode.ACTION_NOT_ALLOWED, _("You cannot do this to a report in its current state.")
            )
        # Files hidden from the one who sent them would make no sense; staff-only is for staff.
        if visibility == Visibility.STAFF:
            raise ReportError(ReportErrorCode.INVALID, _("Choose who may see the files."), field="visibility")
        capacity = Actor.REPORTER
    else:
        capacity = acting_capacity(user, report, Action.NOTE)
    if event is not None and (event.report_id != report.pk or event.actor_id != user.pk):
        raise ReportError(
            ReportErrorCode.INVALID_TARGET, _("Files can join only an entry you wrote on this report."), field="event"
        )
    return capacity, event


def report_attach(
    *,
    user: User | None,
    report: Report,
    files: Sequence[UploadedFile[Any] | PreparedFile],
    visibility: str = Visibility.REPORTER,
    event: ReportEvent | None = None,
    via_submission: bool = False,
) -> list[Attachment]:
    """Attach files to a report: all of them, or none when any one is refused.

    The reporter may add files while the report is open; institution staff whenever they may write
    an internal note on it. ``via_submission`` serves the submit flow: right after report_submit the
    submitter (a guest too) adds the files sent with the report, which join the submission event.
    ``event`` joins the files to an entry the same person just wrote (a follow-up with its photos, an
    answer to a question). Files from staff without such an entry are recorded as an internal note
    that lists their digests, so that the trail shows who added what.

    Files are checked and images re-encoded before the report is locked (see reports.attachments);
    the report's limits are checked again under the lock, and the stored files are deleted again if
    the transaction fails.
    """
    from django.db.models import Count, Sum

    from lapor.reports.attachments import delete_stored, prepare_uploads, stored_attachment
    from lapor.reports.models import Attachment

    if visibility not in Visibility.values:
        raise ReportError(ReportErrorCode.INVALID, _("Choose who may see the files."), field="visibility")
    checked = prepare_uploads(files)
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            report = locked(report)
            capacity, joined = _attach_capacity(
                user, report, visibility=visibility, event=event, via_submission=via_submission
            )
            existing = Attachment.objects.filter(report=report).aggregate(count=Count("pk"), size=Sum("size"))
            checked = prepare_uploads(
                checked, existing_count=existing["count"] or 0, existing_bytes=existing["size"] or 0
            )
            for item in checked:
                stored.append(stored_attachment(item, report=report, visibility=visibility))
            if joined is None and capacity != Actor.REPORTER:
                joined = record(
                    report,
                    action=Action.NOTE,
                    capacity=capacity,
                    user=user,
                    from_status=report.status,
                    visibility=Visibility.STAFF,
                    details={
                        "attachments": [
                            {"sha256": item.sha256, "size": item.size, "content_type": item.content_type}
                            for item in checked
                        ]
                    },
                )
            for attachment in stored:
                attachment.event = joined
            Attachment.objects.bulk_create(stored)
    except BaseException:
        delete_stored(stored)
        raise
    return stored
