"""Benchmark of the region data: full load, idempotent reload, search and tree lookups.

Runs on a throwaway database: a temporary SQLite file, or, when DATABASE_URL points at PostgreSQL,
a database named lapor_bench_regions on that server, created and dropped here.

    .venv/bin/python bench/regions.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lapor .venv/bin/python bench/regions.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from _harness import run_in_throwaway_database

BENCH_DATABASE = "lapor_bench_regions"
SEARCH_QUERIES = ("tangerang sel", "bogor", "jakarta", "kota", "sum", "a", "pondok aren")
TREE_CODES = ("36.74", "36.74.03", "32.01.01")
LOOKUP_CODE = "36.74.03.1001"
ROUNDS = 200


def main() -> None:
    run_in_throwaway_database(BENCH_DATABASE, run)


def run() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from lapor.regions.models import Region, RegionNameToken
    from lapor.regions.selectors import (
        region_ancestors,
        region_get,
        region_search,
        region_search_queryset,
    )
    from lapor.regions.services import regions_load

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

    first = regions_load()
    print(
        f"full load:             {first.seconds:7.2f} s  "
        f"({Region.objects.count()} regions, {RegionNameToken.objects.count()} tokens)"
    )
    second = regions_load(force=True)
    print(f"second load (force):   {second.seconds:7.2f} s  ({second.written} rows written)")
    skipped = regions_load()
    print(f"second load (skipped): {skipped.seconds * 1000:7.2f} ms (skipped={skipped.skipped})")
    assert first.written == 91599
    assert second.written == 0
    assert skipped.skipped

    print(f"\nlatency over {ROUNDS} rounds (ms):           median      p95  first result")
    for query in SEARCH_QUERIES:
        results = region_search(query)
        first_result = str(results[0]) if results else "-"
        report(f"region_search({query!r})", partial(region_search, query), first_result)
    report("region_search('tangerang', within='36')", lambda: region_search("tangerang", within="36"), "")
    report("region_search('baru', level=4)", lambda: region_search("baru", level=4), "")
    for code in TREE_CODES:
        report(f"region_children({code!r})", partial(children_list, code), "")
    report(f"region_ancestors({LOOKUP_CODE!r})", lambda: region_ancestors(LOOKUP_CODE), "")
    report(f"region_get({LOOKUP_CODE!r})", lambda: region_get(LOOKUP_CODE), "")

    print("\nquery plan of region_search('tangerang sel'):")
    print(region_search_queryset("tangerang sel")[:20].explain())


def children_list(code: str) -> list[Any]:
    from lapor.regions.selectors import region_children

    return list(region_children(code))


def report(label: str, call: Callable[[], Any], note: str) -> None:
    call()
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"  {label:<42} {statistics.median(timings):8.3f} {p95:8.3f}  {note}")


if __name__ == "__main__":
    main()
