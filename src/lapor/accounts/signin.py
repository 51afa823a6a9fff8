"""Services and reads of the staff sign-in: password, mandatory second factor, lockout, login records.

The operator console signs staff in in two steps: the password (``password_sign_in``), then a code
from an authenticator app or one recovery code (``second_factor_sign_in``). A staff member without a
confirmed authenticator sets one up first (``totp_enrollment_start`` and ``totp_enrollment_confirm``,
which also hands out the recovery codes, once).

Every attempt is written down as a ``LoginRecord``. After ``CONSOLE_LOCKOUT_FAILURES`` failures within
``CONSOLE_LOCKOUT_WINDOW_SECONDS`` a lock holds for ``CONSOLE_LOCKOUT_SECONDS``: while locked nothing is
checked, not even a right password. Two locks, so that nobody can lock a staff member out from elsewhere:

- wrong passwords (and codes) lock the account *for the source they come from* only (the client address
  as the rate limits count it: an IPv4 address, an IPv6 /64), so an attacker who types wrong passwords
  for someone else's account locks only themselves;
- wrong second factors lock the account *everywhere*, and end its other sessions: only someone who knew
  the password gets that far, so the account is under attack and must stop being usable until its owner
  or a coordinator acts.

A coordinator of the account's institution (or above it) lifts a lock in the console
(``sign_in_lock_lift``), which is recorded with who did it; failures before it no longer count. The lock
is read from the records, so it needs no state of its own and every web process agrees on it. An
identifier that is no staff account (nobody's, or a citizen's) fails and locks exactly like a wrong
staff password: the sign-in page reveals neither who exists nor who is staff.

Recovery codes are kept only as keyed hashes in django-otp's ``StaticToken`` (a reader of the database
cannot use them); each works once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lapor.accounts.errors import AccountError
from lapor.accounts.models import LoginRecord, Membership, User
from lapor.accounts.selectors import user_find_by_login
from lapor.core.crypto import blind_index

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

IDENTIFIER_INDEX_PURPOSE = "console-login"
SOURCE_INDEX_PURPOSE = "console-source"
RECOVERY_CODE_PURPOSE = "recovery-code"
# A recovery code: 10 characters of an alphabet without look-alikes (about 50 bits), shown as two groups.
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
# StaticToken.token holds 16 characters: 64 bits of a keyed hash, plenty for codes that lock after 5 tries.
STORED_TOKEN_LENGTH = 16
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
USER_AGENT_LENGTH = 200
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48


class SignInErrorCode(StrEnum):
    # Wrong password, unknown identifier, no staff rights, deactivated account: one answer for all.
    INVALID_CREDENTIALS = "invalid_credentials"
    LOCKED = "locked"
    CODE_WRONG = "code_wrong"
    NO_ENROLLMENT = "no_enrollment"


MESSAGES: dict[SignInErrorCode, StrOrPromise] = {
    SignInErrorCode.INVALID_CREDENTIALS: _(
        "This e-mail address or phone number and password do not match a staff account."
    ),
    SignInErrorCode.LOCKED: _("Too many failed attempts: signing in is locked for this account."),
    SignInErrorCode.CODE_WRONG: _("This code is not right. Enter the current code from your app, or a recovery code."),
    SignInErrorCode.NO_ENROLLMENT: _("Start setting up your authenticator app again."),
}


class SignInError(Exception):
    """A sign-in step refused; ``locked_until`` is set for LOCKED."""

    def __init__(self, code: SignInErrorCode, *, locked_until: datetime | None = None) -> None:
        self.code = code
        self.locked_until = locked_until
        self.message = MESSAGES[code]
        super().__init__(str(code))


@dataclasses.dataclass(frozen=True)
class AttemptContext:
    """Where an attempt came from, as it is recorded: a network rather than an address, and the keyed
    hash of the address (``source``) that a lock from wrong passwords is bound to; and the session it
    was made in, which survives when the account's other sessions are ended."""

    network: str = ""
    user_agent: str = ""
    source: str = ""
    session_key: str = ""

    @classmethod
    def of(cls, *, address: str, user_agent: str, session_key: str = "") -> AttemptContext:
        """``address``: the client address as ``lapor.core.ratelimit.client_ip`` gives it (CGNAT-aware)."""
        return cls(
            network=mask_address(address),
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
            source=blind_index(address, purpose=SOURCE_INDEX_PURPOSE) if address else "",
            session_key=session_key or "",
        )


