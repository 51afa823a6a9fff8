"""PostgreSQL-only checks: linguistic collations, concurrent writers, and the query plans."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from lapor.core.tree import encode_step, path_depth, subtree_upper_bound
from lapor.institutions.choices import InstitutionKind
from lapor.institutions.models import Institution
from lapor.institutions.services import institution_create
from tests.institutions.plans import check_query_plans

pytestmark = pytest.mark.postgres

ICU_EN_US = "en-US-x-icu"


@pytest.mark.django_db
def test_range_bounds_hold_under_a_linguistic_collation():
    """Databases created with en_US or id_ID collations must select the same subtree as "C"."""
    paths = ["0001", "00010001", "0001000Z", "0001ZZZZ", "0001ZZZZ0001", "0002", "000A", "000Z", "00Z0", "ZZZZ"]
    values = ", ".join(["(%s)"] * len(paths))
    for root in ["0001", "0001ZZZZ", "000Z", "ZZZZ"]:
        upper = subtree_upper_bound(root)
        condition = f'path >= %s COLLATE "{ICU_EN_US}"'
        parameters: list[str] = [*paths, root]
        if upper is not None:
            condition += f' AND path < %s COLLATE "{ICU_EN_US}"'
            parameters.append(upper)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT path FROM (VALUES {values}) AS paths(path) WHERE {condition}", parameters)
            selected = sorted(row[0] for row in cursor.fetchall())
        assert selected == sorted(path for path in paths if path.startswith(root)), root
    with connection.cursor() as cursor:
        # Why the bounds use only digits and letters: "~" sorts before "0" when punctuation is ignored.
        cursor.execute(f"SELECT '0001~' < '00010001' COLLATE \"{ICU_EN_US}\", '0001~' < '00010001' COLLATE \"C\"")
        assert cursor.fetchone() == (True, False)


def run_in_threads(count: int, work: Callable[[int], object]) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(number):
        try:
            barrier.wait()
            work(number)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


# These tests commit, and each institution created appends to its administrative trail, whose
# append-only table Django's flush cannot empty: committed_rows_purged empties it first.
def test_concurrent_children_and_roots_get_distinct_consecutive_paths(committed_rows_purged: None):
    parent = institution_create(name="Pemerintah Kabupaten", kind=InstitutionKind.REGENCY_GOVERNMENT)
    run_in_threads(
        12, lambda number: institution_create(name=f"Dinas {number}", kind=InstitutionKind.REGIONAL_UNIT, parent=parent)
    )
    children = sorted(Institution.objects.filter(parent=parent).values_list("path", flat=True))
    assert children == [parent.path + encode_step(number) for number in range(1, 13)]

    run_in_threads(12, lambda number: institution_create(name=f"Kementerian {number}", kind=InstitutionKind.MINISTRY))
    roots = sorted(Institution.objects.filter(parent=None).values_list("path", flat=True))
    assert roots == [encode_step(number) for number in range(1, 14)]


@pytest.mark.parametrize("under_parent", [False, True])
def test_an_insert_that_loses_a_race_for_its_path_is_retried(committed_rows_purged: None, under_parent: bool):
    """A writer that takes no lock (a bulk load, say) holds the next path in an open transaction."""
    parent = institution_create(name="Induk", kind=InstitutionKind.MINISTRY) if under_parent else None
    prefix = parent.path if parent else ""
    contested = prefix + encode_step(1)
    holding = threading.Event()

    def rival():
        try:
            with transaction.atomic():
                Institution.objects.create(
                    name="Rival",
                    code="rival",
                    kind=InstitutionKind.MINISTRY,
                    parent=parent,
                    path=contested,
                    depth=path_depth(contested),
                )
                holding.set()
                time.sleep(0.5)
        finally:
            connections.close_all()

    thread = threading.Thread(target=rival)
    thread.start()
    assert holding.wait(10)
    created = institution_create(name="Pendatang", kind=InstitutionKind.MINISTRY, parent=parent)
    thread.join()
    assert created.path == prefix + encode_step(2)
    assert Institution.objects.filter(path=contested, name="Rival").exists()


@pytest.mark.django_db
def test_subtree_and_units_covering_use_indexes():
    """After a few thousand bulk-created units and ANALYZE, no query scans the institution table."""
    plans = check_query_plans()
    assert "Index" in plans["subtree"]
