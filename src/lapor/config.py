"""Typed configuration read from environment variables.

Every setting Lapor takes from its environment is parsed here, once, into a frozen ``Config``.
A missing or malformed variable raises ``ConfigError`` naming the variable and what was expected,
so that a deployment fails at start-up with a message an operator can act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from lapor.core.crypto import derive_fernet_key, validate_fernet_key

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
# The development key is public on purpose: it only ever signs a DEBUG instance's cookies.
DEVELOPMENT_SECRET_KEY = "lapor-development-only-key-never-use-in-production"  # noqa: S105
MINIMUM_SECRET_KEY_LENGTH = 50  # what Django's `check --deploy` asks for


class ConfigError(ImproperlyConfigured):
    """A configuration variable is missing or malformed."""


@dataclasses.dataclass(frozen=True)
class Config:
    debug: bool
    secret_key: str
    database_url: str | None
    data_dir: Path
    allowed_hosts: tuple[str, ...]
    csrf_trusted_origins: tuple[str, ...]
    field_encryption_keys: tuple[str, ...]
    time_zone: str
    language_code: str
    email_backend: str
    email_host: str
    email_port: int
    email_host_user: str
    email_host_password: str
    email_use_tls: bool
    default_from_email: str
    log_level: str
    secure_cookies: bool
    sms_backend: str
    sms_gateway_url: str
    sms_gateway_token: str
    site_url: str
    attachment_max_bytes: int
    reference_cache_seconds: int
    trusted_proxy_count: int
    map_tile_url: str
    map_tile_attribution: str
    secure_ssl_redirect: bool = False
    secure_proxy_ssl_header: bool = False
    secure_hsts_seconds: int = 0
    secure_hsts_include_subdomains: bool = False
    secure_hsts_preload: bool = False


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number; got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}; got {value}.")
    return value


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default).strip() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def _url(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if raw and not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://; got {raw!r}.")
    return raw.rstrip("/")


def _database_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return None
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in {"postgres", "postgresql", "sqlite"}:
        raise ConfigError(
            "DATABASE_URL must look like postgres://user:password@host:5432/name or "
            f"sqlite:////absolute/path.sqlite3; got {raw!r}."
        )
    return raw


def _encryption_keys(env: Mapping[str, str], *, debug: bool, secret_key: str) -> tuple[str, ...]:
    keys = _list(env, "FIELD_ENCRYPTION_KEYS", ())
    if not keys:
        if not debug:
            raise ConfigError(
                "FIELD_ENCRYPTION_KEYS is required when DEBUG is off: a comma-separated list of "
                "Fernet keys, newest first (make one with `lapor generate_encryption_key`)."
            )
        return (derive_fernet_key(secret_key),)
    for position, key in enumerate(keys, start=1):
        if not validate_fernet_key(key):
            raise ConfigError(
                f"FIELD_ENCRYPTION_KEYS item {position} is not a Fernet key (32 bytes, url-safe base64, 44 characters)."
            )
    return keys


def _tile_url(env: Mapping[str, str], name: str) -> str:
    """A tile server's URL template, e.g. https://tiles.example.go.id/{z}/{x}/{y}.png or /tiles/{z}/{x}/{y}.png."""
    raw = env.get(name, "").strip()
    if not raw:
        return ""
    if not raw.startswith(("http://", "https://", "/")):
        raise ConfigError(f"{name} must start with https://, http:// or /; got {raw!r}.")
    if not all(part in raw for part in ("{z}", "{x}", "{y}")):
        raise ConfigError(f"{name} must contain {{z}}, {{x}} and {{y}}; got {raw!r}.")
    return raw


# Browsers accept a site into their HSTS preload lists only with at least a year and every subdomain.
HSTS_PRELOAD_MINIMUM_SECONDS = 31_536_000
HSTS_MAXIMUM_SECONDS = 2 * HSTS_PRELOAD_MINIMUM_SECONDS


