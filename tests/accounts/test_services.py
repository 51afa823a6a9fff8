from __future__ import annotations

import pytest
from django.db import connection
from django.utils import translation

from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import Membership, User
from lapor.accounts.selectors import user_find_by_login, user_find_by_nik, user_memberships
from lapor.accounts.services import (
    membership_grant,
    membership_revoke,
    user_create,
    user_identifiers_clean,
    user_set_nik,
)
from lapor.core.crypto import decrypt_text
from tests.accounts.conftest import MakeInstitution
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NIK = "3201012345678901"


def test_user_create_normalises_and_hashes() -> None:
    user = user_create(
        full_name="  Ani   Lestari ", email="Ani@Example.ID", phone="0812-3456-7890", password=PASSWORD, nik=NIK
    )
    user.refresh_from_db()
    assert user.full_name == "Ani Lestari"
    assert user.email == "ani@example.id"
    assert user.phone == "+6281234567890"
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD
    assert user.reveal_nik() == NIK
    assert user.nik_last_digits == "8901"
    assert user.is_active
    assert not user.is_staff
    assert not user.is_superuser


def test_user_create_with_phone_only_and_no_password() -> None:
    user = user_create(full_name="Budi", phone="+62 812 1111 2222")
    assert user.email is None
    assert user.phone == "+6281211112222"
    assert not user.has_usable_password()
    assert user.get_username() == "+6281211112222"


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"full_name": "Ani"}, AccountErrorCode.EMAIL_OR_PHONE_REQUIRED, None),
        ({"full_name": "Ani", "email": " ", "phone": ""}, AccountErrorCode.EMAIL_OR_PHONE_REQUIRED, None),
        ({"full_name": "  ", "email": "ani@example.id"}, AccountErrorCode.FULL_NAME_REQUIRED, "full_name"),
        ({"full_name": "Ani", "email": "ani@"}, AccountErrorCode.EMAIL_INVALID, "email"),
        ({"full_name": "Ani", "phone": "12345"}, AccountErrorCode.PHONE_INVALID, "phone"),
        ({"full_name": "Ani", "email": "ani@example.id", "nik": "1234"}, AccountErrorCode.NIK_INVALID, "nik"),
        (
            {"full_name": "Ani", "email": "ani@example.id", "password": "12345"},
            AccountErrorCode.PASSWORD_INVALID,
            "password",
        ),
        (
            {"full_name": "Ani", "email": "ani@example.id", "password": "ani@example.id"},
            AccountErrorCode.PASSWORD_INVALID,
            "password",
        ),
    ],
)
def test_user_create_refuses_malformed_input(kwargs: dict[str, str], code: AccountErrorCode, field: str | None) -> None:
    with pytest.raises(AccountError) as caught:
        user_create(**kwargs)
    assert caught.value.code is code
    assert caught.value.field == field
    assert str(caught.value.message)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"email": "ANI@example.id"}, AccountErrorCode.EMAIL_TAKEN),
        ({"phone": "+62 812 3456 7890"}, AccountErrorCode.PHONE_TAKEN),
        ({"email": "other@example.id", "nik": "3201 0123 4567 8901"}, AccountErrorCode.NIK_TAKEN),
    ],
)
def test_user_create_refuses_identifiers_taken_in_another_format(
    kwargs: dict[str, str], code: AccountErrorCode
) -> None:
    user_create(full_name="Ani", email="ani@example.id", phone="081234567890", nik=NIK)
    with pytest.raises(AccountError) as caught:
        user_create(full_name="Someone else", **kwargs)
    assert caught.value.code is code
    assert User.objects.count() == 1


def test_user_create_errors_leave_the_transaction_usable() -> None:
    user_create(full_name="Ani", email="ani@example.id")
    with pytest.raises(AccountError):
        user_create(full_name="Ani", email="ani@example.id")
    assert User.objects.count() == 1


def test_identifiers_clean_ignores_the_user_being_edited() -> None:
    user = user_create(full_name="Ani", email="ani@example.id", nik=NIK)
    identifiers = user_identifiers_clean(email="ANI@example.id", phone=None, nik=NIK, exclude_user=user)
    assert identifiers.email == "ani@example.id"
    assert NIK not in repr(identifiers)


def test_set_replace_and_remove_nik() -> None:
    user = UserFactory.create()
    user_set_nik(user=user, nik=NIK)
    assert User.objects.get(pk=user.pk).reveal_nik() == NIK
    user_set_nik(user=user, nik="3201012345678902")
    user.refresh_from_db()
    assert user.reveal_nik() == "3201012345678902"
    assert user_find_by_nik(NIK) is None
    user_set_nik(user=user, nik=None)
    user.refresh_from_db()
    assert (user.nik_ciphertext, user.nik_index, user.nik_last_digits) == ("", None, "")


def test_set_nik_refuses_one_held_by_another_account() -> None:
    UserFactory.create(nik=NIK)
    other = UserFactory.create()
    with pytest.raises(AccountError) as caught:
        user_set_nik(user=other, nik=NIK)
    assert caught.value.code is AccountErrorCode.NIK_TAKEN
    other.refresh_from_db()
    assert other.nik_index is None


def test_set_nik_again_on_the_same_account_is_allowed() -> None:
    user = UserFactory.create(nik=NIK)
    user_set_nik(user=user, nik=NIK)
    assert user_find_by_nik(NIK) == user


