"""The only shapes in which a report leaves the system: faces, the API, exports and notifications
build what they show from these read models (`reports.read_models`) and from nothing else.

Each shape decides what its audience may learn, so that privacy holds by construction rather than
by a template remembering a flag:

- `public_report`: a published, non-confidential report as anyone sees it: the masked public text,
  region names (no address or map point, which could point at the reporter's home), public events
  with their masked text, and never who filed it, nor any person's name.
- `reporter_view`: what the reporter sees of their own report: their own text, the events meant for
  the public or for them, the deadlines with their colour, and why it was archived.
- `staff_view`: what institution staff handling the report see: everything, including internal
  notes, but the reporter's identity only where `access.report_reach` says they may know it; when it is withheld,
  the reporter's own words (title, body, messages) are shown masked too, because people write their
  phone number or NIK into the text of an anonymous report as well.
- `export_rows`: one flat row per report for statistics: no identity and no free text.

Every function takes reports obtained through the access layer and reads related rows through the
report (``report.events.all()`` ...), so a caller that prefetches them pays no further query.
Dates and times are ISO 8601 strings (times in UTC), ready for JSON and CSV.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, overload

from django.db.models import QuerySet, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.institutions.models import Category, Institution
from lapor.regions.choices import RegionLevel
from lapor.regions.codes import InvalidRegionCode, ancestor_codes
from lapor.regions.models import Region
from lapor.reports.access import is_public, report_reach, reporter_contact
from lapor.reports.attachments import CONTENT_TYPES, EXTENSIONS, FALLBACK_NAME
from lapor.reports.choices import Action, Actor, ArchiveReason, Clock, ClockState, ReportKind, Status, Visibility
from lapor.reports.deadlines import clock_state
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment, Report, ReportClock, ReportEvent
from lapor.reports.privacy import mask_for_report, mask_personal_data, mask_reporter_identity, reporter_texts
from lapor.reports.read_models import (
    ArchiveNote,
    AttachmentView,
    CategoryRef,
    ClockView,
    EventView,
    ExportRow,
    InstitutionRef,
    PublicReport,
    PublicReportSummary,
    RegionNames,
    ReportDates,
    ReporterAttachmentView,
    ReporterContact,
    ReporterReportSummary,
    ReporterView,
    ReportStatus,
    StaffEventView,
    StaffView,
)
from lapor.reports.workflow import INSTITUTION_CLOCKS, allowed_actions

# Capacities in which someone works on a report for an institution.
STAFF_CAPACITIES = frozenset(
    {Actor.NATIONAL_ADMIN, Actor.COORDINATOR, Actor.UNIT_OFFICER, Actor.COPY_HOLDER, Actor.OVERSIGHT}
)
# Events written by staff or by Lapor itself, whose authors may be named to staff.
_STAFF_ROLES = frozenset({*STAFF_CAPACITIES, Actor.SYSTEM})
# Event details staff may read. Others stay in the trail only: "followers" of a merge, for
# instance, lists the accounts of the supporters and of the reporter.
_STAFF_DETAIL_KEYS = frozenset(
    {
        "attachments", "channel", "copies", "from", "hidden_comment", "into", "merged_from", "owner", "rating",
        "privacy", "reason", "resume_on", "returned_by", "returned_to", "to", "units", "weight",
    }
)  # fmt: skip
_CONTENT_TYPE_EXTENSIONS = {content_type: EXTENSIONS[kind] for kind, content_type in CONTENT_TYPES.items()}
_REGION_LEVELS: dict[int, str] = {
    RegionLevel.PROVINCE: "province",
    RegionLevel.REGENCY: "regency",
    RegionLevel.DISTRICT: "district",
    RegionLevel.VILLAGE: "village",
}


@overload
def _iso(value: datetime | date) -> str: ...
@overload
def _iso(value: datetime | date | None) -> str | None: ...
def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def _label(choices: type[TextChoices], value: str) -> str:
    """The label of ``value`` in the active language, as the model's get_FOO_display gives it (the
    value itself when it is not a choice), without the display's hashing of every lazy label."""
    return str(choices(value).label) if value in choices.values else value


def _category(category: Category | None) -> CategoryRef | None:
    if category is None:
        return None
    return CategoryRef(code=category.code, name=category.localized_name)


