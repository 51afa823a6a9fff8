"""Writes to accounts and memberships. Each refuses with an AccountError carrying a stable code.

The membership services take the acting user as ``actor``: it is checked through
``lapor.accounts.access`` (the same door the faces use) and named in the `AdministrativeEvent` each
change appends to the trail of the membership's institution, in the same transaction. ``actor=None`` is
the system itself or the Django admin (which has its own guard): nothing is checked, and the event
names the ``granted_by``/``revoked_by``/``changed_by`` user given, if any.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from lapor.accounts.access import MembershipAction, access_membership, check_may_grant
from lapor.accounts.choices import OneTimeCodePurpose, PreferredChannel, Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.messages import notify_direct
from lapor.accounts.models import NIK_INDEX_PURPOSE, Membership, OneTimeCode, User
from lapor.core.crypto import blind_index, decrypt_text, encrypt_text
from lapor.core.identifiers import looks_like_phone, normalize_email, normalize_nik, normalize_phone
from lapor.institutions.choices import AdministrativeAction
from lapor.institutions.models import Institution
from lapor.institutions.services import administrative_event_record


@dataclasses.dataclass(frozen=True)
class UserIdentifiers:
    """Normalised identifiers, each None when not given."""

    email: str | None
    phone: str | None
    nik: str | None = dataclasses.field(default=None, repr=False)


def _normalized(value: str | None, normalize: Callable[[str], str], code: AccountErrorCode) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalize(value)
    except ValidationError as error:
        raise AccountError(code) from error


def user_identifiers_clean(
    *,
    email: str | None,
    phone: str | None,
    nik: str | None = None,
    exclude_user: User | None = None,
    require_contact: bool = True,
) -> UserIdentifiers:
    """Normalise e-mail, phone and NIK and check that no other account holds them (one query).

    ``user_create`` relies on it; forms call it in ``clean()`` to put each error on its own field
    before anything is saved. Empty strings count as not given.
    """
    identifiers = UserIdentifiers(
        email=_normalized(email, normalize_email, AccountErrorCode.EMAIL_INVALID),
        phone=_normalized(phone, normalize_phone, AccountErrorCode.PHONE_INVALID),
        nik=_normalized(nik, normalize_nik, AccountErrorCode.NIK_INVALID),
    )
    if require_contact and identifiers.email is None and identifiers.phone is None:
        raise AccountError(AccountErrorCode.EMAIL_OR_PHONE_REQUIRED)
    nik_index = blind_index(identifiers.nik, purpose=NIK_INDEX_PURPOSE) if identifiers.nik else None
    taken = Q(pk__in=[])
    if identifiers.email:
        taken |= Q(email=identifiers.email)
    if identifiers.phone:
        taken |= Q(phone=identifiers.phone)
    if nik_index:
        taken |= Q(nik_index=nik_index)
    others = User.objects.filter(taken)
    if exclude_user is not None and exclude_user.pk is not None:
        others = others.exclude(pk=exclude_user.pk)
    taken_codes: set[AccountErrorCode] = set()
    for other_email, other_phone, other_nik_index in others.values_list("email", "phone", "nik_index"):
        if identifiers.email and other_email == identifiers.email:
            taken_codes.add(AccountErrorCode.EMAIL_TAKEN)
        if identifiers.phone and other_phone == identifiers.phone:
            taken_codes.add(AccountErrorCode.PHONE_TAKEN)
        if nik_index and other_nik_index == nik_index:
            taken_codes.add(AccountErrorCode.NIK_TAKEN)
    # In a fixed order, so that the same input always gets the same answer.
    for code in (AccountErrorCode.EMAIL_TAKEN, AccountErrorCode.PHONE_TAKEN, AccountErrorCode.NIK_TAKEN):
        if code in taken_codes:
            raise AccountError(code)
    return identifiers


@sensitive_variables("password")
def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise AccountError(AccountErrorCode.PASSWORD_INVALID, " ".join(error.messages)) from error


def _save_checked(user: User, identifiers: UserIdentifiers, *, update_fields: list[str] | None = None) -> None:
    try:
        # A savepoint, so that the surrounding transaction stays usable after a lost race.
        with transaction.atomic():
            user.save(update_fields=update_fields)
    except IntegrityError:
        # Another request took an identifier between the check and the write: say which one.
        user_identifiers_clean(
            email=identifiers.email,
            phone=identifiers.phone,
            nik=identifiers.nik,
            exclude_user=user,
            require_contact=False,
        )
        raise


@sensitive_variables("password", "nik")
@transaction.atomic
def user_create(
    *,
    full_name: str,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    nik: str | None = None,
) -> User:
    """A new account that logs in with its e-mail address or phone number.

    Without a password the account cannot log in with one (e.g. created from an SMS report, or
    an officer who sets it through a reset link). A password must pass AUTH_PASSWORD_VALIDATORS.
    """
    full_name = " ".join(full_name.split())
    if not full_name:
        raise AccountError(AccountErrorCode.FULL_NAME_REQUIRED)
    identifiers = user_identifiers_clean(email=email, phone=phone, nik=nik)
    user = User(full_name=full_name, email=identifiers.email, phone=identifiers.phone)
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    if identifiers.nik:
        user.set_nik(identifiers.nik)
    _save_checked(user, identifiers)
    return user


@sensitive_variables("nik")
@transaction.atomic
def user_set_nik(*, user: User, nik: str | None) -> User:
    """Set, replace or (with None or "") remove the user's NIK."""
    identifiers = user_identifiers_clean(email=None, phone=None, nik=nik, exclude_user=user, require_contact=False)
    user.set_nik(identifiers.nik)
    _save_checked(user, identifiers, update_fields=["nik_ciphertext", "nik_index", "nik_last_digits"])
    return user