def mask_address(address: str) -> str:
    """The network an address belongs to: IPv4 /24, IPv6 /48 ("" when it is no address)."""
    candidate = (address or "").strip()
    try:
        network = ipaddress.ip_network(candidate, strict=False)
    except ValueError:
        return ""
    prefix = IPV4_NETWORK_PREFIX if network.version == 4 else IPV6_NETWORK_PREFIX  # noqa: PLR2004
    if network.prefixlen <= prefix:
        return str(network)
    return str(network.supernet(new_prefix=prefix))


def clock() -> datetime:
    """The time of attempts and locks; tests replace it to move time."""
    return timezone.now()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock()


def identifier_index(identifier: str) -> str:
    """The keyed hash an identifier is recorded under, the same for every spelling of one contact."""
    from lapor.accounts.services import contact_normalize

    try:
        normalized = contact_normalize(identifier)
    except AccountError:  # anything unreadable is still counted, as typed
        normalized = (identifier or "").strip().casefold()
    return blind_index(normalized, purpose=IDENTIFIER_INDEX_PURPOSE)


def is_staff_account(user: User) -> bool:
    """Active, with an active membership in an active institution (the console's notion of staff), or an
    active superuser: the Django admin has no sign-in of its own, superusers sign in here."""
    if not user.is_active:
        return False
    return (
        user.is_superuser or Membership.objects.filter(user=user, is_active=True, institution__is_active=True).exists()
    )


# --- lockout ---------------------------------------------------------------------------------------------


def _replay(failures: Sequence[datetime], *, window: timedelta, duration: timedelta) -> datetime | None:
    """When the last lock that ``failures`` (in time order) started ends: a lock starts at the failure that
    makes CONSOLE_LOCKOUT_FAILURES within the window; failures during a lock do not count."""
    ends: datetime | None = None
    recent: list[datetime] = []
    for failed_at in failures:
        if ends is not None and failed_at < ends:
            continue
        recent = [earlier for earlier in recent if earlier > failed_at - window]
        recent.append(failed_at)
        if len(recent) >= settings.CONSOLE_LOCKOUT_FAILURES:
            ends, recent = failed_at + duration, []
    return ends


# (time, stage, source, outcome) of one account's or identifier's recent failures and lifted locks.
_Row = tuple[datetime, str, str, str]
_ROW_FIELDS = ("occurred_at", "stage", "source_index", "outcome")
_COUNTED = (LoginRecord.Outcome.FAILURE, LoginRecord.Outcome.UNLOCKED)


def _span(moment: datetime) -> tuple[timedelta, timedelta, datetime]:
    window = timedelta(seconds=settings.CONSOLE_LOCKOUT_WINDOW_SECONDS)
    duration = timedelta(seconds=settings.CONSOLE_LOCKOUT_SECONDS)
    return window, duration, moment - window - duration


def _lock_from(
    rows: Sequence[_Row], *, source: str | None, account: bool, moment: datetime, second_factor_only: bool = False
) -> datetime | None:
    """The running lock that ``rows`` (in time order) make: per source (``source``, or any when None), and
    for an account also everywhere from failed second factors."""
    window, duration, _since = _span(moment)
    failures: list[_Row] = []
    for row in rows:
        if row[3] == LoginRecord.Outcome.UNLOCKED:
            failures = []  # a coordinator lifted the lock: what came before no longer counts
        else:
            failures.append(row)
    candidates: list[datetime | None] = []
    if not second_factor_only:
        by_source: dict[str, list[datetime]] = {}
        for failed_at, _stage, failed_from, _outcome in failures:
            if source is None or failed_from == source:
                by_source.setdefault(failed_from, []).append(failed_at)
        candidates += [_replay(times, window=window, duration=duration) for times in by_source.values()]
    if account:
        second_factor = [row[0] for row in failures if row[1] == LoginRecord.Stage.SECOND_FACTOR]
        candidates.append(_replay(second_factor, window=window, duration=duration))
    running = [ends for ends in candidates if ends is not None and ends > moment]
    return max(running) if running else None


