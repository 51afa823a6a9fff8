from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from lapor.accounts.models import User
from lapor.accounts.selectors import user_find_by_nik
from lapor.core import crypto
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
NIKS = [f"32010123456789{number:02d}" for number in range(5)]


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def _users_under_old_key() -> list[User]:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        users = [UserFactory.create(nik=nik) for nik in NIKS]
        UserFactory.create()  # no NIK: left alone
    return users


def test_rotation_re_encrypts_every_nik_under_the_newest_key() -> None:
    users = _users_under_old_key()
    before = {user.pk: user.nik_ciphertext for user in users}
    out = StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_encryption", "--batch-size", "2", stdout=out)
    assert "5" in out.getvalue()
    # The old key can now be dropped.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        for user, nik in zip(users, NIKS, strict=True):
            user.refresh_from_db()
            assert user.nik_ciphertext != before[user.pk]
            assert user.reveal_nik() == nik
            assert user_find_by_nik(nik) == user
    assert User.objects.filter(nik_ciphertext="").count() == 1


def test_without_rotation_the_old_key_cannot_be_dropped() -> None:
    (user, *_others) = _users_under_old_key()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(ValueError, match="cannot be decrypted"):
        User.objects.get(pk=user.pk).reveal_nik()


def test_rotation_recomputes_the_blind_index_after_a_secret_key_change() -> None:
    users = _users_under_old_key()
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY], SECRET_KEY="a-new-secret-key-of-sufficient-length-0123456"):
        assert user_find_by_nik(NIKS[0]) is None
        call_command("rotate_encryption", stdout=StringIO())
        assert user_find_by_nik(NIKS[0]) == users[0]


def test_rotation_fails_loudly_when_a_value_cannot_be_decrypted() -> None:
    (user, *_others) = _users_under_old_key()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(CommandError, match=f"#{user.pk}"):
        call_command("rotate_encryption", stdout=StringIO())


def test_rotation_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(CommandError):
        call_command("rotate_encryption", "--batch-size", "0", stdout=StringIO())
