"""Benchmark of the institution tree at national scale: ~100,000 units, then the hot selectors.

Builds 38 provincial governments with their OPDs, 514 regency/city governments with 16 OPDs each,
a unit per kecamatan (7,285) and per desa/kelurahan (83,762), ministries and PLN, each with its
coverage row, on the real region list (/work/shared/data/wilayah). Then measures median and p95 of
institution_subtree, institution_ancestors, units_covering, effective_deadline and category_tree,
a single insert and a subtree move, and prints the query plan of units_covering.

Runs on a throwaway database: a temporary SQLite file, or, when DATABASE_URL points at PostgreSQL,
a database named lapor_bench_institutions on that server, created and dropped here.

    .venv/bin/python bench/institutions.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lapor .venv/bin/python bench/institutions.py
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import SHIPPED_REGIONS, run_in_throwaway_database

REGION_DATA = Path(os.environ.get("LAPOR_WILAYAH_DIR", str(SHIPPED_REGIONS)))
BENCH_DATABASE = "lapor_bench_institutions"
ROUNDS = 200
OFFICES_PER_REGENCY = 16
OFFICES_PER_PROVINCE = 10
MINISTRIES = 34
UNITS_PER_MINISTRY = 5


def main() -> None:
    run_in_throwaway_database(BENCH_DATABASE, run)


def read_regions() -> list[tuple[str, str | None, int, str, str]]:
    """(code, parent code, level, kind, name) for every region in the CSVs, parents first."""
    rows: list[tuple[str, str | None, int, str, str]] = []
    files = [("provinces.csv", None), ("regencies.csv", "province_code"), ("districts.csv", "regency_code")]
    files.append(("villages.csv", "district_code"))
    for level, (name, parent_column) in enumerate(files, start=1):
        with (REGION_DATA / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                code = row["code"]
                if level == 1:
                    kind = "provinsi"
                elif level == 2:
                    kind = "kota" if row["name"].lower().startswith("kota ") else "kabupaten"
                elif level == 3:
                    kind = "kecamatan"
                else:
                    kind = "kelurahan" if code.rsplit(".", 1)[1].startswith("1") else "desa"
                rows.append((code, row[parent_column] if parent_column else None, level, kind, row["name"]))
    return rows


def build(regions: list[tuple[str, str | None, int, str, str]]) -> dict[str, Any]:
    from lapor.core.tree import PathAllocator, tree_bulk_create
    from lapor.institutions.choices import InstitutionKind, Sector
    from lapor.institutions.models import Category, Institution, InstitutionCategory, InstitutionCoverage

    kind = InstitutionKind
    allocator = PathAllocator()
    units: list[Institution] = []
    coverage: list[tuple[str, str | None]] = []
    handled: list[tuple[str, str]] = []
    categories = list(Category.objects.all())
    by_sector: dict[str, list[str]] = {}
    for category in categories:
        parent_sector = next((c.handler_sector for c in categories if c.pk == category.parent_id), None)
        # A subcategory is listed only when its sector differs from its area's (street lights under
        # infrastructure go to transport offices); otherwise the area covers it.
        if category.handler_sector and category.handler_sector != parent_sector:
            by_sector.setdefault(category.handler_sector, []).append(category.code)
    office_sectors = [sector for sector in Sector if sector != Sector.GENERAL][:OFFICES_PER_REGENCY]

    def add(name: str, code: str, unit_kind: str, parent: str | None, region: str | None, **extra: Any) -> str:
        path = allocator.next_child(parent)
        units.append(Institution(name=name, code=code, kind=unit_kind, path=path, **extra))
        coverage.append((code, region))
        return path

    for number in range(1, MINISTRIES + 1):
        sector = office_sectors[number % len(office_sectors)]
        ministry = add(
            f"Kementerian {number}",
            f"kementerian-{number}",
            kind.MINISTRY,
            None,
            None,
            sector=sector,
            covers_nationally=True,
        )
        handled += [(f"kementerian-{number}", code) for code in by_sector.get(sector, [])]
        for unit in range(1, UNITS_PER_MINISTRY + 1):
            add(
                f"Direktorat {unit}",
                f"kementerian-{number}-dit-{unit}",
                kind.WORK_UNIT,
                ministry,
                None,
                sector=sector,
                covers_nationally=True,
            )
    add("PT PLN (Persero)", "pln", kind.STATE_ENTERPRISE, None, None, sector=Sector.ENERGY, covers_nationally=True)
    handled.append(("pln", "ketenagalistrikan"))

    paths: dict[str, str] = {}
    for code, parent_code, level, _region_kind, name in regions:
        slug = code.replace(".", "-")
        if level == 1:
            paths[code] = add(
                f"Pemerintah Provinsi {name}",
                f"prov-{slug}",
                kind.PROVINCIAL_GOVERNMENT,
                None,
                code,
                handles_all_categories=True,
            )
            for office, sector in enumerate(office_sectors[:OFFICES_PER_PROVINCE]):
                add(
                    f"Dinas {sector.label} Provinsi",
                    f"prov-{slug}-{office}",
                    kind.REGIONAL_UNIT,
                    paths[code],
                    code,
                    sector=sector,
                )
                handled += [(f"prov-{slug}-{office}", category) for category in by_sector.get(sector, [])]
        elif level == 2:
            government = kind.CITY_GOVERNMENT if name.lower().startswith("kota ") else kind.REGENCY_GOVERNMENT
            paths[code] = add(
                f"Pemerintah {name}",
                f"kab-{slug}",
                government,
                paths[str(parent_code)],
                code,
                handles_all_categories=True,
            )
            for office, sector in enumerate(office_sectors):
                add(
                    f"Dinas {sector.label}",
                    f"kab-{slug}-{office}",
                    kind.REGIONAL_UNIT,
                    paths[code],
                    code,
                    sector=sector,
                )
                handled += [(f"kab-{slug}-{office}", category) for category in by_sector.get(sector, [])]
        elif level == 3:
            paths[code] = add(f"Kecamatan {name}", f"kec-{slug}", kind.DISTRICT, paths[str(parent_code)], code)
            handled += [(f"kec-{slug}", category) for category in ("infrastruktur", "ketertiban-umum", "kependudukan")]
        else:
            add(
                f"Desa/Kelurahan {name}",
                f"desa-{slug}",
                kind.VILLAGE,
                paths[str(parent_code)],
                code,
                handles_all_categories=True,
            )

    started = time.perf_counter()
    tree_bulk_create(Institution, units, batch_size=5000)
    ids = {unit.code: unit.pk for unit in units}
    InstitutionCoverage.objects.bulk_create(
        [InstitutionCoverage(institution_id=ids[code], region_id=region) for code, region in coverage], batch_size=5000
    )
    category_ids = {category.code: category.pk for category in categories}
    InstitutionCategory.objects.bulk_create(
        [
            InstitutionCategory(institution_id=ids[code], category_id=category_ids[category])
            for code, category in handled
        ],
        batch_size=5000,
    )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "units": len(units), "coverage": len(coverage), "handled": len(handled)}


def run() -> None:
    import django

    django.setup()
    regions = set_up()
    measure(regions)


def set_up() -> list[tuple[str, str | None, int, str, str]]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from lapor.institutions.services import categories_load
    from lapor.regions.models import Region

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    regions = read_regions()
    started = time.perf_counter()
    Region.objects.bulk_create(
        [
            Region(code=code, parent_id=parent, level=level, kind=kind, name=name)
            for code, parent, level, kind, name in regions
        ],
        batch_size=5000,
    )
    print(f"regions:      {len(regions):7d} rows in {time.perf_counter() - started:6.2f} s")
    categories_load()
    with transaction.atomic():
        built = build(regions)
    print(
        f"institutions: {built['units']:7d} units, {built['coverage']} coverage rows, {built['handled']} handled "
        f"categories in {built['seconds']:6.2f} s (bulk, paths computed in Python)"
    )
    with connection.cursor() as cursor:
        # Fresh planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would give.
        cursor.execute("ANALYZE")
    return regions


def measure(regions: list[tuple[str, str | None, int, str, str]]) -> None:
    from django.db import connection

    from lapor.institutions.choices import DeadlineClock, DeadlineUnit, InstitutionKind
    from lapor.institutions.models import Category, Institution
    from lapor.institutions.selectors import (
        category_tree,
        effective_deadline,
        institution_ancestors,
        institution_subtree,
        units_covering,
    )
    from lapor.institutions.services import deadline_override_set, institution_create, institution_move

    villages = [code for code, _parent, level, _kind, _name in regions if level == 4]
    sample_villages = random.Random(1708).sample(villages, 100)
    village_units = list(
        Institution.objects.filter(code__in=[f"desa-{code.replace('.', '-')}" for code in sample_villages])
    )
    regency = Institution.objects.get(code="kab-36-03")
    street_lights = Category.objects.get(code="penerangan-jalan-umum")
    deadline_override_set(institution=regency, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit=DeadlineUnit.HOURS)
    tangerang_village = Institution.objects.get(code="desa-36-03-01-2003")
    big_province = Institution.objects.get(code="prov-33")
    rotation = Rotation()

    print(f"\nlatency over {ROUNDS} rounds (ms):                        median      p95   rows")
    report("institution_subtree(Pemkab Tangerang)", lambda: list(institution_subtree(regency)))
    report("institution_subtree(Pemprov Jawa Tengah)", lambda: list(institution_subtree(big_province)))
    # The same range without building 9,745 model instances: what the database itself spends.
    report("  ... .values_list('pk') of the same", lambda: list(institution_subtree(big_province).values_list("pk")))
    report("institution_ancestors(a desa unit)", lambda: list(institution_ancestors(rotation.pick(village_units))))
    report(
        "units_covering(village, category=PJU)",
        lambda: list(units_covering(village_code=rotation.pick(sample_villages), category=street_lights)),
    )
    report("units_covering(village)", lambda: list(units_covering(village_code=rotation.pick(sample_villages))))
    report(
        "units_covering(village, kinds=[opd])",
        lambda: list(
            units_covering(village_code=rotation.pick(sample_villages), kinds=[InstitutionKind.REGIONAL_UNIT])
        ),
    )
    report(
        "effective_deadline(desa unit in Kab. Tangerang)",
        lambda: [effective_deadline(institution=tangerang_village, clock=DeadlineClock.FIRST_FOLLOW_UP)],
    )
    report("category_tree()", category_tree)

    counter = iter(range(1_000_000))
    report(
        "institution_create(unit under a regency)",
        lambda: [institution_create(name=f"Unit {next(counter)}", kind=InstitutionKind.WORK_UNIT, parent=regency)],
        rounds=50,
    )
    district = Institution.objects.get(code="kec-36-03-01")
    homes = [regency, Institution.objects.get(code="kab-36-71")]
    moved_rows = institution_subtree(district).count()
    report(
        f"institution_move(kecamatan, {moved_rows} rows)",
        lambda: [institution_move(institution=district, new_parent=homes[next(counter) % 2])],
        rounds=50,
    )

    analyze = connection.vendor == "postgresql"
    print("\nquery plan of units_covering(village, category=PJU):")
    covering = units_covering(village_code=sample_villages[0], category=street_lights)
    print(covering.explain(analyze=True) if analyze else covering.explain())
    print("\nquery plan of institution_subtree(Pemkab Tangerang):")
    subtree = institution_subtree(regency)
    print(subtree.explain(analyze=True) if analyze else subtree.explain())


class Rotation:
    """Cycles through a sample so that repeated rounds do not hit one hot row."""

    def __init__(self) -> None:
        self.position = 0

    def pick(self, items: list[Any]) -> Any:
        self.position += 1
        return items[self.position % len(items)]


def report(label: str, call: Callable[[], Any], *, rounds: int = ROUNDS) -> None:
    rows = len(call())
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    print(f"  {label:<52} {statistics.median(timings):8.3f} {p95:8.3f} {rows:6d}")


if __name__ == "__main__":
    main()
