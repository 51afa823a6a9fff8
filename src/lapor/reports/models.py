from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.core.audit import ChainedEvent
from lapor.core.crypto import blind_index, decrypt_text, encrypt_text
from lapor.reports.choices import (
    OPEN_STATUSES,
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

GUEST_EMAIL_INDEX_PURPOSE = "contact-email"
GUEST_PHONE_INDEX_PURPOSE = "contact-phone"


def guest_email_key(value: str) -> str:
    """The keyed hash under which a guest's e-mail address is found (blank for none)."""
    email = value.strip().lower()
    return blind_index(email, purpose=GUEST_EMAIL_INDEX_PURPOSE) if email else ""


def guest_phone_key(value: str) -> str:
    """The keyed hash under which a guest's phone number is found, however it was written (blank for none):
    '0812-3456-7890', '62812…' and '+62812…' are one number."""
    digits = re.sub(r"[^0-9]", "", value)
    if not digits:
        return ""
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return blind_index("+" + digits, purpose=GUEST_PHONE_INDEX_PURPOSE)


def _encrypted_contact(value: str | None, index: Callable[[str], str]) -> tuple[str, str]:
    contact = (value or "").strip()
    return (encrypt_text(contact), index(contact)) if contact else ("", "")


class ReportQuerySet(models.QuerySet["Report"]):
    def visible_to(self, user: Any) -> ReportQuerySet:
        """The one door for reads: see lapor.reports.access."""
        from lapor.reports.access import visible_reports

        return visible_reports(user, self)  # type: ignore[return-value]

    def open(self) -> ReportQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Report(models.Model):
    tracking_id = models.CharField(_("tracking ID"), max_length=12, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=24, choices=ReportKind.choices, default=ReportKind.COMPLAINT)
    weight = models.CharField(_("weight"), max_length=32, choices=ReportWeight.choices, blank=True, default="")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    incident_date = models.DateField(_("date of the incident"))
    category = models.ForeignKey(
        "institutions.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True, default="")
    target_institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    is_confidential = models.BooleanField(_("confidential"), default=False)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    guest_name = models.CharField(max_length=150, blank=True, default="")
    # A guest's contacts are personal data: encrypted at rest like an account's NIK (read and set them
    # through the ``guest_email`` and ``guest_phone`` properties), with a keyed hash of the normalised
    # value so that a guest's reports are still found by their contact (claiming, grouping per person).
    guest_email_ciphertext = models.TextField(blank=True, default="", editable=False)
    guest_email_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    guest_phone_ciphertext = models.TextField(blank=True, default="", editable=False)
    guest_phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    # Reaches the reporter's own view without an account (hashed; the link carries the secret).
    access_secret_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    resume_status = models.CharField(max_length=24, choices=Status.choices, blank=True, default="")
    archive_reason = models.CharField(max_length=24, choices=ArchiveReason.choices, blank=True, default="")
    closure_reason = models.CharField(max_length=24, choices=ClosureReason.choices, blank=True, default="")
    hold_until = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="owned_reports", verbose_name=_("owner")
    )
    # Who dispatched it to the owner: a "not our authority" return goes back there.
    dispatched_by = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged")
    time_zone = models.CharField(max_length=32, default="Asia/Jakarta")

    public_title = models.CharField(max_length=200, blank=True, default="")
    public_body = models.TextField(blank=True, default="")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True, default="")
    referral_consent_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    support_count = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ReportQuerySet] = ReportQuerySet.as_manager()  # type: ignore[assignment]

    # The free text the reporter writes. People sign their words and write their phone number or NIK
    # into any box, so every viewer who may not know the reporter reads these fields only through
    # `privacy.reporter_text` (masked). A test walks every text field of this model: a new one must be
    # named here or in NOT_REPORTER_TEXT_FIELDS, so that it cannot be shown raw by forgetting it.
    REPORTER_TEXT_FIELDS: ClassVar[tuple[str, ...]] = ("title", "body", "address", "rating_comment")
    NOT_REPORTER_TEXT_FIELDS: ClassVar[tuple[str, ...]] = (
        # Codes and values Lapor chooses or computes, never free text.
        "tracking_id",
        "kind",
        "weight",
        "channel",
        "status",
        "resume_status",
        "archive_reason",
        "closure_reason",
        "time_zone",
        "access_secret_hash",
        "idempotency_key",
        # The reporter's identity itself: shown only through `access.reporter_identity`.
        "guest_name",
        "guest_email_ciphertext",
        "guest_email_index",
        "guest_phone_ciphertext",
        "guest_phone_index",
        # The public copy: already masked when written (`privacy.mask_for_report`).
        "public_title",
        "public_body",
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "created_at"]),
            # The timers' sweep resumes holds by resume date: it reads the holds that have ended, not
            # every report on hold.
            models.Index(fields=["hold_until"], condition=Q(status="on_hold"), name="report_hold_ends"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_id

    @property
    def guest_email(self) -> str:
        return decrypt_text(self.guest_email_ciphertext) if self.guest_email_ciphertext else ""

    @guest_email.setter
    def guest_email(self, value: str) -> None:
        self.guest_email_ciphertext, self.guest_email_index = _encrypted_contact(value, guest_email_key)

    @property
    def guest_phone(self) -> str:
        return decrypt_text(self.guest_phone_ciphertext) if self.guest_phone_ciphertext else ""

    @guest_phone.setter
    def guest_phone(self, value: str) -> None:
        self.guest_phone_ciphertext, self.guest_phone_index = _encrypted_contact(value, guest_phone_key)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReportAssignment(models.Model):
    """A unit the owning institution forwarded the report to (disposisi internal)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey("institutions.Institution", on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "unit"], condition=Q(is_active=True), name="one_active_assignment_per_unit"
            )
        ]
        indexes = [models.Index(fields=["unit", "is_active"])]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.unit_id}"


class ReportCopy(models.Model):
    """A copy (salinan): the institution sees and may comment on the report but does not own it."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="copies")
    institution = models.ForeignKey("institutions.Institution", on_delete=models.PROTECT, related_name="report_copies")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "institution"], name="one_copy_per_institution")]

    def __str__(self) -> str:
        return f"{self.report_id} ⇢ {self.institution_id}"