@overload
def _institution(institution: Institution) -> InstitutionRef: ...
@overload
def _institution(institution: Institution | None) -> InstitutionRef | None: ...
def _institution(institution: Institution | None) -> InstitutionRef | None:
    if institution is None:
        return None
    return InstitutionRef(code=institution.code, name=institution.name)


def _region(village: Region | None) -> RegionNames | None:
    """Names of the village and the regions above it, read through the parent chain (which a caller
    can select_related as ``village__parent__parent__parent``)."""
    if village is None:
        return None
    # Without the chain selected, the regions above are read in one query (their codes are the
    # village's code cut short) rather than one query per level.
    above: dict[str, Region] = {}
    if village.parent_id is not None and not Region.parent.is_cached(village):
        try:
            codes = ancestor_codes(village.code)[:-1]
        except InvalidRegionCode:
            codes = []
        above = {region.code: region for region in Region.objects.filter(code__in=codes)}
    names: dict[str, str] = {}
    region: Region | None = village
    while region is not None:
        key = _REGION_LEVELS.get(region.level)
        if key is not None:
            names[key] = region.name
        if region.parent_id is None:
            break
        region = above.get(region.parent_id) or region.parent
    return RegionNames(
        code=village.code,
        province=names.get("province"),
        regency=names.get("regency"),
        district=names.get("district"),
        village=names.get("village"),
    )


def _status(report: Report) -> ReportStatus:
    return ReportStatus(code=report.status, label=_label(Status, report.status))


def _dates(report: Report) -> ReportDates:
    return ReportDates(
        incident_date=_iso(report.incident_date),
        created_at=_iso(report.created_at),
        dispatched_at=_iso(report.dispatched_at),
        first_follow_up_at=_iso(report.first_follow_up_at),
        completed_at=_iso(report.completed_at),
        closed_at=_iso(report.closed_at),
    )


def _related(report: Report, name: str, *select: str) -> list[Any]:
    """Rows of one of the report's relations: the prefetched ones when the caller prefetched them,
    else one query that also joins ``select``."""
    manager = getattr(report, name)
    if name in getattr(report, "_prefetched_objects_cache", {}):
        return list(manager.all())
    return list(manager.select_related(*select)) if select else list(manager.all())


def _events(report: Report) -> list[ReportEvent]:
    return sorted(_related(report, "events", "actor", "actor_institution"), key=lambda event: event.sequence)


def _acting_institution(event: ReportEvent) -> InstitutionRef | None:
    # Institutions act in public; people who are not staff are never named by their institution.
    return _institution(event.actor_institution) if event.actor_role in _STAFF_ROLES else None


def _event(event: ReportEvent, text: str) -> EventView:
    return EventView(
        sequence=event.sequence,
        at=_iso(event.created_at),
        action=event.action,
        action_label=_label(Action, event.action),
        from_status=event.from_status,
        to_status=event.to_status,
        actor_role=event.actor_role,
        actor_role_label=_label(Actor, event.actor_role),
        institution=_acting_institution(event),
        text=text,
    )


def _public_text(event: ReportEvent) -> str:
    """Only text written to be published carries a masked copy (follow-ups, comments)."""
    text = event.details.get("public_message", "") if isinstance(event.details, dict) else ""
    return text if isinstance(text, str) else ""


def _shown_name(attachment: Attachment, *, position: int, show_name: bool) -> str:
    extension = _CONTENT_TYPE_EXTENSIONS.get(attachment.content_type, "bin")
    return attachment.original_name if show_name else f"{FALLBACK_NAME}-{position}.{extension}"


def _attachment(attachment: Attachment, *, position: int, show_name: bool) -> AttachmentView:
    return AttachmentView(
        id=attachment.pk,
        name=_shown_name(attachment, position=position, show_name=show_name),
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        visibility=attachment.visibility,
        event=attachment.event_id,
        created_at=_iso(attachment.created_at),
    )


def _attachments(report: Report, visibilities: Iterable[str]) -> list[Attachment]:
    allowed = set(visibilities)
    return sorted(
        (item for item in _related(report, "attachments") if item.visibility in allowed), key=lambda item: item.pk
    )


def _clock(clock: ReportClock, now: datetime) -> ClockView:
    state = clock_state(clock, now=now)
    return ClockView(
        clock=clock.clock,
        label=_label(Clock, clock.clock),
        started_at=_iso(clock.started_at),
        due_at=_iso(clock.due_at),
        stopped_at=_iso(clock.stopped_at),
        state=state.value,
        state_label=str(ClockState(state).label),
        budget=clock.budget,
        budget_unit=clock.budget_unit,
    )


