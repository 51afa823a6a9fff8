"""Benchmark of full report lifecycles through the services: with no reports stored, and among 1,000,000.

One lifecycle is what a report goes through when all goes well, each step a service call by the person
who takes it: submit (a citizen, with an idempotency key), verify and dispatch (the national admin),
forward (the city's coordinator), the final follow-up (the transport office's liaison officer),
confirm, and rate (the citizen). Each call writes its event to the report's hash chain and its
notifications to the outbox; the timers' and deliveries' tasks are rows in the database, as with the
production task backend (django-tasks-db). Lifecycles run in WORKERS processes at once (default: one
per core), as web workers would.

The run: two throwaway PostgreSQL databases, each with the Banten regions and the demo institutions
and accounts. Into lapor_bench_lifecycle, REPORTS reports are bulk-loaded by PostgreSQL itself
(INSERT ... SELECT FROM generate_series, not through the services): valid foreign keys (checked when
the constraints are added back after the load), valid and unique tracking IDs, idempotency keys on
30%, a realistic status mix over three years, each report's deadline clocks, one to three events with
placeholder hashes chained per report (`lapor audit verify` is not run here), an assignment where the
report was forwarded and one outbox notification each; then VACUUM ANALYZE. The load is one transaction
that refuses to start while another session (a `lapor worker`, a web server) is connected to the database
and takes all its locks before writing: a failure rolls it back whole, indexes and constraints included
(tests/bench/test_bulk_load.py). Then LIFECYCLES
lifecycles run on each database, in ROUNDS alternating turns so that the changing load of a shared
machine falls on both alike, and the two rates and their ratio are printed, with the time of each
step, and EXPLAIN (ANALYZE, BUFFERS) of the hot queries exactly as the services send them among the
stored reports, and of the timers' sweep. Both databases are dropped at the end, also on failure.

PostgreSQL only: DATABASE_URL names the server (its database is used only to create and drop the two).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/lifecycle.py
    DATABASE_URL=... .venv/bin/python bench/lifecycle.py --reports 50000 --lifecycles 60   # quick

For scale: DIGIT PGR reports 37 lifecycles/s with no complaints stored and 6.3/s at 1M complaints,
on 16 vCPU.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "lapor_bench_lifecycle"  # the one that gets the stored reports
EMPTY_DATABASE = "lapor_bench_lifecycle_empty"  # the same world with no reports, measured in turn with it
SHIPPED_REGIONS = REPOSITORY / "src" / "lapor" / "regions" / "data" / "wilayah"
DEFAULT_REPORTS = 1_000_000
DEFAULT_LIFECYCLES = 300
DEFAULT_ROUNDS = 5
DIGIT_EMPTY, DIGIT_MILLION = 37.0, 6.3
STEPS = ("submit", "dispatch", "forward", "follow_up", "confirm", "rate")
BULK_TABLES = (
    "reports_report",
    "reports_reportclock",
    "reports_reportevent",
    "reports_reportassignment",
    "notifications_notification",
)
BULK_USERS = 50_000
BULK_YEARS = 3
# Per mille of the stored reports in each status: mostly finished, as in a system some years old.
STATUS_MIX = (
    ("closed", 380, "confirmed"),
    ("closed", 180, "deemed_complete"),
    ("archived", 120, ""),
    ("in_progress", 90, ""),
    ("dispatched", 60, ""),
    ("completed", 40, ""),
    ("submitted", 40, ""),
    ("awaiting_information", 25, ""),
    ("merged", 25, ""),
    ("on_hold", 15, ""),
    ("referred", 15, ""),
    ("returned", 10, ""),
)
BEFORE_DISPATCH = ("submitted", "awaiting_information", "on_hold", "archived", "returned", "merged")
FORWARDED = ("in_progress", "completed", "closed", "referred")
# Clocks of a stored report by status: (clock, still running, paused).
CLOCK_PLAN = {
    "submitted": [("verify_dispatch", True, False), ("overall", True, False)],
    "awaiting_information": [
        ("verify_dispatch", True, True),
        ("overall", True, True),
        ("information_reply", True, False),
    ],
    "on_hold": [("verify_dispatch", True, True), ("overall", True, True)],
    "archived": [("verify_dispatch", False, False), ("overall", False, False)],
    "dispatched": [
        ("verify_dispatch", False, False),
        ("overall", True, False),
        ("first_follow_up", True, False),
        ("resolution", True, False),
    ],
    "returned": [
        ("verify_dispatch", True, False),
        ("overall", True, False),
        ("first_follow_up", False, False),
        ("resolution", False, False),
    ],
    "in_progress": [
        ("verify_dispatch", False, False),
        ("overall", True, False),
        ("first_follow_up", False, False),
        ("resolution", True, False),
    ],
    "completed": [
        ("verify_dispatch", False, False),
        ("overall", True, False),
        ("first_follow_up", False, False),
        ("resolution", False, False),
        ("reporter_reply", True, False),
    ],
    "closed": [
        ("verify_dispatch", False, False),
        ("overall", False, False),
        ("first_follow_up", False, False),
        ("resolution", False, False),
        ("reporter_reply", False, False),
    ],
    "merged": [("verify_dispatch", False, False), ("overall", False, False)],
    "referred": [
        ("verify_dispatch", False, False),
        ("overall", False, False),
        ("first_follow_up", False, False),
        ("resolution", False, False),
    ],
}
# The hot queries whose plans are shown at scale: (label, pattern of the SQL the services send).
HOT_QUERIES = (
    ("idempotency check", r'FROM "reports_report" WHERE "reports_report"\."idempotency_key" ='),
    ("tracking-ID lookup", r'FROM "reports_report" WHERE "reports_report"\."tracking_id" ='),
    ("report insert", r'^INSERT INTO "reports_report" '),
    ("report lock", r'FROM "reports_report" .*WHERE "reports_report"\."id" = .* FOR (NO KEY )?UPDATE'),
    ("last event of the chain", r'FROM "reports_reportevent" WHERE "reports_reportevent"\."report_id" = .*ORDER BY'),
    ("event insert", r'^INSERT INTO "reports_reportevent" '),
    ("running-clock update", r'^UPDATE "reports_reportclock" '),
    ("clock insert", r'^INSERT INTO "reports_reportclock" '),
    ("assignment check", r'FROM "reports_reportassignment" WHERE'),
    ("outbox insert", r'^INSERT INTO "notifications_notification" '),
    ("outbox read-back", r'FROM "notifications_notification" WHERE "notifications_notification"\."dedupe_key" IN'),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=DEFAULT_REPORTS, help="reports to bulk-load (default 1M)")
    parser.add_argument(
        "--lifecycles", type=int, default=DEFAULT_LIFECYCLES, help="lifecycles measured on each database (300)"
    )
    parser.add_argument(
        "--rounds", type=int, default=DEFAULT_ROUNDS, help="turns the lifecycles are split into, alternating (5)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes running lifecycles at once, like web workers (default: one per core)",
    )
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        print(
            "bench/lifecycle.py measures PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/DB (it creates "
            f"and drops its own databases {BENCH_DATABASE} and {EMPTY_DATABASE} there). Skipped.",
            file=sys.stderr,
        )
        # Unset: nothing to measure (make bench without PostgreSQL). Set to something else: a mistake.
        return 2 if database_url else 0
    sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "src")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    with postgres_databases(database_url, (BENCH_DATABASE, EMPTY_DATABASE)) as bench_url:
        os.environ["DATABASE_URL"] = bench_url
        run(
            reports=args.reports,
            lifecycles=args.lifecycles,
            rounds=max(1, min(args.rounds, args.lifecycles)),
            workers=max(1, args.workers),
        )
    return 0


@contextmanager
def postgres_databases(server_url: str, names: Sequence[str]) -> Iterator[str]:
    """Create the databases ``names`` on the server and drop them afterwards, whatever happens; yields
    the URL of the first."""
    import psycopg

    def execute(statement: str) -> None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(statement)

    def drop() -> None:
        for name in names:
            execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    drop()  # a run that was killed may have left them behind
    try:
        for name in names:
            execute(f"CREATE DATABASE {name}")
        yield server_url.rsplit("/", 1)[0] + "/" + names[0]
    finally:
        from django.db import connections

        connections.close_all()
        drop()


def use_database(name: str) -> None:
    """Point the default connection (of this process and of the workers it forks) at ``name``."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


