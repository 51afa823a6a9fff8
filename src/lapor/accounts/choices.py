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
