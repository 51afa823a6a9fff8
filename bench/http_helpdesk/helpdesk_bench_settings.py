"""django-helpdesk set up as its documentation says, for bench/web.py's comparison: DEBUG off,
PostgreSQL with persistent connections (as Lapor's), public ticket submission into one queue, e-mail
kept in memory. Runs in its own virtual environment (var/bench/helpdesk-venv); Lapor never imports it."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "helpdesk_bench_urls"
WSGI_APPLICATION = None
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_url = urlsplit(os.environ["DATABASE_URL"])
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
        # The same as Lapor's: connections kept for 60 s, checked before reuse, no JIT.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"options": "-c jit=off"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Asia/Jakarta"
LANGUAGE_CODE = "en"
STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("HELPDESK_STATIC_ROOT", "static")
MEDIA_ROOT = os.environ.get("HELPDESK_MEDIA_ROOT", "media")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGIN_URL = "/login/"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

HELPDESK_PUBLIC_ENABLED = True
HELPDESK_SUBMIT_A_TICKET_PUBLIC = True
HELPDESK_VIEW_A_TICKET_PUBLIC = True
HELPDESK_REDIRECT_TO_LOGIN_BY_DEFAULT = False
HELPDESK_PUBLIC_TICKET_QUEUE = "public"
HELPDESK_PUBLIC_TICKET_PRIORITY = 3
HELPDESK_PUBLIC_TICKET_DUE_DATE = None
# Teams need pinax-teams, an extra the public form does not use.
HELPDESK_TEAMS_MODE_ENABLED = False
