"""Writes to accounts and memberships. Each refuses with an AccountError carrying a stable code.

Services do not decide who may call them: faces ask ``lapor.accounts.permissions`` first (e.g.
``national:user:manage`` anywhere, or ``subtree:user:manage`` at the institution concerned).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.identifiers import normalize_email, normalize_nik, normalize_phone
from lapor.accounts.models import NIK_INDEX_PURPOSE, Membership, User
from lapor.core.crypto import blind_index, decrypt_text, encrypt_text
from lapor.institutions.models import Institution


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


@transaction.atomic
def membership_grant(*, user: User, institution: Institution, role: Role, granted_by: User | None = None) -> Membership:
    """Give ``user`` ``role`` at ``institution``. Idempotent: an active membership is returned as it is,
    a revoked one is reactivated (with the new grantor and time)."""
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
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, revoked_by: User | None = None) -> Membership:
    """End a membership; it stays on record, inactive. Revoking a revoked membership changes nothing."""
    current = Membership.objects.select_for_update().get(pk=membership.pk)
    if current.is_active:
        current.is_active = False
        current.revoked_at = timezone.now()
        current.revoked_by = revoked_by
        current.save(update_fields=["is_active", "revoked_at", "revoked_by"])
    # The caller's instance shows the outcome too, as it would after a plain save().
    membership.refresh_from_db()
    return membership