def _https(env: Mapping[str, str]) -> dict[str, Any]:
    """HTTPS enforcement for deployments behind TLS: all off by default, so that `make run` over plain
    HTTP works; each one checked against the others, since a wrong mix locks browsers out for months."""
    hsts_seconds = _int(env, "SECURE_HSTS_SECONDS", 0, minimum=0, maximum=HSTS_MAXIMUM_SECONDS)
    include_subdomains = _bool(env, "SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    preload = _bool(env, "SECURE_HSTS_PRELOAD", False)
    if (include_subdomains or preload) and hsts_seconds == 0:
        raise ConfigError("SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_PRELOAD need SECURE_HSTS_SECONDS above 0.")
    if preload and not (include_subdomains and hsts_seconds >= HSTS_PRELOAD_MINIMUM_SECONDS):
        raise ConfigError(
            "SECURE_HSTS_PRELOAD needs SECURE_HSTS_INCLUDE_SUBDOMAINS=1 and SECURE_HSTS_SECONDS of at least "
            f"{HSTS_PRELOAD_MINIMUM_SECONDS} (one year)."
        )
    return {
        "secure_ssl_redirect": _bool(env, "SECURE_SSL_REDIRECT", False),
        "secure_proxy_ssl_header": _bool(env, "SECURE_PROXY_SSL_HEADER", False),
        "secure_hsts_seconds": hsts_seconds,
        "secure_hsts_include_subdomains": include_subdomains,
        "secure_hsts_preload": preload,
    }


def load_config(env: Mapping[str, str], *, base_dir: Path) -> Config:
    debug = _bool(env, "DEBUG", False)
    secret_key = env.get("SECRET_KEY", "").strip()
    if not secret_key:
        if not debug:
            raise ConfigError(
                "SECRET_KEY is required when DEBUG is off "
                f"(a random string of {MINIMUM_SECRET_KEY_LENGTH}+ characters)."
            )
        secret_key = DEVELOPMENT_SECRET_KEY
    elif not debug and len(secret_key) < MINIMUM_SECRET_KEY_LENGTH:
        raise ConfigError(f"SECRET_KEY must be at least {MINIMUM_SECRET_KEY_LENGTH} characters long.")

    data_dir = Path(env.get("LAPOR_DATA_DIR", "").strip() or base_dir / "var").resolve()
    default_hosts = ("127.0.0.1", "localhost", "[::1]") if debug else ()
    allowed_hosts = _list(env, "ALLOWED_HOSTS", default_hosts)
    if not debug and not allowed_hosts:
        raise ConfigError("ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names).")

    sms_backend = _choice(env, "SMS_BACKEND", "console" if debug else "file", ("console", "file", "http"))
    sms_gateway_url = _url(env, "SMS_GATEWAY_URL")
    if sms_backend == "http" and not sms_gateway_url:
        raise ConfigError("SMS_GATEWAY_URL is required when SMS_BACKEND is http (the gateway's https:// endpoint).")

    return Config(
        debug=debug,
        secret_key=secret_key,
        database_url=_database_url(env),
        data_dir=data_dir,
        allowed_hosts=allowed_hosts,
        csrf_trusted_origins=_list(env, "CSRF_TRUSTED_ORIGINS", ()),
        field_encryption_keys=_encryption_keys(env, debug=debug, secret_key=secret_key),
        time_zone=_choice(env, "TIME_ZONE", "Asia/Jakarta", ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC")),
        language_code=_choice(env, "LANGUAGE_CODE", "id", ("id", "en")),
        email_backend=_choice(
            env, "EMAIL_BACKEND", "console" if debug else "smtp", ("smtp", "console", "file", "locmem")
        ),
        email_host=env.get("EMAIL_HOST", "localhost").strip(),
        email_port=_int(env, "EMAIL_PORT", 25, minimum=1, maximum=65535),
        email_host_user=env.get("EMAIL_HOST_USER", ""),
        email_host_password=env.get("EMAIL_HOST_PASSWORD", ""),
        email_use_tls=_bool(env, "EMAIL_USE_TLS", False),
        default_from_email=env.get("DEFAULT_FROM_EMAIL", "Lapor <noreply@localhost>"),
        log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        secure_cookies=_bool(env, "SECURE_COOKIES", not debug),
        sms_backend=sms_backend,
        sms_gateway_url=sms_gateway_url,
        sms_gateway_token=env.get("SMS_GATEWAY_TOKEN", ""),
        site_url=_url(env, "SITE_URL"),
        attachment_max_bytes=_int(env, "REPORT_ATTACHMENT_MAX_MB", 10, minimum=1, maximum=100) * 1024 * 1024,
        reference_cache_seconds=_int(env, "REFERENCE_CACHE_SECONDS", 60, minimum=0, maximum=3600),
        trusted_proxy_count=_int(env, "TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5),
        map_tile_url=_tile_url(env, "MAP_TILE_URL"),
        map_tile_attribution=env.get("MAP_TILE_ATTRIBUTION", "").strip(),
        **_https(env),
    )


# Every SQLite file, the default one or one named by DATABASE_URL=sqlite:///…: WAL lets the web server and
# the task worker read and write the file at the same time; IMMEDIATE transactions take the write lock at
# BEGIN, so concurrent writers wait (up to the timeout) instead of failing with "database is locked".
SQLITE_OPTIONS: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_settings(database_url: str | None, *, data_dir: Path) -> dict[str, dict[str, Any]]:
    """Django's DATABASES for ``DATABASE_URL`` (None: the SQLite file in the data directory)."""
    import dj_database_url

    if database_url:
        default: dict[str, Any] = dict(dj_database_url.parse(database_url, conn_max_age=60, conn_health_checks=True))
    else:
        # The embedded default: the file lives in the data directory, made on first use so that a bare
        # `lapor migrate` works on a fresh checkout.
        data_dir.mkdir(parents=True, exist_ok=True)
        default = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(data_dir / "lapor.sqlite3")}
    if default["ENGINE"] == "django.db.backends.sqlite3":
        default["OPTIONS"] = {**SQLITE_OPTIONS, **default.get("OPTIONS", {})}
    elif default["ENGINE"] == "django.db.backends.postgresql":
        # JIT compilation costs more than it saves on short OLTP queries (see ARCHITECTURE.md).
        default.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return {"default": default}
