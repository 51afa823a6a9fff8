"""Files added to a report after it was filed, on their own. (Files sent with a report or with a
follow-up are stored by `report_submit` and `report_follow_up`, in the same transaction as the entry
they belong to.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.reports.access import acting_capacity, capacities
from lapor.reports.attachments import PreparedFile, prepare_uploads
from lapor.reports.choices import Action, Actor, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment, Report, ReportEvent
from lapor.reports.services.kernel import (
    checked_file_visibility,
    files_removed_on_failure,
    files_stored,
    locked,
    record,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile


@dataclasses.dataclass(frozen=True, slots=True)
class Attached:
    """Files added to a report: the report, the entry they joined (None for a reporter's files added
    on their own) and the files stored."""

    report: Report
    event: ReportEvent | None
    attachments: tuple[Attachment, ...]


def _attach_capacity(
    user: User | None, report: Report, *, visibility: str, event: ReportEvent | None
) -> tuple[Actor, ReportEvent | None]:
    """In which capacity ``user`` attaches files to ``report``, and the event the files belong to."""
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
) -> Attached:
    """Attach files to a report: all of them, or none when any one is refused.

    The reporter may add files while the report is open; institution staff whenever they may write
    an internal note on it. ``event`` joins the files to an entry the same person wrote (an answer to a
    question, a follow-up). Files from staff without such an entry are recorded as an internal note
    that lists their digests, so that the trail shows who added what.

    Files are checked and images re-encoded before the report is locked (see reports.attachments);
    the report's limits are checked again under the lock, and the stored files are deleted again if
    the transaction fails.
    """
    visibility = checked_file_visibility(visibility)
    checked = prepare_uploads(files)
    with files_removed_on_failure() as stored, transaction.atomic():
        report = locked(report)
        capacity, joined = _attach_capacity(user, report, visibility=visibility, event=event)
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
        attachments = files_stored(report, checked, visibility=visibility, event=joined, stored=stored)
    return Attached(report, joined, attachments)
