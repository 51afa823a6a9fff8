from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InstitutionKind(models.TextChoices):
    """What an institution (instansi) or unit is; values are stable identifiers in Indonesian terms."""

    MINISTRY = "kementerian", _("Ministry (kementerian)")
    AGENCY = "lembaga", _("Government agency (lembaga)")
    PROVINCIAL_GOVERNMENT = "pemerintah_provinsi", _("Provincial government")
    REGENCY_GOVERNMENT = "pemerintah_kabupaten", _("Regency government (kabupaten)")
    CITY_GOVERNMENT = "pemerintah_kota", _("City government (kota)")
    STATE_ENTERPRISE = "bumn", _("State-owned enterprise (BUMN)")
    UNIVERSITY = "perguruan_tinggi", _("University (perguruan tinggi)")
    MISSION_ABROAD = "perwakilan_luar_negeri", _("Indonesian mission abroad")
    REGIONAL_UNIT = "opd", _("Regional government unit (OPD: dinas, badan)")
    WORK_UNIT = "unit_kerja", _("Work unit (directorate, bureau, regional office)")
    DISTRICT = "kecamatan", _("District office (kecamatan)")
    VILLAGE = "kelurahan_desa", _("Village office (kelurahan or desa)")
    OVERSIGHT = "pengawas", _("Oversight body (pengawas)")
    NATIONAL_ADMINISTRATOR = "admin_nasional", _("National administrator")


class Sector(models.TextChoices):
    """The field of government an institution works in, as OPDs and ministries are organised."""

    GENERAL = "umum", _("General government")
    TRANSPORTATION = "perhubungan", _("Transportation (perhubungan)")
    ENVIRONMENT = "lingkungan_hidup", _("Environment (lingkungan hidup)")
    CIVIL_REGISTRATION = "kependudukan_pencatatan_sipil", _("Population and civil registration")
    PUBLIC_WORKS = "pekerjaan_umum_penataan_ruang", _("Public works and spatial planning")
    HOUSING = "perumahan_permukiman", _("Housing and settlements")
    HEALTH = "kesehatan", _("Health")
    EDUCATION = "pendidikan", _("Education")
    SOCIAL = "sosial", _("Social affairs")
    ENERGY = "energi_ketenagalistrikan", _("Energy and electricity")
    COMMUNICATION = "komunikasi_informatika", _("Communication and informatics")
    MANPOWER = "ketenagakerjaan", _("Manpower")
    LICENSING = "perizinan_penanaman_modal", _("Investment and licensing")
    PUBLIC_ORDER = "ketertiban_umum", _("Public order (Satpol PP)")
    LAND = "pertanahan", _("Land affairs")
    AGRICULTURE = "pertanian_pangan", _("Agriculture and food")
    TRADE = "perdagangan_perindustrian", _("Trade and industry")
    REVENUE = "pendapatan_daerah", _("Regional revenue and taxes")
    RELIGION = "agama", _("Religious affairs")


class InstitutionTimeZone(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (Asia/Jakarta)")
    WITA = "Asia/Makassar", _("WITA (Asia/Makassar)")
    WIT = "Asia/Jayapura", _("WIT (Asia/Jayapura)")


class DeadlineClock(models.TextChoices):
    """The clocks that run on a report; each may be overridden per institution subtree."""

    VERIFY_DISPATCH = "verify_dispatch", _("Verify and dispatch")
    FIRST_FOLLOW_UP = "first_follow_up", _("First follow-up")
    RESOLUTION_LIGHT = "resolution_light", _("Resolution: light complaint")
    RESOLUTION_NORMATIVE = "resolution_normative", _("Resolution: normative complaint")
    RESOLUTION_NO_INVESTIGATION = "resolution_no_investigation", _("Resolution: no investigation needed")
    RESOLUTION_INVESTIGATION = "resolution_investigation", _("Resolution: needs investigation")
    REPORTER_REPLY = "reporter_reply", _("Reporter's reply to the final follow-up")
    OVERALL = "overall", _("Overall completion")


class DeadlineUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    HOURS = "hours", _("hours")


class AdministrativeAction(models.TextChoices):
    """The administrative changes recorded in an institution's trail (`AdministrativeEvent`)."""

    UNIT_CREATE = "unit_create", _("Unit created")
    UNIT_UPDATE = "unit_update", _("Unit changed")
    UNIT_DEACTIVATE = "unit_deactivate", _("Unit deactivated")
    UNIT_REACTIVATE = "unit_reactivate", _("Unit reactivated")
    UNIT_MOVE = "unit_move", _("Unit moved")
    COVERAGE_SET = "coverage_set", _("Area covered set")
    CATEGORIES_SET = "categories_set", _("Categories handled set")
    DEADLINE_SET = "deadline_set", _("Deadline set")
    DEADLINE_REMOVE = "deadline_remove", _("Deadline removed")
    TEMPLATE_CREATE = "template_create", _("Follow-up template created")
    TEMPLATE_UPDATE = "template_update", _("Follow-up template changed")
    TEMPLATE_DELETE = "template_delete", _("Follow-up template deleted")
    MEMBERSHIP_INVITE = "membership_invite", _("Invitation sent")
    MEMBERSHIP_GRANT = "membership_grant", _("Role granted")
    MEMBERSHIP_REVOKE = "membership_revoke", _("Membership ended")
    MEMBERSHIP_ROLE_CHANGE = "membership_role_change", _("Role changed")
    MEMBERSHIP_UNLOCK = "membership_unlock", _("Sign-in lock lifted")
