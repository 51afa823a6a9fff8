"""A small real world for report tests: a city with two offices, the national tier, and one person
in every capacity a report knows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from lapor.accounts.choices import Role
from lapor.accounts.models import User
from lapor.accounts.services import membership_grant, user_create
from lapor.core import reference
from lapor.institutions.choices import InstitutionKind, Sector
from lapor.institutions.models import Institution
from lapor.institutions.services import institution_create
from lapor.regions.choices import RegionKind, RegionLevel
from lapor.regions.models import Region
from lapor.reports.models import Report
from lapor.reports.services import Filed, report_submit

VILLAGE = "36.74.01.1001"


@dataclasses.dataclass
class World:
    national_root: Institution
    kemenpanrb: Institution
    ombudsman: Institution
    city: Institution
    transport: Institution
    environment: Institution
    regency: Institution
    social_ministry: Institution
    national_admin: User
    coordinator: User
    officer: User
    environment_officer: User
    outsider: User
    oversight: User
    copy_officer: User
    reporter: User
    member_of_public: User

    def submit(self, **overrides: object) -> Report:
        report, _secret = self.submit_with_link(**overrides)
        return report

    def submit_with_link(self, **overrides: object) -> tuple[Report, str]:
        """`submit`, also returning the secret of the reporter's private link."""
        filed = self.file(**overrides)
        return filed.report, filed.secret

    def file(self, **overrides: object) -> Filed:
        """What `report_submit` answers: the report, its submission event, its files and the secret."""
        fields: dict[str, object] = {
            "title": "Lampu jalan mati di Jalan Ciater Raya",
            "body": "Sudah dua minggu lampu jalan di depan pasar mati, jalan gelap dan rawan.",
            "incident_date": timezone.localdate() - timedelta(days=2),
            "reporter": self.reporter,
            "village_code": VILLAGE,
        }
        fields.update(overrides)
        return report_submit(**fields)  # type: ignore[arg-type]


def _regions() -> None:
    rows = [
        ("36", None, RegionLevel.PROVINCE, RegionKind.PROVINCE, "Banten"),
        ("36.74", "36", RegionLevel.REGENCY, RegionKind.CITY, "Kota Tangerang Selatan"),
        ("36.03", "36", RegionLevel.REGENCY, RegionKind.REGENCY, "Kabupaten Tangerang"),
        ("36.74.01", "36.74", RegionLevel.DISTRICT, RegionKind.DISTRICT, "Serpong"),
        (VILLAGE, "36.74.01", RegionLevel.VILLAGE, RegionKind.URBAN_VILLAGE, "Ciater"),
    ]
    for code, parent, level, kind, name in rows:
        Region.objects.create(code=code, parent_id=parent, level=level, kind=kind, name=name)


def _person(name: str, email: str) -> User:
    return user_create(full_name=name, email=email, password=None)


def build_world() -> World:
    _regions()
    root = institution_create(
        name="SP4N-LAPOR! Nasional",
        kind=InstitutionKind.NATIONAL_ADMINISTRATOR,
        code="nasional",
        covers_nationally=True,
    )
    kemenpanrb = institution_create(name="KemenPANRB", kind=InstitutionKind.MINISTRY, parent=root, code="kemenpanrb")
    ombudsman = institution_create(name="Ombudsman RI", kind=InstitutionKind.OVERSIGHT, parent=root, code="ombudsman")
    social = institution_create(
        name="Kementerian Sosial", kind=InstitutionKind.MINISTRY, parent=root, code="kemensos", sector=Sector.SOCIAL
    )
    city = institution_create(
        name="Pemerintah Kota Tangerang Selatan",
        kind=InstitutionKind.CITY_GOVERNMENT,
        parent=root,
        code="kota-tangsel",
        region_codes=["36.74"],
        handles_all_categories=True,
    )
    transport = institution_create(
        name="Dinas Perhubungan",
        kind=InstitutionKind.REGIONAL_UNIT,
        parent=city,
        code="kota-tangsel-dishub",
        sector=Sector.TRANSPORTATION,
        region_codes=["36.74"],
    )
    environment = institution_create(
        name="Dinas Lingkungan Hidup",
        kind=InstitutionKind.REGIONAL_UNIT,
        parent=city,
        code="kota-tangsel-dlh",
        sector=Sector.ENVIRONMENT,
        region_codes=["36.74"],
    )
    regency = institution_create(
        name="Pemerintah Kabupaten Tangerang",
        kind=InstitutionKind.REGENCY_GOVERNMENT,
        parent=root,
        code="kab-tangerang",
        region_codes=["36.03"],
    )
    people = {
        "national_admin": (_person("Nadia Nasional", "nasional@example.id"), kemenpanrb, Role.NATIONAL_ADMIN),
        "coordinator": (_person("Kori Koordinator", "koordinator@example.id"), city, Role.COORDINATOR),
        "officer": (_person("Pandu Penghubung", "dishub@example.id"), transport, Role.LIAISON_OFFICER),
        "environment_officer": (_person("Lia Lingkungan", "dlh@example.id"), environment, Role.LIAISON_OFFICER),
        "outsider": (_person("Oki Luar", "kabupaten@example.id"), regency, Role.COORDINATOR),
        "oversight": (_person("Ombi Pengawas", "ombudsman@example.id"), root, Role.OVERSIGHT),
        "copy_officer": (_person("Sosi Sosial", "kemensos@example.id"), social, Role.LIAISON_OFFICER),
    }
    for user, institution, role in people.values():
        membership_grant(user=user, institution=institution, role=role)
    return World(
        national_root=root,
        kemenpanrb=kemenpanrb,
        ombudsman=ombudsman,
        city=city,
        transport=transport,
        environment=environment,
        regency=regency,
        social_ministry=social,
        reporter=_person("Rina Pelapor", "rina@example.id"),
        member_of_public=_person("Umar Umum", "umar@example.id"),
        **{name: person for name, (person, _institution, _role) in people.items()},
    )