def user_nik_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored NIK under the newest FIELD_ENCRYPTION_KEYS key; returns how many.

    Also recomputes the blind index, which follows SECRET_KEY. Batches commit one by one so that a
    large table is never locked whole; stopping halfway is harmless, because every key in the list
    still decrypts, and running it again finishes the job.
    """
    rotated = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                User.objects.filter(pk__gt=last_pk)
                .exclude(nik_ciphertext="")
                .order_by("pk")
                .values_list("pk", "nik_ciphertext")[:batch_size]
            )
            if not batch:
                return rotated
            for pk, token in batch:
                try:
                    nik = decrypt_text(token)
                except ValueError as error:
                    raise ValueError(f"The NIK of user #{pk} cannot be decrypted with any configured key.") from error
                # Compare-and-set: a NIK changed meanwhile by user_set_nik is newer; keep it.
                rotated += User.objects.filter(pk=pk, nik_ciphertext=token).update(
                    nik_ciphertext=encrypt_text(nik), nik_index=blind_index(nik, purpose=NIK_INDEX_PURPOSE)
                )
            last_pk = batch[-1][0]


def _membership_event(
    membership: Membership, actor: User | None, action: AdministrativeAction, **details: object
) -> None:
    administrative_event_record(
        institution=Institution(pk=membership.institution_id),
        actor=actor,
        action=action,
        subject_id=membership.pk,
        details={"user": membership.user_id, "role": membership.role, **details},
    )


@transaction.atomic
def membership_grant(
    *,
    user: User,
    institution: Institution,
    role: Role,
    granted_by: User | None = None,
    actor: User | None = None,
) -> Membership:
    """Give ``user`` ``role`` at ``institution``. Idempotent: an active membership is returned as it is,
    a revoked one is reactivated (with the new grantor and time). An ``actor`` must be allowed to give
    ``role`` there (ROLE_NOT_GRANTABLE)."""
    if actor is not None:
        check_may_grant(actor, institution, role)
    granted_by = granted_by or actor
    membership, changed = _membership_grant(user=user, institution=institution, role=role, granted_by=granted_by)
    if changed:
        _membership_event(membership, granted_by, AdministrativeAction.MEMBERSHIP_GRANT)
    return membership


def _membership_grant(
    *, user: User, institution: Institution, role: Role, granted_by: User | None
) -> tuple[Membership, bool]:
    if not user.is_active:
        raise AccountError(AccountErrorCode.USER_INACTIVE)
    now = timezone.now()
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user,
        institution=institution,
        role=Role(role),
        defaults={"granted_at": now, "granted_by": granted_by},
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.granted_at = now
        membership.granted_by = granted_by
        membership.revoked_at = None
        membership.revoked_by = None
        membership.save(update_fields=["is_active", "granted_at", "granted_by", "revoked_at", "revoked_by"])
        return membership, True
    return membership, created


@transaction.atomic
def membership_revoke(
    *, membership: Membership, revoked_by: User | None = None, actor: User | None = None
) -> Membership:
    """End a membership; it stays on record, inactive. Revoking a revoked membership changes nothing.
    An ``actor`` must manage the membership (`access_membership`, REVOKE)."""
    if actor is not None:
        access_membership(actor, membership.pk, MembershipAction.REVOKE)
    revoked_by = revoked_by or actor
    current = Membership.objects.select_for_update().get(pk=membership.pk)
    if _membership_revoke(current, revoked_by):
        _membership_event(current, revoked_by, AdministrativeAction.MEMBERSHIP_REVOKE)
    # The caller's instance shows the outcome too, as it would after a plain save().
    membership.refresh_from_db()
    return membership


def _membership_revoke(current: Membership, revoked_by: User | None) -> bool:
    """Ends ``current`` (locked by the caller); False when it had already ended."""
    if not (current.is_active or current.is_pending):  # an invitation not yet accepted is withdrawn the same way
        return False
    current.is_active = False
    current.is_pending = False
    current.revoked_at = timezone.now()
    current.revoked_by = revoked_by
    current.save(update_fields=["is_active", "is_pending", "revoked_at", "revoked_by"])
    return True


# --- one-time codes ---------------------------------------------------------------------------------
# A six-digit code sent to an address proves that whoever types it reads that address. Codes are
# written to the notifications outbox with the row that records them (one transaction), so they
# travel the channels every other message does: e-mail to an e-mail address, SMS to a phone number.
# Once delivered (or given up), the outbox row's copy has the code's digits masked
# (``redact_on_delivery``): a reader of the outbox or of a backup cannot use it.

ONE_TIME_CODE_DIGITS = 6
ONE_TIME_CODE_LIFETIME = timedelta(minutes=10)
ONE_TIME_CODE_MAX_ATTEMPTS = 5
# Used, replaced and expired codes are kept this long after they expire, then purged by the worker.
ONE_TIME_CODE_RETENTION = timedelta(days=1)
# Separates the codes' keyed hashes from any other keyed hash made with the same SECRET_KEY.
ONE_TIME_CODE_INDEX_PURPOSE = "one-time-code"
ONE_TIME_CODE_SEND_ATTEMPTS = 5


def contact_normalize(address: str) -> str:
    """An e-mail address or phone number (typed in any common format) as accounts store it."""
    if not address or not address.strip():
        raise AccountError(AccountErrorCode.EMAIL_OR_PHONE_REQUIRED)
    if looks_like_phone(address):
        normalized = _normalized(address, normalize_phone, AccountErrorCode.PHONE_INVALID)
    else:
        normalized = _normalized(address, normalize_email, AccountErrorCode.EMAIL_INVALID)
    assert normalized is not None
    return normalized


def contact_field(address: str) -> str:
    """The User field that holds a normalised contact: "email" or "phone"."""
    return "email" if "@" in address else "phone"


def _contact_pair(address: str) -> tuple[str | None, str | None]:
    """(e-mail, phone) with the normalised ``address`` in its place."""
    return (address, None) if contact_field(address) == "email" else (None, address)


def _code_hash(*, address: str, purpose: str, code: str) -> str:
    return blind_index(f"{purpose}:{address}:{code}", purpose=ONE_TIME_CODE_INDEX_PURPOSE)


def one_time_code_send(
    *, address: str, purpose: OneTimeCodePurpose | str, language: str, recipient: User | None = None
) -> OneTimeCode:
    """Send a new code for ``purpose`` to ``address`` (e-mail or phone) in ``language``; it replaces
    any unused code of the same address and purpose (with fresh tries and a fresh expiry).
    ``recipient``: the account the message is for, when there is one. Raises AccountError for an
    address that is neither e-mail nor phone."""
    address = contact_normalize(address)
    purpose = OneTimeCodePurpose(purpose)
    code = f"{secrets.randbelow(10**ONE_TIME_CODE_DIGITS):0{ONE_TIME_CODE_DIGITS}d}"
    code_hash = _code_hash(address=address, purpose=purpose, code=code)
    for attempt in range(1, ONE_TIME_CODE_SEND_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                now = timezone.now()
                fresh = {"code_hash": code_hash, "created_at": now, "expires_at": now + ONE_TIME_CODE_LIFETIME}
                # The unused code, locked: two sends to one address at once replace it one after the other.
                row = (
                    OneTimeCode.objects.select_for_update()
                    .filter(address=address, purpose=purpose, used_at__isnull=True)
                    .first()
                )
                if row is None:
                    row = OneTimeCode.objects.create(purpose=purpose, address=address, **fresh)
                else:
                    for field, value in {**fresh, "attempts": 0}.items():
                        setattr(row, field, value)
                    row.save(update_fields=[*fresh, "attempts"])
                notify_direct(
                    address=address,
                    language=language,
                    template="one_time_code",
                    # The label is translated lazily: in the reader's language, when the message is written.
                    context={
                        "code": code,
                        "purpose": purpose.label,
                        "minutes": int(ONE_TIME_CODE_LIFETIME.total_seconds() // 60),
                    },
                    dedupe_key=f"one-time-code:{row.pk}:{secrets.token_hex(8)}",
                    recipient=recipient,
                    redact_on_delivery=True,
                )
                return row
        except IntegrityError:
            # Another request created the unused code at the same moment (the unique constraint made
            # this one wait for it): the next attempt finds it, and replaces it.
            if attempt == ONE_TIME_CODE_SEND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def one_time_code_verify(*, address: str, purpose: OneTimeCodePurpose | str, code: str) -> OneTimeCode:
    """Use the code sent to ``address`` for ``purpose``; it works once. Raises AccountError:
    CODE_WRONG (also when no code is waiting, or it was sent for another purpose), CODE_EXPIRED, or
    CODE_TOO_MANY_ATTEMPTS once ONE_TIME_CODE_MAX_ATTEMPTS wrong tries have killed it.

    The wrong try is counted in a transaction of its own, committed before the error is raised:
    call it outside any transaction that the error would roll back, or the count would be lost.
    """
    address = contact_normalize(address)
    purpose = OneTimeCodePurpose(purpose)
    given = _code_hash(address=address, purpose=purpose, code="".join(filter(str.isdigit, code)))
    failure: AccountErrorCode | None = None
    with transaction.atomic():
        now = timezone.now()
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(address=address, purpose=purpose, used_at__isnull=True)
            .first()
        )
        if row is None:
            failure = AccountErrorCode.CODE_WRONG
        elif row.attempts >= ONE_TIME_CODE_MAX_ATTEMPTS:
            failure = AccountErrorCode.CODE_TOO_MANY_ATTEMPTS
        elif row.expires_at <= now:
            failure = AccountErrorCode.CODE_EXPIRED
        elif not hmac.compare_digest(row.code_hash, given):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            dead = row.attempts >= ONE_TIME_CODE_MAX_ATTEMPTS
            failure = AccountErrorCode.CODE_TOO_MANY_ATTEMPTS if dead else AccountErrorCode.CODE_WRONG
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
    if failure is not None:
        raise AccountError(failure)
    assert row is not None
    return row


def one_time_code_purge(*, now: datetime | None = None) -> int:
    """Delete the codes that expired more than ONE_TIME_CODE_RETENTION ago (a worker sweep)."""
    cutoff = (now or timezone.now()) - ONE_TIME_CODE_RETENTION
    deleted, _by_model = OneTimeCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


# --- accounts proven by a code ----------------------------------------------------------------------
# None of these tells whether an account holds an address: a face answers "we sent a code if ..."
# the same way in every case, and only the reader of the address learns more.


def _active_user_with(address: str) -> User | None:
    return User.objects.filter(**{contact_field(address): address}, is_active=True).first()


def _mark_verified(user: User, address: str) -> None:
    field = contact_field(address)
    if getattr(user, field) != address:
        return
    verified_field = f"verified_{field}"
    if getattr(user, verified_field) != address:
        setattr(user, verified_field, address)
        user.save(update_fields=[verified_field])


def _language(value: str) -> str:
    return value if value in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@dataclasses.dataclass(frozen=True)
class Registration:
    """A registration waiting for its code. Plain strings, so that a face can keep it in the session
    (``dataclasses.asdict`` and back); the password is kept only hashed."""

    full_name: str
    address: str
    password_hash: str = dataclasses.field(repr=False)
    language: str = "id"


@sensitive_variables("password")
def user_registration_start(*, full_name: str, address: str, password: str, language: str) -> Registration:
    """Check a registration and send a code to its address; the account is created only once the
    code comes back (`user_registration_finish`), so that nobody holds an address they never proved.

    When an account holds the address already, its owner gets a notice instead of a code, and the
    caller gets the same answer as for a free address (a code that will never come is as good as
    "this address is taken" to its owner, and tells nobody else anything)."""
    full_name = " ".join(full_name.split())
    if not full_name:
        raise AccountError(AccountErrorCode.FULL_NAME_REQUIRED)
    address = contact_normalize(address)
    field = contact_field(address)
    _check_password(password, User(full_name=full_name, **{field: address}))
    language = _language(language)
    _registration_code_send(address=address, language=language)
    return Registration(full_name=full_name, address=address, password_hash=make_password(password), language=language)


def user_registration_resend(*, registration: Registration) -> None:
    """Send a registration's code again (a new one, which replaces the first), or the notice again."""
    _registration_code_send(address=registration.address, language=_language(registration.language))