def _rows(records: QuerySet[LoginRecord], moment: datetime) -> list[_Row]:
    _window, _duration, since = _span(moment)
    counted = records.filter(occurred_at__gte=since, occurred_at__lte=moment, outcome__in=_COUNTED)
    return list(counted.order_by("occurred_at", "pk").values_list(*_ROW_FIELDS))


def lock_ends_at(
    *, user: User | None = None, identifier: str = "", source: str | None = None, now: datetime | None = None
) -> datetime | None:
    """When the running lock of an account (or of an identifier that is no staff account) ends for
    attempts from ``source`` (an ``AttemptContext.source``; None: from any source, as a coordinator sees
    it); None when it is not locked.

    Failures from one source lock the account for that source; failed second factors (from anywhere)
    lock the account everywhere. Failures before a coordinator lifted the lock do not count."""
    moment = _now(now)
    if user is not None:
        records = LoginRecord.objects.filter(user=user)
    else:
        records = LoginRecord.objects.filter(user__isnull=True, identifier_index=identifier_index(identifier))
    return _lock_from(_rows(records, moment), source=source, account=user is not None, moment=moment)


def second_factor_lock_ends_at(*, user: User, now: datetime | None = None) -> datetime | None:
    """When the lock of ``user`` from failed second factors (the one that holds everywhere) ends."""
    moment = _now(now)
    rows = _rows(LoginRecord.objects.filter(user=user), moment)
    return _lock_from(rows, source=None, account=True, moment=moment, second_factor_only=True)


def locks_of(user_ids: Sequence[int], *, now: datetime | None = None) -> dict[int, datetime]:
    """The accounts among ``user_ids`` that are locked from some source or everywhere, with when their
    lock ends (for a coordinator's staff list): one query."""
    moment = _now(now)
    grouped: dict[int, list[_Row]] = {}
    records = LoginRecord.objects.filter(user_id__in=list(user_ids))
    _window, _duration, since = _span(moment)
    counted = records.filter(occurred_at__gte=since, occurred_at__lte=moment, outcome__in=_COUNTED)
    for user_id, *row in counted.order_by("occurred_at", "pk").values_list("user_id", *_ROW_FIELDS):
        grouped.setdefault(user_id, []).append(tuple(row))
    locks = {user_id: _lock_from(rows, source=None, account=True, moment=moment) for user_id, rows in grouped.items()}
    return {user_id: ends for user_id, ends in locks.items() if ends is not None}


@transaction.atomic
def sign_in_lock_lift(*, user: User, lifted_by: User, now: datetime | None = None) -> LoginRecord:
    """Lifts every lock of ``user``'s console sign-in; recorded with who lifted it (the face checks that
    ``lifted_by`` manages an institution of ``user``). Failures before it no longer count."""
    moment = _now(now)
    logger.info("Console sign-in lock of user %s lifted by user %s", user.pk, lifted_by.pk)
    return LoginRecord.objects.create(
        user=user,
        occurred_at=moment,
        stage=LoginRecord.Stage.PASSWORD,
        outcome=LoginRecord.Outcome.UNLOCKED,
        acted_by=lifted_by,
    )


def _record(
    *,
    user: User | None,
    identifier: str = "",
    stage: LoginRecord.Stage,
    outcome: LoginRecord.Outcome,
    method: LoginRecord.Method = LoginRecord.Method.NONE,
    context: AttemptContext,
    now: datetime,
) -> LoginRecord:
    return LoginRecord.objects.create(
        user=user,
        identifier_index=identifier_index(identifier) if identifier else "",
        occurred_at=now,
        stage=stage,
        outcome=outcome,
        method=method,
        network=context.network,
        user_agent=context.user_agent,
        source_index=context.source,
    )


def _refuse_when_locked(
    *, user: User | None, identifier: str, stage: LoginRecord.Stage, context: AttemptContext, now: datetime
) -> None:
    ends = lock_ends_at(user=user, identifier=identifier, source=context.source, now=now)
    if ends is not None:
        _record(
            user=user, identifier=identifier, stage=stage, outcome=LoginRecord.Outcome.LOCKED, context=context, now=now
        )
        raise SignInError(SignInErrorCode.LOCKED, locked_until=ends)


