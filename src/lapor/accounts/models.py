from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lapor.accounts.choices import OneTimeCodePurpose, PreferredChannel, Role
from lapor.accounts.errors import DEFAULT_MESSAGES, AccountErrorCode
from lapor.core.crypto import blind_index, decrypt_text, encrypt_text
from lapor.core.identifiers import looks_like_phone, mask_nik, normalize_email, normalize_nik, normalize_phone

NIK_VISIBLE_DIGITS = 4
# Separates the NIK's blind index from any other keyed hash made with the same SECRET_KEY.
NIK_INDEX_PURPOSE = "nik"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        email: str | None = None,
        password: str | None = None,
        *,
        phone: str | None = None,
        full_name: str = "",
        **extra: Any,
    ) -> User:
        if not email and not phone:
            raise ValueError("A user needs an e-mail address or a phone number.")
        user = self.model(
            email=normalize_email(email) if email else None,
            phone=normalize_phone(phone) if phone else None,
            full_name=full_name,
            **extra,
        )
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """The account an e-mail address or phone number (in any common format) belongs to."""
        try:
            if username and looks_like_phone(username):
                return self.get(phone=normalize_phone(username))
            return self.get(email=normalize_email(username or ""))
        except ValidationError:
            raise self.model.DoesNotExist from None

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a reporter, or staff of an institution through their memberships.

    Logs in with an e-mail address or an Indonesian phone number. The NIK (national identity number)
    is optional, stored encrypted, findable through a keyed hash, and shown only by its last digits.
    """

    email = models.EmailField(
        _("e-mail address"),
        unique=True,
        null=True,
        blank=True,
        error_messages={"unique": DEFAULT_MESSAGES[AccountErrorCode.EMAIL_TAKEN]},
    )
    phone = models.CharField(
        _("phone number"),
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        error_messages={"unique": DEFAULT_MESSAGES[AccountErrorCode.PHONE_TAKEN]},
    )
    full_name = models.CharField(_("full name"), max_length=150)
    nik_ciphertext = models.TextField(_("NIK (encrypted)"), blank=True, default="", editable=False)
    nik_index = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    nik_last_digits = models.CharField(max_length=NIK_VISIBLE_DIGITS, blank=True, default="", editable=False)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=[("id", "Bahasa Indonesia"), ("en", "English")], default="id"
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=32,
        blank=True,
        default="",
        choices=[("Asia/Jakarta", "WIB"), ("Asia/Makassar", "WITA"), ("Asia/Jayapura", "WIT")],
    )
    # The contact last proven with a one-time code. A contact counts as verified only while it is
    # still the account's (see `email_is_verified`), so that changing it anywhere (the admin too)
    # can never carry the proof over to an address nobody proved.
    verified_email = models.EmailField(_("verified e-mail address"), blank=True, default="", editable=False)
    verified_phone = models.CharField(_("verified phone number"), max_length=20, blank=True, default="", editable=False)
    preferred_channel = models.CharField(
        _("notification channel"), max_length=8, choices=PreferredChannel.choices, blank=True, default=""
    )
    is_staff = models.BooleanField(
        _("admin site access"), default=False, help_text=_("Can sign in to the Django admin site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False),
                name="user_has_email_or_phone",
                violation_error_message=_("Enter an e-mail address or a phone number."),
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"#{self.pk}"

    def get_username(self) -> str:
        # USERNAME_FIELD is the e-mail address, but an account may have only a phone number.
        return self.email or self.phone or ""

    def clean(self) -> None:
        # Not AbstractBaseUser.clean(): it writes get_username() back into the e-mail field, which
        # would copy the phone number of a phone-only account there. Blank contacts are stored as
        # NULL, because two empty strings would collide in the unique indexes.
        self.email = self.email or None
        self.phone = self.phone or None

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else ""

    def set_nik(self, value: str | None) -> None:
        if not value:
            self.nik_ciphertext, self.nik_index, self.nik_last_digits = "", None, ""
            return
        nik = normalize_nik(value)
        self.nik_ciphertext = encrypt_text(nik)
        self.nik_index = blind_index(nik, purpose=NIK_INDEX_PURPOSE)
        self.nik_last_digits = nik[-NIK_VISIBLE_DIGITS:]

    def reveal_nik(self) -> str:
        """The whole NIK, for the few code paths that must send it on (never for display)."""
        return decrypt_text(self.nik_ciphertext) if self.nik_ciphertext else ""

    @property
    def nik_masked(self) -> str:
        return mask_nik(self.nik_last_digits)

    @property
    def email_is_verified(self) -> bool:
        return bool(self.email) and self.email == self.verified_email

    @property
    def phone_is_verified(self) -> bool:
        return bool(self.phone) and self.phone == self.verified_phone

    def verified_contacts(self) -> list[str]:
        """The account's e-mail address and phone number that were proven with a one-time code."""
        return [
            contact
            for contact, verified in ((self.email, self.email_is_verified), (self.phone, self.phone_is_verified))
            if contact and verified
        ]