def _clocks(report: Report) -> list[ClockView]:
    now = timezone.now()
    return [
        _clock(clock, now)
        for clock in sorted(_related(report, "clocks"), key=lambda clock: (clock.started_at, clock.pk))
    ]


def _archive(report: Report, events: list[ReportEvent]) -> ArchiveNote | None:
    if not report.archive_reason:
        return None
    archives = [event for event in events if event.action == Action.ARCHIVE]
    return ArchiveNote(
        reason=report.archive_reason,
        label=_label(ArchiveReason, report.archive_reason),
        explanation=archives[-1].message if archives else "",
    )


def _coordinates(report: Report) -> tuple[str | None, str | None]:
    return (
        str(report.latitude) if report.latitude is not None else None,
        str(report.longitude) if report.longitude is not None else None,
    )


# --- the public -------------------------------------------------------------------------------------


# The institution's deadlines are public; the reporter's own reply windows are not the public's business.
PUBLIC_CLOCKS = INSTITUTION_CLOCKS
# Staff hide a public comment with a redaction event naming the comment's sequence under this key
# (services.report_comment_hide): the trail keeps the comment, the public and the reporter no longer see it.
HIDDEN_COMMENT_KEY = "hidden_comment"


def _hidden_comments(events: Iterable[ReportEvent]) -> set[int]:
    hidden: set[int] = set()
    for event in events:
        if event.action == Action.REDACT and isinstance(event.details, dict):
            sequence = event.details.get(HIDDEN_COMMENT_KEY)
            if isinstance(sequence, int):
                hidden.add(sequence)
    return hidden


def _shown(events: list[ReportEvent], visibilities: Iterable[str]) -> list[ReportEvent]:
    """The events of these visibilities, without the comments staff have hidden."""
    allowed = set(visibilities)
    hidden = _hidden_comments(events)
    return [
        event
        for event in events
        if event.visibility in allowed and not (event.action == Action.COMMENT and event.sequence in hidden)
    ]


def _published_or_refused(report: Report) -> None:
    if not is_public(report):
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))


def public_report(report: Report) -> PublicReport:
    """A published, non-confidential report as anyone may see it; refuses any other report."""
    summary = public_report_summary(report)  # refuses a report the public may not see
    events = _shown(_events(report), [Visibility.PUBLIC])
    attachments = _attachments(report, [Visibility.PUBLIC])
    return PublicReport(
        # The page is the summary and more: the same fields, built in one place.
        **{field.name: getattr(summary, field.name) for field in dataclasses.fields(summary)},
        rating=report.rating,
        events=tuple(_event(event, _public_text(event)) for event in events),
        attachments=tuple(
            _attachment(item, position=position, show_name=False) for position, item in enumerate(attachments, 1)
        ),
        clocks=tuple(clock for clock in _clocks(report) if clock.clock in PUBLIC_CLOCKS),
    )


def public_report_summary(report: Report) -> PublicReportSummary:
    """What a list shows of a published report (feeds, search, the map, RSS): `public_report` without
    its trail, files and deadlines, so that a page of them costs one query when the caller selects
    ``category``, ``owner`` and ``village__parent__parent__parent``. Refuses any other report."""
    _published_or_refused(report)
    return PublicReportSummary(
        tracking_id=report.tracking_id,
        kind=report.kind,
        kind_label=_label(ReportKind, report.kind),
        category=_category(report.category),
        region=_region(report.village),
        institution=_institution(report.owner),
        title=report.public_title,
        body=report.public_body,
        status=_status(report),
        dates=_dates(report),
        supports=report.support_count,
    )


# --- the reporter -----------------------------------------------------------------------------------


def _text_for_reporter(event: ReportEvent) -> str:
    if event.actor_role == Actor.PUBLIC:
        # Another citizen's comment: the reporter reads it as the public does.
        return _public_text(event) or mask_personal_data(event.message)
    return event.message


