"""Who hears of a report event, and where: the reporter on their own channel, staff by their role.

Reporters hear of every status change and of the events that ask something of them or answer them;
staff hear of every report that lands on their desk and of the deadline warnings addressed to them.
Nobody hears of what they did themselves, except the reporter, whose receipts carry the next deadline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from lapor.accounts.choices import PreferredChannel, Role
from lapor.accounts.models import Membership, User
from lapor.core.identifiers import normalize_phone
from lapor.institutions.models import Institution
from lapor.institutions.selectors import national_institution
from lapor.notifications.choices import Audience, NotificationChannel
from lapor.notifications.drafts import Recipient as OutboxRecipient
from lapor.reports.choices import Action, Channel
from lapor.reports.models import Report, ReportEvent

GUEST_LANGUAGE = "id"
# Events that concern the reporter even when the status stays the same.
REPORTER_ACTIONS = frozenset(
    {
        Action.REQUEST_INFORMATION,
        Action.FOLLOW_UP,
        Action.FOLLOW_UP_FINAL,
        Action.ARCHIVE,
        Action.MERGE,
        Action.REMIND,
        Action.DEEM_COMPLETE,
        Action.REFER,
    }
)
# Events that never reach the reporter, whatever they change: they are the institutions' own business.
STAFF_ONLY_ACTIONS = frozenset({Action.NOTE, Action.REDACT, Action.WARN, Action.ESCALATE})
STAFF_ACTIONS = frozenset({Action.DISPATCH, Action.FORWARD, Action.RETURN_TO_DISPATCHER, Action.WARN, Action.ESCALATE})


@dataclasses.dataclass(frozen=True)
class Recipient:
    audience: Audience
    channel: NotificationChannel
    address: str
    language: str
    user: User | None = None
    # The institution or unit through which a staff member is concerned (named in the message).
    institution: Institution | None = None
    # The role of the membership there that made them a recipient: with the institution, how they
    # stand to the report.
    role: str = ""
    # The reporter's name for the greeting; empty for staff, whose messages never carry it.
    name: str = ""

    @property
    def key(self) -> str:
        return self.for_outbox.key

    @property
    def for_outbox(self) -> OutboxRecipient:
        """The recipient as the outbox takes it: who, on which channel, where, in which language."""
        return OutboxRecipient(
            audience=self.audience,
            channel=self.channel,
            address=self.address,
            language=self.language,
            user_id=self.user.pk if self.user is not None else None,
        )


def reporter_hears_of(event: ReportEvent) -> bool:
    if event.action == Action.REDACT and privacy_change(event) is not None:
        # Staff changed who may see the report or its reporter: the reporter must know (the staff's
        # note stays with the staff).
        return True
    if event.action in STAFF_ONLY_ACTIONS:
        return False
    if event.action == Action.FORWARD and event.message:
        # A forward changes no status; staff who wrote the reporter a message with it want them told.
        return True
    return event.from_status != event.to_status or event.action in REPORTER_ACTIONS


def privacy_change(event: ReportEvent) -> dict[str, bool] | None:
    """The privacy flags an event set (`report_set_privacy`), or None."""
    details = event.details if isinstance(event.details, dict) else {}
    flags = details.get("privacy")
    if not isinstance(flags, dict):
        return None
    return {name: bool(flags.get(name)) for name in ("is_anonymous", "is_confidential")}


def staff_hear_of(event: ReportEvent) -> bool:
    return event.action in STAFF_ACTIONS


def _sms_address(phone: str) -> str | None:
    try:
        return normalize_phone(phone)
    except ValidationError:
        return None


def _contact(*, email: str, phone: str, prefer_sms: bool) -> tuple[NotificationChannel, str] | None:
    """One channel per person, so that nobody gets every message twice. E-mail carries the whole
    message and costs nothing, so it wins, unless the person reached Lapor by SMS."""
    sms = _sms_address(phone) if phone else None
    if sms and (prefer_sms or not email):
        return NotificationChannel.SMS, sms
    if email:
        return NotificationChannel.EMAIL, email
    return None


def _user_contact(user: User, *, prefer_sms: bool) -> tuple[NotificationChannel, str] | None:
    """A person's channel: the one they chose in their preferences when it can reach them, else
    the usual choice."""
    if user.preferred_channel == PreferredChannel.SMS and user.phone:
        prefer_sms = True
    elif user.preferred_channel == PreferredChannel.EMAIL and user.email:
        prefer_sms = False
    return _contact(email=user.email or "", phone=user.phone or "", prefer_sms=prefer_sms)


def reporter_recipient(report: Report) -> Recipient | None:
    """The reporter (account or guest), or None when there is nobody to tell or no way to reach them."""
    prefer_sms = report.channel == Channel.SMS
    reporter = report.reporter
    if reporter is not None:
        if not reporter.is_active:
            return None
        contact = _user_contact(reporter, prefer_sms=prefer_sms)
        language, name = reporter.preferred_language or GUEST_LANGUAGE, reporter.full_name
    else:
        contact = _contact(email=report.guest_email, phone=report.guest_phone, prefer_sms=prefer_sms)
        language, name = GUEST_LANGUAGE, report.guest_name
    if contact is None:
        return None
    channel, address = contact
    return Recipient(
        audience=Audience.REPORTER, channel=channel, address=address, language=language, user=reporter, name=name
    )


def reporter_acknowledgement_recipients(report: Report) -> list[Recipient]:
    """Who hears that a report was received: the reporter as usual, and a guest at every contact they
    gave. A guest has no other way to get their private link than this message, so an e-mail address
    mistyped, or a phone without signal, must not leave them with nothing."""
    usual = reporter_recipient(report)
    if usual is None:
        return []
    if report.reporter is not None:
        return [usual]
    recipients = [usual]
    for channel, address in (
        (NotificationChannel.EMAIL, report.guest_email),
        (NotificationChannel.SMS, _sms_address(report.guest_phone) if report.guest_phone else None),
    ):
        if address and channel != usual.channel:
            recipients.append(dataclasses.replace(usual, channel=channel, address=address))
    return recipients


def _staff(user: User, institution: Institution | None, role: str) -> Recipient | None:
    contact = _user_contact(user, prefer_sms=False)
    if contact is None:
        return None
    channel, address = contact
    return Recipient(
        audience=Audience.STAFF,
        channel=channel,
        address=address,
        language=user.preferred_language or GUEST_LANGUAGE,
        user=user,
        institution=institution,
        role=role,
    )


def _members(*, institution_ids: Iterable[int] | None, roles: Iterable[str]) -> list[Membership]:
    memberships = Membership.objects.filter(
        role__in=list(roles), is_active=True, user__is_active=True, institution__is_active=True
    ).select_related("user", "institution")
    if institution_ids is not None:
        memberships = memberships.filter(institution_id__in=list(institution_ids))
    return list(memberships.order_by("institution__path", "user_id"))


def _ids(value: Any) -> list[int]:
    """Ids from event details, which are JSON written by other code: ignore what is not an id."""
    values = value if isinstance(value, list) else [value]
    return [item for item in values if isinstance(item, int) and not isinstance(item, bool)]


def _roles(value: Any) -> list[str]:
    roles = [role for role in (value if isinstance(value, list) else [value]) if role in Role.values]
    return roles or [Role.COORDINATOR]


def _national_institution_id() -> int | None:
    national = national_institution()
    return national.pk if national is not None else None


def _memberships_for(event: ReportEvent, report: Report) -> list[Membership]:
    details = event.details if isinstance(event.details, dict) else {}
    if event.action == Action.DISPATCH:
        owner = _ids(details.get("to")) or [report.owner_id]
        # The owner's coordinators first (a person in both hears as the owner's), then the copies'.
        owners = _members(institution_ids=owner, roles=[Role.COORDINATOR])
        copies = [pk for pk in _ids(details.get("copies")) if pk not in owner]
        return owners + (_members(institution_ids=copies, roles=[Role.COORDINATOR]) if copies else [])
    if event.action == Action.FORWARD:
        return _members(institution_ids=_ids(details.get("units")), roles=[Role.LIAISON_OFFICER])
    if event.action == Action.RETURN_TO_DISPATCHER:
        returned_to = _ids(details.get("returned_to")) or [report.owner_id]
        if returned_to == [_national_institution_id()]:
            return _members(institution_ids=None, roles=[Role.NATIONAL_ADMIN])
        return _members(institution_ids=returned_to, roles=[Role.COORDINATOR])
    # Warnings and escalations: the timers name the people (resolved when they fired, so that the
    # trail shows who was told) and the institution and roles they were chosen by. The people win;
    # the institution and roles are resolved only when no people are named.
    if _ids(details.get("notify_user_ids")):
        return []
    named = _ids(details.get("notify_institution"))
    if not named:
        return []
    return _members(institution_ids=named, roles=_roles(details.get("notify_roles")))


def event_links(event: ReportEvent) -> tuple[list[int], list[int]]:
    """The units a forward sent the report to and the institutions a dispatch copied it to, as the
    event's details name them: (assigned, copied)."""
    details = event.details if isinstance(event.details, dict) else {}
    if event.action == Action.FORWARD:
        return _ids(details.get("units")), []
    if event.action == Action.DISPATCH:
        return [], _ids(details.get("copies"))
    return [], []


def staff_recipients(event: ReportEvent, report: Report) -> list[Recipient]:
    """Staff to tell of ``event``: one entry per person (the first institution that concerns them)."""
    recipients: dict[int, Recipient] = {}
    candidates: list[tuple[User, Institution | None, str]] = [
        (membership.user, membership.institution, membership.role) for membership in _memberships_for(event, report)
    ]
    if event.action in (Action.WARN, Action.ESCALATE):
        details = event.details if isinstance(event.details, dict) else {}
        user_ids = _ids(details.get("notify_user_ids"))
        if user_ids:
            users = User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk")
            candidates.extend((user, None, "") for user in users)
    for user, institution, role in candidates:
        if user.pk in recipients or user.pk == event.actor_id:
            continue
        recipient = _staff(user, institution, role)
        if recipient is not None:
            recipients[user.pk] = recipient
    return list(recipients.values())
