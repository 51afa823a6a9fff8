from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from lapor.core.identifiers import looks_like_phone, mask_nik, normalize_email, normalize_nik, normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "(0812) 3456.7890",
        "+6281234567890",
        "+62 812-3456-7890",
        "6281234567890",
        " 62812 3456 7890 ",
    ],
)
def test_phone_numbers_in_common_formats_become_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+6281234567890"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0812",  # too short
        "08123456789012345",  # too long
        "+1 415 555 0100",  # not Indonesian
        "0812-3456-789O",  # a letter O
        "620812345678",  # trunk zero after the country code
        "ani@example.id",
    ],
)
def test_malformed_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw)
    assert caught.value.code == "invalid_phone"


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ani.Lestari@Example.ID ") == "ani.lestari@example.id"


@pytest.mark.parametrize("raw", ["", "ani", "ani@", "@example.id", "ani lestari@example.id"])
def test_malformed_email_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        normalize_email(raw)


def test_nik_spaces_are_removed() -> None:
    assert normalize_nik(" 3201 0123 4567 8901 ") == "3201012345678901"


@pytest.mark.parametrize("raw", ["", "320101234567890", "32010123456789012", "320101234567890X", "3201-0123-4567-8901"])
def test_malformed_nik_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_nik(raw)
    assert caught.value.code == "invalid_nik"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0812-3456-7890", True), ("+62 812 3456 7890", True), ("ani@example.id", False), ("", False), ("ani", False)],
)
def test_looks_like_phone(raw: str, expected: bool) -> None:
    assert looks_like_phone(raw) is expected


def test_mask_shows_only_the_last_digits() -> None:
    assert mask_nik("8901") == "••••••••••••8901"
    assert mask_nik("") == ""