def _tables() -> Iterator[tuple[str, list[str], str]]:
    """Every table of the installed models: its name, its stored columns and its primary key column."""
    seen: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in seen:
            continue
        seen.add(meta.db_table)
        columns = [str(field.column) for field in meta.concrete_fields if not getattr(field, "generated", False)]
        yield meta.db_table, columns, str(meta.pk.column)


def _quoted(names: list[str]) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class WrittenRows:
    """The rows that one piece of set-up inserted, as the database holds them (raw values: the same
    hashes, ciphertexts and timestamps), to be written back as they were by a later test that needs the
    same set-up: a few inserts instead of the services' hundreds of queries. Only for set-up that
    inserts rows and changes none that were there before it ran."""

    tables: tuple[tuple[str, tuple[str, ...], tuple[tuple[Any, ...], ...]], ...]

    @classmethod
    def of(cls, build: Callable[[], T]) -> tuple[T, WrittenRows]:
        """What ``build()`` returns, and the rows it inserted (a diff of every table's keys)."""
        tables = list(_tables())
        with connection.cursor() as cursor:
            before: dict[str, set[Any]] = {}
            for table, _columns, pk in tables:
                cursor.execute(f"SELECT {_quoted([pk])} FROM {connection.ops.quote_name(table)}")
                before[table] = {key for (key,) in cursor.fetchall()}
            built = build()
            written = []
            for table, columns, pk in tables:
                position = columns.index(pk)
                cursor.execute(f"SELECT {_quoted(columns)} FROM {connection.ops.quote_name(table)}")
                rows = tuple(tuple(row) for row in cursor.fetchall() if row[position] not in before[table])
                if rows:
                    written.append((table, tuple(columns), rows))
        return built, cls(tables=tuple(written))

    def restore(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table, columns, rows in self.tables:
                placeholders = ", ".join(["%s"] * len(columns))
                into = f"{connection.ops.quote_name(table)} ({_quoted(list(columns))})"
                cursor.executemany(f"INSERT INTO {into} VALUES ({placeholders})", rows)
            if connection.vendor == "postgresql":
                # Rows written with their keys do not move the sequences, and the flush after a
                # transactional test may have reset them: set each past the keys just written.
                by_table = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
                statements = connection.ops.sequence_reset_sql(
                    no_style(), [by_table[table] for table, *_ in self.tables]
                )
                if statements:
                    cursor.execute("; ".join(statements))


# Per database vendor: the rows `build_world` first wrote in this process, and the key of each person and
# institution of the world by its field name.
_WORLD: dict[str, tuple[WrittenRows, dict[str, int]]] = {}


def cached_world() -> World:
    """The world of `build_world`, as fresh objects on the same rows. The first call in a process builds
    it through the services (and those services are what the world's own tests check); later calls write
    the same rows back: most of a report test's set-up time was spent building the world again."""
    remembered = _WORLD.get(connection.vendor)
    if remembered is None:
        built, rows = WrittenRows.of(build_world)
        _WORLD[connection.vendor] = (
            rows,
            {field.name: getattr(built, field.name).pk for field in dataclasses.fields(World)},
        )
        return built
    rows, keys = remembered
    rows.restore()
    # Written in SQL, the institutions send no save signal: tell the reference cache as those would have
    # (no caching in this thread until the test's transaction ends), so the test runs as on a built world.
    reference.changed()
    kinds = {field.name: field.type for field in dataclasses.fields(World)}
    institutions = Institution.objects.in_bulk([key for name, key in keys.items() if kinds[name] == "Institution"])
    users = User.objects.in_bulk([key for name, key in keys.items() if kinds[name] == "User"])
    objects: dict[str, Any] = {
        name: (institutions if kinds[name] == "Institution" else users)[key] for name, key in keys.items()
    }
    return World(**objects)


@pytest.fixture
def world(db) -> World:
    return cached_world()


@pytest.fixture
def today() -> date:
    return timezone.localdate()