def _fail(
    *,
    user: User | None,
    identifier: str,
    stage: LoginRecord.Stage,
    code: SignInErrorCode,
    context: AttemptContext,
    now: datetime,
) -> SignInError:
    _record(
        user=user, identifier=identifier, stage=stage, outcome=LoginRecord.Outcome.FAILURE, context=context, now=now
    )
    # No attempt is checked while a lock holds, so a running second-factor lock began with this failure:
    # someone who knows the password is guessing the second factor, and the account's other sessions end.
    if (
        user is not None
        and stage == LoginRecord.Stage.SECOND_FACTOR
        and second_factor_lock_ends_at(user=user, now=now) is not None
    ):
        _sessions_end_all_but(user, keep_session_key=context.session_key)
    ends = lock_ends_at(user=user, identifier=identifier, source=context.source, now=now)
    if ends is not None:
        return SignInError(SignInErrorCode.LOCKED, locked_until=ends)
    return SignInError(code)


def _sessions_end_all_but(user: User, *, keep_session_key: str) -> int:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return sessions_end_others(user=user, keep_session_key=keep_session_key, session_store=store)


# --- the password step -----------------------------------------------------------------------------------


def password_sign_in(*, identifier: str, password: str, context: AttemptContext, now: datetime | None = None) -> User:
    """The staff account these credentials open; raises SignInError (INVALID_CREDENTIALS or LOCKED).

    Records the attempt. Who is not staff (nobody, a citizen, a deactivated account) gets the answer a
    wrong password gets, after the same work (a password hash), and is locked the same way."""
    moment = _now(now)
    found = user_find_by_login(identifier) if identifier else None
    staff = found if found is not None and is_staff_account(found) else None
    _refuse_when_locked(
        user=staff, identifier=identifier, stage=LoginRecord.Stage.PASSWORD, context=context, now=moment
    )
    with transaction.atomic():
        if staff is None:
            # Hash anyway, so that the response time does not tell a staff account from anything else.
            User().set_password(password)
            matched = False
        else:
            matched = staff.check_password(password)
        if not matched or staff is None:
            error = _fail(
                user=staff,
                identifier=identifier,
                stage=LoginRecord.Stage.PASSWORD,
                code=SignInErrorCode.INVALID_CREDENTIALS,
                context=context,
                now=moment,
            )
        else:
            _record(
                user=staff,
                identifier=identifier,
                stage=LoginRecord.Stage.PASSWORD,
                outcome=LoginRecord.Outcome.SUCCESS,
                context=context,
                now=moment,
            )
            return staff
    raise error


# --- second factor ---------------------------------------------------------------------------------------


