"""Settings validation: a missing or malformed variable stops start-up with a message naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from lapor.config import DEVELOPMENT_SECRET_KEY, ConfigError, database_settings, load_config

BASE = Path("/srv/lapor")
GOOD_KEY = Fernet.generate_key().decode()
PRODUCTION = {
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "lapor.example.id",
    "FIELD_ENCRYPTION_KEYS": GOOD_KEY,
}


def test_debug_instance_needs_nothing():
    config = load_config({"DEBUG": "1"}, base_dir=BASE)
    assert config.debug is True
    assert config.secret_key == DEVELOPMENT_SECRET_KEY
    assert config.database_url is None
    assert config.data_dir == BASE / "var"
    assert "127.0.0.1" in config.allowed_hosts
    assert len(config.field_encryption_keys) == 1
    assert config.email_backend == "console"
    assert config.language_code == "id"
    assert config.time_zone == "Asia/Jakarta"


def test_production_values_are_read():
    config = load_config(
        {**PRODUCTION, "DATABASE_URL": "postgres://lapor@db:5432/lapor", "EMAIL_PORT": "587", "DEBUG": "no"},
        base_dir=BASE,
    )
    assert config.debug is False
    assert config.allowed_hosts == ("lapor.example.id",)
    assert config.email_port == 587
    assert config.email_backend == "smtp"
    assert config.secure_cookies is True
    assert config.database_url == "postgres://lapor@db:5432/lapor"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is required"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is required"),
        ({"FIELD_ENCRYPTION_KEYS": ""}, "FIELD_ENCRYPTION_KEYS is required"),
        ({"FIELD_ENCRYPTION_KEYS": f"{GOOD_KEY},not-a-key"}, "FIELD_ENCRYPTION_KEYS item 2"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT must be between 1 and 65535"),
        ({"DATABASE_URL": "mysql://root@db/lapor"}, "DATABASE_URL must look like"),
        ({"TIME_ZONE": "Europe/Paris"}, "TIME_ZONE must be one of"),
        ({"LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE must be one of"),
        ({"EMAIL_BACKEND": "carrier-pigeon"}, "EMAIL_BACKEND must be one of"),
        ({"SMS_BACKEND": "http"}, "SMS_GATEWAY_URL is required"),
        ({"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "gateway.local/send"}, "SMS_GATEWAY_URL must start with"),
        ({"SITE_URL": "lapor.go.id"}, "SITE_URL must start with"),
        ({"REPORT_ATTACHMENT_MAX_MB": "0"}, "REPORT_ATTACHMENT_MAX_MB must be between 1 and 100"),
    ],
)
def test_missing_or_malformed_variable_is_named(change, message):
    with pytest.raises(ConfigError, match=message):
        load_config({**PRODUCTION, **change}, base_dir=BASE)


def test_sms_gateway_and_attachment_limit():
    config = load_config(
        {
            **PRODUCTION,
            "SMS_BACKEND": "http",
            "SMS_GATEWAY_URL": "https://sms.example.id/send/",
            "REPORT_ATTACHMENT_MAX_MB": "2",
        },
        base_dir=BASE,
    )
    assert config.sms_gateway_url == "https://sms.example.id/send"
    assert config.attachment_max_bytes == 2 * 1024 * 1024


def test_lists_ignore_blanks_and_spaces():
    config = load_config({**PRODUCTION, "ALLOWED_HOSTS": " a.id, ,b.id ,"}, base_dir=BASE)
    assert config.allowed_hosts == ("a.id", "b.id")


def test_lapor_command_fails_clearly_without_secret_key(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in PRODUCTION and key != "DEBUG"}
    environment.update(DEBUG="0", DJANGO_SETTINGS_MODULE="lapor.settings", LAPOR_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "lapor.cli", "check"], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


# --- HTTPS enforcement ----------------------------------------------------------------------------------


def test_https_enforcement_is_off_unless_asked_for():
    config = load_config(PRODUCTION, base_dir=BASE)
    assert (config.secure_ssl_redirect, config.secure_proxy_ssl_header) == (False, False)
    assert (config.secure_hsts_seconds, config.secure_hsts_include_subdomains, config.secure_hsts_preload) == (
        0,
        False,
        False,
    )


def test_https_enforcement_is_read_for_a_deployment_behind_tls():
    config = load_config(
        {
            **PRODUCTION,
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_PROXY_SSL_HEADER": "yes",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "SECURE_HSTS_PRELOAD": "1",
        },
        base_dir=BASE,
    )
    assert (config.secure_ssl_redirect, config.secure_proxy_ssl_header) == (True, True)
    assert (config.secure_hsts_seconds, config.secure_hsts_include_subdomains, config.secure_hsts_preload) == (
        31536000,
        True,
        True,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS must be a whole number"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS must be between 0 and 63072000"),
        ({"SECURE_SSL_REDIRECT": "maybe"}, "SECURE_SSL_REDIRECT must be one of"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, "SECURE_PROXY_SSL_HEADER must be one of"),
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "1"}, "need SECURE_HSTS_SECONDS above 0"),
        (
            {"SECURE_HSTS_SECONDS": "3600", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1"},
            "SECURE_HSTS_PRELOAD needs",
        ),
        ({"SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_PRELOAD": "1"}, "SECURE_HSTS_PRELOAD needs"),
    ],
)
def test_malformed_https_settings_stop_start_up(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config({**PRODUCTION, **overrides}, base_dir=BASE)


def _settings_of(env: dict[str, str], expression: str) -> str:
    """``expression`` over the settings module loaded from ``env`` in a fresh interpreter."""
    script = (
        f"import django.conf, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'lapor.settings'; "
        f"from django.conf import settings; print(repr({expression}))"
    )
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SECURE_", "DATABASE"))}
    result = subprocess.run(
        [sys.executable, "-c", script], env={**clean, **PRODUCTION, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_https_variables_reach_djangos_settings(tmp_path):
    env = {
        "LAPOR_DATA_DIR": str(tmp_path),
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_PROXY_SSL_HEADER": "1",
        "SECURE_HSTS_SECONDS": "600",
    }
    shown = _settings_of(
        env, "(settings.SECURE_SSL_REDIRECT, settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_HSTS_SECONDS)"
    )
    assert shown == "(True, ('HTTP_X_FORWARDED_PROTO', 'https'), 600)"
    assert _settings_of({"LAPOR_DATA_DIR": str(tmp_path)}, "settings.SECURE_PROXY_SSL_HEADER") == "None"


# --- databases --------------------------------------------------------------------------------------------


def test_a_sqlite_database_url_gets_the_options_of_the_default_file(tmp_path):
    """WAL, IMMEDIATE transactions and the busy timeout on every SQLite file: without them parallel
    writers (two "dukung" clicks) fail with "database is locked"."""
    named = database_settings(f"sqlite:///{tmp_path}/other.sqlite3", data_dir=tmp_path)["default"]
    default = database_settings(None, data_dir=tmp_path)["default"]
    assert named["NAME"] == f"{tmp_path}/other.sqlite3"
    assert default["NAME"] == f"{tmp_path}/lapor.sqlite3"
    for options in (named["OPTIONS"], default["OPTIONS"]):
        assert options["transaction_mode"] == "IMMEDIATE"
        assert options["timeout"] == 20
        assert "journal_mode=WAL" in options["init_command"]


def test_the_settings_module_applies_them_to_a_sqlite_database_url(tmp_path):
    options = _settings_of(
        {"LAPOR_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"},
        "settings.DATABASES['default']['OPTIONS']",
    )
    assert "'transaction_mode': 'IMMEDIATE'" in options
    assert "journal_mode=WAL" in options


def test_postgresql_gets_jit_off_and_no_sqlite_options(tmp_path):
    database = database_settings("postgres://lapor@db:5432/lapor", data_dir=tmp_path)["default"]
    assert database["OPTIONS"] == {"options": "-c jit=off"}
