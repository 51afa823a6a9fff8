"""The typed shapes in which a report leaves the system, one per audience (built by `serializers`).

They are frozen, slotted dataclasses of plain values (strings, numbers, booleans, tuples and other
read models), so that they are cheap to build for a page of reports, cannot be changed on the way to
a template, and describe themselves to a schema generator: the API publishes them as its OpenAPI
schemas. A face that shows more (a link, a label of its own) wraps a read model instead of adding
keys to it, so that the shape an audience receives is only ever the one declared here.

Dates and times are ISO 8601 strings (times in UTC), as JSON and CSV carry them; codes are the
stored values of the choices in `reports.choices`, each next to its label in the active language.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

# Not typing.TypedDict: on Python 3.11 pydantic (the API's schemas) reads only this one.
from typing_extensions import TypedDict

# --- parts ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CategoryRef:
    code: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class InstitutionRef:
    code: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class RegionNames:
    """The village a report is about and the regions above it; a level missing from the chain is None."""

    code: str
    province: str | None
    regency: str | None
    district: str | None
    village: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ReportStatus:
    code: str
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class ReportDates:
    incident_date: str
    created_at: str
    dispatched_at: str | None
    first_follow_up_at: str | None
    completed_at: str | None
    closed_at: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ArchiveNote:
    """Why a report was archived: the reason's code and label, and what the archiving entry explained."""

    reason: str
    label: str
    explanation: str


@dataclasses.dataclass(frozen=True, slots=True)
class ClockView:
    """One deadline of a report and where it stands (green, yellow, red or paused)."""

    clock: str
    label: str
    started_at: str
    due_at: str
    stopped_at: str | None
    state: str
    state_label: str
    budget: int
    budget_unit: str


@dataclasses.dataclass(frozen=True, slots=True)
class EventView:
    """An entry of the trail as the public or the reporter reads it. Institutions act in public, so an
    entry of staff names its institution; no person is named."""

    sequence: int
    at: str
    action: str
    action_label: str
    from_status: str
    to_status: str
    actor_role: str
    actor_role_label: str
    institution: InstitutionRef | None
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class StaffEventView:
    """An entry of the trail as staff handling the report read it: internal ones too, the staff member
    who wrote it, and the details staff may read (`serializers` keeps the others in the trail only)."""

    sequence: int
    at: str
    action: str
    action_label: str
    from_status: str
    to_status: str
    actor_role: str
    actor_role_label: str
    institution: InstitutionRef | None
    visibility: str
    text: str
    public_text: str
    actor_name: str | None
    details: dict[str, object]


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentView:
    """A file of a report; its name is the uploaded one only where the reader may see it."""

    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    visibility: str
    event: int | None
    created_at: str


@dataclasses.dataclass(frozen=True, slots=True)
class ReporterAttachmentView:
    """A file as the reporter reads it: who added it, themselves or an institution (never a person)."""

    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    visibility: str
    event: int | None
    created_at: str
    added_by: Literal["reporter", "institution"]
    added_by_institution: InstitutionRef | None


@dataclasses.dataclass(frozen=True, slots=True)
class ReporterContact:
    """Who filed a report: only in a staff view whose reader may know it."""

    name: str
    email: str
    phone: str


# --- the public -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PublicReportSummary:
    """What a list shows of a published report: its masked public text, where and who handles it."""

    tracking_id: str
    kind: str
    kind_label: str
    category: CategoryRef | None
    region: RegionNames | None
    institution: InstitutionRef
    title: str
    body: str
    status: ReportStatus
    dates: ReportDates
    supports: int


@dataclasses.dataclass(frozen=True, slots=True)
class PublicReport(PublicReportSummary):
    """A published report's page: the summary with its public trail, files and the institution's deadlines."""

    rating: int | None
    events: tuple[EventView, ...]
    attachments: tuple[AttachmentView, ...]
    clocks: tuple[ClockView, ...]


# --- the reporter -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ReporterReportSummary:
    """One line of the reporter's own list: their title, where it stands and the running deadlines."""

    tracking_id: str
    kind: str
    kind_label: str
    institution: InstitutionRef
    title: str
    is_anonymous: bool
    is_confidential: bool
    status: ReportStatus
    dates: ReportDates
    clocks: tuple[ClockView, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ReporterView:
    """The reporter's own report: their text as written, what happened to it and what is due when."""

    tracking_id: str
    kind: str
    kind_label: str
    category: CategoryRef | None
    region: RegionNames | None
    address: str
    latitude: str | None
    longitude: str | None
    institution: InstitutionRef
    title: str
    body: str
    public_title: str
    public_body: str
    is_anonymous: bool
    is_confidential: bool
    status: ReportStatus
    dates: ReportDates
    hold_until: str | None
    archive: ArchiveNote | None
    supports: int
    rating: int | None
    rating_comment: str
    clocks: tuple[ClockView, ...]
    events: tuple[EventView, ...]
    attachments: tuple[ReporterAttachmentView, ...]


# --- staff ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class StaffView:
    """The report as staff handling it read it. The reporter's texts (title, body, address, rating
    comment: `Report.REPORTER_TEXT_FIELDS`) are masked, and ``reporter`` is None, for a reader who may
    not know who filed it (``reporter_hidden``)."""

    tracking_id: str
    kind: str
    kind_label: str
    weight: str
    channel: str
    category: CategoryRef | None
    region: RegionNames | None
    latitude: str | None
    longitude: str | None
    institution: InstitutionRef
    target_institution: InstitutionRef | None
    dispatched_by: InstitutionRef | None
    units: tuple[InstitutionRef, ...]
    copies: tuple[InstitutionRef, ...]
    is_anonymous: bool
    is_confidential: bool
    reporter: ReporterContact | None
    reporter_hidden: bool
    title: str
    body: str
    address: str
    rating_comment: str
    public_title: str
    public_body: str
    status: ReportStatus
    dates: ReportDates
    hold_until: str | None
    archive: ArchiveNote | None
    closure_reason: str
    supports: int
    rating: int | None
    capacities: tuple[str, ...]
    allowed_actions: tuple[str, ...]
    clocks: tuple[ClockView, ...]
    events: tuple[StaffEventView, ...]
    attachments: tuple[AttachmentView, ...]


# --- exports ----------------------------------------------------------------------------------------


class ExportRow(TypedDict):
    """One report as a CSV row for statistics: codes, names of places and institutions, dates and
    counts; no identity and no free text. A missing code or name is an empty string, a missing date or
    rating None (an empty cell either way)."""

    tracking_id: str
    created_at: str
    kind: str
    weight: str
    channel: str
    status: str
    category_code: str
    category_name: str
    region_code: str
    province: str
    regency: str
    district: str
    village: str
    institution_code: str
    institution_name: str
    is_anonymous: bool
    is_confidential: bool
    dispatched_at: str | None
    first_follow_up_at: str | None
    completed_at: str | None
    closed_at: str | None
    closure_reason: str
    archive_reason: str
    rating: int | None
    supports: int


READ_MODELS: tuple[type, ...] = (PublicReportSummary, PublicReport, ReporterReportSummary, ReporterView, StaffView)