def has_confirmed_device(user: User) -> bool:
    """Whether the user has an authenticator app set up (recovery codes alone do not count)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _recovery_hash(code: str) -> str:
    return blind_index(normalize_recovery_code(code), purpose=RECOVERY_CODE_PURPOSE)[:STORED_TOKEN_LENGTH]


def normalize_recovery_code(code: str) -> str:
    return "".join(character for character in (code or "").casefold() if character.isalnum())


def _looks_like_totp(code: str) -> bool:
    digits = "".join((code or "").split())
    return digits.isdigit() and len(digits) in (6, 8)


def _verify_code(user: User, code: str) -> tuple[Device, LoginRecord.Method] | None:
    """The device that accepts ``code`` (a current TOTP code, or an unused recovery code, used up)."""
    if _looks_like_totp(code):
        digits = "".join(code.split())
        for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
            if device.verify_token(digits):
                return device, LoginRecord.Method.TOTP
        return None
    if not normalize_recovery_code(code):
        return None
    for static in StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        if static.verify_token(_recovery_hash(code)):
            return static, LoginRecord.Method.RECOVERY
    return None


def second_factor_sign_in(
    *, user: User, code: str, context: AttemptContext, now: datetime | None = None
) -> tuple[Device, LoginRecord]:
    """The device that proves the second factor with ``code``, and the record of the success.

    Raises SignInError (CODE_WRONG or LOCKED); failures count toward the lock like wrong passwords."""
    moment = _now(now)
    stage = LoginRecord.Stage.SECOND_FACTOR
    _refuse_when_locked(user=user, identifier="", stage=stage, context=context, now=moment)
    with transaction.atomic():
        verified = _verify_code(user, code)
        if verified is None:
            error = _fail(
                user=user, identifier="", stage=stage, code=SignInErrorCode.CODE_WRONG, context=context, now=moment
            )
        else:
            device, method = verified
            record = _record(
                user=user, stage=stage, outcome=LoginRecord.Outcome.SUCCESS, method=method, context=context, now=moment
            )
            return device, record
    raise error


def login_record_bind_session(*, record: LoginRecord, session_key: str) -> None:
    """Remembers the session a successful sign-in opened, so that it can be ended from another one."""
    LoginRecord.objects.filter(pk=record.pk).update(session_key=session_key or "")


def totp_enrollment_start(*, user: User) -> TOTPDevice:
    """The user's authenticator being set up: the pending one if any (so a reload shows the same secret),
    else a new one with a fresh random key."""
    with transaction.atomic():
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if pending is not None:
            return pending
        return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def totp_enrollment_confirm(
    *, user: User, code: str, context: AttemptContext, now: datetime | None = None
) -> tuple[TOTPDevice, list[str], LoginRecord]:
    """Confirms the pending authenticator with a code from it; returns it, new recovery codes (shown once)
    and the record of the success. A wrong code counts toward the lock."""
    moment = _now(now)
    stage = LoginRecord.Stage.SECOND_FACTOR
    _refuse_when_locked(user=user, identifier="", stage=stage, context=context, now=moment)
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            raise SignInError(SignInErrorCode.NO_ENROLLMENT)
        if not _looks_like_totp(code) or not device.verify_token("".join(code.split())):
            error = _fail(
                user=user, identifier="", stage=stage, code=SignInErrorCode.CODE_WRONG, context=context, now=moment
            )
        else:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # One authenticator at a time: an older one (a lost phone) stops working.
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _recovery_codes_replace(user)
            record = _record(
                user=user,
                stage=stage,
                outcome=LoginRecord.Outcome.SUCCESS,
                method=LoginRecord.Method.TOTP,
                context=context,
                now=moment,
            )
            return device, codes, record
    raise error


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    half = RECOVERY_CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [_new_recovery_code() for _ in range(settings.CONSOLE_RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=_recovery_hash(code)) for code in codes])
    return codes


def recovery_codes_regenerate(
    *, user: User, code: str, context: AttemptContext, now: datetime | None = None
) -> list[str]:
    """New recovery codes (the old ones stop working), for a user who proves a current code again."""
    second_factor_sign_in(user=user, code=code, context=context, now=now)
    with transaction.atomic():
        return _recovery_codes_replace(user)


def sessions_end_others(*, user: User, keep_session_key: str, session_store: type[SessionBase]) -> int:
    """Ends the user's other console sessions (those opened by a recorded sign-in); returns how many."""
    records = LoginRecord.objects.filter(user=user).exclude(session_key="").exclude(session_key=keep_session_key)
    keys = set(records.values_list("session_key", flat=True))
    ended = 0
    for key in keys:
        store = session_store(session_key=key)
        if store.exists(key):
            store.delete(key)
            ended += 1
    records.update(session_key="")
    return ended


def login_record_purge(*, now: datetime | None = None) -> int:
    """Deletes sign-in records older than CONSOLE_LOGIN_RECORD_RETENTION_DAYS (a worker sweep); they
    carry personal data (network, browser) and serve only to show recent sign-ins and to lock."""
    cutoff = _now(now) - timedelta(days=settings.CONSOLE_LOGIN_RECORD_RETENTION_DAYS)
    deleted, _by_model = LoginRecord.objects.filter(occurred_at__lt=cutoff).delete()
    return deleted


# --- reads -----------------------------------------------------------------------------------------------


def login_records_recent(user: User, *, limit: int = 20) -> Sequence[LoginRecord]:
    return list(LoginRecord.objects.filter(user=user).order_by("-occurred_at", "-pk")[:limit])


@dataclasses.dataclass(frozen=True)
class DeviceSummary:
    kind: str
    name: str
    created_at: datetime | None
    last_used_at: datetime | None
    remaining_codes: int | None


def devices_of(user: User) -> list[DeviceSummary]:
    """The user's confirmed authenticators and recovery-code sets, with how many codes are left."""
    summaries = [
        DeviceSummary("totp", device.name, device.created_at, device.last_used_at, None)
        for device in TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    ]
    for device in StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk"):
        summaries.append(
            DeviceSummary("recovery", device.name, device.created_at, device.last_used_at, device.token_set.count())
        )
    return summaries