@transaction.atomic
def _registration_code_send(*, address: str, language: str) -> None:
    if User.objects.filter(**{contact_field(address): address}).exists():
        notify_direct(
            address=address,
            language=language,
            template="account_exists",
            context={},
            dedupe_key=f"account-exists:{uuid.uuid4().hex}",
        )
    else:
        one_time_code_send(address=address, purpose=OneTimeCodePurpose.REGISTER, language=language)


def user_registration_finish(*, registration: Registration, code: str) -> User:
    """Create the account of a registration whose code is right; its address counts as verified.

    Raises the code's AccountError, or EMAIL_TAKEN / PHONE_TAKEN when another account took the
    address meanwhile (the reader has just proven it is theirs: telling them reveals nothing)."""
    one_time_code_verify(address=registration.address, purpose=OneTimeCodePurpose.REGISTER, code=code)
    field = contact_field(registration.address)
    with transaction.atomic():
        email, phone = _contact_pair(registration.address)
        identifiers = user_identifiers_clean(email=email, phone=phone)
        user = User(
            full_name=registration.full_name,
            email=identifiers.email,
            phone=identifiers.phone,
            preferred_language=_language(registration.language),
            **{f"verified_{field}": registration.address},
        )
        user.password = registration.password_hash
        _save_checked(user, identifiers)
    return user


