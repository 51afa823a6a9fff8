"""Settings for the test suite: the real settings module with test-only environment defaults."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-of-sufficient-length-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "6KJxY9v0J3mJm2wz0o0XkQ2Sx2m3S8b0o5u3x1QJc0A=")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("EMAIL_BACKEND", "locmem")
# Assertions read best against the source strings; tests of the Indonesian default set it themselves.
os.environ.setdefault("LANGUAGE_CODE", "en")
os.environ.setdefault("LAPOR_DATA_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from lapor.settings import *  # noqa: F403
from lapor.settings import PASSWORD_HASHERS as PRODUCTION_PASSWORD_HASHERS

# Argon2 is what production uses (tests/accounts check it); most tests need a fast hasher instead.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PRODUCTION_PASSWORD_HASHERS]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405
# Django's backends with a quicker flush after transactional tests (tests/backends says why).
TEST_BACKENDS = {
    "django.db.backends.postgresql": "tests.backends.postgresql",
    "django.db.backends.sqlite3": "tests.backends.sqlite3",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # What Django tests SQLite in by default, said outright: pytest-django recognises an in-memory database
    # by this name (or by Django's own engine name) and gives each xdist worker its own.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = ":memory:"  # noqa: F405
DATABASES["default"]["ENGINE"] = TEST_BACKENDS[DATABASES["default"]["ENGINE"]]  # noqa: F405
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
INSTALLED_APPS = [*INSTALLED_APPS, "tests.audit_app"]  # noqa: F405
