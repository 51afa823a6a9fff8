"""PostgreSQL for the tests: Django's backend with a flush that deletes rows (see tests/backends)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations

from tests.backends import tables_to_flush


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        kept = tables_to_flush(tables)
        if reset_sequences or allow_cascade or not kept:
            return super().sql_flush(style, kept, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        # Foreign keys are deferred (Django creates them DEFERRABLE INITIALLY DEFERRED) and the flush runs
        # in one transaction, so the order of the deletes does not matter. Sequences go on as after a
        # TRUNCATE without RESTART IDENTITY. One statement: one round trip.
        deletes = [f"DELETE FROM {self.quote_name(table)}" for table in kept]
        return ["; ".join(["SET CONSTRAINTS ALL DEFERRED", *deletes])]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