# --- the world -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class World:
    """Ids of what every lifecycle uses (ids, so that worker processes load their own objects)."""

    national_admin: int
    coordinator: int
    officer: int
    citizens: tuple[int, ...]
    city: int
    unit: int
    category: int
    villages: tuple[str, ...]


def set_up(*, describe: bool = True) -> World:
    from django.core.management import call_command
    from django.db import connection

    from lapor.accounts.services import user_create
    from lapor.demo.services import demo_load
    from lapor.regions.services import regions_load

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory(prefix="lapor-bench-lifecycle-") as directory:
        banten_regions(Path(directory))
        regions_load(source_dir=Path(directory))
    demo_load(allow_production=True, reports=0)
    for number in range(1, 9):
        user_create(full_name=f"Warga Bench {number}", email=f"warga{number}@bench.example.id")
    world = existing_world()
    if describe:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), current_setting('jit'), current_setting('shared_buffers')")
            row = cursor.fetchone()
        version, jit, shared_buffers = row if row else ("?", "?", "?")
        print(f"server:     {str(version).split(',')[0]}; jit={jit}, shared_buffers={shared_buffers}")
    print(
        f"set-up:     {connection.settings_dict['NAME']} in {time.perf_counter() - started:.1f} s "
        "(migrate, Banten regions, demo institutions and accounts)"
    )
    return world


def existing_world() -> World:
    """The ids of what `set_up` made, read back from its database (for tools that reuse a loaded one)."""
    from lapor.accounts.models import User
    from lapor.institutions.models import Category, Institution
    from lapor.regions.models import Region

    users = {user.email: user.pk for user in User.objects.filter(email__endswith="@demo.lapor.id")}
    citizens = tuple(
        User.objects.filter(email__endswith="@bench.example.id", email__startswith="warga")
        .order_by("pk")
        .values_list("pk", flat=True)[:8]
    )
    institutions = {institution.code: institution.pk for institution in Institution.objects.all()}
    return World(
        national_admin=users["nasional@demo.lapor.id"],
        coordinator=users["koordinator.tangsel@demo.lapor.id"],
        officer=users["dishub.tangsel@demo.lapor.id"],
        citizens=citizens,
        city=institutions["kota-tangsel"],
        unit=institutions["kota-tangsel-dishub"],
        category=Category.objects.get(code="penerangan-jalan-umum").pk,
        villages=tuple(Region.objects.filter(level=4, code__startswith="36.74.").values_list("code", flat=True)),
    )


def banten_regions(directory: Path) -> None:
    """The shipped region files cut to the province of Banten (the demo's), to load quickly."""
    for name in ("provinces", "regencies", "districts", "villages"):
        with (SHIPPED_REGIONS / f"{name}.csv").open(newline="", encoding="utf-8") as source:
            rows = list(csv.reader(source))
        kept = [row for row in rows[1:] if row[0] == "36" or row[0].startswith("36.")]
        with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as target:
            csv.writer(target).writerows([rows[0], *kept])


# --- lifecycles ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Actors:
    national_admin: Any
    coordinator: Any
    officer: Any
    citizens: list[Any]
    city: Any
    unit: Any
    category: Any


