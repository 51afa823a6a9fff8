"""The one settings module. Everything that varies between deployments comes from the environment
through ``lapor.config`` (documented in the README's configuration table)."""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from lapor.config import database_settings, load_config

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
CONFIG = load_config(os.environ, base_dir=BASE_DIR)

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = list(CONFIG.csrf_trusted_origins)
FIELD_ENCRYPTION_KEYS = list(CONFIG.field_encryption_keys)
DATA_DIR = CONFIG.data_dir

INSTALLED_APPS = [
    # django.contrib.admin with Lapor's site: superusers only, signed in through the console (ADR 0007).
    "lapor.admin_site.LaporAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "lapor.core",
    "lapor.regions",
    "lapor.institutions",
    "lapor.accounts",
    "lapor.reports",
    "lapor.notifications",
    "lapor.console",
    "lapor.portal",
    "lapor.demo",
    "lapor.stats",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response; Cache-Control: no-store on PRIVATE_VIEWS.
    "lapor.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # 400 for a NUL character in any parameter (PostgreSQL cannot hold one), in the visitor's language.
    "lapor.core.middleware.RejectNullCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (the console requires it).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A verified session past the console's idle or total limit is signed out on any page, not only the console's.
    "lapor.console.middleware.StaffSessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lapor.core.middleware.TimezoneMiddleware",
    # Turns lapor.core.ratelimit.RateLimited raised by a view into a 429 page with Retry-After.
    "lapor.portal.abuse.RateLimitMiddleware",
]

# Pages that show personal data or a reporter's own report: never kept by a browser or proxy cache
# (lapor.core.middleware.SecurityHeadersMiddleware). URL names; "namespace:*" for a whole namespace.
PRIVATE_VIEWS = (
    "console:*",
    "admin:*",
    "portal:track_report",
    "portal:track_private",
    "portal:track_reporter",
    "portal:login",
    "portal:register",
    "portal:verify",
    "portal:password_reset",
    "portal:my_reports",
    "portal:preferences",
    "portal:claim",
)

ROOT_URLCONF = "lapor.urls"
WSGI_APPLICATION = "lapor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lapor.console.context.console_navigation",
            ],
        },
    },
]

