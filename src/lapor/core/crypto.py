"""Encryption of personal data at rest (Fernet, with key rotation through MultiFernet)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def derive_fernet_key(secret: str) -> str:
    """A Fernet key derived from a secret; used only for DEBUG instances without their own keys."""
    digest = hashlib.sha256(b"lapor-field-encryption:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def validate_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32  # noqa: PLR2004
    except (binascii.Error, ValueError):
        return False


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys() -> tuple[str, ...]:
    from django.conf import settings

    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def encrypt_text(plaintext: str) -> str:
    return _fernet(_keys()).encrypt(plaintext.encode()).decode()


def decrypt_text(token: str, *, ttl: int | None = None) -> str:
    """The plaintext of ``token``; with ``ttl``, only when it was encrypted at most ``ttl`` seconds ago."""
    try:
        return _fernet(_keys()).decrypt(token.encode(), ttl=ttl).decode()
    except InvalidToken as error:
        raise ValueError("The value cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS.") from error


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash that lets equal values be found without storing them in clear."""
    from django.conf import settings

    key = hashlib.sha256(f"lapor-blind-index:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


# What `lapor rotate_encryption` runs: every app that stores encrypted columns registers, in its
# AppConfig.ready(), a function re-encrypting them under the newest key (given a batch size, returning
# how many values it re-encrypted) and the sentence that reports it, so that no column is forgotten.
_ROTATIONS: dict[str, tuple[Any, Callable[[int], int]]] = {}


def register_rotation(name: str, *, message: Any, rotate: Callable[[int], int]) -> None:
    """``message``: a translatable sentence with a ``%(count)d`` placeholder."""
    _ROTATIONS[name] = (message, rotate)


def registered_rotations() -> list[tuple[Any, Callable[[int], int]]]:
    return [_ROTATIONS[name] for name in sorted(_ROTATIONS)]
