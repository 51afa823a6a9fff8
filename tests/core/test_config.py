"""Settings validation: a missing or malformed variable stops start-up with a message naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from lapor.config import DEVELOPMENT_SECRET_KEY, ConfigError, load_config

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
