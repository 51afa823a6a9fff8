"""Demo data: the institutions of one province worked out in detail, the national tier around them,
and one account per role, so that every screen has something real to show.

Idempotent: institutions are found by their code and accounts by their e-mail address, so a second
load creates nothing and a partly loaded set is completed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership, User
from lapor.accounts.services import membership_grant, user_create
from lapor.institutions.choices import DeadlineClock, DeadlineUnit, InstitutionKind, Sector
from lapor.institutions.models import Category, Institution
from lapor.institutions.services import categories_load, deadline_override_set, institution_create
from lapor.regions.models import Region

# Shown by `lapor demo load` and `make run`; refused outside DEBUG unless explicitly allowed.
DEMO_PASSWORD = "lapor-demo-2026"  # noqa: S105


class DemoError(Exception):
    """The demo data cannot be loaded as things stand (e.g. regions are missing)."""


@dataclasses.dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    sector: str = Sector.GENERAL
    short_name: str = ""
    regions: Sequence[str] = ()
    categories: Sequence[str] = ()
    covers_nationally: bool = False
    handles_all_categories: bool = False
    children: Sequence[Unit] = ()


@dataclasses.dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str | None
    institution_code: str | None
    phone: str | None = None
    superuser: bool = False


@dataclasses.dataclass
class DemoLoadResult:
    institutions_created: int = 0
    accounts_created: int = 0
    memberships_granted: int = 0
    categories_created: int = 0
    reports_created: int = 0


def _regional_units(prefix: str, region: str, regional_name: str) -> list[Unit]:
    """The OPDs every regency or city government has in the demo."""
    opds = [
        ("diskominfo", "Dinas Komunikasi dan Informatika", "Diskominfo", Sector.COMMUNICATION, ["informasi-publik"]),
        ("dishub", "Dinas Perhubungan", "Dishub", Sector.TRANSPORTATION, ["perhubungan", "penerangan-jalan-umum"]),
        ("dlh", "Dinas Lingkungan Hidup", "DLH", Sector.ENVIRONMENT, ["lingkungan-hidup"]),
        (
            "disdukcapil",
            "Dinas Kependudukan dan Pencatatan Sipil",
            "Disdukcapil",
            Sector.CIVIL_REGISTRATION,
            ["kependudukan"],
        ),
        (
            "dpupr",
            "Dinas Pekerjaan Umum dan Penataan Ruang",
            "DPUPR",
            Sector.PUBLIC_WORKS,
            ["jalan-rusak", "drainase-banjir", "jembatan", "persetujuan-bangunan-gedung"],
        ),
        ("dinkes", "Dinas Kesehatan", "Dinkes", Sector.HEALTH, ["kesehatan"]),
        ("disdik", "Dinas Pendidikan", "Disdik", Sector.EDUCATION, ["pendidikan"]),
    ]
    return [
        Unit(
            code=f"{prefix}-{code}",
            name=f"{name} {regional_name}",
            short_name=short,
            kind=InstitutionKind.REGIONAL_UNIT,
            sector=sector,
            regions=[region],
            categories=categories,
        )
        for code, name, short, sector, categories in opds
    ]


def _district(code: str, name: str, region: str, villages: Sequence[tuple[str, str, str]]) -> Unit:
    return Unit(
        code=code,
        name=f"Kecamatan {name}",
        kind=InstitutionKind.DISTRICT,
        regions=[region],
        categories=["ketertiban-umum", "kependudukan"],
        children=[
            Unit(
                code=village_code,
                name=village_name,
                kind=InstitutionKind.VILLAGE,
                regions=[village_region],
                categories=["ketertiban-umum", "bantuan-sosial"],
            )
            for village_code, village_name, village_region in villages
        ],
    )


DEMO_TREE = Unit(
    code="nasional",
    name="SP4N-LAPOR! Nasional",
    kind=InstitutionKind.NATIONAL_ADMINISTRATOR,
    covers_nationally=True,
    children=[
        Unit(
            code="kemenpanrb",
            name="Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi",
            short_name="KemenPANRB",
            kind=InstitutionKind.MINISTRY,
            covers_nationally=True,
            categories=["kinerja-aparatur"],
        ),
        Unit(
            code="ombudsman",
            name="Ombudsman Republik Indonesia",
            short_name="Ombudsman RI",
            kind=InstitutionKind.OVERSIGHT,
            covers_nationally=True,
        ),
        Unit(
            code="ksp",
            name="Kantor Staf Presiden",
            short_name="KSP",
            kind=InstitutionKind.OVERSIGHT,
            covers_nationally=True,
        ),
        Unit(
            code="kemendagri",
            name="Kementerian Dalam Negeri",
            short_name="Kemendagri",
            kind=InstitutionKind.OVERSIGHT,
            covers_nationally=True,
        ),
        Unit(
            code="kemensos",
            name="Kementerian Sosial",
            short_name="Kemensos",
            kind=InstitutionKind.MINISTRY,
            sector=Sector.SOCIAL,
            covers_nationally=True,
            categories=["sosial"],
        ),
        Unit(
            code="pln",
            name="PT PLN (Persero)",
            short_name="PLN",
            kind=InstitutionKind.STATE_ENTERPRISE,
            sector=Sector.ENERGY,
            covers_nationally=True,
            categories=["ketenagalistrikan"],
        ),
        Unit(
            code="prov-banten",
            name="Pemerintah Provinsi Banten",
            short_name="Pemprov Banten",
            kind=InstitutionKind.PROVINCIAL_GOVERNMENT,
            regions=["36"],
            handles_all_categories=True,
            children=[
                Unit(
                    code="kab-tangerang",
                    name="Pemerintah Kabupaten Tangerang",
                    short_name="Pemkab Tangerang",
                    kind=InstitutionKind.REGENCY_GOVERNMENT,
                    regions=["36.03"],
                    handles_all_categories=True,
                    children=[
                        *_regional_units("kab-tangerang", "36.03", "Kabupaten Tangerang"),
                        _district(
                            "kab-tangerang-balaraja",
                            "Balaraja",
                            "36.03.01",
                            [
                                ("kab-tangerang-kel-balaraja", "Kelurahan Balaraja", "36.03.01.1001"),
                                ("kab-tangerang-desa-cangkudu", "Desa Cangkudu", "36.03.01.2003"),
                            ],
                        ),
                        _district("kab-tangerang-tigaraksa", "Tigaraksa", "36.03.03", []),
                    ],
                ),
                Unit(
                    code="kota-tangsel",
                    name="Pemerintah Kota Tangerang Selatan",
                    short_name="Pemkot Tangsel",
                    kind=InstitutionKind.CITY_GOVERNMENT,
                    regions=["36.74"],
                    handles_all_categories=True,
                    children=[
                        *_regional_units("kota-tangsel", "36.74", "Kota Tangerang Selatan"),
                        _district(
                            "kota-tangsel-serpong",
                            "Serpong",
                            "36.74.01",
                            [
                                ("kota-tangsel-kel-ciater", "Kelurahan Ciater", "36.74.01.1001"),
                                ("kota-tangsel-kel-rawabuntu", "Kelurahan Rawabuntu", "36.74.01.1002"),
                            ],
                        ),
                        _district("kota-tangsel-pondok-aren", "Pondok Aren", "36.74.03", []),
                        _district("kota-tangsel-pamulang", "Pamulang", "36.74.06", []),
                    ],
                ),
            ],
        ),
    ],
)

DEMO_ACCOUNTS = [
    DemoAccount("superadmin@demo.lapor.id", "Super Admin Demo", None, None, superuser=True),
    DemoAccount("nasional@demo.lapor.id", "Admin Nasional KemenPANRB", Role.NATIONAL_ADMIN, "kemenpanrb"),
    # Ombudsman RI and KSP are bodies of their own beside the institutions they oversee, not members of
    # the national institution: oversight reads, it never handles the national queue (ADR 0008).
    DemoAccount("ombudsman@demo.lapor.id", "Pengawas Ombudsman RI", Role.OVERSIGHT, "ombudsman"),
    DemoAccount("ksp@demo.lapor.id", "Pengawas KSP", Role.OVERSIGHT, "ksp"),
    DemoAccount("kemendagri@demo.lapor.id", "Pengawas Kemendagri", Role.OVERSIGHT, "prov-banten"),
    DemoAccount(
        "koordinator.kabtangerang@demo.lapor.id",
        "Admin Diskominfo Kabupaten Tangerang",
        Role.COORDINATOR,
        "kab-tangerang",
    ),
    DemoAccount(
        "koordinator.tangsel@demo.lapor.id", "Admin Diskominfo Kota Tangerang Selatan", Role.COORDINATOR, "kota-tangsel"
    ),
    DemoAccount(
        "dishub.kabtangerang@demo.lapor.id",
        "Penghubung Dishub Kabupaten Tangerang",
        Role.LIAISON_OFFICER,
        "kab-tangerang-dishub",
    ),
    DemoAccount(
        "dishub.tangsel@demo.lapor.id",
        "Penghubung Dishub Kota Tangerang Selatan",
        Role.LIAISON_OFFICER,
        "kota-tangsel-dishub",
    ),
    DemoAccount("serpong@demo.lapor.id", "Penghubung Kecamatan Serpong", Role.LIAISON_OFFICER, "kota-tangsel-serpong"),
    DemoAccount("pln@demo.lapor.id", "Penghubung PLN", Role.LIAISON_OFFICER, "pln"),
    DemoAccount("kemensos@demo.lapor.id", "Koordinator Kemensos", Role.COORDINATOR, "kemensos"),
    DemoAccount("warga@demo.lapor.id", "Siti Warga", None, None, phone="+6281200000001"),
]

REQUIRED_REGIONS = ("36", "36.03", "36.74", "36.74.01.1001", "36.03.01.2003")


def _create_tree(
    unit: Unit, parent: Institution | None, existing: dict[str, Institution], result: DemoLoadResult
) -> None:
    institution = existing.get(unit.code)
    if institution is None:
        institution = institution_create(
            name=unit.name,
            kind=unit.kind,
            parent=parent,
            sector=unit.sector,
            short_name=unit.short_name,
            code=unit.code,
            covers_nationally=unit.covers_nationally,
            handles_all_categories=unit.handles_all_categories,
            region_codes=unit.regions,
            category_codes=unit.categories,
        )
        existing[unit.code] = institution
        result.institutions_created += 1
    for child in unit.children:
        _create_tree(child, institution, existing, result)


@transaction.atomic
def demo_load(*, allow_production: bool = False, reports: int | None = None) -> DemoLoadResult:
    """Load the demo institutions, accounts and (unless ``reports`` is 0) about 200 demo reports."""
    from lapor.demo.reports import DEMO_REPORT_COUNT, seed_demo_reports  # it needs this module's accounts

    if not settings.DEBUG and not allow_production:
        raise DemoError(_("Demo accounts have a published password: load them only with DEBUG on."))
    if Region.objects.filter(code__in=REQUIRED_REGIONS).count() != len(REQUIRED_REGIONS):
        raise DemoError(_("Load the regions first: lapor regions load"))
    result = DemoLoadResult()
    categories_before = Category.objects.count()
    categories_load()
    result.categories_created = Category.objects.count() - categories_before

    existing = {institution.code: institution for institution in Institution.objects.all()}
    _create_tree(DEMO_TREE, None, existing, result)
    kabupaten = existing["kab-tangerang"]
    # Kabupaten Tangerang promises a first answer within 2×24 hours (its own regulation).
    deadline_override_set(
        institution=kabupaten,
        clock=DeadlineClock.FIRST_FOLLOW_UP,
        amount=48,
        unit=DeadlineUnit.HOURS,
        basis="Janji layanan Pemkab Tangerang: tanggapan pertama 2×24 jam",
    )

    users_wanted = [account.email for account in DEMO_ACCOUNTS]
    memberships_before = Membership.objects.filter(user__email__in=users_wanted).count()
    users = {user.email: user for user in User.objects.filter(email__in=[a.email for a in DEMO_ACCOUNTS])}
    for account in DEMO_ACCOUNTS:
        user = users.get(account.email)
        if user is None:
            user = user_create(
                full_name=account.full_name, email=account.email, phone=account.phone, password=DEMO_PASSWORD
            )
            if account.superuser:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            result.accounts_created += 1
        if account.role and account.institution_code:
            membership_grant(user=user, institution=existing[account.institution_code], role=Role(account.role))
    result.memberships_granted = Membership.objects.filter(user__email__in=users_wanted).count() - memberships_before
    result.reports_created = seed_demo_reports(count=DEMO_REPORT_COUNT if reports is None else reports)
    return result


def demo_logins() -> list[tuple[str, str, str]]:
    """(login, password, what the account is) for every demo account, as printed by `make run`."""
    institutions = {
        institution.code: institution.name
        for institution in Institution.objects.filter(code__in={a.institution_code for a in DEMO_ACCOUNTS})
    }
    rows = []
    for account in DEMO_ACCOUNTS:
        if account.superuser:
            what = _("superuser (Django admin)")
        elif account.role:
            what = f"{Role(account.role).label} · {institutions.get(account.institution_code or '', '?')}"
        else:
            what = _("reporter (citizen)")
        rows.append((account.email, DEMO_PASSWORD, str(what)))
    return rows
