from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does for an institution. A reporter is any user and needs no role."""

    # Indonesian: Admin Nasional (KemenPANRB).
    NATIONAL_ADMIN = "national_admin", _("National admin")
    # Indonesian: Admin Instansi / Koordinator.
    COORDINATOR = "coordinator", _("Institution coordinator")
    # Indonesian: Admin / Pejabat Penghubung.
    LIAISON_OFFICER = "liaison_officer", _("Liaison officer")
    # Indonesian: Pengawas (Ombudsman RI, KSP, Kemendagri, KemenPANRB).
    OVERSIGHT = "oversight", _("Oversight")


class OneTimeCodePurpose(models.TextChoices):
    """What a one-time code proves: a code sent for one purpose never serves another."""

    REGISTER = "register", _("create your account")
    LOGIN = "login", _("sign in")
    PASSWORD_RESET = "password_reset", _("set a new password")
    CLAIM = "claim", _("add the reports you filed as a guest to your account")
    CONTACT_CHANGE = "contact_change", _("add this address to your account")


class PreferredChannel(models.TextChoices):
    """How a person with both an e-mail address and a phone number wants to hear from Lapor. The values
    are those of the notification channels; blank lets Lapor choose (e-mail, or SMS for SMS reports)."""

    AUTOMATIC = "", _("Let Lapor choose")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
