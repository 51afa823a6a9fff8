"""A report comes in: filing (web and every other channel), the reporter's private link, and the
encryption of guests' contacts at rest."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.models import User
from lapor.core.calendar import WorkingCalendar
from lapor.core.ids import new_tracking_id
from lapor.institutions.models import Category, Institution
from lapor.regions.models import Region
from lapor.regions.timezones import time_zone_for_region
from lapor.reports import deadlines
from lapor.reports.access import link_secret_hash
from lapor.reports.attachments import PreparedFile, prepare_uploads
from lapor.reports.choices import Action, Actor, Channel, ReportKind, Status, Visibility
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Attachment, Report, ReportClock
from lapor.reports.privacy import mask_personal_data
from lapor.reports.services.kernel import (
    MAX_BODY,
    MAX_TITLE,
    Done,
    files_removed_on_failure,
    files_stored,
    record,
    require_national_institution,
    required_text,
)
from lapor.reports.workflow import transition_for

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

TRACKING_ID_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True, slots=True)
class Filed(Done):
    """A filed report: `Done`, with the secret of the reporter's private link (given once: empty when
    ``repeated``, a retry that found the report filed the first time)."""

    secret: str = ""
    repeated: bool = False


def _idempotency_digest(key: str, reporter: User | None, channel: str) -> str:
    owner = f"user:{reporter.pk}" if reporter is not None else "guest"
    return hashlib.sha256(f"{channel}|{owner}|{key}".encode()).hexdigest()


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
    files: Sequence[UploadedFile[Any] | PreparedFile] = (),
) -> Filed:
    """File a report, with the files sent with it (all of them, or no report: a refused file refuses
    the filing, so that the citizen sends both again together). Returns the report, its submission
    event, the files and the secret of the reporter's private link (empty when an idempotent retry
    returned an earlier report: the secret was given the first time only).
    ``site_url``: the address the report was filed at (a web request's), which the acknowledgement's
    private link uses when the deployment sets no SITE_URL.

    A retry with the same idempotency key (same reporter and channel) returns the first report,
    also when two retries race: the key is unique in the database.
    """
    digest = _idempotency_digest(idempotency_key, reporter, channel) if idempotency_key else None
    if digest is not None:
        existing = Report.objects.filter(idempotency_key=digest).first()
        if existing is not None:
            return _filed_before(existing)
    # Files are checked and pictures re-encoded before the transaction starts.
    checked = prepare_uploads(files) if files else []
    try:
        with files_removed_on_failure() as stored:
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
                checked=checked,
                stored=stored,
            )
    except IntegrityError:
        if digest is not None:
            existing = Report.objects.filter(idempotency_key=digest).first()
            if existing is not None:
                return _filed_before(existing)
        raise


def _filed_before(report: Report) -> Filed:
    """What a retried filing answers: the report filed the first time, without its secret."""
    submission = report.events.order_by("sequence").first()
    if submission is None:  # every report is created with its submission event, in one transaction
        raise ReportError(ReportErrorCode.NOT_FOUND, _("No report with this tracking ID."))
    return Filed(report, submission, tuple(report.attachments.filter(event=submission)), secret="", repeated=True)


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
    checked: Sequence[PreparedFile],
    stored: list[Attachment],
) -> Filed:
    title = required_text(title, field="title", maximum=MAX_TITLE)
    body = required_text(body, field="body", maximum=MAX_BODY)
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
    owner = target_institution or require_national_institution()
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
    event = record(
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
    attachments = files_stored(
        report, checked, visibility=Visibility.REPORTER, event=event, stored=stored, new_report=True
    )
    return Filed(report, event, attachments, secret=secret)


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
