"""The task worker's CPU per filing: files N guest reports through report_submit into a loaded database
(no worker running), then runs `lapor worker --batch` (one round of the sweeps, then every waiting task,
then exit) with production settings, and prints the worker's CPU and its PostgreSQL backends' CPU, read
from /proc, as bench/web.py counts them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/worker_cpu.py \\
        --database lapor_1m_copy --filings 500 [--waiting 30000]

Use a copy made for the run (CREATE DATABASE ... TEMPLATE ...): the filings stay in it. ``--waiting``
adds that many deferred tasks due tomorrow before the worker starts, as a deployment has them (each
filing's clocks enqueue their timer tasks days ahead). The fixed cost (start-up, the sweeps) is
measured with ``--filings 0``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
ROLE = "lapor-worker-cpu"


def process_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def file_reports(count: int) -> None:
    from django.utils import timezone

    from lapor.institutions.models import Category
    from lapor.regions.choices import RegionLevel
    from lapor.regions.models import Region
    from lapor.reports.services import report_submit

    categories = list(Category.objects.filter(is_active=True)[:20])
    villages = list(Region.objects.filter(level=RegionLevel.VILLAGE).values_list("code", flat=True)[:200])
    marker = uuid.uuid4().hex[:8]
    for number in range(count):
        report_submit(
            title=f"Lampu PJU mati di Jl. Raya Serpong nomor {number}",
            body="Sudah seminggu lampu penerangan jalan di depan pasar mati; malam hari jalan gelap dan rawan.",
            incident_date=timezone.localdate() - timedelta(days=2),
            guest_name="Warga",
            guest_email=f"warga.{marker}.{number}@bench.example.id",
            category=categories[number % len(categories)] if categories else None,
            village_code=villages[number % len(villages)] if villages else "",
            site_url="http://127.0.0.1:8000",
        )


def add_waiting(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_tasks_database_dbtaskresult (id, status, args_kwargs, priority, task_path, "
            "queue_name, backend_name, run_after, enqueued_at, exception_class_path, traceback, worker_ids) "
            "SELECT gen_random_uuid(), 'READY', '{\"args\": [0], \"kwargs\": {}}', 0, "
            "'lapor.reports.tasks.run_clock', 'default', 'default', "
            "now() + interval '1 day' + n * interval '1 second', now(), '', '', '[]' "
            "FROM generate_series(1, %s) AS n",
            [count],
        )
        cursor.execute("ANALYZE django_tasks_database_dbtaskresult")


def measure(database: str, server_url: str, environment: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, the worker's CPU seconds and its backends' CPU seconds of one batch run."""
    import psycopg

    seen: dict[int, float] = {}
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            while not stop.is_set():
                rows = connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s", [database, ROLE]
                ).fetchall()
                for (pid,) in rows:
                    used = process_cpu(int(pid))
                    if used is not None:
                        seen[int(pid)] = used
                time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "lapor"), "worker", "--batch", "-v", "0"],
        env={**environment, "LAPOR_BENCH_ROLE": ROLE},
    )
    _pid, _status, usage = os.wait4(worker.pid, 0)
    wall = time.monotonic() - started
    stop.set()
    watcher.join()
    return wall, usage.ru_utime + usage.ru_stime, sum(seen.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="a loaded database made for this run")
    parser.add_argument("--filings", type=int, default=500)
    parser.add_argument("--waiting", type=int, default=0, help="deferred tasks due tomorrow to add first")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must name a PostgreSQL server", file=sys.stderr)
        return 2
    from cryptography.fernet import Fernet

    sys.path.insert(0, str(REPOSITORY / "bench"))
    import web

    data_dir = Path(tempfile.mkdtemp(prefix="lapor-worker-cpu-"))
    environment = web.lapor_environment(server_url, data_dir, secrets.token_urlsafe(48), Fernet.generate_key().decode())
    environment["DATABASE_URL"] = server_url.rsplit("/", 1)[0] + "/" + args.database
    os.environ.update({key: value for key, value in environment.items() if key != "PYTHONPATH"})
    sys.path[:0] = [str(web.LAPOR_SETTINGS_DIR), str(REPOSITORY / "src")]
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    file_reports(args.filings)
    if args.waiting:
        add_waiting(args.waiting)
    connections.close_all()
    wall, worker_cpu, backend_cpu = measure(args.database, server_url, environment)
    per = max(args.filings, 1)
    print(
        f"{args.filings} filings, {args.waiting} waiting tasks: wall {wall:.2f} s; worker CPU {worker_cpu:.2f} s, "
        f"its PostgreSQL backends {backend_cpu:.2f} s ({1000 * worker_cpu / per:.1f} + {1000 * backend_cpu / per:.1f} "
        "ms per filing, fixed costs included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
