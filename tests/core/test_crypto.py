from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from lapor.core import crypto
from lapor.core.crypto import (
    blind_index,
    decrypt_text,
    derive_fernet_key,
    encrypt_text,
    validate_fernet_key,
)

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    """The MultiFernet is cached per key list; start and end each test without it."""
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def test_roundtrip() -> None:
    token = encrypt_text("3201012345678901")
    assert "3201012345678901" not in token
    assert decrypt_text(token) == "3201012345678901"


def test_each_encryption_differs() -> None:
    assert encrypt_text("sama") != encrypt_text("sama")


def test_wrong_key_raises_value_error() -> None:
    token = encrypt_text("rahasia")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS"):
        decrypt_text(token)


def test_garbage_token_raises_value_error() -> None:
    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt_text("not-a-fernet-token")


def test_value_under_an_old_key_decrypts_after_a_new_key_is_put_first() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        old_token = encrypt_text("3201012345678901")
    crypto._fernet.cache_clear()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert decrypt_text(old_token) == "3201012345678901"
        new_token = encrypt_text("3201012345678901")
    crypto._fernet.cache_clear()
    # New values are written under the first key only: the old key is not needed for them.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert decrypt_text(new_token) == "3201012345678901"
        with pytest.raises(ValueError, match="cannot be decrypted"):
            decrypt_text(old_token)


def test_blind_index_is_stable() -> None:
    assert blind_index("3201012345678901", purpose="nik") == blind_index("3201012345678901", purpose="nik")
    assert len(blind_index("3201012345678901", purpose="nik")) == 64


def test_blind_index_separates_values_and_purposes() -> None:
    nik = blind_index("3201012345678901", purpose="nik")
    assert blind_index("3201012345678902", purpose="nik") != nik
    assert blind_index("3201012345678901", purpose="phone") != nik
    assert "3201012345678901" not in nik


def test_blind_index_depends_on_the_secret_key() -> None:
    before = blind_index("3201012345678901", purpose="nik")
    with override_settings(SECRET_KEY="another-secret-key-of-sufficient-length-for-tests"):
        assert blind_index("3201012345678901", purpose="nik") != before


def test_generated_keys_are_valid() -> None:
    assert validate_fernet_key(Fernet.generate_key().decode())


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short",
        base64.urlsafe_b64encode(b"x" * 31).decode(),  # 31 bytes
        base64.urlsafe_b64encode(b"x" * 33).decode(),  # 33 bytes
        "!" * 44,  # not base64
    ],
)
def test_malformed_keys_are_refused(key: str) -> None:
    assert not validate_fernet_key(key)


def test_derived_key_is_a_valid_and_stable_fernet_key() -> None:
    key = derive_fernet_key("some-secret")
    assert validate_fernet_key(key)
    assert key == derive_fernet_key("some-secret")
    assert key != derive_fernet_key("another-secret")
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"ok")) == b"ok"
