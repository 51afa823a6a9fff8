"""HTTP benchmark: what a citizen and an operator touch, measured over the web, side by side with
django-helpdesk's public form and with what PostgreSQL alone can commit.

Lapor runs as a deployment would: gunicorn with WORKERS sync workers (default 5) and `lapor worker`,
production settings (DEBUG off, lapor.settings configured through the environment; only the
proof-of-work's minimum age is waived, see bench/http_lapor/lapor_bench_settings.py), PostgreSQL with persistent
connections, and one trusted proxy (TRUSTED_PROXY_COUNT=1): every virtual citizen sends its own
address in X-Forwarded-For, so the rate limits count each citizen apart, as behind a real proxy.

A load generator in a separate process (bench/web.py generate, threads with http.client) plays:
- the filing flow as a browser does it: the form (GET /buat/), the regency, district and village lists
  (the fetches filing.js makes), step one (POST), step two with the proof-of-work solved as pow.js
  solves it (POST), the redirect to the acknowledgement page (GET); a new citizen and address each time;
- the read paths: home, feed, feed search (a common word, a rare word, a word that matches only
  confidential reports), a public report page, tracking by ID (with its redirects), the reporter's
  private page (of a report the same virtual citizen filed first), and for the city's coordinator,
  signed in with password and TOTP, the console inbox and a report's workspace;
- django-helpdesk 2.6.1 (from PyPI, in var/bench/helpdesk-venv, made when missing) under the same
  gunicorn, worker count and PostgreSQL, with persistent connections: public form, POST, ticket page;
- the ceiling: a report-shaped row INSERTed and COMMITted (durably) by plain psycopg, one connection
  per thread.

For each number of stored reports (--sizes, bulk-loaded by bench/lifecycle.py's loader), ROUNDS rounds
of SECONDS each for every kind and concurrency, interleaved (the order turns each round), so that the
changing load of a shared machine falls on all alike. CPU seconds are read from /proc/<pid>/stat of the
process trees (gunicorn master and workers, the task worker, the PostgreSQL backends of the database,
the load generator), and the machine's busy time from /proc/stat. It prints submissions/s, p50/p99 of
each step and of the whole flow, CPU per submission by process, the ratios to helpdesk and to the
ceiling, the machine's load during each round and the memory (PSS) of each stack at rest; checks that
the reports and tickets created equal the successes counted; writes everything to bench/results/.

PostgreSQL only (DATABASE_URL names the server; its databases lapor_httpbench* are created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/web.py
    ... bench/web.py --sizes 1000,1000000 --seconds 20 --rounds 3 --concurrency 8,32   # the full run
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
BENCH = REPOSITORY / "bench"
VENV_BIN = Path(sys.executable).parent
HELPDESK_DIR = BENCH / "http_helpdesk"
LAPOR_SETTINGS_DIR = BENCH / "http_lapor"
HELPDESK_VENV = REPOSITORY / "var" / "bench" / "helpdesk-venv"
HELPDESK_REQUIREMENTS = ("django-helpdesk==2.6.1", "gunicorn==27.0.1", "psycopg[binary]==3.3.9")
RESULTS = BENCH / "results"
LAPOR_DATABASE = "lapor_httpbench"
HELPDESK_DATABASE = "lapor_httpbench_helpdesk"
CEILING_DATABASE = "lapor_httpbench_ceiling"
LAPOR_PORT, HELPDESK_PORT = 18731, 18732
REQUEST_TIMEOUT_SECONDS = 300
FILING_STEPS = ("form", "regencies", "districts", "villages", "details", "send", "acknowledgement")
HELPDESK_STEPS = ("form", "submit", "ticket")
READ_PATHS = (
    "home",
    "feed",
    "search_common",
    "search_rare",
    "search_no_public_match",
    "report",
    "track",
    "reporter_page",
    "console_inbox",
    "console_report",
)
COMMON_WORD, RARE_WORD, HIDDEN_WORD = "jalan", "trotoar", "kerahasiaan"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- /proc: CPU, memory, load ------------------------------------------------------------------------------


def process_cpu(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds of ``pid`` (with ``reaped``, also of its children that have exited and been waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    return children


def tree(root: int) -> list[int]:
    children, found, stack = children_map(), [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def tree_cpu(root: int) -> float:
    return sum(process_cpu(pid, reaped=pid == root) for pid in tree(root))


def pss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total / 1024


def machine_ticks() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


# --- a small browser ---------------------------------------------------------------------------------------


class Browser:
    """Cookies, the CSRF header and X-Forwarded-For of one virtual citizen; one connection per request
    (gunicorn's sync workers close each one)."""

    def __init__(self, port: int, address: str) -> None:
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, *, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """(status, Location, body) of one request."""
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "User-Agent": "Mozilla/5.0 (Linux; Android 13) lapor-http-bench",
            "Accept": "text/html,application/xhtml+xml",
            "Accept-Language": "id",
            "X-Forwarded-For": self.address,
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = f"http://127.0.0.1:{self.port}"
            sent["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        # As long as gunicorn lets a request run (--timeout): a slow page is measured, not cut short.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                if value in ("", '""') or "max-age=0" in cookie.lower():
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
            return response.status, response.getheader("Location") or "", text
        finally:
            connection.close()

    def get(self, path: str, *, follow: bool = True, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """GET, following redirects as a browser does; (final status, body)."""
        for _hop in range(5):
            status, location, text = self.request("GET", path, headers=headers)
            if not (follow and status in (301, 302, 303, 307, 308)):
                return status, text
            path = urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl()
        return status, text


INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')
SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.IGNORECASE | re.DOTALL)
OPTION_VALUE = re.compile(r'<option\b[^>]*value="([^"]*)"', re.IGNORECASE)


def form_inputs(page: str, *, types: tuple[str, ...] = ("hidden",)) -> dict[str, str]:
    """The name and value of each <input> of these types on the page."""
    found = {}
    for tag in INPUT.findall(page):
        attributes = {name.lower(): html.unescape(value) for name, value in ATTRIBUTE.findall(tag)}
        if attributes.get("type", "text").lower() in types and "name" in attributes:
            found[attributes["name"]] = attributes.get("value", "")
    return found


def select_options(page: str, name: str) -> list[str]:
    for select_name, body in SELECT.findall(page):
        if select_name == name:
            return [value for value in OPTION_VALUE.findall(body) if value]
    return []


def solve_pow(page: str) -> tuple[str, str]:
    """(challenge, nonce) as static/portal/pow.js computes them: SHA-256(challenge + nonce) must start
    with ``difficulty`` zero bits."""
    tag = next(tag for tag in INPUT.findall(page) if 'name="pow_challenge"' in tag)
    attributes = dict(ATTRIBUTE.findall(tag))
    challenge, difficulty = html.unescape(attributes["value"]), int(attributes["data-pow-difficulty"])
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{challenge}{nonce}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - difficulty) == 0:
            return challenge, str(nonce)
        nonce += 1


def totp(key_hex: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The code an authenticator app shows (RFC 6238, SHA-1), as the coordinator's phone would."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{number:0{digits}d}"


class FlowError(Exception):
    pass


def expect(ok: bool, what: str, status: int, text: str) -> None:
    if not ok:
        snippet = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:300]
        raise FlowError(f"{what}: HTTP {status}: {snippet}")


def virtual_address(rng: random.Random) -> str:
    """A citizen's own address, from 10.0.0.0/8 (16 million of them)."""
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def lapor_filing(port: int, rng: random.Random, marker: str, number: int, steps: dict[str, float]) -> Browser:
    """The whole filing flow of a guest, each step timed into ``steps``; returns the browser (its session
    remembers the private link) after the acknowledgement page."""
    browser = Browser(port, virtual_address(rng))

    def timed(name: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = call()
        steps[name] = time.perf_counter() - started
        return result

    status, page = timed("form", lambda: browser.get("/buat/"))
    expect(status == 200, "form", status, page)
    fetch = {"X-Requested-With": "fetch", "Accept": "*/*"}
    chosen = {"province": select_options(page, "province")[0]}
    for level, step, parent in (
        ("regency", "regencies", "province"),
        ("district", "districts", "regency"),
        ("village", "villages", "district"),
    ):
        url = "/wilayah/pilihan/?induk=" + urllib.parse.quote(chosen[parent])
        status, fragment = timed(step, lambda url=url: browser.get(url, headers=fetch))  # type: ignore[misc]
        options = [value for value in OPTION_VALUE.findall(fragment) if value]
        expect(status == 200 and bool(options), step, status, fragment)
        chosen[level] = rng.choice(options)
    categories = select_options(page, "category")
    details = {
        **form_inputs(page),
        "kind": "pengaduan",
        "title": f"Lampu PJU mati di Jalan Raya Serpong [{marker}-{number}]",
        "body": "Sudah seminggu lampu penerangan jalan di depan pasar mati; malam hari jalan gelap dan rawan. "
        f"Mohon segera diperbaiki. ({marker}-{number})",
        "incident_date": (datetime.now(UTC).date() - timedelta(days=2)).isoformat(),
        "category": rng.choice(categories) if categories else "",
        **chosen,
        "address": "Depan pasar, dekat halte",
        "latitude": "",
        "longitude": "",
        "institution_query": "",
        "target_institution": "",
    }
    status, location, page = timed("details", lambda: browser.request("POST", "/buat/", form=details))
    expect(status == 200 and 'name="pow_challenge"' in page, "details", status, page)
    challenge, nonce = solve_pow(page)
    send = {
        **form_inputs(page),
        "pow_challenge": challenge,
        "pow_nonce": nonce,
        "guest_name": f"Warga {number}",
        "guest_email": f"warga.{marker}.{number}@bench.example.id",
        "guest_phone": "",
    }
    status, location, page = timed("send", lambda: browser.request("POST", "/buat/", form=send))
    expect(status == 302 and "/pelapor/" in location, "send", status, page)
    path = urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl()
    status, page = timed("acknowledgement", lambda: browser.get(path))
    expect(status == 200, "acknowledgement", status, page)
    browser.reporter_page = path.split("?", 1)[0]  # type: ignore[attr-defined]
    return browser


def helpdesk_filing(port: int, rng: random.Random, marker: str, number: int, steps: dict[str, float]) -> None:
    browser = Browser(port, virtual_address(rng))
    started = time.perf_counter()
    status, page = browser.get("/helpdesk/tickets/submit/")
    steps["form"] = time.perf_counter() - started
    expect(status == 200, "form", status, page)
    ticket = {
        **form_inputs(page),
        "title": f"Lampu PJU mati di Jalan Raya Serpong [{marker}-{number}]",
        "body": "Sudah seminggu lampu penerangan jalan di depan pasar mati; malam hari jalan gelap dan rawan. "
        f"Mohon segera diperbaiki. ({marker}-{number})",
        "submitter_email": f"warga.{marker}.{number}@bench.example.id",
    }
    started = time.perf_counter()
    status, location, page = browser.request("POST", "/helpdesk/tickets/submit/", form=ticket)
    steps["submit"] = time.perf_counter() - started
    expect(status == 302 and "ticket=" in location, "submit", status, page)
    started = time.perf_counter()
    status, page = browser.get(urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl())
    steps["ticket"] = time.perf_counter() - started
    expect(status == 200, "ticket", status, page)


CEILING_TABLE = """
CREATE TABLE IF NOT EXISTS report_ceiling (
    id bigserial PRIMARY KEY,
    tracking_id varchar(12) NOT NULL UNIQUE,
    kind varchar(32) NOT NULL,
    title varchar(200) NOT NULL,
    body text NOT NULL,
    incident_date date NOT NULL,
    village_id varchar(13) NOT NULL,
    category_id bigint,
    guest_name varchar(150) NOT NULL,
    guest_email_ciphertext text NOT NULL,
    guest_email_index varchar(64) NOT NULL,
    access_secret_hash varchar(64) NOT NULL,
    status varchar(32) NOT NULL,
    idempotency_key varchar(64) UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS report_ceiling_created ON report_ceiling (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS report_ceiling_status ON report_ceiling (status);
CREATE INDEX IF NOT EXISTS report_ceiling_village ON report_ceiling (village_id);
"""


def ceiling_insert(cursor: Any, marker: str, number: int) -> None:
    cursor.execute(
        "INSERT INTO report_ceiling (tracking_id, kind, title, body, incident_date, village_id, category_id, "
        "guest_name, guest_email_ciphertext, guest_email_index, access_secret_hash, status, idempotency_key) "
        "VALUES (%s, 'pengaduan', %s, %s, current_date - 2, '36.74.01.1001', 7, %s, %s, %s, %s, 'submitted', %s)",
        [
            secrets.token_hex(6).upper(),
            f"Lampu PJU mati di Jalan Raya Serpong [{marker}-{number}]",
            "Sudah seminggu lampu penerangan jalan di depan pasar mati; malam hari jalan gelap dan rawan.",
            f"Warga {number}",
            base64.urlsafe_b64encode(secrets.token_bytes(120)).decode(),
            secrets.token_hex(32),
            secrets.token_hex(32),
            secrets.token_hex(32),
        ],
    )


# --- the load generator (a process of its own) --------------------------------------------------------------


class LoadGenerator:
    """One measurement: CONCURRENCY threads, each a virtual user, warmed up (one flow each, not timed),
    then running flows until SECONDS have passed since "go"."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.kind, self.concurrency, self.marker = spec["kind"], spec["concurrency"], spec["marker"]
        self.port = spec.get("port", 0)
        self.flows: list[list[float]] = [[] for _ in range(self.concurrency)]
        self.steps: list[dict[str, list[float]]] = [defaultdict(list) for _ in range(self.concurrency)]
        self.errors: list[str] = []
        self.warm_successes = [0] * self.concurrency
        self.warm_errors: list[str] = []
        self.setups: list[Any] = [None] * self.concurrency
        self.go = threading.Event()
        self.deadline = 0.0
        self.numbers = iter(range(10**9))
        self.lock = threading.Lock()

    def number(self) -> int:
        with self.lock:
            return next(self.numbers)

    def warm(self, index: int) -> None:
        rng = random.Random(f"{self.marker}-{index}")
        try:
            if self.kind == "ceiling":
                import psycopg

                connection = psycopg.connect(self.spec["database_url"])
                connection.execute("SELECT 1")
                connection.commit()
                self.setups[index] = connection
                return
            if self.kind == "helpdesk":
                helpdesk_filing(self.port, rng, self.marker, self.number(), {})
            elif self.kind == "lapor" or self.spec["path"] == "reporter_page":
                # A reader of the private page files a report first, so that it has a page of its own.
                self.setups[index] = lapor_filing(self.port, rng, self.marker, self.number(), {})
            else:
                # No request first: a page that takes a minute would hold up the whole measurement.
                self.setups[index] = Browser(self.port, virtual_address(rng))
                return
            self.warm_successes[index] += 1
        except Exception as error:
            self.warm_errors.append(f"{type(error).__name__}: {error}")

    def one(self, index: int, rng: random.Random, steps: dict[str, float]) -> None:
        started = time.perf_counter()
        if self.kind == "lapor":
            lapor_filing(self.port, rng, self.marker, self.number(), steps)
        elif self.kind == "helpdesk":
            helpdesk_filing(self.port, rng, self.marker, self.number(), steps)
        elif self.kind == "ceiling":
            connection = self.setups[index]
            try:
                with connection.cursor() as cursor:
                    ceiling_insert(cursor, self.marker, self.number())
                connection.commit()
            except Exception:
                connection.rollback()
                raise
            steps["insert_commit"] = time.perf_counter() - started
        else:
            read_path(self.spec["path"], self.spec, self.setups[index], rng)
            steps[self.spec["path"]] = time.perf_counter() - started

    def work(self, index: int) -> None:
        rng = random.Random(f"{self.marker}-work-{index}")
        self.go.wait()
        while time.perf_counter() < self.deadline:
            steps: dict[str, float] = {}
            started = time.perf_counter()
            try:
                self.one(index, rng, steps)
            except Exception as error:
                with self.lock:
                    self.errors.append(f"{type(error).__name__}: {error}"[:400])
                continue
            self.flows[index].append(time.perf_counter() - started)
            for name, value in steps.items():
                self.steps[index][name].append(value)

    def run(self, seconds: float) -> None:
        warmers = [threading.Thread(target=self.warm, args=(index,)) for index in range(self.concurrency)]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
        if self.warm_errors:
            failure = {"error": "warm-up failed: " + self.warm_errors[0], "warm_successes": sum(self.warm_successes)}
            print(json.dumps(failure), flush=True)
            return
        workers = [threading.Thread(target=self.work, args=(index,)) for index in range(self.concurrency)]
        for thread in workers:
            thread.start()
        print("ready", flush=True)
        sys.stdin.readline()
        cpu_before, started = time.process_time(), time.perf_counter()
        self.deadline = started + seconds
        self.go.set()
        for thread in workers:
            thread.join()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
        steps: dict[str, list[float]] = defaultdict(list)
        for per_thread in self.steps:
            for name, values in per_thread.items():
                steps[name] += values
        result = {
            "successes": sum(len(flows) for flows in self.flows),
            "warm_successes": sum(self.warm_successes),
            "failures": len(self.errors),
            "error_samples": self.errors[:5],
            "elapsed": elapsed,
            "cpu": cpu,
            "flows": [value for flows in self.flows for value in flows],
            "steps": steps,
        }
        print(json.dumps(result), flush=True)
        for connection in self.setups:
            if self.kind == "ceiling" and connection is not None:
                connection.close()


def read_path(name: str, spec: dict[str, Any], browser: Browser, rng: random.Random) -> None:
    reader = Browser(spec["port"], browser.address)
    reader.cookies = dict(browser.cookies)
    if name == "home":
        status, text = reader.get("/")
    elif name == "feed":
        status, text = reader.get("/laporan/")
    elif name.startswith("search"):
        word = {"search_common": COMMON_WORD, "search_rare": RARE_WORD}.get(name, HIDDEN_WORD)
        status, text = reader.get("/laporan/?q=" + word)
    elif name == "report":
        status, text = reader.get(f"/laporan/{rng.choice(spec['public_reports'])}/")
    elif name == "track":
        # Typed as the acknowledgement shows it, in groups.
        status, text = reader.get("/lacak/?id=" + format_id(rng.choice(spec["public_reports"])))
    elif name == "reporter_page":
        status, text = reader.get(browser.reporter_page)  # type: ignore[attr-defined]
    else:
        staff = Browser(spec["port"], spec["console_address"])
        staff.cookies = dict(spec["console_cookies"])
        path = "/konsol/" if name == "console_inbox" else f"/konsol/laporan/{spec['console_report']}/"
        status, text = staff.get(path, follow=False)
    expect(status == 200, name, status, text)


# --- the stacks under test ----------------------------------------------------------------------------------


@dataclass
class Stack:
    """A served system: its gunicorn master, its task worker (Lapor only) and its database."""

    name: str
    database: str
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    logs: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.web, self.worker):
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.web = self.worker = None
        for log in self.logs:
            log.close()
        self.logs = []


def wait_until_serving(port: int, process: subprocess.Popen[bytes], path: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} stopped; its log:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            status, _text = Browser(port, "10.255.255.1").get(path, follow=False)
            if status < 500:
                return
        time.sleep(0.3)
    raise RuntimeError(f"nothing served on port {port} within two minutes; log {log}")


def port_free(port: int) -> None:
    import socket

    try:
        socket.create_server(("127.0.0.1", port)).close()
    except OSError:
        raise SystemExit(f"port {port} on 127.0.0.1 is taken: stop what uses it") from None


def lapor_environment(server_url: str, data_dir: Path, secret: str, encryption_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lapor_bench_settings",
        "PYTHONPATH": str(LAPOR_SETTINGS_DIR),
        "DEBUG": "0",
        "SECRET_KEY": secret,
        "FIELD_ENCRYPTION_KEYS": encryption_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on 127.0.0.1 stands for the TLS-ending proxy: cookies cannot be Secure-only here.
        "SECURE_COOKIES": "0",
        "TRUSTED_PROXY_COUNT": "1",
        "EMAIL_BACKEND": "locmem",
        "SMS_BACKEND": "file",
        "LOG_LEVEL": "WARNING",
        "LAPOR_DATA_DIR": str(data_dir),
        "SITE_URL": f"http://127.0.0.1:{LAPOR_PORT}",
        "DATABASE_URL": server_url.rsplit("/", 1)[0] + "/" + LAPOR_DATABASE,
    }


def start_lapor(environment: dict[str, str], workers: int, data_dir: Path) -> Stack:
    stack = Stack("lapor", LAPOR_DATABASE)
    web_log, worker_log = data_dir / "gunicorn.log", data_dir / "worker.log"
    stack.logs = [web_log.open("ab"), worker_log.open("ab")]
    stack.worker = subprocess.Popen(
        [str(VENV_BIN / "lapor"), "worker"],
        env={**environment, "LAPOR_BENCH_ROLE": "lapor-worker"},
        stdout=stack.logs[1],
        stderr=subprocess.STDOUT,
    )
    stack.web = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "lapor.wsgi:application",
            f"--workers={workers}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{LAPOR_PORT}",
            "--forwarded-allow-ips=127.0.0.1",
            f"--timeout={REQUEST_TIMEOUT_SECONDS}",
        ],
        env={**environment, "LAPOR_BENCH_ROLE": "lapor-web"},
        stdout=stack.logs[0],
        stderr=subprocess.STDOUT,
    )
    wait_until_serving(LAPOR_PORT, stack.web, "/healthz", web_log)
    return stack


def helpdesk_environment(server_url: str, data_dir: Path, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk_bench_settings",
        "PYTHONPATH": str(HELPDESK_DIR),
        "SECRET_KEY": secret,
        "HELPDESK_MEDIA_ROOT": str(data_dir / "helpdesk-media"),
        "HELPDESK_STATIC_ROOT": str(data_dir / "helpdesk-static"),
        "DATABASE_URL": server_url.rsplit("/", 1)[0] + "/" + HELPDESK_DATABASE,
    }


def ensure_helpdesk_venv() -> None:
    python = HELPDESK_VENV / "bin" / "python"
    if (HELPDESK_VENV / "bin" / "gunicorn").exists():
        return
    print(f"helpdesk:   creating {HELPDESK_VENV.relative_to(REPOSITORY)} ({', '.join(HELPDESK_REQUIREMENTS)})")
    HELPDESK_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(HELPDESK_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *HELPDESK_REQUIREMENTS], check=True)


def start_helpdesk(environment: dict[str, str], workers: int, data_dir: Path) -> Stack:
    subprocess.run(
        [str(HELPDESK_VENV / "bin" / "python"), str(HELPDESK_DIR / "helpdesk_bench_setup.py")],
        env=environment,
        check=True,
        cwd=HELPDESK_DIR,
    )
    stack = Stack("helpdesk", HELPDESK_DATABASE)
    log = data_dir / "helpdesk-gunicorn.log"
    stack.logs = [log.open("ab")]
    stack.web = subprocess.Popen(
        [
            str(HELPDESK_VENV / "bin" / "gunicorn"),
            "helpdesk_bench_wsgi:application",
            f"--workers={workers}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{HELPDESK_PORT}",
            f"--timeout={REQUEST_TIMEOUT_SECONDS}",
        ],
        env=environment,
        cwd=HELPDESK_DIR,
        stdout=stack.logs[0],
        stderr=subprocess.STDOUT,
    )
    wait_until_serving(HELPDESK_PORT, stack.web, "/helpdesk/tickets/submit/", log)
    return stack


# --- measuring ----------------------------------------------------------------------------------------------


class Monitor:
    """A connection to the server's maintenance database that finds the backends of each database."""

    def __init__(self, server_url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(server_url, autocommit=True)

    def backends(self, database: str) -> list[int]:
        return list(self.roles(database))

    def roles(self, database: str) -> dict[int, str]:
        """The backends of ``database`` with the application name their client gave."""
        rows = self.connection.execute(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            [database],
        ).fetchall()
        return {int(pid): str(name) for pid, name in rows}

    def count(self, database_url: str, sql: str, params: list[Any]) -> int:
        import psycopg

        with psycopg.connect(database_url) as connection:
            row = connection.execute(sql, params).fetchone()
        return int(row[0]) if row else 0


def cpu_snapshot(stack: Stack | None, monitor: Monitor, database: str) -> dict[str, Any]:
    backends = {pid: (process_cpu(pid), role) for pid, role in monitor.roles(database).items()}
    return {
        "web": tree_cpu(stack.web.pid) if stack and stack.web else 0.0,
        "worker": tree_cpu(stack.worker.pid) if stack and stack.worker else 0.0,
        "backends": backends,
        "machine": machine_ticks(),
    }


def cpu_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    # A backend that started during the round counts whole; one that ended during it is lost (rare with
    # persistent connections).
    postgres = {"web": 0.0, "worker": 0.0}
    for pid, (cpu, role) in after["backends"].items():
        used = cpu - before["backends"].get(pid, (0.0, role))[0]
        postgres["worker" if role == "lapor-worker" else "web"] += used
    busy = after["machine"][0] - before["machine"][0]
    total = after["machine"][1] - before["machine"][1]
    return {
        "web": after["web"] - before["web"],
        "postgres": postgres["web"],
        "worker": after["worker"] - before["worker"],
        "worker_postgres": postgres["worker"],
        "machine_busy": busy,
        "machine_busy_share": busy / total if total else 0.0,
    }


def run_generator(
    spec: dict[str, Any], stack: Stack | None, monitor: Monitor, database: str
) -> tuple[dict[str, Any], dict[str, float]]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "generate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(spec) + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.wait(timeout=60)
        raise RuntimeError(f"the load generator ({spec['kind']}) did not start: {line.strip()[:2000]}")
    load_before = Path("/proc/loadavg").read_text().split()[0]
    before = cpu_snapshot(stack, monitor, database)
    process.stdin.write("go\n")
    process.stdin.flush()
    output = process.stdout.readline()
    after = cpu_snapshot(stack, monitor, database)
    process.wait(timeout=60)
    result = json.loads(output)
    cpu = cpu_delta(before, after)
    cpu["generator"] = result["cpu"]
    ours = cpu["web"] + cpu["postgres"] + cpu["worker"] + cpu["worker_postgres"] + result["cpu"]
    cpu["other"] = max(0.0, cpu["machine_busy"] - ours)
    result["loadavg"] = [float(load_before), float(Path("/proc/loadavg").read_text().split()[0])]
    return result, cpu


# --- set-up of each size ------------------------------------------------------------------------------------


@dataclass
class LaporWorld:
    public_reports: list[str]
    console_report: str
    coordinator_login: str
    coordinator_password: str
    totp_key: str


def set_up_lapor(size: int) -> LaporWorld:
    """Regions, demo institutions and accounts, ``size`` bulk-loaded reports, words to search for, and the
    city's coordinator with a known password and a confirmed authenticator."""
    from django.db import connection

    lifecycle = lifecycle_module()
    world = lifecycle.set_up(describe=False)
    started = time.perf_counter()
    lifecycle.bulk_load(world, size)
    with connection.cursor() as cursor:
        # A rare word in one public report in a thousand, and a word found only in confidential ones: the
        # search must find a few rows among all, and must not show any of the others.
        cursor.execute(
            f"UPDATE reports_report SET public_body = public_body || ' Trotoar rusak.' "
            f"WHERE id % 1000 = 7 AND NOT is_confidential AND status IN {public_statuses_sql()}"
        )
        cursor.execute(
            "UPDATE reports_report SET public_body = public_body || ' Soal kerahasiaan.' WHERE is_confidential"
        )
    lifecycle.vacuum_analyze()
    print(f"            {size:,} reports loaded in {time.perf_counter() - started:.1f} s")
    return describe_world(world)


def describe_world(world: Any) -> LaporWorld:
    """What the load generator needs of a loaded world: reports to read, one in the city's console, and
    the city's coordinator with a new password and a confirmed authenticator."""
    from django.db import connection
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from lapor.accounts.models import User
    from lapor.reports.models import Report

    public = list(
        Report.objects.filter(is_confidential=False, status__in=PUBLIC_STATUSES)
        .order_by("?")
        .values_list("tracking_id", flat=True)[:200]
    )
    console_report = (
        Report.objects.filter(owner_id=world.city, status__in=["in_progress", "dispatched"])
        .values_list("tracking_id", flat=True)
        .first()
    )
    if console_report is None:
        console_report = Report.objects.filter(owner_id=world.city).values_list("tracking_id", flat=True).first()
    coordinator = User.objects.get(pk=world.coordinator)
    password = secrets.token_urlsafe(18)
    coordinator.set_password(password)
    coordinator.save(update_fields=["password"])
    device = TOTPDevice.objects.filter(user=coordinator, confirmed=True).first() or TOTPDevice.objects.create(
        user=coordinator, name="Authenticator app", confirmed=True
    )
    connection.close()
    return LaporWorld(
        public_reports=public,
        console_report=console_report or "",
        coordinator_login=coordinator.email or "",
        coordinator_password=password,
        totp_key=device.key,
    )


def lifecycle_module() -> Any:
    """bench/lifecycle.py, whose set-up and bulk loader this benchmark shares."""
    return bench_script("lifecycle")


def bench_script(name: str) -> Any:
    """The script bench/<name>.py as a module (loaded from its file, which works however the caller
    was started)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PUBLIC_STATUSES = ("closed", "completed", "dispatched", "in_progress", "referred", "returned")


def public_statuses_sql() -> str:
    return "(" + ", ".join(f"'{status}'" for status in PUBLIC_STATUSES) + ")"


def format_id(tracking_id: str) -> str:
    """A tracking ID in its three groups (lapor.core.ids.format_tracking_id), without importing Lapor."""
    return "-".join(tracking_id[index : index + 3] for index in range(0, len(tracking_id), 3))


def console_sign_in(world: LaporWorld) -> tuple[str, dict[str, str]]:
    """Sign the coordinator in through the console's pages: password, then the authenticator's code."""
    browser = Browser(LAPOR_PORT, "10.254.0.1")
    status, page = browser.get("/konsol/masuk/")
    expect(status == 200, "console sign-in page", status, page)
    form = {**form_inputs(page), "login": world.coordinator_login, "password": world.coordinator_password}
    status, location, page = browser.request("POST", "/konsol/masuk/", form=form)
    expect(status == 302 and "/masuk/kode/" in location, "console password", status, page)
    status, page = browser.get(urllib.parse.urlsplit(location).path)
    expect(status == 200, "console code page", status, page)
    status, location, page = browser.request(
        "POST", "/konsol/masuk/kode/", form={**form_inputs(page), "code": totp(world.totp_key)}
    )
    expect(status == 302, "console code", status, page)
    status, page = browser.get("/konsol/", follow=False)
    expect(status == 200, "console inbox after signing in", status, page)
    return browser.address, browser.cookies


# --- summary ------------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:.0f}"


@dataclass
class Combined:
    successes: int = 0
    failures: int = 0
    elapsed: float = 0.0
    flows: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    errors: list[str] = field(default_factory=list)

    def add(self, result: dict[str, Any], cpu: dict[str, float]) -> None:
        self.successes += result["successes"]
        self.failures += result["failures"]
        self.elapsed += result["elapsed"]
        self.flows += result["flows"]
        for name, values in result["steps"].items():
            self.steps[name] += values
        for name, value in cpu.items():
            if name != "machine_busy_share":
                self.cpu[name] += value
        self.errors += result["error_samples"]

    @property
    def rate(self) -> float:
        return self.successes / self.elapsed if self.elapsed else 0.0

    def per_success(self, name: str) -> float:
        return self.cpu[name] / self.successes if self.successes else float("nan")

    def server(self) -> float:
        return sum(self.per_success(name) for name in ("web", "postgres", "worker", "worker_postgres"))

    def cpu_line(self) -> str:
        names = ("web", "postgres", "worker", "worker_postgres", "generator")
        parts = [f"{self.per_success(name) * 1000:6.1f}" for name in names]
        return " / ".join(parts) + f" = {self.server() * 1000:.1f}"

    def summary(self) -> dict[str, Any]:
        return {
            "successes": self.successes,
            "failures": self.failures,
            "per_second": self.rate,
            "p50_ms": percentile(self.flows, 0.5) * 1000,
            "p99_ms": percentile(self.flows, 0.99) * 1000,
            "steps_ms": {
                name: {"p50": percentile(values, 0.5) * 1000, "p99": percentile(values, 0.99) * 1000, "n": len(values)}
                for name, values in self.steps.items()
            },
            "cpu_ms_per_success": {
                name: self.per_success(name) * 1000
                for name in ("web", "postgres", "worker", "worker_postgres", "generator")
            },
            "server_cpu_ms_per_success": self.server() * 1000,
            "error_samples": self.errors[:5],
        }


def report_size(size: int, combined: dict[tuple[str, int], Combined], concurrencies: list[int]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    print(f"\n== {size:,} stored reports")
    for concurrency in concurrencies:
        measured = {
            kind: combined[(kind, concurrency)]
            for kind in ("lapor", "helpdesk", "ceiling")
            if (kind, concurrency) in combined
        }
        report_filing(concurrency, measured)
        summary[str(concurrency)] = {kind: value.summary() for kind, value in measured.items()}
    for concurrency in sorted({concurrency for kind, concurrency in combined if kind.startswith("read:")}):
        paths = {
            name: combined[(f"read:{name}", concurrency)]
            for name in READ_PATHS
            if (f"read:{name}", concurrency) in combined
        }
        summary.setdefault(str(concurrency), {})["read"] = report_reads(concurrency, paths)
    for (kind, concurrency), value in sorted(combined.items()):
        for error in sorted(set(value.errors))[:3]:
            print(f"  failure ({kind}, concurrency {concurrency}): {error}")
    return summary


def report_filing(concurrency: int, measured: dict[str, Combined]) -> None:
    titles = {"lapor": "Lapor filing flow", "helpdesk": "helpdesk form", "ceiling": "ceiling (psycopg)"}
    print(f"\n  concurrency {concurrency}: submissions/s and whole-flow latency")
    for kind, value in measured.items():
        print(
            f"    {titles[kind]:20} {value.rate:7.1f}/s   p50 {ms(percentile(value.flows, 0.5)):>5} ms   "
            f"p99 {ms(percentile(value.flows, 0.99)):>5} ms   ({value.successes} ok, {value.failures} failed)"
        )
    lapor, helpdesk, ceiling = (measured.get(kind) for kind in ("lapor", "helpdesk", "ceiling"))
    ratios = []
    if lapor and helpdesk and helpdesk.rate:
        ratios.append(f"Lapor/helpdesk {lapor.rate / helpdesk.rate:.2f}")
    for title, system in (("Lapor", lapor), ("helpdesk", helpdesk)):
        if system and ceiling and ceiling.rate:
            ratios.append(f"{title}/ceiling {system.rate / ceiling.rate:.3f}")
    print("    ratios of submissions/s: " + ", ".join(ratios))
    if lapor:
        print("    Lapor steps p50/p99 ms: " + "  ".join(step_figures(lapor, FILING_STEPS)))
    if helpdesk:
        print("    helpdesk steps p50/p99 ms: " + "  ".join(step_figures(helpdesk, HELPDESK_STEPS)))
    print(
        "    CPU ms per submission: web workers / their PostgreSQL backends / task worker / its backends "
        "/ load generator = server total (all but the load generator)"
    )
    for kind, value in measured.items():
        print(f"      {kind:9} {value.cpu_line()}")
    if lapor and helpdesk and helpdesk.server():
        print(f"      Lapor/helpdesk server CPU per submission: {lapor.server() / helpdesk.server():.2f}")


def report_reads(concurrency: int, paths: dict[str, Combined]) -> dict[str, Any]:
    print(f"\n  read paths, concurrency {concurrency}: requests/s, latency, CPU ms per request (web + PostgreSQL)")
    for name, value in paths.items():
        print(
            f"    {name:24} {value.rate:6.1f}/s   p50 {ms(percentile(value.flows, 0.5)):>5} ms   "
            f"p99 {ms(percentile(value.flows, 0.99)):>5} ms   CPU {value.per_success('web') * 1000:5.1f} + "
            f"{value.per_success('postgres') * 1000:5.1f}   ({value.successes} ok, {value.failures} failed)"
        )
    return {name: value.summary() for name, value in paths.items()}


def step_figures(value: Combined, steps: tuple[str, ...]) -> list[str]:
    return [
        f"{name} {ms(percentile(value.steps[name], 0.5))}/{ms(percentile(value.steps[name], 0.99))}"
        for name in steps
        if value.steps.get(name)
    ]


# --- the run ------------------------------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "generate":
        spec = json.loads(sys.stdin.readline())
        LoadGenerator(spec).run(spec["seconds"])
        return 0
    # Each line as it is printed, also into a file or a pipe: a long run shows how far it has got.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="stored reports, comma-separated (1000; full: 1000,1000000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement (10)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (2)")
    parser.add_argument("--concurrency", default="8,32", help="virtual users at once, comma-separated (8,32)")
    parser.add_argument("--read-concurrency", default="8", help="virtual readers at once (8)")
    parser.add_argument("--read-seconds", type=float, default=4.0, help="length of each read path's measurement (4)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn sync workers of each stack (5)")
    parser.add_argument("--no-helpdesk", action="store_true", help="leave django-helpdesk out")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print(
            "bench/web.py measures on PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/DB (it creates and "
            f"drops its own databases {LAPOR_DATABASE}*). Skipped.",
            file=sys.stderr,
        )
        return 2 if server_url else 0
    args.sizes = [int(value) for value in args.sizes.split(",")]
    args.concurrency = [int(value) for value in args.concurrency.split(",")]
    args.read_concurrency = [int(value) for value in args.read_concurrency.split(",") if value]
    for port in (LAPOR_PORT, HELPDESK_PORT):
        port_free(port)
    if not args.no_helpdesk:
        ensure_helpdesk_venv()
    # var/ exists once `make run` has run; a fresh clone has none.
    (REPOSITORY / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lapor-httpbench-", dir=REPOSITORY / "var") as directory:
        return run(args, server_url, Path(directory))


@contextlib.contextmanager
def databases(server_url: str, names: list[str]) -> Iterator[None]:
    import psycopg

    def execute(statement: str) -> None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(statement)

    for name in names:
        execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        execute(f"CREATE DATABASE {name}")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        for name in names:
            execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Run:
    """One benchmark run: its servers, databases, measurements and results."""

    args: argparse.Namespace
    server_url: str
    data_dir: Path
    environment: dict[str, str]
    secret: str
    monitor: Monitor
    output: dict[str, Any]
    marker_base: str = field(default_factory=lambda: secrets.token_hex(3))
    helpdesk: Stack | None = None
    stacks: list[Stack] = field(default_factory=list)
    failed_checks: int = 0

    def url(self, database: str) -> str:
        return self.server_url.rsplit("/", 1)[0] + "/" + database

    def start(self) -> None:
        import psycopg

        with psycopg.connect(self.url(CEILING_DATABASE), autocommit=True) as connection:
            connection.execute(CEILING_TABLE)
        if not self.args.no_helpdesk:
            environment = helpdesk_environment(self.server_url, self.data_dir, self.secret)
            self.helpdesk = start_helpdesk(environment, self.args.workers, self.data_dir)
            self.stacks.append(self.helpdesk)

    def stop(self) -> None:
        for stack in self.stacks:
            stack.stop()
        self.stacks.clear()

    def measure_size(self, size_index: int, size: int) -> None:
        print(f"\nsize {size:,}: setting up {LAPOR_DATABASE}")
        if size_index:
            self.monitor.connection.execute(f"DROP DATABASE {LAPOR_DATABASE} WITH (FORCE)")
            self.monitor.connection.execute(f"CREATE DATABASE {LAPOR_DATABASE}")
        world = set_up_lapor(size)
        lapor = start_lapor(self.environment, self.args.workers, self.data_dir)
        self.stacks.append(lapor)
        console_address, console_cookies = console_sign_in(world)
        memory = self.memory(lapor)
        combined: dict[tuple[str, int], Combined] = {}
        rounds: list[dict[str, Any]] = []
        plan = [
            (kind, concurrency)
            for concurrency in self.args.concurrency
            for kind in ("lapor", "helpdesk", "ceiling")
            if kind != "helpdesk" or self.helpdesk is not None
        ]
        plan += [(f"read:{name}", concurrency) for concurrency in self.args.read_concurrency for name in READ_PATHS]
        for number in range(self.args.rounds):
            # Each round starts one step further along the plan, so that no kind always follows another.
            for label, concurrency in plan[number % len(plan) :] + plan[: number % len(plan)]:
                kind, _, path = label.partition(":")
                spec = {
                    "kind": kind,
                    "path": path,
                    "concurrency": concurrency,
                    "seconds": self.args.read_seconds if path else self.args.seconds,
                    "marker": f"b{self.marker_base}s{size_index}r{number}{kind[0]}{concurrency}"
                    + (f"p{READ_PATHS.index(path)}" if path else ""),
                    "port": HELPDESK_PORT if kind == "helpdesk" else LAPOR_PORT,
                    "database_url": self.url(CEILING_DATABASE),
                    "public_reports": world.public_reports,
                    "console_report": world.console_report,
                    "console_address": console_address,
                    "console_cookies": console_cookies,
                }
                stack = {"helpdesk": self.helpdesk, "ceiling": None}.get(kind, lapor)
                result, cpu = run_generator(spec, stack, self.monitor, DATABASES[kind])
                if "error" in result:
                    raise RuntimeError(f"{kind} at concurrency {concurrency}: {result['error']}")
                combined.setdefault((label, concurrency), Combined()).add(result, cpu)
                self.check_created(size, spec, result)
                rate = result["successes"] / result["elapsed"]
                rounds.append(
                    {
                        "round": number + 1,
                        "kind": label,
                        "concurrency": concurrency,
                        "per_second": rate,
                        "failures": result["failures"],
                        "machine_busy_share": cpu["machine_busy_share"],
                        "other_cpu_seconds": cpu["other"],
                        "loadavg": result["loadavg"],
                    }
                )
                print(
                    f"  round {number + 1} {label:29} c={concurrency:<3} {rate:7.1f}/s"
                    f"  p99 {ms(percentile(result['flows'], 0.99)):>5} ms  failures {result['failures']}"
                    f"  machine busy {cpu['machine_busy_share'] * 100:3.0f}% (other processes "
                    f"{cpu['other']:.1f} CPU s), load {result['loadavg'][1]:.2f}"
                )
        lapor.stop()
        self.stacks.remove(lapor)
        summary = report_size(size, combined, self.args.concurrency)
        print(
            f"\n  memory at rest (PSS, MiB): Lapor web and worker {memory['lapor_web_worker_mib']:.0f} "
            f"+ PostgreSQL backends {memory['lapor_postgres_backends_mib']:.0f}"
            + (
                f"; helpdesk web {memory['helpdesk_web_mib']:.0f} "
                f"+ backends {memory['helpdesk_postgres_backends_mib']:.0f}"
                if "helpdesk_web_mib" in memory
                else ""
            )
        )
        self.output["sizes"][str(size)] = {"summary": summary, "rounds": rounds, "memory": memory}

    def memory(self, lapor: Stack) -> dict[str, float]:
        """PSS of each stack at rest (after start-up and the console sign-in, before any load)."""
        assert lapor.web is not None
        assert lapor.worker is not None
        memory = {
            "lapor_web_worker_mib": pss_mib(tree(lapor.web.pid) + tree(lapor.worker.pid)),
            "lapor_postgres_backends_mib": pss_mib(self.monitor.backends(LAPOR_DATABASE)),
        }
        if self.helpdesk is not None and self.helpdesk.web is not None:
            memory["helpdesk_web_mib"] = pss_mib(tree(self.helpdesk.web.pid))
            memory["helpdesk_postgres_backends_mib"] = pss_mib(self.monitor.backends(HELPDESK_DATABASE))
        return memory

    def check_created(self, size: int, spec: dict[str, Any], result: dict[str, Any]) -> None:
        """The rows created under this measurement's marker must be exactly the successes counted."""
        kind, marker = spec["kind"], spec["marker"]
        # Readers file only while warming up (each one's own report, for its private page).
        made = result["warm_successes"] + (result["successes"] if kind != "read" else 0)
        table = {"helpdesk": "helpdesk_ticket", "ceiling": "report_ceiling"}.get(kind, "reports_report")
        # Titles end "[<marker>-<number>]"; the "-" keeps one marker from matching another that extends it.
        found = self.monitor.count(
            self.url(DATABASES[kind]), f"SELECT count(*) FROM {table} WHERE title LIKE %s", [f"%[{marker}-%"]
        )
        self.output["checks"].append(
            {"size": size, "kind": kind, "marker": marker, "successes": made, "created": found}
        )
        if found != made:
            self.failed_checks += 1
            print(f"  CHECK FAILED: {kind} {marker}: {made} successes counted, {found} created")


def write_results(output: dict[str, Any], started_at: datetime, *, partial: bool) -> None:
    output["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"http-{started_at.strftime('%Y%m%dT%H%M%SZ')}{'-partial' if partial else ''}.json"
    path.write_text(json.dumps(output, indent=1, default=float) + "\n")
    if not partial:
        shutil.copyfile(path, RESULTS / "http-latest.json")
    print(f"\nresults: {path.relative_to(REPOSITORY)}" + ("" if partial else " (and bench/results/http-latest.json)"))


def targets(output: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 12's targets, each checked against this run's figures and printed (they are goals of the work
    on the web path, not conditions of this benchmark's success)."""
    found: list[dict[str, Any]] = []

    def check(name: str, value: float, limit: float, *, at_most: bool = True) -> None:
        met = value <= limit if at_most else value >= limit
        found.append({"target": name, "value": value, "limit": limit, "met": met})
        bound = "at most" if at_most else "at least"
        print(f"  {'met    ' if met else 'NOT met'}  {name}: {value:.2f} ({bound} {limit:g})")

    print("\ntargets of issue 12:")
    sizes = sorted(output["sizes"], key=int)
    for size in sizes:
        measured = output["sizes"][size]
        for concurrency, kinds in measured["summary"].items():
            where = f"{int(size):,} reports, concurrency {concurrency}"
            lapor, helpdesk = kinds.get("lapor"), kinds.get("helpdesk")
            if lapor and helpdesk and helpdesk["server_cpu_ms_per_success"]:
                cpu = lapor["server_cpu_ms_per_success"] / helpdesk["server_cpu_ms_per_success"]
                check(f"server CPU per filing / helpdesk's per ticket, {where}", cpu, 1.0)
                rate = lapor["per_second"] / helpdesk["per_second"]
                check(f"submissions/s / helpdesk's, {where}", rate, 1.5, at_most=False)
            if lapor and concurrency == "8":
                check(f"whole filing flow p99 ms, {where}", lapor["p99_ms"], 300.0)
            for path, read in (kinds.get("read") or {}).items():
                check(f"{path} p99 ms, {where}", read["p99_ms"], 100.0)
        memory = measured["memory"]
        stack = memory["lapor_web_worker_mib"] + memory["lapor_postgres_backends_mib"]
        check(f"memory at rest, web and task workers with their backends (MiB), {int(size):,} reports", stack, 1024.0)
    if len(sizes) > 1:
        smallest, largest = (output["sizes"][size]["summary"] for size in (sizes[0], sizes[-1]))
        for concurrency, kinds in largest.items():
            for path, read in (kinds.get("read") or {}).items():
                before = (smallest.get(concurrency, {}).get("read") or {}).get(path)
                if before and before["p99_ms"]:
                    slower = read["p99_ms"] / before["p99_ms"]
                    check(f"{path} p99 at {int(sizes[-1]):,} / at {int(sizes[0]):,} reports", slower, 1.2)
    return found


DATABASES = {
    "lapor": LAPOR_DATABASE,
    "read": LAPOR_DATABASE,
    "helpdesk": HELPDESK_DATABASE,
    "ceiling": CEILING_DATABASE,
}


def run(args: argparse.Namespace, server_url: str, data_dir: Path) -> int:
    from cryptography.fernet import Fernet

    secret = secrets.token_urlsafe(48)
    environment = lapor_environment(server_url, data_dir, secret, Fernet.generate_key().decode())
    # This process sets up the worlds with the very settings the servers run with.
    os.environ.update({key: value for key, value in environment.items() if key != "PYTHONPATH"})
    sys.path[:0] = [str(LAPOR_SETTINGS_DIR), str(REPOSITORY / "src")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    names = [LAPOR_DATABASE, CEILING_DATABASE] + ([] if args.no_helpdesk else [HELPDESK_DATABASE])
    started_at = datetime.now(UTC)
    output: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "command": " ".join(["bench/web.py", *sys.argv[1:]]),
        "machine": {"cores": os.cpu_count(), "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3]},
        "settings": {
            name: getattr(args, name)
            for name in ("workers", "seconds", "read_seconds", "rounds", "concurrency", "read_concurrency")
        },
        "sizes": {},
        "checks": [],
    }
    with databases(server_url, names):
        bench = Run(args, server_url, data_dir, environment, secret, Monitor(server_url), output)
        try:
            bench.start()
            for size_index, size in enumerate(args.sizes):
                bench.measure_size(size_index, size)
        except BaseException as error:
            # What was measured before the failure is kept, marked as such.
            output["error"] = f"{type(error).__name__}: {error}"
            write_results(output, started_at, partial=True)
            raise
        finally:
            bench.stop()
            bench.monitor.connection.close()
    output["targets"] = targets(output)
    write_results(output, started_at, partial=False)
    if bench.failed_checks:
        print(f"FAIL: {bench.failed_checks} measurements created a different number of rows than they counted")
        return 1
    print("checked: every report and ticket created was counted, and every one counted was created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