ACCOUNT_CODE_PURPOSES = frozenset({OneTimeCodePurpose.LOGIN, OneTimeCodePurpose.PASSWORD_RESET})


class _NobodyToSendTo(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


def user_code_send(*, address: str, purpose: OneTimeCodePurpose | str, language: str) -> str:
    """Send a code to sign in or to set a new password, when an active account holds ``address``;
    otherwise nothing is sent, and the caller cannot tell. Returns the normalised address.

    An address without an account goes through exactly the same work (the code, its row, the message
    composed into the outbox), which is then rolled back: the response takes as long either way, and
    its timing does not tell who has an account."""
    purpose = OneTimeCodePurpose(purpose)
    if purpose not in ACCOUNT_CODE_PURPOSES:
        raise ValueError(f"{purpose} codes are not sent to accounts by their address alone.")
    address = contact_normalize(address)
    user = _active_user_with(address)
    try:
        with transaction.atomic():
            one_time_code_send(address=address, purpose=purpose, language=language, recipient=user)
            if user is None:
                raise _NobodyToSendTo
    except _NobodyToSendTo:
        pass
    return address


def user_code_verify(*, address: str, purpose: OneTimeCodePurpose | str, code: str) -> User:
    """The active account holding ``address``, when ``code`` is the one sent to it for ``purpose``
    (see `user_code_send`); the address then counts as verified."""
    purpose = OneTimeCodePurpose(purpose)
    if purpose not in ACCOUNT_CODE_PURPOSES:
        raise ValueError(f"{purpose} codes are not verified by their address alone.")
    row = one_time_code_verify(address=address, purpose=purpose, code=code)
    user = _active_user_with(row.address)
    if user is None:
        # Deactivated (or its address changed) since the code was sent.
        raise AccountError(AccountErrorCode.CODE_WRONG)
    _mark_verified(user, row.address)
    return user


@sensitive_variables("password")
@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """A new password, checked against AUTH_PASSWORD_VALIDATORS. Every other session of the account
    ends with it (Django ties sessions to the password hash)."""
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_preferences_set(*, user: User, preferred_language: str, preferred_channel: str) -> User:
    """The language and the channel (e-mail or SMS, blank for Lapor's choice) of the user's messages."""
    if preferred_language not in dict(settings.LANGUAGES):
        raise AccountError(AccountErrorCode.LANGUAGE_INVALID)
    if preferred_channel not in PreferredChannel.values:
        raise AccountError(AccountErrorCode.CHANNEL_UNAVAILABLE)
    if (preferred_channel == PreferredChannel.EMAIL and not user.email) or (
        preferred_channel == PreferredChannel.SMS and not user.phone
    ):
        raise AccountError(AccountErrorCode.CHANNEL_UNAVAILABLE)
    user.preferred_language = preferred_language
    user.preferred_channel = preferred_channel
    user.save(update_fields=["preferred_language", "preferred_channel"])
    return user


OWN_CONTACT_PURPOSES = frozenset({OneTimeCodePurpose.CLAIM, OneTimeCodePurpose.CONTACT_CHANGE})


def user_contact_code_send(*, user: User, address: str, purpose: OneTimeCodePurpose | str, language: str) -> str:
    """Send a code to prove one of the user's contacts: CLAIM, for an e-mail address or phone number
    the account has (CONTACT_NOT_OWN otherwise); CONTACT_CHANGE, for one to add to the account or to
    replace the one of its kind. Returns the normalised address."""
    purpose = OneTimeCodePurpose(purpose)
    if purpose not in OWN_CONTACT_PURPOSES:
        raise ValueError(f"{purpose} codes are not sent for a signed-in account's contact.")
    address = contact_normalize(address)
    if purpose == OneTimeCodePurpose.CLAIM and address not in (user.email, user.phone):
        raise AccountError(AccountErrorCode.CONTACT_NOT_OWN)
    one_time_code_send(address=address, purpose=purpose, language=language, recipient=user)
    return address


def user_contact_verify(*, user: User, address: str, purpose: OneTimeCodePurpose | str, code: str) -> User:
    """Mark the user's contact verified once ``code`` is right (CLAIM), or first make ``address`` the
    account's e-mail address or phone number (CONTACT_CHANGE). Raises the code's AccountError;
    CONTACT_NOT_OWN when the account no longer has the address (CLAIM); EMAIL_TAKEN / PHONE_TAKEN
    when another account holds it (CONTACT_CHANGE: the reader has just proven it is theirs)."""
    purpose = OneTimeCodePurpose(purpose)
    if purpose not in OWN_CONTACT_PURPOSES:
        raise ValueError(f"{purpose} codes are not verified for a signed-in account's contact.")
    address = one_time_code_verify(address=address, purpose=purpose, code=code).address
    field = contact_field(address)
    with transaction.atomic():
        if purpose == OneTimeCodePurpose.CONTACT_CHANGE and getattr(user, field) != address:
            email, phone = _contact_pair(address)
            identifiers = user_identifiers_clean(email=email, phone=phone, exclude_user=user, require_contact=False)
            setattr(user, field, address)
            setattr(user, f"verified_{field}", address)
            _save_checked(user, identifiers, update_fields=[field, f"verified_{field}"])
            return user
        if getattr(user, field) != address:
            raise AccountError(AccountErrorCode.CONTACT_NOT_OWN)
        _mark_verified(user, address)
    return user


# --- staff invitations and roles --------------------------------------------------------------------
# Faces decide who may invite and which roles they may give (``lapor.accounts.permissions``:
# ``grantable_roles``); these services only do it, with the grantor on record.


@dataclasses.dataclass(frozen=True)
class Invitation:
    """What `membership_invite` did: the account (new or found), the membership, and the message."""

    user: User
    membership: Membership
    new_account: bool
    message_sent: bool


@transaction.atomic
def membership_invite(
    *,
    full_name: str,
    address: str,
    institution: Institution,
    role: Role | str,
    invited_by: User | None,
    password_url: str,
    console_url: str,
    accept_url: str = "",
    actor: User | None = None,
) -> Invitation:
    """Invite the person at ``address`` (e-mail or phone) to ``role`` at ``institution`` and tell them.

    The membership is *pending* (no rights) until the person accepts it (``membership_accept``, on the
    page at ``accept_url``): an invitation to an address that already has an account gives nobody
    anything before its owner agrees. An account that holds the address keeps its name (the inviter
    sees only the address they typed, ``invited_as``); for a new address an account is created with
    ``full_name`` and no usable password. The invitation goes through the notifications outbox once the
    transaction commits: it names the institution, the role and who invited them, and points to
    ``password_url`` (where a code sent to the same address lets them set a password), ``accept_url``
    and ``console_url``, where the first sign-in makes them set up their second factor. Inviting again
    re-sends it. Raises AccountError for a bad address or name, USER_INACTIVE for a deactivated account,
    ROLE_NOT_GRANTABLE when an ``actor`` may not give ``role`` at ``institution``.
    """
    if actor is not None:
        check_may_grant(actor, institution, role)
    invited_by = invited_by or actor
    address = contact_normalize(address)
    field = contact_field(address)
    user = User.objects.select_for_update().filter(**{field: address}).first()
    new_account = user is None
    if user is None:
        email, phone = _contact_pair(address)
        user = user_create(full_name=full_name, email=email, phone=phone, password=None)
    elif not user.is_active:
        raise AccountError(AccountErrorCode.USER_INACTIVE)
    role = Role(role)
    membership = _membership_offer(
        user=user, institution=institution, role=role, invited_by=invited_by, address=address
    )
    _membership_event(membership, invited_by, AdministrativeAction.MEMBERSHIP_INVITE, pending=membership.is_pending)
    sent = notify_direct(
        address=address,
        language=_language(user.preferred_language),
        template="staff_invitation",
        # The role's label is translated lazily: in the reader's language, when the message is written.
        context={
            "full_name": user.full_name,
            "institution": institution.name,
            "role": role.label,
            "inviter": invited_by.full_name if invited_by is not None else "",
            "has_password": user.has_usable_password(),
            "password_url": password_url,
            "console_url": console_url,
            "accept_url": accept_url if membership.is_pending else "",
        },
        dedupe_key=f"staff-invitation:{membership.pk}:{uuid.uuid4().hex}",
        recipient=user,
    )
    return Invitation(user=user, membership=membership, new_account=new_account, message_sent=sent is not None)


def _membership_offer(
    *, user: User, institution: Institution, role: Role, invited_by: User | None, address: str
) -> Membership:
    """The pending membership an invitation offers (an active one is left as it is: re-sending)."""
    now = timezone.now()
    membership = Membership.objects.select_for_update().filter(user=user, institution=institution, role=role).first()
    if membership is not None and membership.is_active:
        return membership
    pending = {
        "is_active": False,
        "is_pending": True,
        "invited_as": address,
        "granted_at": now,
        "granted_by": invited_by,
        "revoked_at": None,
        "revoked_by": None,
    }
    if membership is None:
        return Membership.objects.create(user=user, institution=institution, role=role, **pending)
    for field, value in pending.items():
        setattr(membership, field, value)
    membership.save(update_fields=list(pending))
    return membership


def _pending_of(user: User, membership_id: int) -> Membership:
    membership = Membership.objects.select_for_update().filter(pk=membership_id, user=user, is_pending=True).first()
    if membership is None:
        raise AccountError(AccountErrorCode.INVITATION_NOT_FOUND)
    return membership


@transaction.atomic
def membership_accept(*, user: User, membership_id: int) -> Membership:
    """``user`` accepts an invitation of theirs: the membership becomes active. Raises
    INVITATION_NOT_FOUND for one that is not theirs or no longer pending (withdrawn, answered)."""
    if not user.is_active:
        raise AccountError(AccountErrorCode.USER_INACTIVE)
    membership = _pending_of(user, membership_id)
    membership.is_active, membership.is_pending = True, False
    membership.save(update_fields=["is_active", "is_pending"])
    return membership


@transaction.atomic
def membership_decline(*, user: User, membership_id: int) -> Membership:
    """``user`` declines an invitation of theirs: it stays on record, ended by them."""
    membership = _pending_of(user, membership_id)
    membership.is_pending = False
    membership.revoked_at = timezone.now()
    membership.revoked_by = user
    membership.save(update_fields=["is_pending", "revoked_at", "revoked_by"])
    return membership


@transaction.atomic
def membership_change_role(
    *, membership: Membership, role: Role | str, changed_by: User | None = None, actor: User | None = None
) -> Membership:
    """Give the member ``role`` at the same institution instead of the membership's role; returns the
    membership now held. The old one is revoked, not rewritten, so that who held which role when, and
    who granted it, stays on record. Raises MEMBERSHIP_INACTIVE for a revoked membership; an ``actor``
    must manage the membership (`access_membership`, CHANGE_ROLE) and be allowed to give ``role``."""
    role = Role(role)
    if actor is not None:
        access_membership(actor, membership.pk, MembershipAction.CHANGE_ROLE)
    changed_by = changed_by or actor
    current = Membership.objects.select_for_update().select_related("user", "institution").get(pk=membership.pk)
    if not current.is_active:
        raise AccountError(AccountErrorCode.MEMBERSHIP_INACTIVE)
    if actor is not None:
        check_may_grant(actor, current.institution, role)
    if current.role == role:
        return current
    granted, _changed = _membership_grant(
        user=current.user, institution=current.institution, role=role, granted_by=changed_by
    )
    _membership_revoke(current, changed_by)
    _membership_event(granted, changed_by, AdministrativeAction.MEMBERSHIP_ROLE_CHANGE, previous_role=current.role)
    membership.refresh_from_db()
    return granted


@transaction.atomic
def membership_unlock(*, membership: Membership, actor: User) -> Membership:
    """Lift the console sign-in lock of ``membership``'s holder, as ``actor``, who must manage the
    membership (`access_membership`, UNLOCK: active, not one's own)."""
    from lapor.accounts.signin import sign_in_lock_lift

    current = access_membership(actor, membership.pk, MembershipAction.UNLOCK)
    sign_in_lock_lift(user=current.user, lifted_by=actor)
    _membership_event(current, actor, AdministrativeAction.MEMBERSHIP_UNLOCK)
    return current
