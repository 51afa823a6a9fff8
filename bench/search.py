"""Benchmark of full-text search: the public feed's and the console's, among REPORTS stored reports.

Builds the report tests' small world (tests/reports/conftest.py) with forty villages in two regencies
and a tree of categories, then loads REPORTS reports straight into the table with one
INSERT ... SELECT FROM generate_series (PostgreSQL) or bulk_create (SQLite): Indonesian titles and
bodies drawn from a vocabulary whose first words are the most frequent (a skewed draw, as in real
complaints: "jalan" is in most reports), RARE_WORDS each in about one report in RARE_EVERY * 10, a
word that only confidential reports use (so that the public search finds nothing however often
the planner's statistics see it), a status mix of which four in five are published, and one report
in twenty confidential. Then ANALYZE, and each query kind is timed ROUNDS times through the
selectors themselves (`public_feed` with its "about N results", `inbox_page` for the national admin,
who may see every report): p50 and p99 in milliseconds, then EXPLAIN (ANALYZE, BUFFERS) of each
query the kind sends.

    .venv/bin/python bench/search.py                                     # SQLite, 20,000 reports
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/search.py
    DATABASE_URL=... .venv/bin/python bench/search.py --reports 1000000 --rounds 50   # national scale

Runs on a throwaway database (lapor_bench_search on the server of DATABASE_URL, or a temporary
SQLite file), dropped at the end; ``--keep NAME`` loads into the PostgreSQL database NAME instead and
keeps it, reusing its reports on the next run (to compare code changes over one load).
Exits 1 when a p99 of a PostgreSQL run is over LIMIT_MS.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _harness import REPOSITORY, run_in_throwaway_database
from lifecycle import insert_select

BENCH_DATABASE = "lapor_bench_search"
DEFAULT_REPORTS = 20_000
DEFAULT_ROUNDS = 30
LIMIT_MS = 100.0
BATCH = 5000
# The first words are drawn most often (see `word_sql`): "jalan" is in most reports, the last ones in few.
VOCABULARY = (
    "jalan", "rusak", "warga", "mohon", "segera", "lampu", "mati", "sampah", "berlubang", "banjir", "air",
    "pelayanan", "petugas", "kelurahan", "sekolah", "puskesmas", "pasar", "listrik", "macet", "parkir",
    "trotoar", "drainase", "selokan", "bau", "asap", "limbah", "sungai", "jembatan", "retak", "guru",
    "bantuan", "sosial", "beras", "kartu", "kecamatan", "antrean", "lama", "pungutan", "biaya", "izin",
    "bangunan", "pohon", "tumbang", "kabel", "jaringan", "internet", "sinyal", "pompa", "pipa", "bocor",
    "tagihan", "kasar", "terminal", "angkot", "taman", "gelap", "liar", "pabrik", "tumpukan", "genangan",
    "perbaikan", "aspal", "gorong", "posyandu", "imunisasi", "vaksin", "kependudukan", "ktp", "akta",
    "sertifikat", "tanah", "pajak", "retribusi", "pedagang", "kaki", "lima", "trayek", "halte", "rambu",
    "zebra", "kemacetan", "polusi", "kebisingan", "hiburan", "malam", "preman", "pencurian", "keamanan",
)  # fmt: skip
RARE_WORDS = ("longsor", "ambruk", "kebakaran", "tawuran", "keracunan", "wabah", "gempa", "angin", "puting", "beliung")
RARE_EVERY = 2000  # report n carries a rare word when n % RARE_EVERY == 7
CONFIDENTIAL_ONLY_WORD = "sengketa"  # only in confidential reports: no public match
DISTRICTS = ("36.74.01", "36.74.02", "36.74.03", "36.74.04", "36.03.01", "36.03.02", "36.03.03", "36.03.04")
VILLAGES_PER_DISTRICT = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=DEFAULT_REPORTS, help=f"reports stored ({DEFAULT_REPORTS:,})")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help=f"calls of each kind ({DEFAULT_ROUNDS})")
    parser.add_argument("--keep", default="", help="load into this PostgreSQL database and keep it")
    parser.add_argument("--no-explain", action="store_true", help="skip the plans")
    args = parser.parse_args()
    worst: list[float] = []

    def go() -> None:
        worst.append(run(args.reports, max(1, args.rounds), explain=not args.no_explain))

    if args.keep:
        keep(args.keep, go)
    else:
        run_in_throwaway_database(BENCH_DATABASE, go)
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and worst and worst[0] > LIMIT_MS:
        print(f"\nFAIL: the slowest p99 is {worst[0]:.1f} ms, over {LIMIT_MS:.0f} ms", file=sys.stderr)
        return 1
    return 0


def keep(name: str, go: Callable[[], None]) -> None:
    """Run ``go`` on the PostgreSQL database ``name`` of DATABASE_URL's server, created when missing."""
    import psycopg

    sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "src")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--keep needs DATABASE_URL to name a PostgreSQL server")
    with psycopg.connect(server, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name
    go()


# --- the load ---------------------------------------------------------------------------------------


def set_up_world() -> Any:
    from tests.reports.conftest import build_world

    from lapor.institutions.models import Category
    from lapor.institutions.services import category_create
    from lapor.regions.choices import RegionKind, RegionLevel
    from lapor.regions.models import Region
    from lapor.reports.models import Report

    if Report.objects.exists():
        return None
    world = build_world()
    rows = []
    for district in DISTRICTS:
        if not Region.objects.filter(code=district).exists():
            rows.append(
                Region(
                    code=district,
                    parent_id=district.rsplit(".", 1)[0],
                    level=RegionLevel.DISTRICT,
                    kind=RegionKind.DISTRICT,
                    name=f"Kecamatan {district}",
                )
            )
        for number in range(1, VILLAGES_PER_DISTRICT + 1):
            code = f"{district}.{2000 + number}"
            rows.append(
                Region(
                    code=code,
                    parent_id=district,
                    level=RegionLevel.VILLAGE,
                    kind=RegionKind.URBAN_VILLAGE,
                    name=f"Kelurahan {code}",
                )
            )
    Region.objects.bulk_create(rows)
    for parent_code, children in (
        ("infrastruktur", ("jalan-jembatan", "penerangan", "drainase")),
        ("lingkungan", ("sampah", "polusi")),
        ("layanan", ("kependudukan", "kesehatan", "pendidikan")),
    ):
        parent = category_create(code=parent_code, name=parent_code.capitalize())
        for code in children:
            category_create(code=code, name=code.capitalize(), parent=parent)
    assert Category.objects.count() == 11
    return world


def word_sql(vocabulary: str, size: int) -> str:
    """One word of the vocabulary array ``vocabulary`` (SQL), the first ones the most often: the index
    is size * u**3 for a uniform u, so the first word is drawn in about a fifth of the draws."""
    return f"{vocabulary}[1 + floor(power(random(), 3) * {size})::int]"


def load_postgresql(count: int) -> None:
    from django.db import connection

    from lapor.institutions.models import Category, Institution
    from lapor.regions.models import Region
    from lapor.reports.models import Report

    villages = list(Region.objects.filter(level=4).order_by("code").values_list("code", flat=True))
    categories = list(Category.objects.filter(parent__isnull=False).order_by("pk").values_list("pk", flat=True))
    national = Institution.objects.get(code="nasional").pk
    owners = list(Institution.objects.exclude(code__in=["nasional", "ombudsman"]).values_list("pk", flat=True))
    vocabulary, size = "(%s::text[])", len(VOCABULARY)
    word = word_sql(vocabulary, size)
    title = f"initcap({word}) || ' ' || {word} || ' ' || {word}"
    body = (
        f"array_to_string(ARRAY(SELECT {word} FROM generate_series(1, 20 + r.n % 15)), ' ')"
        f" || CASE WHEN r.n % {RARE_EVERY} = 7"
        f" THEN ' ' || (%s::text[])[1 + (r.n / {RARE_EVERY}) % {len(RARE_WORDS)}] ELSE '' END"
        f" || CASE WHEN r.n % 20 = 3 AND r.n % 80 < 40 THEN ' {CONFIDENTIAL_ONLY_WORD}' ELSE '' END"
    )
    status = (
        "(ARRAY['submitted', 'archived', 'closed', 'closed', 'closed', 'in_progress', 'in_progress', "
        "'dispatched', 'completed', 'closed'])[1 + (r.n * 7) % 10]"
    )
    published = "(r.n * 7) % 10 >= 2"
    expressions = {
        "tracking_id": "'S' || lpad(upper(to_hex(r.n)), 11, '0')",
        "title": "r.title",
        "body": "r.body",
        "public_title": "r.title",
        "public_body": "r.body",
        "incident_date": "(r.created - interval '2 days')::date",
        "category_id": f"(%s::bigint[])[1 + (r.n * 13) % {len(categories)}]",
        "village_id": f"(%s::text[])[1 + (r.n * 31) % {len(villages)}]",
        "is_anonymous": "r.n % 10 = 1",
        "is_confidential": "r.n % 20 = 3",
        "status": "r.status",
        "owner_id": f"CASE WHEN {published} THEN (%s::bigint[])[1 + (r.n * 7919) % {len(owners)}] ELSE {national} END",
        "guest_name": "'Warga ' || r.n",
        "support_count": "(r.n * 37) % 50",
        "created_at": "r.created",
        "updated_at": "r.created",
        "dispatched_at": f"CASE WHEN {published} THEN r.created + interval '1 day' END",
    }
    source = f"""(
        SELECT r.n, {title} AS title, {body} AS body, {status} AS status,
               now() - make_interval(secs => (%s - r.n) * 90.0) AS created
        FROM generate_series(1, %s::bigint) AS r (n)
    ) AS r"""
    # The title's three draws and the body's, then the rare words, the count twice.
    source_params = [*[list(VOCABULARY)] * 4, list(RARE_WORDS), count, count]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.1708)")
        insert_select(
            cursor,
            Report,
            expressions,
            source,
            arrays={"category_id": categories, "village_id": villages, "owner_id": owners},
            source_params=source_params,
        )


