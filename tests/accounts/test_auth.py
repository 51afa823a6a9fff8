from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import identify_hasher
from django.test import Client, override_settings

from lapor import settings as production_settings
from lapor.accounts.services import user_create
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ani():
    return UserFactory.create(email="ani.lestari@example.id", phone="081234567890")


@pytest.mark.parametrize("login", ["ani.lestari@example.id", "Ani.Lestari@Example.ID", "  ANI.LESTARI@EXAMPLE.ID "])
def test_login_by_email_in_any_case(ani, login: str) -> None:
    assert authenticate(None, username=login, password=PASSWORD) == ani


@pytest.mark.parametrize(
    "login", ["0812-3456-7890", "081234567890", "+6281234567890", "+62 812 3456 7890", "6281234567890"]
)
def test_login_by_phone_in_any_common_format(ani, login: str) -> None:
    assert authenticate(None, username=login, password=PASSWORD) == ani


def test_login_through_the_client_with_a_phone_number(ani, client: Client) -> None:
    assert client.login(username="0812-3456-7890", password=PASSWORD)
    assert client.session["_auth_user_id"] == str(ani.pk)


@pytest.mark.parametrize("login", ["ani.lestari@example.id", "0812-3456-7890"])
def test_wrong_password_is_refused(ani, login: str) -> None:
    assert authenticate(None, username=login, password=PASSWORD + "x") is None


def test_unknown_account_is_refused() -> None:
    assert authenticate(None, username="nobody@example.id", password=PASSWORD) is None
    assert authenticate(None, username="0899-0000-0000", password=PASSWORD) is None
    assert authenticate(None, username="", password=PASSWORD) is None


def test_inactive_account_is_refused() -> None:
    UserFactory.create(email="budi@example.id", inactive=True)
    assert authenticate(None, username="budi@example.id", password=PASSWORD) is None


def test_account_without_a_password_cannot_log_in_with_one() -> None:
    user_create(full_name="Citra", phone="081299998888")
    assert authenticate(None, username="081299998888", password="") is None
    assert authenticate(None, username="081299998888", password=PASSWORD) is None


def test_production_hashes_passwords_with_argon2() -> None:
    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        user = user_create(full_name="Dewi", email="dewi@example.id", password=PASSWORD)
        user.refresh_from_db()
        assert user.password.startswith("argon2")
        assert identify_hasher(user.password).algorithm == "argon2"
        assert authenticate(None, username="DEWI@example.id", password=PASSWORD) == user
        assert authenticate(None, username="dewi@example.id", password="wrong-password-123") is None