DATABASES = database_settings(CONFIG.database_url, data_dir=DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["lapor.accounts.backends.EmailOrPhoneBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# National default deadlines (PermenPANRB 62/2018, 5/2025). Institutions override them per clock.
REPORT_DEADLINES = {
    "verify_dispatch": (3, "working_days"),
    "first_follow_up": (5, "working_days"),
    "resolution": {
        "ringan": (2, "working_days"),
        "normatif": (5, "working_days"),
        "tidak_berkadar_pengawasan": (14, "working_days"),
        "berkadar_pengawasan": (60, "working_days"),
    },
    "reporter_reply": (10, "working_days"),
    "information_reply": (10, "working_days"),
    "overall": (60, "days"),
}
# Reminders before an unanswered request for missing details archives the report.
INFORMATION_REMINDERS = 2
# Working days after a breach before the national admins hear of it (the coordinator above hears first).
ESCALATION_GRACE_WORKING_DAYS = 2
# What each `lapor worker` sweeps for, and how often: deadline timers and notifications whose task was
# lost or whose retry is due, the daily anchor of the audit trails, the home page's statistics (all idempotent).
WORKER_SWEEPS = (
    "lapor.reports.timers.reconcile",
    "lapor.notifications.services.notification_deliver_due",
    "lapor.core.audit.anchor_daily",
    "lapor.core.ratelimit.sweep_expired",
    "lapor.accounts.services.one_time_code_purge",
    "lapor.accounts.signin.login_record_purge",
    "lapor.reports.selectors.headline_stats_refresh",
)
WORKER_SWEEP_INTERVAL_SECONDS = 60
# The institution that receives Ombudsman referrals and the national queue's owner, by code.
OMBUDSMAN_INSTITUTION_CODE = "ombudsman"
NATIONAL_INSTITUTION_CODE = "nasional"
REPORT_ATTACHMENT_MAX_BYTES = CONFIG.attachment_max_bytes
# How long each process keeps holiday and deadline overrides and the national institution (lapor.core.reference).
REFERENCE_CACHE_SECONDS = CONFIG.reference_cache_seconds
# Abuse resistance (lapor.core.ratelimit, lapor.portal.abuse). The client address is REMOTE_ADDR unless
# TRUSTED_PROXY_COUNT reverse proxies in front of Lapor append to X-Forwarded-For. RATE_LIMITS overrides
# the limits of lapor.core.ratelimit.DEFAULT_RATE_LIMITS scope by scope, e.g.
# {"submit": {"account": ("10/1d",), "guest": ("10/10m", "60/1d"), "ip": ("30/10m", "300/1d")}}.
TRUSTED_PROXY_COUNT = CONFIG.trusted_proxy_count
RATE_LIMITS: dict[str, dict[str, tuple[str, ...]]] = {}
# The operator console's sign-in (lapor.console.views.auth): the second factor is mandatory for staff;
# an account is locked for CONSOLE_LOCKOUT_SECONDS after CONSOLE_LOCKOUT_FAILURES failed passwords or
# codes within CONSOLE_LOCKOUT_WINDOW_SECONDS; a staff session ends after CONSOLE_SESSION_IDLE_SECONDS
# without a request and CONSOLE_SESSION_MAX_SECONDS after signing in, whatever happens.
CONSOLE_LOCKOUT_FAILURES = 5
CONSOLE_LOCKOUT_WINDOW_SECONDS = 15 * 60
CONSOLE_LOCKOUT_SECONDS = 15 * 60
CONSOLE_SESSION_IDLE_SECONDS = 30 * 60
CONSOLE_SESSION_MAX_SECONDS = 12 * 60 * 60
CONSOLE_RECOVERY_CODE_COUNT = 10
# Console sign-in records (with the network and browser they came from) are kept this long.
CONSOLE_LOGIN_RECORD_RETENTION_DAYS = 180
OTP_TOTP_ISSUER = "Lapor"
# The console's lockout (above) replaces django-otp's per-device delays, which would refuse a right code
# for a while after wrong ones without saying until when.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
REPORT_ATTACHMENT_MAX_COUNT = 10
REPORT_ATTACHMENT_MAX_PIXELS = 40_000_000
REPORT_ATTACHMENT_MAX_BATCH_PIXELS = 120_000_000
REPORT_ATTACHMENT_MAX_DIMENSION = 4096
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Notifications: e-mail through EMAIL_BACKEND; SMS through a console, file or HTTP gateway backend.
SMS_BACKEND = CONFIG.sms_backend
SMS_GATEWAY_URL = CONFIG.sms_gateway_url
SMS_GATEWAY_TOKEN = CONFIG.sms_gateway_token
SMS_GATEWAY_TIMEOUT = 10
NOTIFICATION_RETRY_DELAYS = (60, 300, 1500, 7200, 36000)
SITE_URL = CONFIG.site_url
# The public map's tiles (lapor.portal.views.feed): a tile server the deployment runs or contracts, never a
# third party chosen by default; empty draws the markers over the outlines shipped in vendor/basemap.json.
MAP_TILE_URL = CONFIG.map_tile_url
MAP_TILE_ATTRIBUTION = CONFIG.map_tile_attribution
# Where the portal opens a reporter's private link (portal:track_private), for the messages.
REPORTER_LINK_PATH = "/lacak/{tracking_id}/k/{secret}/"
EMAIL_TIMEOUT = 30

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LANGUAGE_CODE = CONFIG.language_code
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = CONFIG.time_zone

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[CONFIG.email_backend]
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = CONFIG.email_host
EMAIL_PORT = CONFIG.email_port
EMAIL_HOST_USER = CONFIG.email_host_user
EMAIL_HOST_PASSWORD = CONFIG.email_host_password
EMAIL_USE_TLS = CONFIG.email_use_tls
DEFAULT_FROM_EMAIL = CONFIG.default_from_email

SESSION_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_SECURE = CONFIG.secure_cookies
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS enforcement, opted into by deployments behind TLS (README: configuration). Behind a reverse proxy that
# ends TLS, SECURE_PROXY_SSL_HEADER trusts its X-Forwarded-Proto: the proxy must set or strip that header.
SECURE_SSL_REDIRECT = CONFIG.secure_ssl_redirect
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CONFIG.secure_proxy_ssl_header else None
SECURE_HSTS_SECONDS = CONFIG.secure_hsts_seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = CONFIG.secure_hsts_include_subdomains
SECURE_HSTS_PRELOAD = CONFIG.secure_hsts_preload
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
