"""What every benchmark shares: Django set up on the test settings, in a throwaway database.

A benchmark runs on a temporary SQLite file, or, when DATABASE_URL points at PostgreSQL, on a
database of its own on that server, created before and dropped after (also when the run fails).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SHIPPED_REGIONS = REPOSITORY / "src" / "lapor" / "regions" / "data" / "wilayah"


def run_in_throwaway_database(database_name: str, run: Callable[[], None]) -> None:
    sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "src")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        with postgres_database(database_url, database_name) as bench_url:
            os.environ["DATABASE_URL"] = bench_url
            run()
    else:
        os.environ["DATABASE_URL"] = ""
        with tempfile.TemporaryDirectory(prefix=f"{database_name}-") as directory:
            os.environ["LAPOR_DATA_DIR"] = directory
            run()


@contextmanager
def postgres_database(server_url: str, database_name: str) -> Iterator[str]:
    import psycopg

    def execute(statement: str) -> None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(statement)

    # A run that was killed may have left the database behind.
    execute(f"DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")
    execute(f"CREATE DATABASE {database_name}")
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + database_name
    finally:
        from django.db import connections

        connections.close_all()
        execute(f"DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")
