"""Query-plan checks shared by the SQLite and PostgreSQL passes: a synthetic province of a few thousand
units, bulk-inserted with paths computed in Python, then EXPLAIN of the hot selectors."""

from __future__ import annotations

from django.db import connection

from lapor.core.tree import PathAllocator, path_depth, tree_bulk_create
from lapor.institutions.choices import InstitutionKind, Sector
from lapor.institutions.models import Category, Institution, InstitutionCategory, InstitutionCoverage
from lapor.institutions.selectors import institution_subtree, units_covering
from lapor.institutions.services import category_create
from lapor.regions.models import Region


def build_country(*, regencies: int, districts: int, villages: int, offices: int) -> dict[str, object]:
    """A synthetic province with bulk-inserted regions, institutions and coverage (paths from Python)."""
    allocator = PathAllocator()
    regions = [Region(code="99", level=1, kind="provinsi", name="Provinsi Uji")]
    institutions: list[Institution] = []
    coverage: list[tuple[str, str | None]] = []  # (institution code, region code)

    def unit(
        name: str,
        code: str,
        kind: str,
        parent_path: str | None,
        region: str | None,
        *,
        sector: str = Sector.GENERAL,
        nationally: bool = False,
    ) -> str:
        path = allocator.next_child(parent_path)
        institutions.append(
            Institution(
                name=name,
                code=code,
                kind=kind,
                sector=sector,
                path=path,
                depth=path_depth(path),
                covers_nationally=nationally,
                handles_all_categories=kind != InstitutionKind.REGIONAL_UNIT,
            )
        )
        coverage.append((code, region))
        return path

    for number in range(20):
        unit(f"Kementerian {number}", f"kementerian-{number}", InstitutionKind.MINISTRY, None, None, nationally=True)
    province = unit("Pemprov Uji", "pemprov-uji", InstitutionKind.PROVINCIAL_GOVERNMENT, None, "99")
    sectors = list(Sector)
    for regency_number in range(1, regencies + 1):
        regency_code = f"99.{regency_number:02d}"
        regions.append(
            Region(code=regency_code, parent_id="99", level=2, kind="kabupaten", name=f"Kab {regency_number}")
        )
        regency = unit(
            f"Pemkab {regency_number}",
            f"pemkab-{regency_number}",
            InstitutionKind.REGENCY_GOVERNMENT,
            province,
            regency_code,
        )
        for office in range(offices):
            sector = sectors[office % len(sectors)]
            unit(
                f"Dinas {office}",
                f"pemkab-{regency_number}-dinas-{office}",
                InstitutionKind.REGIONAL_UNIT,
                regency,
                regency_code,
                sector=sector,
            )
        for district_number in range(1, districts + 1):
            district_code = f"{regency_code}.{district_number:02d}"
            regions.append(
                Region(
                    code=district_code, parent_id=regency_code, level=3, kind="kecamatan", name=f"Kec {district_code}"
                )
            )
            district = unit(
                f"Kecamatan {district_code}",
                f"kec-{district_code}".replace(".", "-"),
                InstitutionKind.DISTRICT,
                regency,
                district_code,
            )
            for village_number in range(1, villages + 1):
                village_code = f"{district_code}.{2000 + village_number}"
                regions.append(
                    Region(
                        code=village_code, parent_id=district_code, level=4, kind="desa", name=f"Desa {village_code}"
                    )
                )
                unit(
                    f"Desa {village_code}",
                    f"desa-{village_code}".replace(".", "-"),
                    InstitutionKind.VILLAGE,
                    district,
                    village_code,
                )

    Region.objects.bulk_create(regions, batch_size=2000)
    tree_bulk_create(Institution, institutions)
    by_code = {row.code: row.pk for row in institutions}
    InstitutionCoverage.objects.bulk_create(
        [InstitutionCoverage(institution_id=by_code[code], region_id=region) for code, region in coverage],
        batch_size=2000,
    )
    return {"village": f"99.{regencies:02d}.{districts:02d}.{2000 + villages}", "regency_code": f"pemkab-{regencies}"}


def check_query_plans() -> dict[str, str]:
    """Build the province, ANALYZE, and assert that subtree and units_covering read through indexes."""
    country = build_country(regencies=12, districts=12, villages=15, offices=20)
    assert Institution.objects.count() > 2500
    infrastructure = category_create(code="infrastruktur", name="Infrastruktur")
    roads = category_create(code="jalan-rusak", name="Jalan Rusak", parent=infrastructure)
    offices = Institution.objects.filter(kind=InstitutionKind.REGIONAL_UNIT, sector=Sector.PUBLIC_WORKS)
    InstitutionCategory.objects.bulk_create(
        [InstitutionCategory(institution=office, category=infrastructure) for office in offices]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    regency = Institution.objects.get(code=country["regency_code"])
    subtree_plan = institution_subtree(regency).explain()
    covering = units_covering(village_code=str(country["village"]), category=roads)
    covering_plan = covering.explain()
    if connection.vendor == "postgresql":
        assert "Seq Scan on institutions_institution " not in subtree_plan + " ", subtree_plan
        assert "institutions_institution_path" in subtree_plan, subtree_plan
        assert "Seq Scan on institutions_institution " not in covering_plan + " ", covering_plan
        assert "Seq Scan on institutions_institutioncoverage" not in covering_plan, covering_plan
    else:
        # SQLite: "SCAN t" reads the whole table; "SEARCH t USING ..." reads through an index.
        assert "SCAN institutions_institution\n" not in subtree_plan + "\n", subtree_plan
        assert "SEARCH institutions_institution USING INDEX" in subtree_plan, subtree_plan
        assert "SCAN institutions_institution\n" not in covering_plan + "\n", covering_plan
        assert "SCAN institutions_institutioncoverage" not in covering_plan, covering_plan

    found = list(covering)
    assert found[0].kind == InstitutionKind.VILLAGE
    assert [unit.depth for unit in found] == sorted((unit.depth for unit in found), reverse=True)
    assert {unit.kind for unit in found if unit.depth == 3} == {InstitutionKind.DISTRICT, InstitutionKind.REGIONAL_UNIT}
    assert sum(unit.kind == InstitutionKind.MINISTRY for unit in found) == 20
    assert Category.objects.count() == 2
    return {"subtree": subtree_plan, "units_covering": covering_plan}
