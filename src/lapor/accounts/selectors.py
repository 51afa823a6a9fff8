"""Reads of accounts and memberships. Permission questions live in ``lapor.accounts.permissions``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery

from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import NIK_INDEX_PURPOSE, LoginRecord, Membership, User
from lapor.core.crypto import blind_index
from lapor.core.identifiers import looks_like_phone, normalize_email, normalize_nik, normalize_phone
from lapor.core.tree import subtree_q
from lapor.institutions.models import Institution


def user_find_by_nik(nik: str) -> User | None:
    """The account holding this NIK, found through its blind index (the NIK is never stored in clear).

    Raises AccountError(NIK_INVALID) for a value that cannot be a NIK, so that a typo is not
    mistaken for "nobody has it".
    """
    try:
        normalized = normalize_nik(nik)
    except ValidationError as error:
        raise AccountError(AccountErrorCode.NIK_INVALID) from error
    return User.objects.filter(nik_index=blind_index(normalized, purpose=NIK_INDEX_PURPOSE)).first()


def user_find_by_login(login: str) -> User | None:
    """The account an e-mail address (any case) or a phone number (any common format) belongs to."""
    try:
        if looks_like_phone(login):
            return User.objects.filter(phone=normalize_phone(login)).first()
        return User.objects.filter(email=normalize_email(login)).first()
    except ValidationError:
        return None


def user_memberships(user: User, *, include_inactive: bool = False) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(user=user).select_related("institution")
    if not include_inactive:
        # Invitations not yet accepted are shown too (as the address the inviter typed).
        memberships = memberships.filter(Q(is_active=True) | Q(is_pending=True))
    return memberships.order_by("institution__path", "role")


def memberships_within(institution: Institution, *, include_inactive: bool = False) -> QuerySet[Membership]:
    """The memberships held at ``institution`` and every institution below it, in tree order, each with
    its user and institution, and ``last_sign_in``: when the user last signed in to the console
    (None if never). One query."""
    last_sign_in = (
        LoginRecord.objects.filter(
            user_id=OuterRef("user_id"),
            stage=LoginRecord.Stage.SECOND_FACTOR,
            outcome=LoginRecord.Outcome.SUCCESS,
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    memberships = (
        Membership.objects.filter(subtree_q(institution.path, field="institution__path"))
        .select_related("user", "institution")
        .annotate(last_sign_in=Subquery(last_sign_in))
    )
    if not include_inactive:
        # Invitations not yet accepted are shown too (as the address the inviter typed).
        memberships = memberships.filter(Q(is_active=True) | Q(is_pending=True))
    return memberships.order_by("institution__path", "user__full_name", "role", "pk")


def invitations_pending(user: User) -> list[Membership]:
    """The invitations ``user`` has not answered yet, with their institutions and who invited them."""
    return list(
        Membership.objects.filter(user=user, is_pending=True)
        .select_related("institution", "granted_by")
        .order_by("-granted_at", "pk")
    )
