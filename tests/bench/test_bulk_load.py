"""The lifecycle benchmark's bulk loader cannot break a database: a failure midway leaves every index,
constraint and function as it was (and a rerun works), and it refuses to run beside a task worker."""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from django.db import connection

from lapor.reports.models import Report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIFECYCLE = Path(__file__).resolve().parents[2] / "bench" / "lifecycle.py"
REPORTS = 300


@pytest.fixture(scope="module")
def lifecycle() -> ModuleType:
    # A script, not a package module: loaded from its file under a name of its own.
    spec = importlib.util.spec_from_file_location("bench_lifecycle_under_test", LIFECYCLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(lifecycle: ModuleType, committed_rows_purged: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    # A few reporters' accounts are enough for a few hundred reports (the benchmark makes 50,000).
    monkeypatch.setattr(lifecycle, "BULK_USERS", 100)
    return lifecycle.set_up(describe=False)


def comparable(definition: str) -> str:
    """An index's definition without the casts and parentheses that PostgreSQL spells differently once
    it has rebuilt the index from its own output (`ARRAY['a'::varchar]::text[]` comes back as
    `ARRAY[('a'::varchar)::text]`): the same index either way."""
    return re.sub(r"[()\s]", "", re.sub(r"::[a-z ]+(\[\])?", "", definition))


def schema(tables: list[str]) -> dict[str, Any]:
    """Every index and constraint of ``tables`` by name with its definition, and the loader's functions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)", [tables]
        )
        indexes = {name: comparable(definition) for name, definition in cursor.fetchall()}
        cursor.execute(
            """
            SELECT t.relname || '.' || c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ANY(%s)
            """,
            [tables],
        )
        constraints = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'bench_tracking_id'")
        row = cursor.fetchone()
    return {"indexes": indexes, "constraints": constraints, "functions": row[0] if row else None}


@pytest.fixture
def worker_connection() -> Iterator[psycopg.Connection[Any]]:
    """A session on the test database such as `lapor worker` keeps open between its polls."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
        application_name="lapor worker",
        autocommit=True,
    ) as session:
        session.execute("SELECT count(*) FROM reports_reportclock")
        yield session


def test_a_failure_midway_leaves_every_index_constraint_and_function_as_before(
    lifecycle: ModuleType, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = lifecycle.table_names()
    before = schema(tables)
    assert before["indexes"]
    assert before["constraints"]
    assert before["functions"] == 0
    original = lifecycle.bulk_events

    def events_then_failure(cursor: Any, stored: str) -> None:
        original(cursor, stored)
        # By now the indexes and constraints are set aside and most tables are filled.
        assert schema(tables)["indexes"] != before["indexes"]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(lifecycle, "bulk_events", events_then_failure)
    with pytest.raises(RuntimeError, match="the disk is full"):
        lifecycle.bulk_load(world, REPORTS)

    assert schema(tables) == before
    assert Report.objects.count() == 0
    monkeypatch.setattr(lifecycle, "bulk_events", original)
    # A rerun is not stopped by anything the failed run left behind.
    lifecycle.bulk_load(world, REPORTS)
    after = schema(tables)
    assert after == before
    assert Report.objects.count() == REPORTS


def test_it_refuses_to_run_beside_a_task_worker(
    lifecycle: ModuleType, world: Any, worker_connection: psycopg.Connection[Any]
) -> None:
    tables = lifecycle.table_names()
    before = schema(tables)
    with pytest.raises(lifecycle.LoadRefusedError, match="lapor worker"):
        lifecycle.bulk_load(world, REPORTS)
    assert schema(tables) == before
    assert Report.objects.count() == 0
    worker_connection.close()
    deadline = time.monotonic() + 10
    while lifecycle.other_sessions() and time.monotonic() < deadline:
        time.sleep(0.05)  # a closed session leaves pg_stat_activity a moment after its client
    lifecycle.bulk_load(world, REPORTS)
    assert Report.objects.count() == REPORTS


def test_the_loaded_requests_for_details_have_no_reminder_due(lifecycle: ModuleType, world: Any):
    # Loaded requests were made years ago: their reminders went out then, so the first sweep of a
    # benchmark has nothing to send into the measurement (it once had a reminder for each of 25,000).
    from django.utils import timezone

    from lapor.reports.choices import Clock
    from lapor.reports.models import ReportClock
    from lapor.reports.timers import due_information_requests

    lifecycle.bulk_load(world, REPORTS)
    waiting = ReportClock.objects.filter(clock=Clock.INFORMATION_REPLY, stopped_at__isnull=True)
    assert waiting.exists()
    assert due_information_requests(timezone.now()) == ([], [])