def load_actors(world: World) -> Actors:
    from lapor.accounts.models import User
    from lapor.institutions.models import Category, Institution

    users = User.objects.in_bulk([world.national_admin, world.coordinator, world.officer, *world.citizens])
    institutions = Institution.objects.in_bulk([world.city, world.unit])
    return Actors(
        national_admin=users[world.national_admin],
        coordinator=users[world.coordinator],
        officer=users[world.officer],
        citizens=[users[pk] for pk in world.citizens],
        city=institutions[world.city],
        unit=institutions[world.unit],
        category=Category.objects.get(pk=world.category),
    )


def lifecycle(
    world: World,
    actors: Actors,
    key: str,
    number: int,
    timings: dict[str, list[float]],
    *,
    before_step: Callable[[str], None] | None = None,
) -> None:
    """One report from submission to its rating; the time of each step is appended to ``timings``."""
    from django.utils import timezone

    from lapor.reports.choices import ReportWeight
    from lapor.reports.services import (
        report_confirm,
        report_dispatch,
        report_follow_up,
        report_forward,
        report_rate,
        report_submit,
    )

    reporter = actors.citizens[number % len(actors.citizens)]
    village = world.villages[number % len(world.villages)]
    steps: list[tuple[str, Callable[[Any], Any]]] = [
        (
            "submit",
            lambda _report: (
                report_submit(
                    title=f"Lampu PJU mati di Jl. Raya Serpong nomor {number}",
                    body="Sudah seminggu lampu penerangan jalan di depan pasar mati; malam hari jalan gelap dan rawan.",
                    incident_date=timezone.localdate() - timedelta(days=2),
                    reporter=reporter,
                    category=actors.category,
                    village_code=village,
                    idempotency_key=key,
                ).report
            ),
        ),
        (
            "dispatch",
            lambda report: (
                report_dispatch(
                    user=actors.national_admin, report=report, institution=actors.city, weight=ReportWeight.LIGHT
                ).report
            ),
        ),
        ("forward", lambda report: report_forward(user=actors.coordinator, report=report, units=[actors.unit]).report),
        (
            "follow_up",
            lambda report: (
                report_follow_up(
                    user=actors.officer, report=report, message="Lampu sudah diganti dan menyala kembali.", final=True
                ).report
            ),
        ),
        ("confirm", lambda report: report_confirm(user=reporter, report=report).report),
        (
            "rate",
            lambda report: report_rate(user=reporter, report=report, rating=5, comment="Cepat, terima kasih.").report,
        ),
    ]
    report = None
    for name, step in steps:
        if before_step is not None:
            before_step(name)
        started = time.perf_counter()
        report = step(report)
        timings[name].append(time.perf_counter() - started)


@dataclasses.dataclass
class Measurement:
    lifecycles: int
    seconds: float
    timings: dict[str, list[float]]
    python_cpu: float = 0.0  # CPU seconds of the worker processes
    postgres_cpu: float | None = None  # of their PostgreSQL backends, where /proc shows them

    @property
    def rate(self) -> float:
        return self.lifecycles / self.seconds


# Set before the worker processes fork, so that they inherit it.
_WORLD: World | None = None


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by the PostgreSQL backend ``pid``, when it runs on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime, the 14th and 15th fields of the line (counted after the command name).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker(label: str, first: int, count: int, barrier: Any, results: Any) -> None:
    """One worker process: a warm-up lifecycle, then (once all are ready) its share, timed."""
    import traceback

    from django.db import connection, connections

    try:
        assert _WORLD is not None
        actors = load_actors(_WORLD)
        timings: dict[str, list[float]] = defaultdict(list)
        lifecycle(_WORLD, actors, f"bench-{label}-warm-{first}", 10_000_000 + first, defaultdict(list))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
        backend = int(row[0]) if row else 0
        barrier.wait()
        python_before, postgres_before = time.process_time(), backend_cpu_seconds(backend)
        for number in range(first, first + count):
            lifecycle(_WORLD, actors, f"bench-{label}-{number}", number, timings)
        python_cpu = time.process_time() - python_before
        postgres_after = backend_cpu_seconds(backend)
        postgres_cpu = None if postgres_before is None or postgres_after is None else postgres_after - postgres_before
        results.put((dict(timings), python_cpu, postgres_cpu, ""))
    except BaseException:
        barrier.abort()
        results.put(({}, 0.0, None, traceback.format_exc()))
    finally:
        connections.close_all()


def measure(world: World, *, label: str, lifecycles: int, workers: int) -> Measurement:
    """Run ``lifecycles`` lifecycles spread evenly over ``workers`` processes, each of which first runs
    one warm-up lifecycle; the clock runs from the moment all are ready until the last one is done."""
    global _WORLD  # noqa: PLW0603
    from django.db import connections

    _WORLD = world
    connections.close_all()  # the children must not share the parent's connection
    shares = [lifecycles // workers + (1 if index < lifecycles % workers else 0) for index in range(workers)]
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers + 1)
    queue = context.Queue()
    processes = [
        context.Process(target=_worker, args=(label, sum(shares[:index]), share, barrier, queue))
        for index, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=600)
        started = time.perf_counter()
        outcomes = [queue.get(timeout=3600) for _process in processes]
        seconds = time.perf_counter() - started
    except BaseException:
        for process in processes:
            process.terminate()
        raise
    finally:
        for process in processes:
            process.join(timeout=60)
    errors = [error for _timings, _python, _postgres, error in outcomes if error]
    if errors:
        raise RuntimeError("a worker failed:\n" + errors[0])
    timings: dict[str, list[float]] = defaultdict(list)
    for result, _python, _postgres, _error in outcomes:
        for name, values in result.items():
            timings[name].extend(values)
    postgres = [postgres for _timings, _python, postgres, _error in outcomes]
    return Measurement(
        lifecycles,
        seconds,
        dict(timings),
        python_cpu=sum(python for _timings, python, _postgres, _error in outcomes),
        postgres_cpu=None if None in postgres else sum(value or 0.0 for value in postgres),
    )


