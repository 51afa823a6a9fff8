"""Every write to a report: one service function per action of the workflow table.

Each service locks the report, asks the access layer in which capacity the user acts, checks the
transition against `workflow.TRANSITIONS`, changes the status and clocks, and appends the event to
the report's hash chain; the notifications for that event are written to the outbox in the same
transaction, so an action and the news of it are never separated.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, override

from lapor.accounts.models import User
from lapor.core.audit import chain_append_owner_locked
from lapor.core.calendar import WorkingCalendar
from lapor.core.enqueue import enqueue_within_transaction
from lapor.core.ids import new_tracking_id
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import institution_subtree, is_national_institution, national_institution
from lapor.regions.models import Region
from lapor.regions.timezones import time_zone_for_region
from lapor.reports import deadlines
from lapor.reports.access import acting_capacity, capacities, link_secret_hash, visible_reports
from lapor.reports.choices import (
    PAUSED_STATUSES,
    Action,
    Actor,
    ArchiveReason,
    Channel,
    Clock,
    ClosureReason,
    ReportKind,
    ReportWeight,
    Status,
    Visibility,
)
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import (
    Report,
    ReportAssignment,
    ReportClock,
    ReportCopy,
    ReportEvent,
    ReportPause,
    ReportSupport,
    SavedFilter,
)
from lapor.reports.privacy import mask_for_report, mask_personal_data, mask_reporter_identity
from lapor.reports.workflow import (
    INSTITUTION_HANDS_BACK,
    INSTITUTION_STAFF,
    UNIT_HANDS_BACK,
    is_allowed,
    transition_for,
)

MAX_TITLE = 200
MAX_BODY = 20_000
TRACKING_ID_ATTEMPTS = 5


# --- helpers ---------------------------------------------------------------------------------------


def _national_institution(*, known: Sequence[Institution | None] = ()) -> Institution:
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


def _locked(report: Report) -> Report:
    # Lock the report row only: locking its owner too would serialise every action on any report of
    # the same institution (and invite deadlocks with the timers).
    # The reporter comes along for the notifications of the event the caller is about to record.
    locked = Report.objects.select_for_update(of=("self",)).select_related("owner", "reporter").get(pk=report.pk)
    locked._values_when_locked = _stored_values(locked)  # type: ignore[attr-defined]
    return locked


def _stored_values(report: Report) -> dict[str, Any]:
    return {field.name: getattr(report, field.attname) for field in Report._meta.concrete_fields}


def _save(report: Report) -> None:
    """Save the fields the service changed (and updated_at) since `_locked` read the report: the
    UPDATE carries a few columns instead of every column of the row. All Report fields hold
    immutable values, so a comparison finds every change."""
    before: dict[str, Any] | None = getattr(report, "_values_when_locked", None)
    if before is None:
        # Not read through `_locked` (e.g. a report created in this service): save every column.
        report.save()
        report._values_when_locked = _stored_values(report)  # type: ignore[attr-defined]
        return
    now = _stored_values(report)
    changed = [name for name, value in now.items() if before.get(name) != value]
    report.save(update_fields=[*changed, "updated_at"])
    report._values_when_locked = _stored_values(report)  # type: ignore[attr-defined]


def _required_text(value: Any, *, field: str, maximum: int) -> str:
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


def _reason(value: str, *, field: str = "reason") -> str:
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
        return _national_institution(known=[getattr(report, field) for field in loaded])
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


def _record(
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
    # Within the app, at call time: the notices' words read this module's INTERNAL_NOTE_KEY.
    from lapor.reports.notices.services import notify_for_event

    # Every caller holds the report locked (_locked) or created it in this transaction.
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


def _move(
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


def _running_clock(report: Report, clock: str, *, lock: bool = False) -> ReportClock | None:
    """The running clock of one kind (at most one runs: a partial unique constraint)."""
    clocks = report.clocks.select_for_update() if lock else report.clocks.all()
    return clocks.filter(clock=clock, stopped_at__isnull=True).first()


def _act(user: User | None, report: Report, action: Action) -> Actor:
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


def _idempotency_digest(key: str, reporter: User | None, channel: str) -> str:
    owner = f"user:{reporter.pk}" if reporter is not None else "guest"
    return hashlib.sha256(f"{channel}|{owner}|{key}".encode()).hexdigest()


# --- submission ------------------------------------------------------------------------------------


def report_submit(
    *,
    title: str,
    body: str,
    incident_date: date,
    kind: str = ReportKind.COMPLAINT,
    reporter: User | None = None,
    guest_name: str = "",
    guest_email: str = "",
    guest_phone: str = "",
    category: Category | None = None,
    village_code: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    address: str = "",
    target_institution: Institution | None = None,
    channel: str = Channel.WEB,
    is_anonymous: bool = False,
    is_confidential: bool = False,
    idempotency_key: str = "",
    submitted_by: User | None = None,
    site_url: str = "",
) -> tuple[Report, str]:
    """File a report. Returns the report and the secret of the reporter's private link (empty when
    an idempotent retry returned an earlier report: the secret was given the first time only).
    ``site_url``: the address the report was filed at (a web request's), which the acknowledgement's
    private link uses when the deployment sets no SITE_URL.

    A retry with the same idempotency key (same reporter and channel) returns the first report,
    also when two retries race: the key is unique in the database.
    """
    digest = _idempotency_digest(idempotency_key, reporter, channel) if idempotency_key else None
    if digest is not None:
        existing = Report.objects.filter(idempotency_key=digest).first()
        if existing is not None:
            return existing, ""
    try:
        return _report_submit(
            title=title,
            body=body,
            incident_date=incident_date,
            kind=kind,
            reporter=reporter,
            guest_name=guest_name,
            guest_email=guest_email,
            guest_phone=guest_phone,
            category=category,
            village_code=village_code,
            latitude=latitude,
            longitude=longitude,
            address=address,
            target_institution=target_institution,
            channel=channel,
            is_anonymous=is_anonymous,
            is_confidential=is_confidential,
            digest=digest,
            submitted_by=submitted_by,
            site_url=site_url,
        )
    except IntegrityError:
        if digest is not None:
            existing = Report.objects.filter(idempotency_key=digest).first()
            if existing is not None:
                return existing, ""
        raise


@transaction.atomic
def _report_submit(
    *,
    title: str,
    body: str,
    incident_date: date,
    kind: str,
    reporter: User | None,
    guest_name: str,
    guest_email: str,
    guest_phone: str,
    category: Category | None,
    village_code: str,
    latitude: Decimal | None,
    longitude: Decimal | None,
    address: str,
    target_institution: Institution | None,
    channel: str,
    is_anonymous: bool,
    is_confidential: bool,
    digest: str | None,
    submitted_by: User | None,
    site_url: str,
) -> tuple[Report, str]:
    title = _required_text(title, field="title", maximum=MAX_TITLE)
    body = _required_text(body, field="body", maximum=MAX_BODY)
    if not isinstance(incident_date, date):
        raise ReportError(ReportErrorCode.INVALID, _("Enter the date of the incident."), field="incident_date")
    if incident_date > timezone.localdate():
        raise ReportError(ReportErrorCode.INVALID, _("The incident cannot be in the future."), field="incident_date")
    if kind not in ReportKind.values:
        raise ReportError(ReportErrorCode.INVALID, _("Choose a kind of report."), field="kind")
    if channel not in Channel.values:
        raise ReportError(ReportErrorCode.INVALID, _("Unknown channel."), field="channel")
    if reporter is None and not (guest_email.strip() or guest_phone.strip()):
        raise ReportError(
            ReportErrorCode.INVALID,
            _("Give an e-mail address or a phone number so that we can tell you what happens."),
            field="guest_email",
        )
    village = None
    if village_code:
        village = Region.objects.filter(code=village_code, level=4).first()
        if village is None:
            raise ReportError(ReportErrorCode.INVALID, _("Choose a village from the list."), field="village_code")
    if (latitude is None) != (longitude is None):
        raise ReportError(ReportErrorCode.INVALID, _("A map point needs both coordinates."), field="latitude")
    if target_institution is not None and not target_institution.is_active:
        raise ReportError(ReportErrorCode.INVALID, _("Choose an active institution."), field="target_institution")

    now = timezone.now()
    owner = target_institution or _national_institution()
    secret = secrets.token_urlsafe(24)
    report = Report(
        kind=kind,
        title=title,
        body=body,
        incident_date=incident_date,
        category=category,
        village=village,
        latitude=latitude,
        longitude=longitude,
        address=address.strip()[:300],
        target_institution=target_institution,
        channel=channel,
        is_anonymous=is_anonymous,
        is_confidential=is_confidential,
        reporter=reporter,
        guest_name=guest_name.strip()[:150] if reporter is None else "",
        access_secret_hash=link_secret_hash(secret),
        submitted_by=submitted_by,
        status=Status.SUBMITTED,
        owner=owner,
        time_zone=time_zone_for_region(village.code) if village else (owner.time_zone or "Asia/Jakarta"),
        public_title=mask_personal_data(title, names=[reporter.full_name if reporter else "", guest_name]),
        public_body=mask_personal_data(body, names=[reporter.full_name if reporter else "", guest_name]),
        idempotency_key=digest,
        created_at=now,
    )
    # Set through the properties, which encrypt them (they are no columns of their own).
    report.guest_email = guest_email.strip() if reporter is None else ""
    report.guest_phone = guest_phone.strip() if reporter is None else ""
    for _attempt in range(TRACKING_ID_ATTEMPTS):
        report.tracking_id = new_tracking_id()
        if not Report.objects.filter(tracking_id=report.tracking_id).exists():
            break
    report.save(force_insert=True)
    calendar = deadlines.new_calendar()
    capacity = Actor.REPORTER if reporter is not None or submitted_by is None else Actor.SYSTEM
    started = _move_submit(report, at=now, calendar=calendar)
    _record(
        report,
        action=Action.SUBMIT,
        capacity=capacity,
        user=submitted_by or reporter,
        from_status="",
        details={"channel": channel, "owner": owner.pk},
        institution=None,
        # A new report runs only the clocks just started.
        running_clocks=started,
        new_report=True,
        reporter_link=reporter_link(report.tracking_id, secret, site_url=site_url),
    )
    return report, secret


def reporter_link(tracking_id: str, secret: str, *, site_url: str = "") -> str:
    """The reporter's private link: SITE_URL (else ``site_url``, the address the report was filed at)
    and REPORTER_LINK_PATH (the portal's page), or "" when there is no address to put in a message.
    The configured address wins: behind a proxy the request's own may be an internal one."""
    base = settings.SITE_URL or site_url
    if not base:
        return ""
    path = settings.REPORTER_LINK_PATH.format(tracking_id=tracking_id, secret=secret)
    return base.rstrip("/") + path


def _move_submit(report: Report, *, at: datetime, calendar: WorkingCalendar) -> list[ReportClock]:
    return deadlines.clocks_restart(
        report,
        stops=(),
        starts=sorted(transition_for(Action.SUBMIT).starts),
        at=at,
        institution=report.owner,
        calendar=calendar,
        new_report=True,
    )


def reporter_link_matches(report: Report, secret: str) -> bool:
    stored = report.access_secret_hash
    return bool(stored) and secrets.compare_digest(stored, link_secret_hash(secret))


# --- verification ------------------------------------------------------------------------------------


@transaction.atomic
def report_request_information(*, user: User, report: Report, question: str) -> Report:
    report = _locked(report)
    capacity = _act(user, report, Action.REQUEST_INFORMATION)
    question = _reason(question, field="question")
    now = timezone.now()
    before = _move(report, Action.REQUEST_INFORMATION, capacity, at=now, calendar=deadlines.new_calendar())
    _save(report)
    _record(
        report, action=Action.REQUEST_INFORMATION, capacity=capacity, user=user, from_status=before, message=question
    )
    return report


@transaction.atomic
def report_provide_information(
    *, user: User | None, report: Report, answer: str, via_reporter_link: bool = False
) -> Report:
    """The reporter answers a request for missing details (signed in, or through the private link)."""
    report = _locked(report)
    if via_reporter_link:
        if report.status != Status.AWAITING_INFORMATION:
            raise ReportError(ReportErrorCode.ACTION_NOT_ALLOWED, _("No details were asked for."))
        capacity = Actor.REPORTER
    else:
        capacity = _act(user, report, Action.PROVIDE_INFORMATION)
    answer = _required_text(answer, field="answer", maximum=MAX_BODY)
    now = timezone.now()
    before = _move(report, Action.PROVIDE_INFORMATION, capacity, at=now, calendar=deadlines.new_calendar())
    _save(report)
    _record(
        report,
        action=Action.PROVIDE_INFORMATION,
        capacity=capacity,
        user=user,
        from_status=before,
        message=answer,
        visibility=Visibility.REPORTER,
    )
    return report


@transaction.atomic
def report_hold(*, user: User, report: Report, reason: str, resume_on: date) -> Report:
    report = _locked(report)
    capacity = _act(user, report, Action.HOLD)
    reason = _reason(reason)
    if resume_on <= timezone.localdate():
        raise ReportError(ReportErrorCode.INVALID, _("The resume date must be in the future."), field="resume_on")
    now = timezone.now()
    before = _move(report, Action.HOLD, capacity, at=now, calendar=deadlines.new_calendar())
    report.hold_until = resume_on
    _save(report)
    _record(
        report,
        action=Action.HOLD,
        capacity=capacity,
        user=user,
        from_status=before,
        message=reason,
        details={"resume_on": resume_on.isoformat()},
    )
    return report


@transaction.atomic
def report_resume(*, user: User | None, report: Report) -> Report:
    report = _locked(report)
    capacity = _act(user, report, Action.RESUME)
    if capacity == Actor.SYSTEM and (report.hold_until is None or report.hold_until > timezone.localdate()):
        raise ReportError(ReportErrorCode.DEADLINE_NOT_PASSED, _("The hold has not ended yet."))
    now = timezone.now()
    before = _move(report, Action.RESUME, capacity, at=now, calendar=deadlines.new_calendar())
    report.hold_until = None
    _save(report)
    _record(report, action=Action.RESUME, capacity=capacity, user=user, from_status=before)
    return report


@transaction.atomic
def report_archive(*, user: User | None, report: Report, reason: str, explanation: str = "") -> Report:
    report = _locked(report)
    capacity = _act(user, report, Action.ARCHIVE)
    if reason not in ArchiveReason.values:
        raise ReportError(ReportErrorCode.MISSING_REASON, _("Choose why the report is archived."), field="reason")
    now = timezone.now()
    before = _move(report, Action.ARCHIVE, capacity, at=now, calendar=deadlines.new_calendar())
    report.archive_reason = reason
    report.resume_status = ""
    _save(report)
    _record(
        report,
        action=Action.ARCHIVE,
        capacity=capacity,
        user=user,
        from_status=before,
        message=explanation.strip(),
        details={"reason": reason},
    )
    return report


@transaction.atomic
def report_appeal(
    *, user: User | None, report: Report, message: str, title: str = "", body: str = "", via_reporter_link: bool = False
) -> Report:
    """The reporter contests an archive, or resubmits it corrected (when a new title or body is given).
    The report returns to the national queue for a fresh verification."""
    report = _locked(report)
    action = Action.RESUBMIT if (title or body) else Action.APPEAL
    if via_reporter_link:
        if report.status != Status.ARCHIVED:
            raise ReportError(ReportErrorCode.ACTION_NOT_ALLOWED, _("Only an archived report can be appealed."))
        capacity = Actor.REPORTER
    else:
        capacity = _act(user, report, action)
    message = _reason(message, field="message")
    if action == Action.RESUBMIT:
        if title:
            report.title = _required_text(title, field="title", maximum=MAX_TITLE)
            report.public_title = mask_for_report(report, report.title)
        if body:
            report.body = _required_text(body, field="body", maximum=MAX_BODY)
            report.public_body = mask_for_report(report, report.body)
    report.owner = report.target_institution or _national_institution()
    report.archive_reason = ""
    now = timezone.now()
    before = _move(report, action, capacity, at=now, calendar=deadlines.new_calendar())
    _save(report)
    _record(report, action=action, capacity=capacity, user=user, from_status=before, message=message)
    return report


def _check_dispatch_target(capacity: Actor, user: User, report: Report, institution: Institution) -> None:
    if not institution.is_active:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Choose an active institution."), field="institution")
    if capacity == Actor.COORDINATOR and not institution.path.startswith(report.owner.path):
        raise ReportError(
            ReportErrorCode.INVALID_TARGET,
            _("A coordinator dispatches only within its own institution."),
            field="institution",
        )


@transaction.atomic
def report_dispatch(
    *,
    user: User,
    report: Report,
    institution: Institution,
    weight: str = ReportWeight.NORMATIVE,
    copies: Sequence[Institution] = (),
    note: str = "",
    message: str = "",
    make_anonymous: bool = False,
    make_confidential: bool = False,
) -> Report:
    """Verify and dispatch (disposisi) to the institution with authority, with optional copies.

    ``note`` is for staff only (an internal note beside the dispatch); ``message`` is what the reporter
    reads, in their notification and on their report page. ``make_anonymous`` / ``make_confidential``
    may only add privacy, and do so as `report_set_privacy` does (its own event; the reporter is told):
    a dispatch never makes a report less private, whatever its form sends."""
    report = _locked(report)
    capacity = _act(user, report, Action.DISPATCH)
    _check_dispatch_target(capacity, user, report, institution)
    if weight not in ReportWeight.values:
        raise ReportError(ReportErrorCode.INVALID, _("Choose the weight of the report."), field="weight")
    if (make_anonymous and not report.is_anonymous) or (make_confidential and not report.is_confidential):
        _change_privacy(
            report,
            user=user,
            is_anonymous=report.is_anonymous or make_anonymous,
            is_confidential=report.is_confidential or make_confidential,
            note="",
        )
    dispatcher = report.owner
    report.weight = weight
    internal = _internal_note(report, user=user, capacity=capacity, note=note)
    report.owner = institution
    report.dispatched_by = dispatcher
    now = timezone.now()
    report.dispatched_at = now
    ReportAssignment.objects.filter(report=report, is_active=True).update(is_active=False)
    before = _move(
        report, Action.DISPATCH, capacity, at=now, calendar=deadlines.new_calendar(), clock_institution=institution
    )
    _save(report)
    copy_ids = []
    for holder in copies:
        if holder.pk != institution.pk and holder.is_active:
            ReportCopy.objects.get_or_create(report=report, institution=holder)
            copy_ids.append(holder.pk)
    details: dict[str, Any] = {"to": institution.pk, "from": dispatcher.pk, "weight": weight, "copies": copy_ids}
    if internal is not None:
        details[INTERNAL_NOTE_KEY] = internal.sequence
    _record(
        report,
        action=Action.DISPATCH,
        capacity=capacity,
        user=user,
        from_status=before,
        message=message.strip(),
        details=details,
    )
    return report


# The detail of a dispatch or forward that names (by sequence) the staff-only note written with it.
INTERNAL_NOTE_KEY = "internal_note"


def _internal_note(report: Report, *, user: User, capacity: Actor, note: str) -> ReportEvent | None:
    """What staff wrote for staff beside a dispatch or forward: a note event of its own, visible to
    staff only, so that it can never reach the reporter by the event the reporter reads."""
    text = note.strip()
    if not text:
        return None
    if len(text) > MAX_BODY:
        raise ReportError(ReportErrorCode.INVALID, _("The text is too long."), field="note")
    return _record(
        report,
        action=Action.NOTE,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=text,
        visibility=Visibility.STAFF,
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


@transaction.atomic
def report_forward(
    *, user: User, report: Report, units: Sequence[Institution], note: str = "", message: str = ""
) -> Report:
    """A coordinator forwards (disposisi internal) the report to one or more units below it.
    ``note`` is for staff only; ``message``, when given, is what the reporter reads (and is told)."""
    report = _locked(report)
    capacity = _act(user, report, Action.FORWARD)
    if not units:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Choose at least one unit."), field="units")
    allowed = set(
        institution_subtree(report.owner)
        .filter(pk__in=[unit.pk for unit in units], is_active=True)
        .values_list("pk", flat=True)
    )
    if len(allowed) != len({unit.pk for unit in units}):
        raise ReportError(
            ReportErrorCode.INVALID_TARGET, _("Forward only to active units of the owning institution."), field="units"
        )
    internal = _internal_note(report, user=user, capacity=capacity, note=note)
    for unit in units:
        if not ReportAssignment.objects.filter(report=report, unit=unit, is_active=True).exists():
            ReportAssignment.objects.create(report=report, unit=unit, assigned_by=user)
    before = report.status
    _save(report)
    details: dict[str, Any] = {"units": sorted(allowed)}
    if internal is not None:
        details[INTERNAL_NOTE_KEY] = internal.sequence
    _record(
        report,
        action=Action.FORWARD,
        capacity=capacity,
        user=user,
        from_status=before,
        message=message.strip(),
        visibility=Visibility.PUBLIC,
        details=details,
    )
    return report


@transaction.atomic
def report_return(*, user: User, report: Report, reason: str) -> Report:
    """ "Not our authority". A unit hands the report back to its coordinator; an institution hands it
    back to whoever dispatched it, who must route it again. Either way the report keeps an owner."""
    report = _locked(report)
    capacity = _act(user, report, Action.RETURN_TO_DISPATCHER)
    reason = _reason(reason)
    now = timezone.now()
    held = capacities(user, report)
    own_units = ReportAssignment.objects.filter(
        report=report, is_active=True, unit__memberships__user=user, unit__memberships__is_active=True
    )
    if capacity == Actor.UNIT_OFFICER and Actor.COORDINATOR not in held and own_units.exists():
        unit_ids = list(own_units.values_list("unit_id", flat=True))
        ReportAssignment.objects.filter(report=report, unit_id__in=unit_ids).update(is_active=False)
        before = _move(
            report,
            Action.RETURN_TO_DISPATCHER,
            capacity,
            at=now,
            calendar=deadlines.new_calendar(),
            case=UNIT_HANDS_BACK,
        )
        _save(report)
        _record(
            report,
            action=Action.RETURN_TO_DISPATCHER,
            capacity=capacity,
            user=user,
            from_status=before,
            message=reason,
            details={"returned_to": report.owner_id, "units": unit_ids},
        )
        return report
    returning = report.owner
    report.owner = report.dispatched_by or _national_institution()
    ReportAssignment.objects.filter(report=report, is_active=True).update(is_active=False)
    # The verify-and-dispatch clock starts again with the budget of the institution that now holds it.
    before = _move(
        report,
        Action.RETURN_TO_DISPATCHER,
        capacity,
        at=now,
        calendar=deadlines.new_calendar(),
        case=INSTITUTION_HANDS_BACK,
    )
    _save(report)
    _record(
        report,
        action=Action.RETURN_TO_DISPATCHER,
        capacity=capacity,
        user=user,
        from_status=before,
        message=reason,
        details={"returned_by": returning.pk, "returned_to": report.owner_id},
        institution=returning,
    )
    return report


@transaction.atomic
def report_follow_up(*, user: User, report: Report, message: str, final: bool = False) -> Report:
    """A follow-up (tindak lanjut): progress, or the final answer that asks the reporter to confirm."""
    report = _locked(report)
    action = Action.FOLLOW_UP_FINAL if final else Action.FOLLOW_UP
    capacity = _act(user, report, action)
    message = _required_text(message, field="message", maximum=MAX_BODY)
    now = timezone.now()
    if report.first_follow_up_at is None:
        report.first_follow_up_at = now
    before = _move(report, action, capacity, at=now, calendar=deadlines.new_calendar())
    if final:
        report.completed_at = now
    _save(report)
    _record(
        report,
        action=action,
        capacity=capacity,
        user=user,
        from_status=before,
        message=message,
        # The institution's answer: only the reporter's identity is masked, never the office's own contact.
        details={"public_message": mask_reporter_identity(report, message)},
    )
    return report


def _reporter_capacity(user: User | None, report: Report, action: Action, via_reporter_link: bool) -> Actor:
    if via_reporter_link:
        if not is_allowed(action, Status(report.status), Actor.REPORTER):
            raise ReportError(
                ReportErrorCode.ACTION_NOT_ALLOWED, _("You cannot do this to a report in its current state.")
            )
        return Actor.REPORTER
    return _act(user, report, action)


@transaction.atomic
def report_confirm(*, user: User | None, report: Report, via_reporter_link: bool = False) -> Report:
    report = _locked(report)
    capacity = _reporter_capacity(user, report, Action.CONFIRM, via_reporter_link)
    now = timezone.now()
    before = _move(report, Action.CONFIRM, capacity, at=now, calendar=deadlines.new_calendar())
    report.closure_reason = ClosureReason.CONFIRMED
    report.closed_at = now
    _save(report)
    _record(report, action=Action.CONFIRM, capacity=capacity, user=user, from_status=before)
    return report


@transaction.atomic
def report_dispute(*, user: User | None, report: Report, reason: str, via_reporter_link: bool = False) -> Report:
    report = _locked(report)
    capacity = _reporter_capacity(user, report, Action.DISPUTE, via_reporter_link)
    reason = _reason(reason)
    now = timezone.now()
    before = _move(report, Action.DISPUTE, capacity, at=now, calendar=deadlines.new_calendar())
    report.completed_at = None
    _save(report)
    _record(report, action=Action.DISPUTE, capacity=capacity, user=user, from_status=before, message=reason)
    return report


@transaction.atomic
def report_rate(
    *, user: User | None, report: Report, rating: int, comment: str = "", via_reporter_link: bool = False
) -> Report:
    report = _locked(report)
    capacity = _reporter_capacity(user, report, Action.RATE, via_reporter_link)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:  # noqa: PLR2004
        raise ReportError(ReportErrorCode.INVALID, _("Give 1 to 5 stars."), field="rating")
    if report.rating is not None:
        raise ReportError(ReportErrorCode.ALREADY_RATED, _("This report has been rated already."))
    report.rating = rating
    report.rating_comment = comment.strip()[:2000]
    _save(report)
    _record(
        report,
        action=Action.RATE,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=report.rating_comment,
        details={"rating": rating},
    )
    return report


@transaction.atomic
def report_deem_complete(*, report: Report) -> Report | None:
    """After the reply window passes in silence: closed as deemed complete (never as confirmed).
    Idempotent: returns None when the report is no longer waiting or the window is still open."""
    report = _locked(report)
    if report.status != Status.COMPLETED:
        return None
    window = _running_clock(report, Clock.REPORTER_REPLY)
    now = timezone.now()
    if window is None or window.due_at > now:
        return None
    before = _move(report, Action.DEEM_COMPLETE, Actor.SYSTEM, at=now, calendar=deadlines.new_calendar())
    report.closure_reason = ClosureReason.DEEMED_COMPLETE
    report.closed_at = now
    _save(report)
    _record(report, action=Action.DEEM_COMPLETE, capacity=Actor.SYSTEM, user=None, from_status=before)
    return report


@transaction.atomic
def report_merge(*, user: User, report: Report, into: Report, note: str = "") -> Report:
    """Merge a duplicate into a surviving report; its reporter and supporters follow the survivor."""
    report = _locked(report)
    survivor = _locked(into)
    capacity = _act(user, report, Action.MERGE)
    if survivor.pk == report.pk or not survivor.is_open or survivor.merged_into_id is not None:
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Merge into another open report."), field="into")
    if Actor.PUBLIC not in capacities(user, survivor) or not (
        capacities(user, survivor) & {Actor.NATIONAL_ADMIN, Actor.COORDINATOR}
    ):
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("Merge into another open report."), field="into")
    now = timezone.now()
    before = _move(report, Action.MERGE, capacity, at=now, calendar=deadlines.new_calendar())
    report.merged_into = survivor
    report.closed_at = now
    _save(report)
    followers = set(ReportSupport.objects.filter(report=report).values_list("user_id", flat=True))
    if report.reporter_id:
        followers.add(report.reporter_id)
    already = set(ReportSupport.objects.filter(report=survivor).values_list("user_id", flat=True))
    new_followers = followers - already - ({survivor.reporter_id} if survivor.reporter_id else set())
    ReportSupport.objects.bulk_create([ReportSupport(report=survivor, user_id=uid) for uid in new_followers])
    Report.objects.filter(pk=survivor.pk).update(support_count=F("support_count") + len(new_followers))
    _record(
        report,
        action=Action.MERGE,
        capacity=capacity,
        user=user,
        from_status=before,
        message=note.strip(),
        details={"into": survivor.tracking_id, "followers": sorted(new_followers)},
    )
    _record(
        survivor,
        action=Action.NOTE,
        capacity=capacity,
        user=user,
        from_status=survivor.status,
        visibility=Visibility.STAFF,
        message="",
        details={"merged_from": report.tracking_id},
    )
    return report


@transaction.atomic
def report_refer(*, user: User | None, report: Report, via_reporter_link: bool = False) -> Report:
    """With the reporter's consent, an unresolved report past the overall deadline goes to the Ombudsman."""
    report = _locked(report)
    capacity = _reporter_capacity(user, report, Action.REFER, via_reporter_link)
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
    before = _move(report, Action.REFER, capacity, at=now, calendar=deadlines.new_calendar())
    report.owner = ombudsman
    report.referral_consent_at = now
    _save(report)
    ReportCopy.objects.get_or_create(report=report, institution=previous_owner)
    _record(
        report,
        action=Action.REFER,
        capacity=capacity,
        user=user,
        from_status=before,
        details={"from": previous_owner.pk, "to": ombudsman.pk},
    )
    return report


@transaction.atomic
def report_comment(*, user: User, report: Report, message: str) -> ReportEvent:
    report = _locked(report)
    capacity = _act(user, report, Action.COMMENT)
    message = _required_text(message, field="message", maximum=5000)
    return _record(
        report,
        action=Action.COMMENT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=message,
        details={"public_message": _public_copy(report, message, capacity)},
    )


def _public_copy(report: Report, message: str, capacity: Actor) -> str:
    """The published copy of a comment: staff speak for their office, whose contacts stay; a citizen's
    words are masked of every personal number and address, and of the reporter's names."""
    if capacity in INSTITUTION_STAFF:
        return mask_reporter_identity(report, message)
    return mask_for_report(report, message)


@transaction.atomic
def report_note(*, user: User, report: Report, message: str) -> ReportEvent:
    report = _locked(report)
    capacity = _act(user, report, Action.NOTE)
    message = _required_text(message, field="message", maximum=MAX_BODY)
    return _record(
        report,
        action=Action.NOTE,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=message,
        visibility=Visibility.STAFF,
    )


@transaction.atomic
def report_redact(*, user: User, report: Report, public_title: str, public_body: str) -> Report:
    """Staff edit the public copy of the text (the original stays, for those allowed to see it)."""
    report = _locked(report)
    capacity = _act(user, report, Action.REDACT)
    report.public_title = mask_for_report(report, _required_text(public_title, field="public_title", maximum=MAX_TITLE))
    report.public_body = mask_for_report(report, _required_text(public_body, field="public_body", maximum=MAX_BODY))
    _save(report)
    _record(
        report,
        action=Action.REDACT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        visibility=Visibility.STAFF,
    )
    return report


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


# --- timers ----------------------------------------------------------------------------------------
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


def _clock_details(clock: Any) -> dict[str, Any]:
    return {"clock": clock.clock, "clock_id": clock.pk, "due_at": clock.due_at.isoformat()}


@transaction.atomic
def report_warn(
    *,
    report: Report,
    clock: str,
    notify_user_ids: Sequence[int],
    notify_institution: Institution | None = None,
    notify_roles: Sequence[str] = (),
    at: datetime | None = None,
) -> ReportEvent | None:
    """Tell the people handling the report that its ``clock`` (a Clock value) has turned yellow.
    Once per clock: None when it was warned already or is no longer running."""
    report = _locked(report)
    running = _running_clock(report, clock, lock=True)
    if running is None or running.warned_at is not None:
        return None
    _act(None, report, Action.WARN)
    running.warned_at = at or timezone.now()
    running.save(update_fields=["warned_at"])
    return _record(
        report,
        action=Action.WARN,
        capacity=Actor.SYSTEM,
        user=None,
        from_status=report.status,
        visibility=Visibility.STAFF,
        details={**_clock_details(running), **_audience(notify_user_ids, notify_institution, notify_roles)},
    )


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
) -> ReportEvent | None:
    """Tell those above the owner that the report's ``clock`` is overdue. Levels only go up, to at
    most MAX_ESCALATION_LEVEL, and each is told once: None when ``level`` was reached already."""
    if not 1 <= level <= MAX_ESCALATION_LEVEL:
        raise ReportError(ReportErrorCode.INVALID, _("Unknown escalation level."), field="level")
    report = _locked(report)
    running = _running_clock(report, clock, lock=True)
    if running is None or running.escalation_level >= level:
        return None
    _act(None, report, Action.ESCALATE)
    now = at or timezone.now()
    running.escalation_level = level
    # When the breach was first acted on: the grace before the next level is counted from here.
    running.breached_at = running.breached_at or now
    running.save(update_fields=["escalation_level", "breached_at"])
    return _record(
        report,
        action=Action.ESCALATE,
        capacity=Actor.SYSTEM,
        user=None,
        from_status=report.status,
        # The reporter sees that the silence was noticed and passed up, not only "dispatched".
        visibility=Visibility.REPORTER,
        details={
            **_clock_details(running),
            "level": level,
            **_audience(notify_user_ids, notify_institution, notify_roles),
        },
    )


@transaction.atomic
def report_remind_information(*, report: Report, at: datetime | None = None) -> ReportEvent | None:
    """Remind the reporter that details were asked for. At most settings.INFORMATION_REMINDERS times
    per request: None once they have all been sent, or when no details are awaited. ``at`` is the
    moment the timers count the next notice from (default: now)."""
    report = _locked(report)
    if report.status != Status.AWAITING_INFORMATION:
        return None
    running = _running_clock(report, Clock.INFORMATION_REPLY, lock=True)
    reminders = settings.INFORMATION_REMINDERS
    if running is None or running.reminders_sent >= reminders:
        return None
    _act(None, report, Action.REMIND)
    running.reminders_sent += 1
    running.save(update_fields=["reminders_sent"])
    return _record(
        report,
        action=Action.REMIND,
        capacity=Actor.SYSTEM,
        user=None,
        from_status=report.status,
        visibility=Visibility.REPORTER,
        details={
            **_clock_details(running),
            "reminder": running.reminders_sent,
            "of": reminders,
            "at": (at or timezone.now()).isoformat(),
        },
    )


def report_auto_archive(*, report: Report) -> Report | None:
    """Archive, as incomplete, a report whose requested details never came: only once the reply window
    has passed and every reminder was sent. The reporter sees the reason and may appeal with the
    details. None when the report is not (or no longer) waiting, or it is too early."""
    with transaction.atomic():
        report = _locked(report)
        if report.status != Status.AWAITING_INFORMATION:
            return None
        window = _running_clock(report, Clock.INFORMATION_REPLY)
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


# --- attachments -----------------------------------------------------------------------------------
# (Imports kept with the code that needs them: the top of this module is edited by others.)

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
            report = _locked(report)
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
                joined = _record(
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


# --- moderation of public comments -----------------------------------------------------------------


@transaction.atomic
def report_comment_hide(*, user: User, report: Report, sequence: int, reason: str) -> ReportEvent:
    """Staff who may redact the report's public text hide one public comment (abusive, off topic, or
    personal data the masking missed). The comment stays in the trail; a staff-only redaction event
    names it, and the public and reporter views leave it out (serializers.HIDDEN_COMMENT_KEY)."""
    from lapor.reports.serializers import HIDDEN_COMMENT_KEY

    report = _locked(report)
    capacity = _act(user, report, Action.REDACT)
    reason = _reason(reason)
    if not ReportEvent.objects.filter(report=report, sequence=sequence, action=Action.COMMENT).exists():
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("No such comment on this report."), field="sequence")
    hidden = {f"details__{HIDDEN_COMMENT_KEY}": sequence}
    if ReportEvent.objects.filter(report=report, action=Action.REDACT, **hidden).exists():
        raise ReportError(ReportErrorCode.INVALID_TARGET, _("This comment is hidden already."), field="sequence")
    return _record(
        report,
        action=Action.REDACT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=reason,
        visibility=Visibility.STAFF,
        details={HIDDEN_COMMENT_KEY: sequence},
    )


# --- guest reports claimed by an account -------------------------------------------------------------
# (Imports kept with the code that needs them: the top of this module is edited by others.)

from django.core.exceptions import ValidationError  # noqa: E402
from django.db.models import Q, QuerySet  # noqa: E402

from lapor.core.identifiers import normalize_phone  # noqa: E402
from lapor.reports.models import guest_email_key, guest_phone_key  # noqa: E402


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
        report = _locked(Report(pk=pk))
        contact = _claimed_contact(report, user)
        if report.reporter_id is not None or contact is None:
            continue  # claimed meanwhile, or only alike (the database compared loosely)
        if not is_allowed(Action.CLAIM, Status(report.status), Actor.REPORTER):
            continue
        report.reporter = user
        _save(report)
        _record(
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


# --- privacy flags outside a dispatch (the console's report workspace) --------------------------------


@transaction.atomic
def report_set_privacy(
    *, user: User, report: Report, is_anonymous: bool, is_confidential: bool, note: str = ""
) -> Report:
    """Set the report's privacy flags at any time, not only when dispatching it: anonymous hides the
    reporter from the institutions, confidential hides the report from the public. Staff who may
    redact the public text may make a report more private; only the national admin may make it less
    private (`_apply_privacy`). A staff-only redaction event records the flags as they now are, and
    the reporter is told (reports.notices.recipients.reporter_hears_of)."""
    report = _locked(report)
    if is_anonymous == report.is_anonymous and is_confidential == report.is_confidential:
        _act(user, report, Action.REDACT)
        raise ReportError(ReportErrorCode.INVALID, _("The privacy flags are as they were: nothing to change."))
    _change_privacy(report, user=user, is_anonymous=is_anonymous, is_confidential=is_confidential, note=note)
    return report


def _change_privacy(report: Report, *, user: User, is_anonymous: bool, is_confidential: bool, note: str) -> None:
    """The one way privacy flags change, on a report locked by the caller: checked, saved, recorded."""
    capacity = _act(user, report, Action.REDACT)
    _apply_privacy(report, is_anonymous=is_anonymous, is_confidential=is_confidential, capacity=capacity)
    _save(report)
    _record(
        report,
        action=Action.REDACT,
        capacity=capacity,
        user=user,
        from_status=report.status,
        message=note.strip(),
        visibility=Visibility.STAFF,
        details={"privacy": {"is_anonymous": report.is_anonymous, "is_confidential": report.is_confidential}},
    )


# --- saved inbox filters (the console's inboxes) ------------------------------------------------------

MAX_SAVED_FILTERS = 50
MAX_SAVED_FILTER_NAME = 100
MAX_SAVED_FILTER_QUERY = 1000


@transaction.atomic
def saved_filter_save(*, user: User, name: str, query: str) -> SavedFilter:
    """Save a staff member's inbox filter (the inbox's query string) under a name of their choice;
    saving under a name they already use replaces that filter. At most MAX_SAVED_FILTERS each."""
    name = _required_text(name, field="name", maximum=MAX_SAVED_FILTER_NAME)
    query = (query or "").strip().lstrip("?")
    if len(query) > MAX_SAVED_FILTER_QUERY:
        raise ReportError(ReportErrorCode.INVALID, _("These filters are too long to save."), field="query")
    existing = SavedFilter.objects.select_for_update().filter(user=user, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedFilter.objects.filter(user=user).count() >= MAX_SAVED_FILTERS:
        raise ReportError(
            ReportErrorCode.INVALID,
            _("You have %(count)d saved filters: delete one first.") % {"count": MAX_SAVED_FILTERS},
            field="name",
        )
    return SavedFilter.objects.create(user=user, name=name, query=query)


@transaction.atomic
def saved_filter_delete(*, user: User, saved_filter_id: int) -> None:
    """Delete one of the user's own saved filters; another user's answers as one that does not exist."""
    deleted, _rows = SavedFilter.objects.filter(pk=saved_filter_id, user=user).delete()
    if not deleted:
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No saved filter by that name."))


# --- encryption at rest ----------------------------------------------------------------------------------


def report_guest_contacts_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every guest e-mail address and phone number under the newest FIELD_ENCRYPTION_KEYS key
    and recompute their keyed hashes (which follow SECRET_KEY); returns how many values. Batches commit
    one by one, as `accounts.services.user_nik_rotate` does: stopping halfway is harmless."""
    rotated = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                Report.objects.filter(pk__gt=last_pk)
                .exclude(guest_email_ciphertext="", guest_phone_ciphertext="")
                .order_by("pk")
                .values_list("pk", "guest_email_ciphertext", "guest_phone_ciphertext")[:batch_size]
            )
            if not batch:
                return rotated
            for pk, email_token, phone_token in batch:
                report = Report(pk=pk, guest_email_ciphertext=email_token, guest_phone_ciphertext=phone_token)
                try:
                    email, phone = report.guest_email, report.guest_phone  # decrypted by whichever key can
                    report.guest_email, report.guest_phone = email, phone  # encrypted under the newest
                except ValueError as error:
                    raise ValueError(f"The guest contact of report #{pk} cannot be decrypted with any key.") from error
                # Compare-and-set, so that a value written meanwhile is never overwritten with an older one.
                updated = Report.objects.filter(
                    pk=pk, guest_email_ciphertext=email_token, guest_phone_ciphertext=phone_token
                ).update(
                    guest_email_ciphertext=report.guest_email_ciphertext,
                    guest_email_index=report.guest_email_index,
                    guest_phone_ciphertext=report.guest_phone_ciphertext,
                    guest_phone_index=report.guest_phone_index,
                )
                rotated += updated * (bool(email_token) + bool(phone_token))
            last_pk = batch[-1][0]
