"""Suite-wide rules: in CI no test may be skipped, and database-specific tests declare their database."""

from __future__ import annotations

import os

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
