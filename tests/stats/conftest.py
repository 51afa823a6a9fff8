"""Statistics tests use the same small world as the report tests (tests/reports/conftest.py)."""

from __future__ import annotations

import pytest

from tests.reports.conftest import World, cached_world


@pytest.fixture
def world(db: None) -> World:
    return cached_world()