def load_sqlite(count: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from lapor.institutions.models import Category, Institution
    from lapor.regions.models import Region
    from lapor.reports.models import Report

    rng = random.Random(1708)
    villages = list(Region.objects.filter(level=4).order_by("code").values_list("code", flat=True))
    categories = list(Category.objects.filter(parent__isnull=False).order_by("pk"))
    national = Institution.objects.get(code="nasional")
    owners = list(Institution.objects.exclude(code__in=["nasional", "ombudsman"]))
    statuses = ["submitted", "archived", "closed", "closed", "closed", "in_progress", "in_progress"]
    statuses += ["dispatched", "completed", "closed"]
    now = timezone.now()

    def word() -> str:
        return VOCABULARY[int(rng.random() ** 3 * len(VOCABULARY))]

    for first in range(1, count + 1, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, count + 1)):
            title = f"{word().capitalize()} {word()} {word()}"
            body = " ".join(word() for _ in range(20 + n % 15))
            if n % RARE_EVERY == 7:
                body += " " + RARE_WORDS[(n // RARE_EVERY) % len(RARE_WORDS)]
            if n % 20 == 3 and n % 80 < 40:
                body += " " + CONFIDENTIAL_ONLY_WORD
            status = statuses[(n * 7) % 10]
            published = (n * 7) % 10 >= 2
            created = now - timedelta(seconds=(count - n) * 90)
            rows.append(
                Report(
                    tracking_id=f"S{n:011X}",
                    title=title,
                    body=body,
                    public_title=title,
                    public_body=body,
                    incident_date=(created - timedelta(days=2)).date(),
                    category=categories[(n * 13) % len(categories)],
                    village_id=villages[(n * 31) % len(villages)],
                    is_anonymous=n % 10 == 1,
                    is_confidential=n % 20 == 3,
                    status=status,
                    owner=owners[(n * 7919) % len(owners)] if published else national,
                    guest_name=f"Warga {n}",
                    support_count=(n * 37) % 50,
                    created_at=created,
                    updated_at=created,
                    dispatched_at=created + timedelta(days=1) if published else None,
                )
            )
        Report.objects.bulk_create(rows)


# --- the measurement --------------------------------------------------------------------------------


def query_kinds(world: Any) -> dict[str, Callable[[], Any]]:
    """Each kind of search, as the portal's feed view and the console's inbox call the selectors."""
    from lapor.institutions.models import Category
    from lapor.reports import selectors

    category = Category.objects.get(code="infrastruktur")
    admin = world.national_admin
    count = getattr(selectors, "public_search_count", None)

    # What the portal and the console show for a search unless another order is chosen.
    public_sort = getattr(selectors.FeedSort, "RELEVANCE", selectors.FeedSort.NEWEST)
    inbox_sort = getattr(selectors.InboxSort, "RELEVANCE", selectors.InboxSort.DEADLINE)

    def public(**filters: Any) -> Callable[[], Any]:
        chosen = selectors.FeedFilters(**filters)

        def call() -> Any:
            page = selectors.public_feed(None, chosen, public_sort)
            # The feed page shows "about N results" with the first page of a search.
            return (page, count(None, chosen)) if count is not None else page

        return call

    def console(text: str) -> Callable[[], Any]:
        def call() -> Any:
            inbox = selectors.staff_inbox(admin)
            page = selectors.inbox_page(inbox, selectors.InboxQueue.ALL, selectors.InboxFilters(text=text), inbox_sort)
            inbox_count = getattr(selectors, "inbox_search_count", None)
            if inbox_count is not None:
                return page, inbox_count(inbox, selectors.InboxQueue.ALL, selectors.InboxFilters(text=text))
            return page

        return call

    return {
        "public: common word": public(text="jalan"),
        "public: rare word": public(text=RARE_WORDS[0]),
        "public: no public match": public(text=CONFIDENTIAL_ONLY_WORD),
        "public: two words": public(text="lampu mati"),
        "public: region + common word": public(text="jalan", region_code="36.74.01"),
        "public: category + two words": public(text="sampah banjir", category=category),
        "console: common word": console("jalan"),
        "console: rare word": console(RARE_WORDS[0]),
        "console: two words": console("lampu mati"),
    }


def measure(kinds: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Milliseconds of each call, the kinds interleaved round by round (a busy moment falls on all)."""
    timings: dict[str, list[float]] = {name: [] for name in kinds}
    for call in kinds.values():
        call()  # warm: the process's caches, the database's buffers
    for _round in range(rounds):
        for name, call in kinds.items():
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def explain(call: Callable[[], Any]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every query ``call`` sends (PostgreSQL)."""
    from django.db import connection

    captured: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    plans = []
    with connection.cursor() as cursor:
        for sql, params in captured:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def run(reports: int, rounds: int, *, explain_plans: bool = True, **options: Any) -> float:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from lapor.accounts.models import User
    from lapor.reports.models import Report

    explain_plans = options.get("explain", explain_plans)
    call_command("migrate", verbosity=0)
    postgresql = connection.vendor == "postgresql"
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    with transaction.atomic():
        fresh = set_up_world() is not None
        if fresh:
            (load_postgresql if postgresql else load_sqlite)(reports)
    if fresh:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"loaded {Report.objects.count():,} reports in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {Report.objects.count():,} stored reports")

    class World:
        national_admin = User.objects.get(email="nasional@example.id")

    kinds = query_kinds(World)
    timings = measure(kinds, rounds)
    print(f"\n{'query kind':<34} {'p50 ms':>8} {'p99 ms':>8}  results")
    worst = 0.0
    for name, values in timings.items():
        result = kinds[name]()
        shown = describe(result)
        p99 = percentile(values, 0.99)
        worst = max(worst, p99)
        print(f"{name:<34} {statistics.median(values):8.1f} {p99:8.1f}  {shown}")
    if postgresql and explain_plans:
        for name, call in kinds.items():
            print(f"\n== {name}")
            for plan in explain(call):
                print(plan, end="\n\n")
    return worst


def describe(result: Any) -> str:
    page, count = result if isinstance(result, tuple) else (result, None)
    shown = len(getattr(page, "reports", None) or getattr(page, "rows", None) or [])
    text = f"{shown} on the first page"
    if count is not None:
        text += f", {count}"
    return text


if __name__ == "__main__":
    sys.exit(main())
