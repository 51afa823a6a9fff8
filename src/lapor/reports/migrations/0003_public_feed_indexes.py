"""Indexes of the public feed (lapor.reports.selectors), on PostgreSQL only; nothing on SQLite.

- the Indonesian full-text search over the public (masked) text: a GIN index of exactly the
  expression `selectors.public.public_text_vector()` compiles to, or the planner would not use it;
- keyset pages of published reports, newest or most supported first;
- region filters, which match village codes by prefix (LIKE '36.74.%' needs pattern operators
  under a linguistic collation).

The published-report indexes are partial, with the predicate of `access.public_reports_q()`, so
they hold only what the public may see. Built CONCURRENTLY: the reports table keeps taking writes
while a large deployment builds them.
"""

from django.db import migrations

PUBLISHED = (
    "NOT is_confidential AND status IN ('closed', 'completed', 'dispatched', 'in_progress', 'referred', 'returned')"
)
PUBLIC_TEXT = "to_tsvector('indonesian'::regconfig, COALESCE(public_title, '') || ' ' || COALESCE(public_body, ''))"
INDEXES = {
    "report_public_text_search": f"USING gin ({PUBLIC_TEXT}) WHERE {PUBLISHED}",
    "report_public_newest": f"(created_at DESC, id DESC) WHERE {PUBLISHED}",
    "report_public_supported": f"(support_count DESC, id DESC) WHERE {PUBLISHED}",
    "report_village_prefix": "(village_id varchar_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON reports_report {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0002_timer_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
