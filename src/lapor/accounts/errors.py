"""Typed errors of the accounts services: faces turn the code into a field error or an HTTP status."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class AccountErrorCode(StrEnum):
    FULL_NAME_REQUIRED = "full_name_required"
    EMAIL_OR_PHONE_REQUIRED = "email_or_phone_required"
    EMAIL_INVALID = "email_invalid"
    PHONE_INVALID = "phone_invalid"
    NIK_INVALID = "nik_invalid"
    PASSWORD_INVALID = "password_invalid"  # noqa: S105 (an error code, not a password)
    EMAIL_TAKEN = "email_taken"
    PHONE_TAKEN = "phone_taken"
    NIK_TAKEN = "nik_taken"
    USER_INACTIVE = "user_inactive"
    CODE_WRONG = "code_wrong"
    CODE_EXPIRED = "code_expired"
    CODE_TOO_MANY_ATTEMPTS = "code_too_many_attempts"
    CONTACT_NOT_OWN = "contact_not_own"
    CHANNEL_UNAVAILABLE = "channel_unavailable"
    LANGUAGE_INVALID = "language_invalid"
    MEMBERSHIP_INACTIVE = "membership_inactive"
    INVITATION_NOT_FOUND = "invitation_not_found"
    MEMBERSHIP_NOT_FOUND = "membership_not_found"
    OWN_MEMBERSHIP = "own_membership"
    ROLE_NOT_GRANTABLE = "role_not_grantable"


DEFAULT_MESSAGES: dict[AccountErrorCode, StrOrPromise] = {
    AccountErrorCode.FULL_NAME_REQUIRED: _("Enter the full name."),
    AccountErrorCode.EMAIL_OR_PHONE_REQUIRED: _("Enter an e-mail address or a phone number."),
    AccountErrorCode.EMAIL_INVALID: _("Enter a valid e-mail address."),
    AccountErrorCode.PHONE_INVALID: _("Enter an Indonesian phone number, e.g. 0812 3456 7890."),
    AccountErrorCode.NIK_INVALID: _("A NIK has exactly 16 digits."),
    AccountErrorCode.PASSWORD_INVALID: _("The password is not strong enough."),
    AccountErrorCode.EMAIL_TAKEN: _("An account with this e-mail address already exists."),
    AccountErrorCode.PHONE_TAKEN: _("An account with this phone number already exists."),
    AccountErrorCode.NIK_TAKEN: _("An account with this NIK already exists."),
    AccountErrorCode.USER_INACTIVE: _("This account is deactivated."),
    AccountErrorCode.CODE_WRONG: _(
        "This code is not right. Check the latest message we sent you, or ask for a new code."
    ),
    AccountErrorCode.CODE_EXPIRED: _("This code has expired. Ask for a new one."),
    AccountErrorCode.CODE_TOO_MANY_ATTEMPTS: _("Too many wrong tries: this code no longer works. Ask for a new one."),
    AccountErrorCode.CONTACT_NOT_OWN: _("Choose an e-mail address or phone number of your own account."),
    AccountErrorCode.CHANNEL_UNAVAILABLE: _("Add the e-mail address or phone number for this channel first."),
    AccountErrorCode.LANGUAGE_INVALID: _("Choose one of the languages offered."),
    AccountErrorCode.MEMBERSHIP_INACTIVE: _("This membership has ended; grant it again instead."),
    AccountErrorCode.INVITATION_NOT_FOUND: _("This invitation is no longer open."),
    AccountErrorCode.MEMBERSHIP_NOT_FOUND: _("No such membership."),
    AccountErrorCode.OWN_MEMBERSHIP: _("You cannot change your own membership; ask another coordinator."),
    AccountErrorCode.ROLE_NOT_GRANTABLE: _("You cannot give this role here."),
}

# The input each error is about, so that a form or an API can attach the message to it.
ERROR_FIELDS: dict[AccountErrorCode, str] = {
    AccountErrorCode.FULL_NAME_REQUIRED: "full_name",
    AccountErrorCode.EMAIL_INVALID: "email",
    AccountErrorCode.EMAIL_TAKEN: "email",
    AccountErrorCode.PHONE_INVALID: "phone",
    AccountErrorCode.PHONE_TAKEN: "phone",
    AccountErrorCode.NIK_INVALID: "nik",
    AccountErrorCode.NIK_TAKEN: "nik",
    AccountErrorCode.PASSWORD_INVALID: "password",
    AccountErrorCode.CODE_WRONG: "code",
    AccountErrorCode.CODE_EXPIRED: "code",
    AccountErrorCode.CODE_TOO_MANY_ATTEMPTS: "code",
    AccountErrorCode.CONTACT_NOT_OWN: "contact",
    AccountErrorCode.CHANNEL_UNAVAILABLE: "preferred_channel",
    AccountErrorCode.LANGUAGE_INVALID: "preferred_language",
}


class AccountError(Exception):
    """A request the accounts services refuse; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: AccountErrorCode, message: StrOrPromise | None = None) -> None:
        self.code = code
        self.message: StrOrPromise = message if message is not None else DEFAULT_MESSAGES[code]
        super().__init__(str(code))

    @property
    def field(self) -> str | None:
        return ERROR_FIELDS.get(self.code)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
