"""Suite-wide rules: in CI no test may be skipped, and database-specific tests declare their database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

POSTGRES_ONLY_REASON = "needs PostgreSQL: runs in the PostgreSQL pass of make test (set DATABASE_URL)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason=POSTGRES_ONLY_REASON)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every check must run: a skip fails the run, except PostgreSQL tests in the SQLite pass."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [
        report for report in reporter.stats.get("skipped", []) if POSTGRES_ONLY_REASON not in str(report.longrepr)
    ]
    if skipped:
        reporter.write_line(f"CI forbids skipped tests: {len(skipped)} skipped.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    """pytest-django's superuser client, signed in the way the admin requires (lapor.admin_site): through
    the console, with the second factor proven in this session."""
    from tests.console.conftest import verified_login

    return verified_login(client, admin_user)


@pytest.fixture(autouse=True)
def _reference_cache_reset() -> Iterator[None]:
    """Each test starts with an empty reference cache: what an earlier test read (and rolled back)
    is no business of the next."""
    from lapor.core import reference

    reference.reset()
    yield
    reference.reset()


@pytest.fixture
def committed_rows_purged(transactional_db: None) -> Iterator[None]:
    """For tests that commit: the audit trail's tables are append-only (their triggers refuse DELETE
    and TRUNCATE of non-empty tables), so empty them with the triggers lifted before Django's flush."""
    yield
    from django.apps import apps
    from django.db.models import Model

    from lapor.core.audit import chained_event_models
    from lapor.core.models import AuditAnchor

    protected: list[type[Model]] = [*chained_event_models(), AuditAnchor]
    for model in apps.get_models():  # rows that point at protected rows (notifications, attachments) go first
        for field in model._meta.concrete_fields:
            if model not in protected and field.is_relation and field.related_model in protected:
                model._base_manager.filter(**{f"{field.name}__isnull": False}).delete()
    _empty_append_only_tables([model._meta.db_table for model in protected])


def _empty_append_only_tables(tables: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            lift = [f'ALTER TABLE "{table}" DISABLE TRIGGER USER' for table in tables]
            restore = [f'ALTER TABLE "{table}" ENABLE TRIGGER USER' for table in tables]
        else:
            placeholders = ", ".join(["%s"] * len(tables))
            query = f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({placeholders})"  # noqa: S608
            cursor.execute(query, tables)
            triggers = cursor.fetchall()
            lift = [f'DROP TRIGGER "{name}"' for name, _sql in triggers]
            restore = [sql for _name, sql in triggers]
        for statement in lift:
            cursor.execute(statement)
        try:
            for table in tables:
                cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608 - table names come from the models
        finally:
            for statement in restore:
                cursor.execute(statement)


@pytest.fixture
def indonesian_default() -> Iterator[None]:
    """The product's default language (Indonesian, unprefixed URLs), whatever the test settings say.
    Reversed URLs are cached per language, and which language goes unprefixed depends on the default."""
    from django.test import override_settings
    from django.urls import clear_url_caches
    from django.utils import translation

    clear_url_caches()
    with override_settings(LANGUAGE_CODE="id"), translation.override("id"):
        yield
    clear_url_caches()
