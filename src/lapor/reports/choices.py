from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    COMPLAINT = "pengaduan", _("Complaint")
    SUGGESTION = "aspirasi", _("Suggestion")
    INFORMATION_REQUEST = "permintaan_informasi", _("Information request")


class ReportWeight(models.TextChoices):
    """How heavy a complaint is; it sets the resolution deadline."""

    LIGHT = "ringan", _("Light")
    NORMATIVE = "normatif", _("Normative")
    NO_INVESTIGATION = "tidak_berkadar_pengawasan", _("No investigation needed")
    INVESTIGATION = "berkadar_pengawasan", _("Needs investigation")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    OPEN311 = "open311", _("Open311")
    SOCIAL = "social", _("Social media")
    STAFF = "staff", _("Staff on behalf of a citizen")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Unverified")
    AWAITING_INFORMATION = "awaiting_information", _("Waiting for the reporter's details")
    ON_HOLD = "on_hold", _("On hold")
    ARCHIVED = "archived", _("Archived")
    DISPATCHED = "dispatched", _("Dispatched, no follow-up yet")
    RETURNED = "returned", _("Not our authority: being re-routed")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed, waiting for the reporter")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another report")
    REFERRED = "referred", _("Referred to the Ombudsman")


OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.AWAITING_INFORMATION,
        Status.ON_HOLD,
        Status.DISPATCHED,
        Status.RETURNED,
        Status.IN_PROGRESS,
        Status.COMPLETED,
    }
)
# Statuses in which the report waits for the reporter or is held: the institution's clocks stop.
PAUSED_STATUSES = frozenset({Status.AWAITING_INFORMATION, Status.ON_HOLD})


class ArchiveReason(models.TextChoices):
    """Shown to the reporter with every archive: a report is never archived silently."""

    INCOMPLETE = "incomplete", _("The report is incomplete")
    OUT_OF_SCOPE = "out_of_scope", _("Outside what Lapor handles (courts, KPK, police)")
    DUPLICATE = "duplicate", _("The same report was already filed")
    ABUSIVE = "abusive", _("Abusive or offensive content")
    NOT_PUBLIC_SERVICE = "not_public_service", _("Not about a public service")


class ClosureReason(models.TextChoices):
    CONFIRMED = "confirmed", _("The reporter confirmed the result")
    # Kept apart so that statistics never count silence as satisfaction.
    DEEMED_COMPLETE = "deemed_complete", _("Deemed complete: no reply within the reply window")


class Clock(models.TextChoices):
    VERIFY_DISPATCH = "verify_dispatch", _("Verify and dispatch")
    FIRST_FOLLOW_UP = "first_follow_up", _("First follow-up")
    RESOLUTION = "resolution", _("Resolution")
    REPORTER_REPLY = "reporter_reply", _("Reporter's reply window")
    INFORMATION_REPLY = "information_reply", _("Reporter's missing details")
    OVERALL = "overall", _("Overall completion")


class ClockState(models.TextChoices):
    GREEN = "green", _("On time")
    YELLOW = "yellow", _("75% of the time used")
    RED = "red", _("Overdue")
    PAUSED = "paused", _("Paused")


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    REQUEST_INFORMATION = "request_information", _("Request missing details")
    PROVIDE_INFORMATION = "provide_information", _("Provide missing details")
    HOLD = "hold", _("Put on hold")
    RESUME = "resume", _("Resume")
    ARCHIVE = "archive", _("Archive")
    APPEAL = "appeal", _("Appeal the archive")
    RESUBMIT = "resubmit", _("Resubmit corrected")
    DISPATCH = "dispatch", _("Verify and dispatch")
    FORWARD = "forward", _("Forward to units")
    RETURN_TO_DISPATCHER = "return_to_dispatcher", _("Not our authority")
    FOLLOW_UP = "follow_up", _("Progress follow-up")
    FOLLOW_UP_FINAL = "follow_up_final", _("Final follow-up")
    CONFIRM = "confirm", _("Confirm the result")
    DISPUTE = "dispute", _("Dispute the result")
    RATE = "rate", _("Rate")
    DEEM_COMPLETE = "deem_complete", _("Deem complete")
    MERGE = "merge", _("Merge into another report")
    REFER = "refer", _("Refer to the Ombudsman")
    COMMENT = "comment", _("Public comment")
    NOTE = "note", _("Internal note")
    REDACT = "redact", _("Redact the public text")
    REMIND = "remind", _("Remind the reporter")
    WARN = "warn", _("Deadline warning")
    ESCALATE = "escalate", _("Escalate an overdue report")
    # A report filed as a guest joins the account that proved the guest's e-mail address or phone.
    CLAIM = "claim", _("Added to the reporter's account")


class Actor(models.TextChoices):
    """The capacity in which someone acts on one report (derived from memberships and the report)."""

    REPORTER = "reporter", _("Reporter")
    NATIONAL_ADMIN = "national_admin", _("National admin")
    COORDINATOR = "coordinator", _("Coordinator of the owning institution")
    UNIT_OFFICER = "unit_officer", _("Liaison officer of an assigned unit")
    COPY_HOLDER = "copy_holder", _("Institution holding a copy")
    OVERSIGHT = "oversight", _("Oversight")
    PUBLIC = "public", _("Signed-in member of the public")
    SYSTEM = "system", _("Lapor (automatic)")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Everyone who may see the report")
    REPORTER = "reporter", _("The reporter and staff")
    STAFF = "staff", _("Staff only")


# The detail of a dispatch or forward that names (by sequence) the staff-only note written with it.
INTERNAL_NOTE_KEY = "internal_note"
