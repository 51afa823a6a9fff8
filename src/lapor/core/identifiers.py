"""Normalisation and validation of the identifiers people log in with or give: e-mail, phone, NIK."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

_PHONE_NOISE = re.compile(r"[\s\-().]")
_NIK = re.compile(r"^\d{16}$")
MINIMUM_SUBSCRIBER_DIGITS = 8
MAXIMUM_SUBSCRIBER_DIGITS = 13


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    validate_email(email)
    return email


def normalize_phone(value: str) -> str:
    """Indonesian numbers in E.164: '0812-3456-7890', '62812…' and '+62812…' all become '+62812…'."""
    digits = _PHONE_NOISE.sub("", value.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.isdigit() or not digits.startswith("62"):
        raise ValidationError(_("Enter an Indonesian phone number, e.g. 0812 3456 7890."), code="invalid_phone")
    subscriber = digits[2:]
    if subscriber.startswith("0") or not MINIMUM_SUBSCRIBER_DIGITS <= len(subscriber) <= MAXIMUM_SUBSCRIBER_DIGITS:
        raise ValidationError(_("Enter an Indonesian phone number, e.g. 0812 3456 7890."), code="invalid_phone")
    return "+" + digits


def looks_like_phone(value: str) -> bool:
    stripped = _PHONE_NOISE.sub("", value.strip())
    return bool(stripped) and "@" not in stripped and stripped.lstrip("+").isdigit()


def normalize_nik(value: str) -> str:
    nik = re.sub(r"\s", "", value)
    if not _NIK.match(nik):
        raise ValidationError(_("A NIK has exactly 16 digits."), code="invalid_nik")
    return nik


def mask_nik(last_digits: str) -> str:
    return "•" * 12 + last_digits if last_digits else ""


EMAIL_VISIBLE_CHARACTERS = 1
PHONE_VISIBLE_PREFIX = 6  # "+62812": the country and the operator
PHONE_VISIBLE_SUFFIX = 3


def mask_contact(contact: str | None) -> str:
    """An e-mail address or a (normalised) phone number shown only in part, enough for a colleague to
    recognise it: "r•••@example.id", "+62812•••••890"; "" for none."""
    if not contact:
        return ""
    if "@" in contact:
        local, _at, domain = contact.rpartition("@")
        return local[:EMAIL_VISIBLE_CHARACTERS] + "•••" + "@" + domain
    hidden = len(contact) - PHONE_VISIBLE_PREFIX - PHONE_VISIBLE_SUFFIX
    if hidden < 1:
        return "•" * len(contact)
    return contact[:PHONE_VISIBLE_PREFIX] + "•" * hidden + contact[-PHONE_VISIBLE_SUFFIX:]
