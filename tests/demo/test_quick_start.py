"""The quick start: `make run` / `make serve` honour PORT and stop cleanly, and the README states the
rules the code enforces. The make targets run for real, in a subprocess."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lapor.config import MINIMUM_SECRET_KEY_LENGTH, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")

# A laptop without GNU make skips these with the reason; CI (which runs `make test`) never may.
needs_make = pytest.mark.skipif(MAKE is None and not os.environ.get("CI"), reason="GNU make is not installed")


def _make(*arguments: str, port: int | str, tmp_path: Path) -> subprocess.Popen[str]:
    # `-o install`: the environment running these tests is installed already; never let a stale
    # stamp start pip or npm from a test.
    # A clean environment: not the tests' settings module or database, which pytest put in os.environ.
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PORT": str(port),
        "LAPOR_DATA_DIR": str(tmp_path),
        "DEBUG": "1",
    }
    return subprocess.Popen(
        [MAKE or "make", "--no-print-directory", "-o", "install", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@needs_make
@pytest.mark.parametrize("target", ["serve", "run"])
def test_a_taken_port_stops_make_with_a_clear_message_before_anything_starts(target, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = _make(target, port=port, tmp_path=tmp_path)
        try:
            output, _ = process.communicate(timeout=60)
        finally:
            _group_ends(process.pid, within=0)

    assert process.returncode != 0
    assert f"Port {port} on 127.0.0.1 is taken" in output
    assert f"PORT=8001 make {target}" in output
    assert "Segmentation fault" not in output
    # Nothing was set up or started: no database, no worker.
    assert not (tmp_path / "lapor.sqlite3").exists()
    assert "Starting worker" not in output


@needs_make
def test_make_serve_listens_on_port_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = _free_port()
    process = _make("serve", port=port, tmp_path=tmp_path)
    try:
        answered = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None and not answered:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                answered = True
            except urllib.error.HTTPError:
                answered = True  # any HTTP answer: the server listens on PORT
            except OSError:
                time.sleep(0.2)
    finally:
        if process.poll() is None:
            # Ctrl+C in a terminal: SIGINT to the whole foreground process group.
            os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)

    assert answered, f"nothing answered on port {port}:\n{output}"

    assert "Segmentation fault" not in output
    assert f"127.0.0.1:{port}" in output
    assert _group_ends(process.pid), "the worker or the server outlived make"


def _group_ends(group: int, *, within: float = 30) -> bool:
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    os.killpg(group, signal.SIGKILL)  # leave nothing running behind a failed test
    return False


@needs_make
def test_make_help_names_port():
    output = subprocess.run(
        [MAKE or "make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "PORT" in output


def test_readme_states_the_secret_key_length_the_code_requires():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `SECRET_KEY`"))
    assert re.findall(r"at least (\d+)", row) == [str(MINIMUM_SECRET_KEY_LENGTH)]

    production = {"ALLOWED_HOSTS": "lapor.example.go.id", "FIELD_ENCRYPTION_KEYS": ""}
    with pytest.raises(ConfigError, match=f"at least {MINIMUM_SECRET_KEY_LENGTH}"):
        load_config({**production, "SECRET_KEY": "k" * (MINIMUM_SECRET_KEY_LENGTH - 1)}, base_dir=ROOT)
    with pytest.raises(ConfigError, match=f"{MINIMUM_SECRET_KEY_LENGTH}\\+ characters"):
        load_config(production, base_dir=ROOT)


def test_readme_quick_start_mentions_port():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "PORT=8001 make run" in readme
    assert "| `PORT` | `8000` |" in readme
