"""Typed configuration read from environment variables.

Every setting Lapor takes from its environment is parsed here, once, into a frozen ``Config``.
A missing or malformed variable raises ``ConfigError`` naming the variable and what was expected,
so that a deployment fails at start-up with a message an operator can act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

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
    from lapor.core.crypto import derive_fernet_key, validate_fernet_key

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
    )
