"""Where each page's time goes: the HTTP benchmark's flows (bench/web.py), run in this process through
Lapor's WSGI application with its production settings, each request under cProfile and a query counter.

The very functions of bench/web.py play the citizen (the whole filing flow, with its region lists and
proof-of-work) and the readers (home, feed, searches, a report, tracking, the reporter's page, the
coordinator's console inbox and workspace); only their browser is swapped for one that calls the WSGI
application directly instead of opening a connection. So the figures are the server's own: CPU and
wall time of each request, its SQL statements, and the functions that take the time.

PostgreSQL only, like bench/web.py (DATABASE_URL names the server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/profile_pages.py
    ... --repeat 30 --top 30 --only details,send           # more requests, more functions, two steps
    ... --keep lapor_profile --reports 1000000             # loaded once into a kept database, reused after
    ... --sql send                                         # every statement of one request of a step
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
PROFILE_DATABASE = "lapor_profile_pages"
KEPT_DATABASE_KEY = "bench/profile_pages.py kept database"
FILING_STEPS = ("form", "regions", "details", "send", "acknowledgement")


class Recorder:
    """Per step: CPU and wall seconds, statement counts, one cProfile, and the statements of one request."""

    def __init__(self, *, sql_step: str) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.wall: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.profiles: dict[str, cProfile.Profile] = {}
        self.sql_step = sql_step
        self.sql: list[str] = []
        self.step = ""
        self.profiling = False

    @contextmanager
    def measure(self, step: str) -> Iterator[None]:
        from django.db import connection

        statements: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append(sql)
            return execute(sql, params, many, context)

        profile = self.profiles.setdefault(step, cProfile.Profile()) if self.profiling else None
        with connection.execute_wrapper(count):
            cpu, wall = time.process_time(), time.perf_counter()
            if profile is not None:
                profile.enable()
            try:
                yield
            finally:
                if profile is not None:
                    profile.disable()
                self.cpu[step].append(time.process_time() - cpu)
                self.wall[step].append(time.perf_counter() - wall)
                self.queries[step].append(len(statements))
                if step == self.sql_step and not self.sql:
                    self.sql = statements


def step_of(method: str, path: str, form: dict[str, str] | None, reading: str) -> str:
    if reading:
        return reading
    if path.startswith("/buat/"):
        if method == "GET":
            return "form"
        return "send" if form and "pow_nonce" in form else "details"
    if path.startswith("/wilayah/"):
        return "regions"
    if "/pelapor/" in path:
        return "acknowledgement"
    return "other"


def in_process_browser(web: Any, recorder: Recorder, state: dict[str, str]) -> type:
    """bench/web.py's Browser, answering through the WSGI application in this process."""
    from django.core.handlers.wsgi import WSGIHandler

    application = WSGIHandler()

    class InProcessBrowser(web.Browser):
        def request(
            self, method: str, path: str, *, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
        ) -> tuple[int, str, str]:
            split = urllib.parse.urlsplit(path)
            body = urllib.parse.urlencode(form).encode() if form is not None else b""
            environ: dict[str, Any] = {
                "REQUEST_METHOD": method,
                "PATH_INFO": urllib.parse.unquote(split.path),
                "QUERY_STRING": split.query,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": str(self.port),
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": f"127.0.0.1:{self.port}",
                "HTTP_USER_AGENT": "Mozilla/5.0 (Linux; Android 13) lapor-profile",
                "HTTP_ACCEPT": "text/html,application/xhtml+xml",
                "HTTP_ACCEPT_LANGUAGE": "id",
                "HTTP_X_FORWARDED_FOR": self.address,
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                "wsgi.version": (1, 0),
                "wsgi.multithread": False,
                "wsgi.multiprocess": True,
                "wsgi.run_once": False,
                "CONTENT_LENGTH": str(len(body)),
            }
            if form is not None:
                environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
                environ["HTTP_ORIGIN"] = f"http://127.0.0.1:{self.port}"
                environ["HTTP_REFERER"] = f"http://127.0.0.1:{self.port}{path}"
            for name, value in (headers or {}).items():
                environ["HTTP_" + name.upper().replace("-", "_")] = value
            if self.cookies:
                environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            started: dict[str, Any] = {}

            def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                started["status"], started["headers"] = int(status.split(maxsplit=1)[0]), response_headers
                return lambda _data: None

            with recorder.measure(step_of(method, path, form, state.get("reading", ""))):
                response = application(environ, start_response)
                try:
                    text = b"".join(response).decode("utf-8", "replace")
                finally:
                    close = getattr(response, "close", None)
                    if close is not None:
                        close()
            location = ""
            for name, value in started["headers"]:
                if name.lower() == "set-cookie":
                    cookie_name, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if cookie_value in ("", '""') or "max-age=0" in value.lower():
                        self.cookies.pop(cookie_name.strip(), None)
                    else:
                        self.cookies[cookie_name.strip()] = cookie_value
                elif name.lower() == "location":
                    location = value
            return started["status"], location, text

    return InProcessBrowser


def reencrypt_contacts() -> None:
    """Guests' contacts that this run's key cannot read (a database loaded with another key, e.g. by an
    earlier version of this script) are replaced by one contact encrypted with it, as the loader writes."""
    from django.db import connection

    from lapor.core.crypto import decrypt_text, encrypt_text
    from lapor.reports.models import Report

    sample = Report.objects.exclude(guest_email_ciphertext="").values_list("guest_email_ciphertext", flat=True).first()
    try:
        if sample:
            decrypt_text(sample)
    except ValueError:
        print("re-encrypting guests' contacts with this script's key for kept databases")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE reports_report SET guest_email_ciphertext = %s WHERE guest_email_ciphertext <> ''",
                [encrypt_text("tamu@bulk.example.id")],
            )
            cursor.execute(
                "UPDATE reports_report SET guest_phone_ciphertext = %s WHERE guest_phone_ciphertext <> ''",
                [encrypt_text("+6281200000000")],
            )


