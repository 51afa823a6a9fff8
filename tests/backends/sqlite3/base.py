"""SQLite for the tests: Django's backend with a flush that keeps the content types and permissions
(see tests/backends)."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base, operations

from tests.backends import tables_to_flush


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        return super().sql_flush(
            style, tables_to_flush(tables), reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