class ReportClock(models.Model):
    """One legal deadline of one report: when it started, when it is due, whether it was met."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="clocks")
    clock = models.CharField(max_length=24, choices=Clock.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    yellow_at = models.DateTimeField()
    budget = models.PositiveIntegerField()
    budget_unit = models.CharField(max_length=16)  # "working_days", "hours" or "days"
    paused_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "clock"], condition=Q(stopped_at__isnull=True), name="one_running_clock_per_kind"
            )
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(stopped_at__isnull=True), name="running_clock_due"),
            # What the timers' sweep looks for: only clocks that still have something to do are indexed,
            # so the sweep reads the few due ones, not every running clock of a million reports.
            models.Index(
                fields=["yellow_at"], condition=Q(stopped_at__isnull=True, warned_at__isnull=True), name="clock_to_warn"
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, escalation_level__lt=2),
                name="clock_to_escalate",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, clock="reporter_reply"),
                name="reply_window_running",
            ),
            # The running requests for details, which the sweep reads every time (their reminder times
            # are fractions of each one's window); without it, every running clock's entry in
            # one_running_clock_per_kind is read to find them.
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, clock="information_reply"),
                name="information_request_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}:{self.clock} due {self.due_at:%Y-%m-%d %H:%M}"


class ReportPause(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=24)

    def __str__(self) -> str:
        return f"{self.report_id} paused {self.started_at:%Y-%m-%d}"


class ReportEvent(ChainedEvent):
    """The tamper-evident trail: one row per action, chained to the report's previous event."""

    CHAIN_FIELD = "report"
    HASHED_FIELDS = (
        "actor",
        "actor_role",
        "actor_institution",
        "action",
        "from_status",
        "to_status",
        "visibility",
        "message",
        "details",
    )

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    actor_role = models.CharField(max_length=24, choices=Actor.choices)
    actor_institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    from_status = models.CharField(max_length=24, blank=True, default="")
    to_status = models.CharField(max_length=24, blank=True, default="")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    message = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict)

    class Meta(ChainedEvent.Meta):
        verbose_name = _("report event")
        verbose_name_plural = _("report events")
        constraints = [models.UniqueConstraint(fields=["report", "sequence"], name="report_event_sequence")]


class ReportSupport(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "user"], name="one_support_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} supports {self.report_id}"


class Attachment(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(ReportEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.REPORTER)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name


class SavedFilter(models.Model):
    """A staff member's saved inbox filter: a name and the query string of the console's inbox
    (?antrian=...&status=...). Private to its owner; create and delete through the services."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filters"), max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name