def world_spec(web: Any, world: Any, address: str, cookies: dict[str, str]) -> dict[str, Any]:
    return {
        "port": web.LAPOR_PORT,
        "public_reports": world.public_reports,
        "console_report": world.console_report,
        "console_address": address,
        "console_cookies": cookies,
    }


def run(args: argparse.Namespace, server_url: str) -> None:
    # This checkout's code, whatever the virtualenv was installed from (a run from another worktree).
    sys.path[:0] = [str(REPOSITORY / "bench" / "http_lapor"), str(REPOSITORY / "src")]
    from cryptography.fernet import Fernet

    from lapor.core.crypto import derive_fernet_key
    from web import bench_script  # bench/web.py, beside this script

    web = bench_script("web")
    data_dir = Path(tempfile.mkdtemp(prefix="lapor-profile-"))
    # A kept database outlives this run: its contacts are encrypted with a key every run derives alike.
    key = derive_fernet_key(KEPT_DATABASE_KEY) if args.keep else Fernet.generate_key().decode()
    environment = web.lapor_environment(server_url, data_dir, secrets.token_urlsafe(48), key)
    environment["DATABASE_URL"] = server_url.rsplit("/", 1)[0] + "/" + args.database
    os.environ.update({key: value for key, value in environment.items() if key != "PYTHONPATH"})
    import django

    django.setup()
    from django.core.management import call_command

    from lapor.reports.models import Report

    call_command("collectstatic", interactive=False, verbosity=0)
    from django.db import connection

    if "reports_report" in connection.introspection.table_names() and Report.objects.exists():
        call_command("migrate", verbosity=0)
        reencrypt_contacts()
        world = web.describe_world(web.lifecycle_module().existing_world())
        print(f"reusing {args.database}: {Report.objects.count():,} reports")
    else:
        world = web.set_up_lapor(args.reports)
    recorder = Recorder(sql_step=args.sql)
    unprofiled = play(args, web, world, recorder)
    print_report(args, web, recorder, unprofiled)
    if not args.keep:
        from django.db import connections

        connections.close_all()


def play(args: argparse.Namespace, web: Any, world: Any, recorder: Recorder) -> dict[str, list[float]]:
    """Two passes of the flows: the first warms the caches and measures, the second profiles."""
    state: dict[str, str] = {}
    web.Browser = in_process_browser(web, recorder, state)
    address, cookies = web.console_sign_in(world)
    spec = world_spec(web, world, address, cookies)
    only = set(args.only.split(",")) if args.only else set()
    reads = [name for name in web.READ_PATHS if not only or name in only]
    rng = random.Random(7)
    unprofiled: dict[str, list[float]] = {}
    for profiling in (False, True):
        recorder.profiling = profiling
        if profiling:
            unprofiled = {step: list(values) for step, values in recorder.cpu.items()}
            recorder.cpu.clear()
            recorder.wall.clear()
            recorder.queries.clear()
        for number in range(args.repeat):
            state["reading"] = ""
            browser = web.lapor_filing(web.LAPOR_PORT, rng, "profile", number + (10_000 if profiling else 0), {})
            for name in reads:
                state["reading"] = name
                web.read_path(name, spec, browser, rng)
    return unprofiled


def print_report(args: argparse.Namespace, web: Any, recorder: Recorder, unprofiled: dict[str, list[float]]) -> None:
    only = set(args.only.split(",")) if args.only else set()
    print(f"\n{'step':<24}{'CPU ms p50':>12}{'(profiled)':>12}{'wall ms p50':>13}{'queries':>9}")
    for step in [*FILING_STEPS, *web.READ_PATHS]:
        if step not in recorder.queries or (only and step not in only):
            continue
        print(
            f"{step:<24}{statistics.median(unprofiled[step]) * 1000:>12.1f}"
            f"{statistics.median(recorder.cpu[step]) * 1000:>12.1f}"
            f"{statistics.median(recorder.wall[step]) * 1000:>13.1f}"
            f"{statistics.median(recorder.queries[step]):>9.0f}"
        )
    if args.top:
        for step, profile in recorder.profiles.items():
            if only and step not in only:
                continue
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats(args.sort).print_stats(args.top)
            print(f"\n===== {step}: the {args.top} functions with the most {args.sort} time")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20_000])
    if recorder.sql:
        print(f"\n===== the {len(recorder.sql)} statements of one '{args.sql}' request")
        for statement in recorder.sql:
            print("  " + statement[:300])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000, help="reports bulk-loaded (1,000)")
    parser.add_argument("--repeat", type=int, default=20, help="filing flows and rounds of reads (20)")
    parser.add_argument("--top", type=int, default=25, help="functions printed per step (25; 0: none)")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime (cumulative)")
    parser.add_argument("--only", default="", help="steps, comma-separated (form, details, ...)")
    parser.add_argument("--sql", default="", help="print the statements of one request of this step")
    parser.add_argument("--keep", default="", help="load into this database once and reuse it on later runs")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must name a PostgreSQL server", file=sys.stderr)
        return 2
    import psycopg

    args.database = args.keep or PROFILE_DATABASE
    with psycopg.connect(server_url, autocommit=True) as connection:
        if not args.keep:
            connection.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{args.database}"')
    try:
        run(args, server_url)
    finally:
        if not args.keep:
            with psycopg.connect(server_url, autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