def step_means(timings: dict[str, list[float]]) -> str:
    return "  ".join(f"{name} {statistics.mean(timings[name]) * 1000:.0f}" for name in STEPS if timings.get(name))


# --- bulk load --------------------------------------------------------------------------------------


def insert_select(
    cursor: Any,
    model: Any,
    expressions: dict[str, str],
    source: str,
    *,
    arrays: dict[str, Any] | None = None,
    source_params: Sequence[Any] = (),
) -> int:
    """INSERT INTO the model's table SELECT the given SQL expressions (by column) FROM ``source``;
    every other column gets its field's default, or NULL, so that the load follows the models as they
    change. ``arrays`` are the parameters of expressions that pick from a list (one "%s" each).
    Returns the rows inserted."""
    from django.db import connection

    arrays = arrays or {}
    columns, selected, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in expressions:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in expressions:
            selected.append(expressions[field.column])
            if field.column in arrays:
                params.append(arrays[field.column])
        elif field.has_default():
            selected.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            selected.append("NULL")
        else:
            raise ValueError(f"{model._meta.label}.{field.name} needs a value in the bulk load.")
    unknown = set(expressions) - {field.column for field in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model._meta.label} has no column {sorted(unknown)}.")
    table = connection.ops.quote_name(model._meta.db_table)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selected)} FROM {source}"
    statement = re.sub(r"%(?!s)", "%%", statement)  # SQL's modulo, not a placeholder
    cursor.execute(statement, [*params, *source_params])
    return int(cursor.rowcount)


def tracking_id_function() -> str:
    """A SQL function giving the n-th bulk report a valid tracking ID: n times a number prime to 29
    modulo 29**8 (so distinct n give distinct IDs), in the tracking-ID alphabet, with its check symbol."""
    from lapor.core.ids import ALPHABET, RANDOM_LENGTH

    size = len(ALPHABET) ** RANDOM_LENGTH
    return f"""
CREATE FUNCTION pg_temp.bench_tracking_id(n bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $body$
DECLARE
    alphabet constant text := '{ALPHABET}';
    x bigint := (n * 1000003 + 7) % {size};
    body text := '';
    total integer := 0;
    digit integer;
BEGIN
    FOR position IN 1..{RANDOM_LENGTH} LOOP
        digit := x % {len(ALPHABET)};
        x := x / {len(ALPHABET)};
        body := body || substr(alphabet, digit + 1, 1);
        total := total + position * digit;
    END LOOP;
    RETURN body || substr(alphabet, total % {len(ALPHABET)} + 1, 1);
END
$body$"""


def timed(seconds: dict[str, float], name: str, part: Callable[[], Any]) -> Any:
    """Run one part of the load and record how long it took."""
    started = time.perf_counter()
    result = part()
    seconds[name] = time.perf_counter() - started
    return result


class LoadRefusedError(RuntimeError):
    """The bulk load would run beside another session on its database (a task worker, a web server)."""


def other_sessions() -> list[str]:
    """The other client sessions connected to this database, described for a message."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pid, coalesce(nullif(application_name, ''), '?'), coalesce(client_addr::text, 'local'), state
            FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            ORDER BY pid
            """
        )
        rows = cursor.fetchall()
    return [f"pid {pid} ({application}, {address}, {state})" for pid, application, address, state in rows]


def bulk_load(world: World, count: int) -> dict[str, float]:
    """Store ``count`` reports with their clocks, events, assignments and notifications, generated by
    PostgreSQL. Returns the seconds each part took.

    The whole load is one transaction: its indexes and constraints are set aside and rebuilt inside it,
    so a failure anywhere (or a kill) rolls everything back and leaves the schema as it was; the helper
    function lives in the session's temporary schema and goes with it. It refuses to start while any
    other session is connected to the database (a `lapor worker` sweeps the very tables it rebuilds:
    beside one, the old loader deadlocked and left them without indexes), and it takes every lock it
    needs before writing anything, without waiting, so that a worker started meanwhile waits for the
    load instead of deadlocking with it."""
    from django.db import connection, transaction

    others = other_sessions()
    if others:
        raise LoadRefusedError(
            f"The bulk load needs {connection.settings_dict['NAME']} to itself: stop the task worker and "
            f"every other client first. Connected: {'; '.join(others)}."
        )
    seconds: dict[str, float] = {}
    tables = table_names()
    with transaction.atomic(), connection.cursor() as cursor:
        # Settings of this transaction only: nothing on the shared server is changed.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        timed(seconds, "locks", lambda: lock_tables(cursor, tables))
        cursor.execute(tracking_id_function())
        reporters = timed(seconds, "users", lambda: bulk_users(cursor))
        rebuild = timed(seconds, "drop indexes", lambda: set_indexes_aside(cursor, tables))
        first_id = timed(seconds, "reports", lambda: bulk_reports(cursor, count, reporters))
        stored = f"r.id >= {int(first_id)}"
        timed(seconds, "clocks", lambda: bulk_clocks(cursor, stored))
        timed(seconds, "events", lambda: bulk_events(cursor, stored))
        timed(seconds, "assignments", lambda: bulk_assignments(cursor, stored, world.coordinator))
        if "notifications_notification" in tables:
            timed(seconds, "notifications", lambda: bulk_notifications(cursor, stored))
        timed(seconds, "indexes and constraints", rebuild)
        cursor.execute("DROP FUNCTION pg_temp.bench_tracking_id(bigint)")
    started = time.perf_counter()
    vacuum_analyze()
    seconds["vacuum analyze"] = time.perf_counter() - started
    return seconds


