"""The kernel every report service stands on: lock the report, check the move against the workflow
table, change the status and clocks, save what changed, and record the event (with its notices and
tasks, in the same transaction)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.core.audit import chain_append_owner_locked
from lapor.core.calendar import WorkingCalendar
from lapor.core.enqueue import enqueue_within_transaction
from lapor.institutions.models import Institution
from lapor.institutions.selectors import is_national_institution, national_institution
from lapor.reports import deadlines
from lapor.reports.access import ReporterProof, acting_capacity
from lapor.reports.attachments import PreparedFile, delete_stored, prepare_uploads, stored_attachment
from lapor.reports.choices import PAUSED_STATUSES, Action, Actor, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment, Report, ReportAssignment, ReportClock, ReportCopy, ReportEvent, ReportPause
from lapor.reports.notices.services import notify_for_event
from lapor.reports.workflow import is_allowed, transition_for

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_TITLE = 200
MAX_BODY = 20_000


@dataclasses.dataclass(frozen=True, slots=True)
class Done:
    """What a service did: the report as it stands after the action (saved, and as the caller may show
    it without reading it again) and the event that records the action (the main one, when the action
    wrote several: a dispatch also records the privacy it added and its internal note). ``attachments``:
    the files stored with the action (a report filed with files, a follow-up with photos)."""

    report: Report
    event: ReportEvent
    attachments: tuple[Attachment, ...] = ()


def checked_file_visibility(value: str) -> str:
    """Who may see files: a Visibility value, checked before any file is read."""
    if value not in Visibility.values:
        raise ReportError(ReportErrorCode.INVALID, _("Choose who may see the files."), field="visibility")
    return value


@contextlib.contextmanager
def files_removed_on_failure() -> Iterator[list[Attachment]]:
    """A list that `files_stored` fills as it writes files to storage; when the block fails (the
    transaction inside it rolls back), the files written so far are deleted again."""
    stored: list[Attachment] = []
    try:
        yield stored
    except BaseException:
        delete_stored(stored)
        raise


def files_stored(
    report: Report,
    checked: Sequence[PreparedFile],
    *,
    visibility: str,
    event: ReportEvent | None,
    stored: list[Attachment],
    new_report: bool = False,
) -> tuple[Attachment, ...]:
    """Store files checked before the lock (`attachments.prepare_uploads`) on ``report``, which the
    caller holds locked (or created: ``new_report``), joined to ``event``. The report's limits are
    checked again under the lock, counting the files it has. Each file written joins ``stored``."""
    if not checked:
        return ()
    if not new_report:
        existing = Attachment.objects.filter(report=report).aggregate(count=Count("pk"), size=Sum("size"))
        checked = prepare_uploads(checked, existing_count=existing["count"] or 0, existing_bytes=existing["size"] or 0)
    made: list[Attachment] = []
    for item in checked:
        attachment = stored_attachment(item, report=report, visibility=visibility, event=event)
        stored.append(attachment)
        made.append(attachment)
    Attachment.objects.bulk_create(made)
    return tuple(made)


def require_national_institution(*, known: Sequence[Institution | None] = ()) -> Institution:
    """The national institution (`institutions.selectors.national_institution`). ``known``: institutions
    read in this transaction (the report's owner or dispatcher); when one of them is the active national
    institution, it is not read again."""
    for candidate in known:
        if candidate is not None and is_national_institution(candidate) and candidate.is_active:
            return candidate
    institution = national_institution()
    if institution is None:
        raise ReportError(
            ReportErrorCode.INVALID,
            _("The national institution (%(code)s) is missing: load the institutions first.")
            % {"code": settings.NATIONAL_INSTITUTION_CODE},
        )
    return institution


def locked(report: Report) -> Report:
    # Lock the report row only: locking its owner too would serialise every action on any report of
    # the same institution (and invite deadlocks with the timers).
    # The reporter comes along for the notifications of the event the caller is about to record.
    locked = Report.objects.select_for_update(of=("self",)).select_related("owner", "reporter").get(pk=report.pk)
    locked._values_when_locked = _stored_values(locked)  # type: ignore[attr-defined]
    return locked


def _stored_values(report: Report) -> dict[str, Any]:
    return {field.name: getattr(report, field.attname) for field in Report._meta.concrete_fields}


def save_changes(report: Report) -> None:
    """Save the fields the service changed (and updated_at) since `locked` read the report: the
    UPDATE carries a few columns instead of every column of the row. All Report fields hold
    immutable values, so a comparison finds every change."""
    before: dict[str, Any] | None = getattr(report, "_values_when_locked", None)
    if before is None:
        # Not read through `locked` (e.g. a report created in this service): save every column.
        report.save()
        report._values_when_locked = _stored_values(report)  # type: ignore[attr-defined]
        return
    now = _stored_values(report)
    changed = [name for name, value in now.items() if before.get(name) != value]
    report.save(update_fields=[*changed, "updated_at"])
    report._values_when_locked = _stored_values(report)  # type: ignore[attr-defined]


def required_text(value: Any, *, field: str, maximum: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReportError(ReportErrorCode.INVALID, _("This field is required."), field=field)
    text = value.strip()
    if len(text) > maximum:
        raise ReportError(
            ReportErrorCode.INVALID,
            _("At most %(maximum)d characters.") % {"maximum": maximum},
            field=field,
        )
    return text


def reason_text(value: str, *, field: str = "reason") -> str:
    if not value or not value.strip():
        raise ReportError(ReportErrorCode.MISSING_REASON, _("Give a reason; the reporter will see it."), field=field)
    return value.strip()


def _membership_institution(user: User | None, capacity: Actor, report: Report) -> Institution | None:
    """The institution in whose name a staff member acted (recorded on the event)."""
    if user is None or capacity in (Actor.REPORTER, Actor.PUBLIC, Actor.SYSTEM):
        return None
    if capacity == Actor.NATIONAL_ADMIN:
        # Only the institutions already loaded with the report: reading another would cost the query saved.
        loaded = [field for field in ("owner", "dispatched_by") if field in report._state.fields_cache]
        return require_national_institution(known=[getattr(report, field) for field in loaded])
    if capacity == Actor.UNIT_OFFICER:
        unit = (
            ReportAssignment.objects.filter(report=report, is_active=True, unit__memberships__user=user)
            .select_related("unit")
            .first()
        )
        return unit.unit if unit else report.owner
    if capacity == Actor.COPY_HOLDER:
        copy = ReportCopy.objects.filter(report=report, institution__memberships__user=user).first()
        return copy.institution if copy else None
    return report.owner


def record(
    report: Report,
    *,
    action: Action,
    capacity: Actor,
    user: User | None,
    from_status: str,
    message: str = "",
    visibility: Visibility = Visibility.PUBLIC,
    details: dict[str, Any] | None = None,
    institution: Institution | None = None,
    running_clocks: Sequence[ReportClock] | None = None,
    new_report: bool = False,
    reporter_link: str = "",
) -> ReportEvent:
    """Append the event to the report's chain, write its notifications and the transaction's tasks.
    ``report`` is as read under its lock (with owner and reporter), or created in this transaction
    (``new_report``), and saved since. Every service ends with it."""
    # Every caller holds the report locked (`locked`) or created it in this transaction.
    event = chain_append_owner_locked(
        ReportEvent,
        chain_id=report.pk,
        owner_new=new_report,
        actor=user,
        actor_role=capacity,
        actor_institution=institution if institution is not None else _membership_institution(user, capacity, report),
        action=action,
        from_status=from_status,
        to_status=report.status,
        visibility=visibility,
        message=message,
        details=details or {},
    )
    notify_for_event(
        event=event, report=report, new_event=True, running_clocks=running_clocks, reporter_link=reporter_link
    )
    # The timers' and deliveries' tasks commit with the event (database task backend).
    enqueue_within_transaction()
    return event


def move(
    report: Report,
    action: Action,
    capacity: Actor,
    *,
    at: datetime,
    calendar: WorkingCalendar,
    clock_institution: Institution | None = None,
    case: str = "",
) -> str:
    """Apply the table's row (of ``case``, for an action with several) to the status and the clocks;
    returns the status the report had before. The one place a report's status and clocks move."""
    transition = transition_for(action, case)
    before = report.status
    current = Status(before)
    if not is_allowed(action, current, capacity, case=case):
        raise ReportError(
            ReportErrorCode.ACTION_NOT_ALLOWED,
            _("You cannot do this to a report in its current state."),
            action=action,
            status=report.status,
        )
    new_status = transition.next_status(current, Status(report.resume_status) if report.resume_status else None)
    if transition.pauses and current not in PAUSED_STATUSES:
        report.resume_status = current
        deadlines.clocks_pause(report, at=at, reason=action)
    report.status = new_status
    if current in PAUSED_STATUSES and new_status not in PAUSED_STATUSES and not transition.unpauses:
        # Leaving a pause for good (archived, merged, referred): the pause ends with it.
        ReportPause.objects.filter(report=report, ended_at__isnull=True).update(ended_at=at)
        report.resume_status = ""
    if transition.unpauses:
        report.resume_status = ""
        deadlines.clocks_unpause(report, at=at, calendar=calendar)
    if transition.stops or transition.starts:
        deadlines.clocks_restart(
            report,
            stops=sorted(transition.stops),
            starts=sorted(transition.starts),
            at=at,
            institution=clock_institution or report.owner,
            calendar=calendar,
        )
    return before


def running_clock(report: Report, clock: str, *, lock: bool = False) -> ReportClock | None:
    """The running clock of one kind (at most one runs: a partial unique constraint)."""
    clocks = report.clocks.select_for_update() if lock else report.clocks.all()
    return clocks.filter(clock=clock, stopped_at__isnull=True).first()


def act(user: User | None, report: Report, action: Action) -> Actor:
    if user is None:
        if not is_allowed(action, Status(report.status), Actor.SYSTEM):
            raise ReportError(
                ReportErrorCode.ACTION_NOT_ALLOWED,
                _("You cannot do this to a report in its current state."),
                action=action,
                status=report.status,
            )
        return Actor.SYSTEM
    return acting_capacity(user, report, action)


def reporter_capacity(
    user: User | None, report: Report, action: Action, proof: ReporterProof | None, *, refused: StrOrPromise = ""
) -> Actor:
    """The capacity of whoever takes one of the reporter's actions: the reporter, when ``proof`` (from
    the access layer) covers this report; else whatever ``user`` is to it. ``refused``: what to say
    when the report's state allows no such action."""
    if proof is None:
        return act(user, report, action)
    if not proof.covers(report):
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    if not is_allowed(action, Status(report.status), Actor.REPORTER):
        raise ReportError(
            ReportErrorCode.ACTION_NOT_ALLOWED, refused or _("You cannot do this to a report in its current state.")
        )
    return Actor.REPORTER


def clock_details(clock: Any) -> dict[str, Any]:
    return {"clock": clock.clock, "clock_id": clock.pk, "due_at": clock.due_at.isoformat()}
