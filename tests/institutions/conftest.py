"""A small slice of Banten: regions inserted directly (no full region load), a category tree, and
institutions from the province down to a kelurahan office."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lapor.institutions.choices import InstitutionKind, Sector
from lapor.institutions.models import Category, Institution
from lapor.institutions.services import category_create, institution_create
from lapor.regions.models import Region

REGIONS = [
    ("36", None, 1, "provinsi", "Banten"),
    ("36.03", "36", 2, "kabupaten", "Kabupaten Tangerang"),
    ("36.03.01", "36.03", 3, "kecamatan", "Balaraja"),
    ("36.03.01.1001", "36.03.01", 4, "kelurahan", "Balaraja"),
    ("36.03.01.2003", "36.03.01", 4, "desa", "Cangkudu"),
    ("36.03.02", "36.03", 3, "kecamatan", "Jayanti"),
    ("36.03.02.2001", "36.03.02", 4, "desa", "Pangkat"),
    ("36.71", "36", 2, "kota", "Kota Tangerang"),
    ("36.71.01", "36.71", 3, "kecamatan", "Tangerang"),
    ("36.71.01.1001", "36.71.01", 4, "kelurahan", "Sukarasa"),
]


@pytest.fixture
def regions(db) -> dict[str, Region]:
    created: dict[str, Region] = {}
    for code, parent_code, level, kind, name in REGIONS:
        created[code] = Region.objects.create(code=code, parent_id=parent_code, level=level, kind=kind, name=name)
    return created


@dataclass
class Categories:
    infrastructure: Category
    street_lights: Category
    roads: Category
    electricity: Category
    outages: Category


@pytest.fixture
def categories(db) -> Categories:
    infrastructure = category_create(code="infrastruktur", name="Infrastruktur", name_en="Infrastructure")
    electricity = category_create(code="ketenagalistrikan", name="Ketenagalistrikan", name_en="Electricity")
    return Categories(
        infrastructure=infrastructure,
        street_lights=category_create(
            code="penerangan-jalan-umum",
            name="Penerangan Jalan Umum",
            parent=infrastructure,
            handler_kind=InstitutionKind.REGIONAL_UNIT,
            handler_sector=Sector.TRANSPORTATION,
        ),
        roads=category_create(code="jalan-rusak", name="Jalan Rusak", parent=infrastructure),
        electricity=electricity,
        outages=category_create(code="listrik-padam", name="Listrik Padam", parent=electricity),
    )


@dataclass
class Banten:
    province: Institution
    regency: Institution
    transport_office: Institution
    public_works_office: Institution
    closed_office: Institution
    balaraja: Institution
    balaraja_village: Institution
    jayanti: Institution
    city: Institution
    ministry: Institution
    electricity_company: Institution


@pytest.fixture
def banten(regions, categories) -> Banten:
    kind = InstitutionKind
    province = institution_create(
        name="Pemerintah Provinsi Banten",
        short_name="Pemprov Banten",
        kind=kind.PROVINCIAL_GOVERNMENT,
        region_codes=["36"],
        handles_all_categories=True,
    )
    regency = institution_create(
        name="Pemerintah Kabupaten Tangerang",
        short_name="Pemkab Tangerang",
        code="pemkab-tangerang",
        kind=kind.REGENCY_GOVERNMENT,
        parent=province,
        region_codes=["36.03"],
        handles_all_categories=True,
    )
    transport_office = institution_create(
        name="Dinas Perhubungan",
        short_name="Dishub",
        kind=kind.REGIONAL_UNIT,
        sector=Sector.TRANSPORTATION,
        parent=regency,
        region_codes=["36.03"],
        category_codes=["penerangan-jalan-umum"],
    )
    public_works_office = institution_create(
        name="Dinas Pekerjaan Umum dan Penataan Ruang",
        short_name="DPUPR",
        kind=kind.REGIONAL_UNIT,
        sector=Sector.PUBLIC_WORKS,
        parent=regency,
        region_codes=["36.03"],
        category_codes=["infrastruktur"],
    )
    closed_office = institution_create(
        name="Dinas yang Sudah Dibubarkan",
        kind=kind.REGIONAL_UNIT,
        parent=regency,
        region_codes=["36.03"],
        handles_all_categories=True,
        is_active=False,
    )
    balaraja = institution_create(
        name="Kecamatan Balaraja",
        kind=kind.DISTRICT,
        parent=regency,
        region_codes=["36.03.01"],
        category_codes=["infrastruktur"],
    )
    balaraja_village = institution_create(
        name="Kelurahan Balaraja",
        kind=kind.VILLAGE,
        parent=balaraja,
        region_codes=["36.03.01.1001"],
        handles_all_categories=True,
    )
    jayanti = institution_create(
        name="Kecamatan Jayanti",
        kind=kind.DISTRICT,
        parent=regency,
        region_codes=["36.03.02"],
        handles_all_categories=True,
    )
    city = institution_create(
        name="Pemerintah Kota Tangerang",
        kind=kind.CITY_GOVERNMENT,
        parent=province,
        region_codes=["36.71"],
        handles_all_categories=True,
    )
    ministry = institution_create(
        name="Kementerian Pekerjaan Umum",
        short_name="Kementerian PU",
        kind=kind.MINISTRY,
        sector=Sector.PUBLIC_WORKS,
        covers_nationally=True,
        category_codes=["jalan-rusak"],
    )
    electricity_company = institution_create(
        name="PT PLN (Persero)",
        short_name="PLN",
        kind=kind.STATE_ENTERPRISE,
        sector=Sector.ENERGY,
        covers_nationally=True,
        category_codes=["ketenagalistrikan"],
    )
    return Banten(
        province=province,
        regency=regency,
        transport_office=transport_office,
        public_works_office=public_works_office,
        closed_office=closed_office,
        balaraja=balaraja,
        balaraja_village=balaraja_village,
        jayanti=jayanti,
        city=city,
        ministry=ministry,
        electricity_company=electricity_company,
    )