class Membership(models.Model):
    """A role a user holds for an institution. Staff act only through memberships (see permissions.py).

    A revoked membership is kept, inactive, so that who could do what, and who granted it, stays known.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    institution = models.ForeignKey(
        "institutions.Institution",
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("institution"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    granted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("granted by")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("revoked by")
    )
    # An invitation not yet accepted: inactive (it gives no rights) until the person accepts it, and shown
    # to the inviter only as the address they typed (``invited_as``), never as the account behind it.
    is_pending = models.BooleanField(_("invitation pending"), default=False)
    invited_as = models.CharField(_("invited as"), max_length=254, blank=True, default="")

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "institution", "role"], name="membership_unique_user_institution_role"
            )
        ]
        # "Who are the coordinators of this institution?"; lookups by user use the unique index above.
        indexes = [models.Index(fields=["institution", "role"], name="membership_institution_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.institution}"


class OneTimeCode(models.Model):
    """A six-digit code sent to an e-mail address or phone number, to prove it is the reader's.

    Only a keyed hash of the code is stored. A code lives for ONE_TIME_CODE_LIFETIME and allows
    ONE_TIME_CODE_MAX_ATTEMPTS wrong tries; then it is dead. At most one unused code exists per address
    and purpose: a new one replaces it (see ``lapor.accounts.services.one_time_code_send``).
    """

    purpose = models.CharField(_("purpose"), max_length=16, choices=OneTimeCodePurpose.choices)
    # Normalised: a lower-case e-mail address or an E.164 phone number.
    address = models.CharField(_("address"), max_length=254)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        constraints = [
            models.UniqueConstraint(
                fields=["address", "purpose"], condition=Q(used_at__isnull=True), name="one_unused_code_per_purpose"
            )
        ]
        # The purge of old codes.
        indexes = [models.Index(fields=["expires_at"], name="one_time_code_expires")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.address}"


class LoginRecord(models.Model):
    """One attempt to sign in to the operator console: the password step or the second factor.

    Kept so that staff see their recent sign-ins (and notice one that was not theirs), and so that an
    account is locked after repeated failures (``lapor.accounts.signin``). An attempt with an identifier
    that is no staff account is recorded without a user, under the identifier's keyed hash, so that it
    locks the same way and a lockout reveals nothing. The address is kept only as its network (IPv4 /24,
    IPv6 /48) and the browser as its first characters (personal data, UU 27/2022).
    """

    class Stage(models.TextChoices):
        PASSWORD = "password", _("password")
        SECOND_FACTOR = "second_factor", _("second factor")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("success")
        FAILURE = "failure", _("failure")
        # Refused without checking anything, because the account was locked.
        LOCKED = "locked", _("refused: locked")
        # A coordinator (``acted_by``) lifted the lock: failures before it no longer count.
        UNLOCKED = "unlocked", _("lock lifted")

    class Method(models.TextChoices):
        NONE = "", _("none")
        TOTP = "totp", _("authenticator app")
        RECOVERY = "recovery", _("recovery code")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="login_records", verbose_name=_("user")
    )
    identifier_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    stage = models.CharField(_("step"), max_length=16, choices=Stage.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    method = models.CharField(_("second factor"), max_length=8, choices=Method.choices, blank=True, default="")
    network = models.CharField(_("network"), max_length=64, blank=True, default="")
    user_agent = models.CharField(_("browser"), max_length=200, blank=True, default="")
    # The session a successful second factor opened, so that the user can end their other sessions.
    session_key = models.CharField(max_length=40, blank=True, default="", editable=False)
    # The keyed hash of the client address as the rate limits count it (IPv4 address, IPv6 /64): wrong
    # passwords lock an account only for the source they come from, so that nobody elsewhere can lock
    # a staff member out.
    source_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Who lifted a lock (outcome "unlocked").
    acted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("lifted by")
    )

    class Meta:
        verbose_name = _("console sign-in")
        verbose_name_plural = _("console sign-ins")
        indexes = [
            models.Index(fields=["user", "occurred_at"], name="login_record_user_time"),
            models.Index(fields=["identifier_index", "occurred_at"], name="login_record_identifier_time"),
        ]

    def __str__(self) -> str:
        return f"{self.user or '?'} · {self.get_stage_display()} · {self.get_outcome_display()} · {self.occurred_at}"