def test_nik_is_encrypted_at_rest() -> None:
    user = UserFactory.create(nik=NIK)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_user WHERE id = %s", [user.pk])
        row = cursor.fetchone()
        cursor.execute("SELECT nik_ciphertext FROM accounts_user WHERE id = %s", [user.pk])
        (ciphertext,) = cursor.fetchone()
    assert row is not None
    assert not any(NIK in str(column) for column in row)
    assert not any(NIK[:12] in str(column) for column in row)
    assert decrypt_text(ciphertext) == NIK


def test_nik_never_appears_in_str_or_repr() -> None:
    user = UserFactory.create(nik=NIK, full_name="Ani Lestari")
    for text in (str(user), repr(user), user.nik_masked):
        assert NIK not in text
    assert user.nik_masked.endswith("8901")


def test_find_by_nik() -> None:
    user = UserFactory.create(nik=NIK)
    UserFactory.create(nik="3201012345678902")
    assert user_find_by_nik("3201 0123 4567 8901") == user
    assert user_find_by_nik("3201012345678999") is None
    with pytest.raises(AccountError) as caught:
        user_find_by_nik("32010123")
    assert caught.value.code is AccountErrorCode.NIK_INVALID


def test_find_by_login() -> None:
    user = UserFactory.create(email="ani@example.id", phone="081234567890")
    assert user_find_by_login("ANI@example.id") == user
    assert user_find_by_login("+62 812-3456-7890") == user
    assert user_find_by_login("nobody@example.id") is None
    assert user_find_by_login("not an e-mail") is None


def test_natural_key_accepts_email_or_phone() -> None:
    user = UserFactory.create(email="ani@example.id", phone="081234567890")
    assert User.objects.get_by_natural_key("Ani@Example.id") == user
    assert User.objects.get_by_natural_key("0812 3456 7890") == user
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("garbage")


def test_membership_grant_is_idempotent(make_institution: MakeInstitution) -> None:
    institution = make_institution("Kabupaten Bogor")
    granter, other_granter = UserFactory.create(), UserFactory.create()
    officer = UserFactory.create()
    first = membership_grant(user=officer, institution=institution, role=Role.COORDINATOR, granted_by=granter)
    again = membership_grant(user=officer, institution=institution, role=Role.COORDINATOR, granted_by=other_granter)
    assert again.pk == first.pk
    assert again.granted_by == granter
    assert again.granted_at == first.granted_at
    assert Membership.objects.count() == 1
    assert first.is_active


def test_different_roles_at_one_institution_are_separate(make_institution: MakeInstitution) -> None:
    institution = make_institution("Kabupaten Bogor")
    officer = UserFactory.create()
    membership_grant(user=officer, institution=institution, role=Role.COORDINATOR)
    membership_grant(user=officer, institution=institution, role=Role.LIAISON_OFFICER)
    assert {membership.role for membership in user_memberships(officer)} == {Role.COORDINATOR, Role.LIAISON_OFFICER}


def test_membership_revoke_keeps_the_record(make_institution: MakeInstitution) -> None:
    institution = make_institution("Kabupaten Bogor")
    officer, admin = UserFactory.create(), UserFactory.create()
    membership = membership_grant(user=officer, institution=institution, role=Role.LIAISON_OFFICER)
    revoked = membership_revoke(membership=membership, revoked_by=admin)
    assert revoked.pk == membership.pk
    assert not membership.is_active
    assert membership.revoked_by == admin
    assert membership.revoked_at is not None
    revoked_at = membership.revoked_at
    membership_revoke(membership=membership, revoked_by=UserFactory.create())
    membership.refresh_from_db()
    assert membership.revoked_at == revoked_at
    assert membership.revoked_by == admin
    assert list(user_memberships(officer)) == []
    assert list(user_memberships(officer, include_inactive=True)) == [membership]


def test_grant_after_revoke_reactivates(make_institution: MakeInstitution) -> None:
    institution = make_institution("Kabupaten Bogor")
    officer, admin = UserFactory.create(), UserFactory.create()
    membership = membership_grant(user=officer, institution=institution, role=Role.OVERSIGHT)
    membership_revoke(membership=membership, revoked_by=admin)
    again = membership_grant(user=officer, institution=institution, role=Role.OVERSIGHT, granted_by=admin)
    assert again.pk == membership.pk
    assert again.is_active
    assert again.granted_by == admin
    assert again.revoked_at is None
    assert again.revoked_by is None


def test_inactive_user_cannot_be_granted_a_role(make_institution: MakeInstitution) -> None:
    institution = make_institution("Kabupaten Bogor")
    with pytest.raises(AccountError) as caught:
        membership_grant(user=UserFactory.create(inactive=True), institution=institution, role=Role.COORDINATOR)
    assert caught.value.code is AccountErrorCode.USER_INACTIVE
    assert not Membership.objects.exists()


def test_membership_str_names_user_role_and_institution(make_institution: MakeInstitution) -> None:
    institution = make_institution("Kabupaten Bogor")
    membership = membership_grant(
        user=UserFactory.create(full_name="Ani Lestari"), institution=institution, role=Role.COORDINATOR
    )
    with translation.override("en"):
        assert str(membership) == "Ani Lestari · Institution coordinator · Kabupaten Bogor"


def test_model_validation_keeps_a_phone_only_account_without_email() -> None:
    user = user_create(full_name="Joko", phone="081277778888")
    user.full_clean()
    assert user.email is None
    assert user.phone == "+6281277778888"