def reporter_view(report: Report) -> ReporterView:
    """The reporter's own report: their text, what happened to it and what is due when."""
    events = _events(report)
    shown = _shown(events, [Visibility.PUBLIC, Visibility.REPORTER])
    events_by_id = {event.pk: event for event in events}
    attachments = _attachments(report, [Visibility.PUBLIC, Visibility.REPORTER])
    latitude, longitude = _coordinates(report)
    return ReporterView(
        tracking_id=report.tracking_id,
        kind=report.kind,
        kind_label=_label(ReportKind, report.kind),
        category=_category(report.category),
        region=_region(report.village),
        address=report.address,
        latitude=latitude,
        longitude=longitude,
        institution=_institution(report.owner),
        title=report.title,
        body=report.body,
        public_title=report.public_title,
        public_body=report.public_body,
        is_anonymous=report.is_anonymous,
        is_confidential=report.is_confidential,
        status=_status(report),
        dates=_dates(report),
        hold_until=_iso(report.hold_until),
        archive=_archive(report, events),
        supports=report.support_count,
        rating=report.rating,
        rating_comment=report.rating_comment,
        clocks=tuple(_clocks(report)),
        events=tuple(_event(event, _text_for_reporter(event)) for event in shown),
        attachments=tuple(
            _reporter_attachment(item, position, events_by_id.get(item.event_id) if item.event_id else None)
            for position, item in enumerate(attachments, 1)
        ),
    )


def _reporter_attachment(attachment: Attachment, position: int, event: ReportEvent | None) -> ReporterAttachmentView:
    """A file with who added it, as the reporter reads it: themselves, or the institution (never a
    staff member's name: institutions act in public, their people do not). A file without an entry of
    staff is the reporter's own (sent with the report, or added to it later)."""
    by_staff = event is not None and event.actor_role in _STAFF_ROLES
    return ReporterAttachmentView(
        id=attachment.pk,
        name=_shown_name(attachment, position=position, show_name=True),
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        visibility=attachment.visibility,
        event=attachment.event_id,
        created_at=_iso(attachment.created_at),
        added_by="institution" if by_staff else "reporter",
        added_by_institution=_institution(event.actor_institution) if by_staff and event is not None else None,
    )


# --- staff ------------------------------------------------------------------------------------------


def _staff_event(event: ReportEvent, report: Report, *, reveal_reporter: bool) -> StaffEventView:
    by_reporter = event.actor_role == Actor.REPORTER
    if reveal_reporter:
        text = event.message
    else:
        # The reporter's own words fully masked; what staff wrote keeps an office's contact but never the
        # reporter's name or contact (a note saying who filed it must not reach a copy holder or oversight).
        text = mask_for_report(report, event.message) if by_reporter else mask_reporter_identity(report, event.message)
    named = event.actor_role in _STAFF_ROLES and event.actor is not None
    details = event.details if isinstance(event.details, dict) else {}
    return StaffEventView(
        sequence=event.sequence,
        at=_iso(event.created_at),
        action=event.action,
        action_label=_label(Action, event.action),
        from_status=event.from_status,
        to_status=event.to_status,
        actor_role=event.actor_role,
        actor_role_label=_label(Actor, event.actor_role),
        institution=_acting_institution(event),
        visibility=event.visibility,
        text=text,
        public_text=_public_text(event),
        actor_name=event.actor.full_name if named and event.actor is not None else None,
        details={key: value for key, value in details.items() if key in _STAFF_DETAIL_KEYS},
    )


def _uploaded_by_staff(attachment: Attachment, events_by_id: dict[int, ReportEvent]) -> bool:
    event = events_by_id.get(attachment.event_id) if attachment.event_id is not None else None
    return event is not None and event.actor_role in _STAFF_ROLES