def lock_tables(cursor: Any, tables: Sequence[str]) -> None:
    """Every lock the load needs, taken at once and in a fixed order, or none (NOWAIT): the filled tables
    exclusively, and the tables their foreign keys point to (and the users, which the load adds to)
    against writers. Nobody can then hold one of them while waiting for another the load holds."""
    cursor.execute(
        """
        SELECT DISTINCT target.relname
        FROM pg_constraint c
        JOIN pg_class source ON source.oid = c.conrelid JOIN pg_class target ON target.oid = c.confrelid
        WHERE c.contype = 'f' AND source.relname = ANY(%s) AND NOT target.relname = ANY(%s)
        ORDER BY target.relname
        """,
        [list(tables), list(tables)],
    )
    referenced = sorted({row[0] for row in cursor.fetchall()} | {"accounts_user"})
    for table in sorted(tables):
        cursor.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE NOWAIT')
    for table in referenced:
        cursor.execute(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE NOWAIT')


def table_names() -> list[str]:
    """The tables the bulk load fills (the outbox only where the notifications app is installed)."""
    from django.apps import apps

    return [table for table in BULK_TABLES if apps.is_installed("lapor.notifications") or "notification" not in table]


def set_indexes_aside(cursor: Any, tables: Sequence[str]) -> Callable[[], None]:
    """Drop the secondary indexes, unique and foreign-key constraints of ``tables``; returns what builds
    them again. One sorted build per index is many times faster than a million insertions into it,
    and adding a foreign key back checks every stored row against its target in one join, so the
    loaded rows are as valid as if each had been checked on the way in."""
    cursor.execute(
        """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE t.relname = ANY(%s) AND c.contype IN ('u', 'f')
        ORDER BY c.contype, t.relname, c.conname  -- the foreign keys (f) go first
        """,
        [list(tables)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
        """,
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for table, name, _definition, _kind in constraints:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")

    def rebuild() -> None:
        for _name, definition in indexes:
            cursor.execute(definition)
        # Unique constraints ('u') first, then the foreign keys ('f'), as selected above.
        for table, name, definition, _kind in sorted(constraints, key=lambda row: row[3] != "u"):
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')

    return rebuild


def bulk_users(cursor: Any) -> list[int]:
    """Accounts for the stored reports' reporters (the other reports come from guests)."""
    from lapor.accounts.models import User

    insert_select(
        cursor,
        User,
        {
            "email": "'pelapor' || n || '@bulk.example.id'",
            "full_name": "'Pelapor ' || n",
            "password": "'!bulk'",  # an unusable password, as Django writes them
            "date_joined": "now() - interval '3 years'",
        },
        "generate_series(1, %s) AS n",
        source_params=[BULK_USERS],
    )
    return list(User.objects.filter(email__endswith="@bulk.example.id").values_list("pk", flat=True))


def bulk_reports(cursor: Any, count: int, reporters: list[int]) -> int:
    """``count`` reports, created evenly over the last BULK_YEARS years; returns the first one's id."""
    from lapor.core.crypto import encrypt_text
    from lapor.institutions.models import Category, Institution
    from lapor.regions.models import Region
    from lapor.reports.models import Report

    national = Institution.objects.get(code="nasional").pk
    ombudsman = Institution.objects.get(code="ombudsman").pk
    owners = list(Institution.objects.exclude(pk__in=[national, ombudsman]).values_list("pk", flat=True))
    categories = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    villages = list(Region.objects.filter(level=4).values_list("code", flat=True))
    step_seconds = BULK_YEARS * 365 * 24 * 3600 / max(count, 1)

    statuses, closures, high = [], [], 0
    for status, share, closure in STATUS_MIX:
        high += share
        statuses.append(f"WHEN b < {high} THEN '{status}'")
        closures.append(f"WHEN b < {high} THEN '{closure}'")
    # b: a well-spread bucket 0..999 per row (761 is prime to 1000, so every bucket is equally full).
    source = f"""(
        SELECT n, CASE {" ".join(statuses)} END AS status, CASE {" ".join(closures)} END AS closure,
               now() - make_interval(secs => (%s - n + 1) * %s::float8) AS created
        FROM (SELECT n, (n * 761) % 1000 AS b FROM generate_series(1, %s::bigint) AS n) AS numbers
    ) AS r"""
    dispatched = f"r.status NOT IN ({', '.join(repr(status) for status in BEFORE_DISPATCH)})"
    guest = "(r.n % 5 >= 2)"
    body = "'Jalan di depan rumah kami rusak dan berlubang; saat hujan tergenang. Nomor ' || r.n"
    cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM reports_report")
    row = cursor.fetchone()
    first_id = int(row[0]) if row else 1
    expressions = {
        # Ids given here, not drawn from the sequence, so that a merged report can name the one before it.
        "id": f"{first_id} + r.n - 1",
        "tracking_id": "pg_temp.bench_tracking_id(r.n)",
        "kind": "CASE r.n % 10 WHEN 0 THEN 'aspirasi' WHEN 1 THEN 'permintaan_informasi' ELSE 'pengaduan' END",
        "weight": f"CASE WHEN {dispatched} THEN (ARRAY['ringan', 'normatif', 'tidak_berkadar_pengawasan', "
        "'berkadar_pengawasan'])[1 + r.n % 4] ELSE '' END",
        "title": "'Laporan warga nomor ' || r.n",
        "body": body,
        "incident_date": "(r.created - interval '2 days')::date",
        "category_id": f"(%s::bigint[])[1 + (r.n * 13) % {len(categories)}]",
        "village_id": f"(%s::text[])[1 + (r.n * 31) % {len(villages)}]",
        "channel": "(ARRAY['web', 'web', 'web', 'api', 'sms', 'email', 'social'])[1 + (r.n * 7) % 7]",
        "is_anonymous": "(r.n * 17) % 10 = 0",
        "is_confidential": "(r.n * 19) % 20 = 0",
        "reporter_id": f"CASE WHEN {guest} THEN NULL ELSE (%s::bigint[])[1 + (r.n * 11) % {len(reporters)}] END",
        "guest_name": f"CASE WHEN {guest} THEN 'Tamu ' || r.n ELSE '' END",
        # Guests' contacts are encrypted in Python: one real token for all (its size is what the table
        # feels), and a distinct 64-hex stand-in for each keyed hash.
        "guest_email_ciphertext": f"CASE WHEN {guest} THEN '{encrypt_text('tamu@bulk.example.id')}' ELSE '' END",
        "guest_email_index": f"CASE WHEN {guest} THEN encode(sha256(('tamu-' || r.n)::bytea), 'hex') ELSE '' END",
        "access_secret_hash": "encode(sha256(('secret-' || r.n)::bytea), 'hex')",
        "status": "r.status",
        "resume_status": "CASE WHEN r.status IN ('awaiting_information', 'on_hold') THEN 'submitted' ELSE '' END",
        "archive_reason": "CASE WHEN r.status = 'archived' THEN (ARRAY['incomplete', 'out_of_scope', 'duplicate', "
        "'abusive', 'not_public_service'])[1 + r.n % 5] ELSE '' END",
        "closure_reason": "r.closure",
        "hold_until": "CASE WHEN r.status = 'on_hold' THEN current_date + 10 END",
        "owner_id": f"CASE WHEN r.status = 'referred' THEN {ombudsman} WHEN NOT ({dispatched}) THEN {national} "
        f"ELSE (%s::bigint[])[1 + (r.n * 7919) % {len(owners)}] END",
        "dispatched_by_id": f"CASE WHEN {dispatched} THEN {national} END",
        "public_title": "'Laporan warga nomor ' || r.n",
        "public_body": body,
        "rating": "CASE WHEN r.closure = 'confirmed' THEN 1 + (r.n * 7) % 5 END",
        "referral_consent_at": "CASE WHEN r.status = 'referred' THEN r.created + interval '70 days' END",
        # API and SMS clients send idempotency keys: about 30% of the reports carry one.
        "idempotency_key": "CASE WHEN r.n % 10 < 3 THEN encode(sha256(('bulk-key-' || r.n)::bytea), 'hex') END",
        "created_at": "r.created",
        "updated_at": "r.created + interval '1 day'",
        "dispatched_at": f"CASE WHEN {dispatched} THEN r.created + interval '1 day' END",
        "first_follow_up_at": f"CASE WHEN r.status IN ({', '.join(repr(status) for status in FORWARDED)}) "
        "THEN r.created + interval '3 days' END",
        "completed_at": "CASE WHEN r.status = 'completed' THEN r.created + interval '9 days' END",
        "closed_at": "CASE WHEN r.status IN ('closed', 'merged') THEN r.created + interval '20 days' END",
        # Each merged report was merged into the report stored just before it. (Set here rather than
        # by an UPDATE afterwards: PostgreSQL may not use an index built over freshly updated rows
        # while older transactions run anywhere on the server.)
        "merged_into_id": f"CASE WHEN r.status = 'merged' AND r.n > 1 THEN {first_id} + r.n - 2 END",
    }
    insert_select(
        cursor,
        Report,
        expressions,
        source,
        arrays={"category_id": categories, "village_id": villages, "reporter_id": reporters, "owner_id": owners},
        source_params=[count, step_seconds, count],
    )
    cursor.execute("SELECT setval(pg_get_serial_sequence('reports_report', 'id'), max(id)) FROM reports_report")
    return first_id


def bulk_clocks(cursor: Any, stored: str) -> None:
    """The deadline clocks each stored report has by its status (CLOCK_PLAN)."""
    from lapor.reports.models import ReportClock
    from lapor.reports.timers import information_reminders

    plan = [
        (status, clock, running, paused) for status, clocks in CLOCK_PLAN.items() for clock, running, paused in clocks
    ]
    reporter_window = "(p.running AND p.clock IN ('reporter_reply', 'information_reply'))"
    insert_select(
        cursor,
        ReportClock,
        {
            "report_id": "r.id",
            "clock": "p.clock",
            "started_at": "r.created_at",
            # The reporter's windows still running are recent (the timers close the old ones); the
            # institutions' clocks of old open reports are long overdue...
            "due_at": f"CASE WHEN {reporter_window} THEN now() + (1 + r.id % 9) * interval '1 day' "
            "ELSE r.created_at + interval '7 days' END",
            "yellow_at": f"CASE WHEN {reporter_window} THEN now() + (r.id % 9) * interval '1 day' "
            "ELSE r.created_at + interval '5 days' END",
            "budget": "5",
            "budget_unit": "'working_days'",
            "paused_at": "CASE WHEN p.paused THEN r.created_at + interval '1 day' END",
            "stopped_at": "CASE WHEN NOT p.running THEN r.created_at + interval '2 days' END",
            # ... and the timers warned and escalated them long ago.
            "warned_at": f"CASE WHEN p.running AND NOT {reporter_window} THEN r.created_at + interval '5 days' END",
            "breached_at": f"CASE WHEN p.running AND NOT {reporter_window} THEN r.created_at + interval '7 days' END",
            "escalation_level": f"CASE WHEN p.running AND NOT {reporter_window} THEN 2 ELSE 0 END",
            # A running request for details was made long ago (its window was started with the report):
            # its reminders went out then, or the first sweep of a benchmark would send tens of
            # thousands of them into whatever it measures.
            "reminders_sent": "CASE WHEN p.running AND p.clock = 'information_reply' THEN %s ELSE 0 END",
        },
        f"reports_report r JOIN (VALUES {', '.join('(%s, %s, %s, %s)' for _ in plan)}) "
        f"AS p(status, clock, running, paused) ON p.status = r.status WHERE {stored}",
        arrays={"reminders_sent": information_reminders()},
        source_params=[value for row in plan for value in row],
    )


def bulk_events(cursor: Any, stored: str) -> None:
    """One to three events per stored report, chained by placeholder hashes (never verified here)."""
    from lapor.core.audit import GENESIS_HASH
    from lapor.reports.models import ReportEvent

    dispatched = f"r.status NOT IN ({', '.join(repr(status) for status in BEFORE_DISPATCH)})"
    plan = (
        (1, "submit", "", "submitted", "reporter", "TRUE"),
        (2, "dispatch", "submitted", "dispatched", "national_admin", dispatched),
        (3, "follow_up_final", "in_progress", "completed", "unit_officer", "r.status IN ('completed', 'closed')"),
    )

    def placeholder_hash(sequence: int) -> str:
        return f"encode(sha256(('bulk-event-' || r.id || '-' || {sequence})::bytea), 'hex')"

    for sequence, action, from_status, to_status, role, condition in plan:
        insert_select(
            cursor,
            ReportEvent,
            {
                "report_id": "r.id",
                "sequence": str(sequence),
                "previous_hash": f"'{GENESIS_HASH}'" if sequence == 1 else placeholder_hash(sequence - 1),
                "hash": placeholder_hash(sequence),
                "created_at": f"r.created_at + interval '{sequence} hours'",
                "actor_role": f"'{role}'",
                "action": f"'{action}'",
                "from_status": f"'{from_status}'",
                "to_status": f"'{to_status}'",
            },
            f"reports_report r WHERE {stored} AND {condition}",
        )


def bulk_assignments(cursor: Any, stored: str, coordinator: int) -> None:
    """The unit each forwarded report went to (its owner, for simplicity)."""
    from lapor.reports.models import ReportAssignment

    insert_select(
        cursor,
        ReportAssignment,
        {
            "report_id": "r.id",
            "unit_id": "r.owner_id",
            "assigned_by_id": str(int(coordinator)),
            "assigned_at": "r.created_at + interval '2 days'",
            "is_active": "TRUE",
        },
        f"reports_report r WHERE {stored} AND r.status IN ({', '.join(repr(status) for status in FORWARDED)})",
    )


def bulk_notifications(cursor: Any, stored: str) -> None:
    """The outbox row each submission left: sent long ago."""
    from lapor.notifications.models import Notification

    insert_select(
        cursor,
        Notification,
        {
            "recipient_id": "r.reporter_id",
            "audience": "'reporter'",
            "channel": "'email'",
            "address": "CASE WHEN r.reporter_id IS NULL THEN 'tamu@bulk.example.id' ELSE 'pelapor@bulk.example.id' END",
            "subject": "'Laporan ' || r.tracking_id || ' diterima'",
            "body": "'Laporan Anda sudah kami terima.'",
            "dedupe_key": "'event:' || e.id || ':reporter:email'",
            "report_id": "r.id",
            "event_id": "e.id",
            "status": "'sent'",
            "attempts": "1",
            "next_attempt_at": "e.created_at",
            "created_at": "e.created_at",
            "sent_at": "e.created_at + interval '1 minute'",
        },
        f"reports_reportevent e JOIN reports_report r ON r.id = e.report_id WHERE {stored} AND e.sequence = 1",
    )


def vacuum_analyze() -> None:
    """What autovacuum would have done to tables this size by now (VACUUM needs autocommit); then a
    checkpoint, so that writing out the gigabytes just loaded does not fall into the first round."""
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"],
        host=database["HOST"],
        port=database["PORT"] or None,
        password=database["PASSWORD"] or None,
        autocommit=True,
    ) as connection:
        connection.execute(f"VACUUM (ANALYZE) accounts_user, {', '.join(table_names())}")
        connection.execute("CHECKPOINT")


# --- plans ------------------------------------------------------------------------------------------


def explain_hot_queries(world: World) -> list[tuple[str, str, str]]:
    """Run one lifecycle and EXPLAIN (ANALYZE, BUFFERS) each hot kind of query exactly as the services
    send it, in place (inside a savepoint rolled back before the real query runs); the plan of the
    last one of each kind is kept (the later in a lifecycle, the more rows of the report there are)."""
    from django.db import connection

    patterns = [(label, re.compile(pattern, re.DOTALL)) for label, pattern in HOT_QUERIES]
    plans: dict[str, tuple[str, str]] = {}

    def explain(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        label = next((label for label, pattern in patterns if pattern.search(sql)), None)
        if label is not None and not many:
            inside = connection.in_atomic_block
            cursor = context["cursor"].cursor  # the driver's own: Django's would call this wrapper again
            if inside:
                cursor.execute("SAVEPOINT bench_explain")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if inside:
                cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
            plans[label] = (sql, plan)
        return execute(sql, params, many, context)

    actors = load_actors(world)
    timings: dict[str, list[float]] = defaultdict(list)
    with connection.execute_wrapper(explain):
        lifecycle(world, actors, "bench-explain", 30_000_000, timings)
    found = [(label, *plans[label]) for label, _pattern in HOT_QUERIES if label in plans]
    return found + explain_sweeps()


def explain_sweeps() -> list[tuple[str, str, str]]:
    """The timers' sweep (every minute, in every worker) reads the running clocks: its queries too."""
    from django.utils import timezone

    from lapor.reports import timers

    now = timezone.now()
    sweeps = {
        "sweep: clocks to warn": timers.overdue_warnings(now),
        "sweep: clocks to escalate": timers.overdue_escalations(now),
        "sweep: requests for details": timers.open_information_requests(now),
        "sweep: reply windows passed": timers.overdue_reply_windows(now),
    }
    found = []
    for label, queryset in sweeps.items():
        ids = queryset.order_by().values_list("pk", flat=True)  # as timers._ids_in_batches reads them
        found.append((label, str(ids.query), ids.explain(analyze=True, buffers=True, costs=False)))
    return found


def query_counts(world: World) -> dict[str, int]:
    """How many queries each step of one lifecycle sends."""
    from django.db import connection

    counts: dict[str, int] = defaultdict(int)
    current = [""]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counts[current[0]] += 1
        return execute(sql, params, many, context)

    def before_step(name: str) -> None:
        current[0] = name

    actors = load_actors(world)
    with connection.execute_wrapper(count):
        lifecycle(world, actors, "bench-count", 40_000_000, defaultdict(list), before_step=before_step)
    return {name: counts[name] for name in STEPS}


# --- the run ----------------------------------------------------------------------------------------


def run(*, reports: int, lifecycles: int, rounds: int, workers: int) -> None:
    import django

    django.setup()
    from django.test.utils import override_settings

    from lapor.reports.models import Report

    # The production task backend: timers and deliveries are rows in the database, as in production
    # (the test settings run tasks immediately instead).
    override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}).enable()
    worlds = {BENCH_DATABASE: set_up()}
    use_database(EMPTY_DATABASE)
    worlds[EMPTY_DATABASE] = set_up(describe=False)
    counts = query_counts(worlds[EMPTY_DATABASE])
    print(
        "queries per step: " + "  ".join(f"{name} {counts[name]}" for name in STEPS), f"(total {sum(counts.values())})"
    )

    use_database(BENCH_DATABASE)
    print(f"\nbulk load of {reports:,} reports into {BENCH_DATABASE}:")
    started = time.perf_counter()
    parts = bulk_load(worlds[BENCH_DATABASE], reports)
    load_seconds = time.perf_counter() - started
    print("  " + ", ".join(f"{name} {value:.1f} s" for name, value in parts.items()) + f"; total {load_seconds:.1f} s")
    print("  " + table_sizes())
    stored = Report.objects.count()

    # The two databases take turns, so that a change in the load of the machine (shared, noisy) falls
    # on both figures alike; the ratio is what this benchmark is about.
    print(f"\n{lifecycles} lifecycles on each database in {rounds} alternating rounds, {workers} worker processes:")
    results: dict[str, list[Measurement]] = {EMPTY_DATABASE: [], BENCH_DATABASE: []}
    shares = [lifecycles // rounds + (1 if index < lifecycles % rounds else 0) for index in range(rounds)]
    for number, share in enumerate(shares, start=1):
        line: dict[str, float] = {}
        # Each round swaps which database goes first, so that neither always follows the other.
        order = (EMPTY_DATABASE, BENCH_DATABASE) if number % 2 else (BENCH_DATABASE, EMPTY_DATABASE)
        for name in order:
            use_database(name)
            measurement = measure(worlds[name], label=f"{name}-{number}", lifecycles=share, workers=workers)
            results[name].append(measurement)
            line[name] = measurement.rate
        print(
            f"  round {number}: empty {line[EMPTY_DATABASE]:6.1f}/s, {stored:,} reports {line[BENCH_DATABASE]:6.1f}/s"
            f"  (ratio {line[BENCH_DATABASE] / line[EMPTY_DATABASE]:.2f})"
        )
    empty, full = (combine(results[name]) for name in (EMPTY_DATABASE, BENCH_DATABASE))
    ratio = full.rate / empty.rate
    print(f"  empty table:        {empty.rate:6.1f} lifecycles/s   mean ms per step: {step_means(empty.timings)}")
    print(f"  {stored:>9,} reports: {full.rate:6.1f} lifecycles/s   mean ms per step: {step_means(full.timings)}")
    for title, measurement in (("empty table", empty), (f"{stored:,} reports", full)):
        python = measurement.python_cpu / measurement.lifecycles
        postgres = (measurement.postgres_cpu or 0.0) / measurement.lifecycles
        cores = os.cpu_count() or 1
        print(
            f"  CPU per lifecycle, {title}: {python * 1000:.0f} ms Python + "
            + (f"{postgres * 1000:.0f} ms PostgreSQL" if measurement.postgres_cpu is not None else "? PostgreSQL")
            + f": {cores / (python + postgres):.0f} lifecycles/s if {cores} cores did nothing else"
        )
    print(
        f"\nlifecycles/s: empty {empty.rate:.1f}, at {stored:,} reports {full.rate:.1f}; ratio {ratio:.2f} "
        f"(DIGIT PGR, 16 vCPU: {DIGIT_EMPTY} and {DIGIT_MILLION}, ratio {DIGIT_MILLION / DIGIT_EMPTY:.2f}); "
        f"bulk load {load_seconds:.0f} s"
    )

    use_database(BENCH_DATABASE)
    print(
        f"\nquery plans among {Report.objects.count():,} reports (EXPLAIN ANALYZE, BUFFERS, as the services send them):"
    )
    for label, sql, plan in explain_hot_queries(worlds[BENCH_DATABASE]):
        print(f"\n-- {label}: {shorten(sql)}")
        print("\n".join("   " + line for line in plan.splitlines()))


def combine(measurements: Sequence[Measurement]) -> Measurement:
    timings: dict[str, list[float]] = defaultdict(list)
    for measurement in measurements:
        for name, values in measurement.timings.items():
            timings[name].extend(values)
    postgres = [measurement.postgres_cpu for measurement in measurements]
    return Measurement(
        sum(measurement.lifecycles for measurement in measurements),
        sum(measurement.seconds for measurement in measurements),
        dict(timings),
        python_cpu=sum(measurement.python_cpu for measurement in measurements),
        postgres_cpu=None if None in postgres else sum(value or 0.0 for value in postgres),
    )


def shorten(sql: str, limit: int = 220) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= limit else sql[: limit - 3] + "..."


def table_sizes() -> str:
    from django.db import connection

    parts = []
    with connection.cursor() as cursor:
        for table in table_names():
            cursor.execute(
                "SELECT reltuples::bigint, pg_total_relation_size(oid) FROM pg_class WHERE relname = %s", [table]
            )
            row = cursor.fetchone()
            if row:
                parts.append(f"{table} {row[0]:,} rows {row[1] / 2**20:,.0f} MB")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