def staff_view(report: Report, *, viewer: Any) -> StaffView:
    """The report as the institution staff handling it see it; refuses anyone who is not such staff."""
    reach = report_reach(viewer, report) if getattr(viewer, "is_authenticated", False) else None
    held = reach.capacities if reach is not None else frozenset()
    if reach is None or not held & STAFF_CAPACITIES:
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    identity = reporter_contact(report) if reach.knows_reporter else None
    reveal = identity is not None
    # Every field the reporter writes, masked unless the viewer may know who wrote it.
    texts = reporter_texts(report, known=reveal)
    events = _events(report)
    events_by_id = {event.pk: event for event in events}
    attachments = _attachments(report, Visibility.values)
    latitude, longitude = _coordinates(report)
    return StaffView(
        tracking_id=report.tracking_id,
        kind=report.kind,
        kind_label=_label(ReportKind, report.kind),
        weight=report.weight,
        channel=report.channel,
        category=_category(report.category),
        region=_region(report.village),
        latitude=latitude,
        longitude=longitude,
        institution=_institution(report.owner),
        target_institution=_institution(report.target_institution),
        dispatched_by=_institution(report.dispatched_by),
        units=tuple(
            _institution(assignment.unit)
            for assignment in sorted(_related(report, "assignments", "unit"), key=lambda row: row.pk)
            if assignment.is_active
        ),
        copies=tuple(
            _institution(copy.institution)
            for copy in sorted(_related(report, "copies", "institution"), key=lambda row: row.pk)
        ),
        is_anonymous=report.is_anonymous,
        is_confidential=report.is_confidential,
        reporter=(
            ReporterContact(name=identity["name"], email=identity["email"], phone=identity["phone"])
            if identity is not None
            else None
        ),
        # True when this viewer may not know who filed the report (anonymous, or a copy holder).
        reporter_hidden=not reveal,
        title=texts["title"],
        body=texts["body"],
        address=texts["address"],
        rating_comment=texts["rating_comment"],
        public_title=report.public_title,
        public_body=report.public_body,
        status=_status(report),
        dates=_dates(report),
        hold_until=_iso(report.hold_until),
        archive=_archive(report, events),
        closure_reason=report.closure_reason,
        supports=report.support_count,
        rating=report.rating,
        capacities=tuple(str(capacity) for capacity in sorted(held)),
        allowed_actions=tuple(str(action) for action in allowed_actions(Status(report.status), held)),
        clocks=tuple(_clocks(report)),
        events=tuple(_staff_event(event, report, reveal_reporter=reveal) for event in events),
        attachments=tuple(
            _attachment(item, position=position, show_name=reveal or _uploaded_by_staff(item, events_by_id))
            for position, item in enumerate(attachments, 1)
        ),
    )


# --- exports ----------------------------------------------------------------------------------------

# The columns, in order: the row's own declaration, so that the two cannot drift apart.
EXPORT_FIELDS: tuple[str, ...] = tuple(ExportRow.__annotations__)
EXPORT_CHUNK_SIZE = 2000


def export_rows(queryset: QuerySet[Report]) -> Iterator[ExportRow]:
    """One row per report for statistics (the columns of EXPORT_FIELDS): never who filed it, and no
    free text, which could name them. One query per EXPORT_CHUNK_SIZE reports."""
    rows = queryset.select_related("category", "owner", "village__parent__parent__parent").order_by("pk")
    for report in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        region = _region(report.village)
        yield {
            "tracking_id": report.tracking_id,
            "created_at": _iso(report.created_at),
            "kind": report.kind,
            "weight": report.weight,
            "channel": report.channel,
            "status": report.status,
            "category_code": report.category.code if report.category else "",
            "category_name": report.category.name if report.category else "",
            "region_code": region.code if region else "",
            "province": (region.province if region else None) or "",
            "regency": (region.regency if region else None) or "",
            "district": (region.district if region else None) or "",
            "village": (region.village if region else None) or "",
            "institution_code": report.owner.code,
            "institution_name": report.owner.name,
            "is_anonymous": report.is_anonymous,
            "is_confidential": report.is_confidential,
            "dispatched_at": _iso(report.dispatched_at),
            "first_follow_up_at": _iso(report.first_follow_up_at),
            "completed_at": _iso(report.completed_at),
            "closed_at": _iso(report.closed_at),
            "closure_reason": report.closure_reason,
            "archive_reason": report.archive_reason,
            "rating": report.rating,
            "supports": report.support_count,
        }


# --- the reporter's list of their own reports --------------------------------------------------------


def reporter_report_summary(report: Report) -> ReporterReportSummary:
    """What the reporter's own list ("my reports") shows of one of their reports: their own title,
    where it stands and its running deadlines. A page of them costs two queries when the caller
    selects ``owner`` and prefetches ``clocks``. Give it only reports whose reporter is the viewer."""
    return ReporterReportSummary(
        tracking_id=report.tracking_id,
        kind=report.kind,
        kind_label=_label(ReportKind, report.kind),
        institution=_institution(report.owner),
        title=report.title,
        is_anonymous=report.is_anonymous,
        is_confidential=report.is_confidential,
        status=_status(report),
        dates=_dates(report),
        clocks=tuple(clock for clock in _clocks(report) if clock.stopped_at is None),
    )
