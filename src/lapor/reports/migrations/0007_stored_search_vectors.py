"""Stored search vectors (PostgreSQL only; nothing on SQLite): docs/adr/0010-search.md.

Two generated columns that PostgreSQL keeps from a report's text, each with the GIN index search uses:
``public_search`` from the public (masked) title and body of a report the public may see (NULL for
the others), ``staff_search`` from the reporter's own title and body.
The title weighs more than the body (weights A and B), so that ranking prefers a report whose title
names what was searched. Until now the indexes were on the expressions themselves: every row a plan
read (to rank it, or to test it while walking the newest-first index) had its text parsed and stemmed
again, about a second of CPU per search among 100,000 reports. A stored vector is read, not rebuilt.

The columns are not fields of the model (SQLite has no text search): `selectors.public.StoredVector`
names them in queries, and the ORM never writes them. Adding them rewrites the reports table once.
The index names stay those of migrations 0003 and 0005, the public one with the predicate of
`access.public_reports_q()`.
"""

from django.db import migrations

PUBLISHED = (
    "NOT is_confidential AND status IN ('closed', 'completed', 'dispatched', 'in_progress', 'referred', 'returned')"
)
OLD_INDEXES = {
    "report_public_text_search": "USING gin (to_tsvector('indonesian'::regconfig, COALESCE(public_title, '') || ' ' "
    f"|| COALESCE(public_body, ''))) WHERE {PUBLISHED}",
    "report_staff_text_search": "USING gin (to_tsvector('indonesian'::regconfig, COALESCE(title, '') || ' ' "
    "|| COALESCE(body, '')))",
}
NEW_INDEXES = {
    "report_public_text_search": f"USING gin (public_search) WHERE {PUBLISHED}",
    "report_staff_text_search": "USING gin (staff_search)",
}


def weighted(title: str, body: str) -> str:
    return (
        f"setweight(to_tsvector('indonesian'::regconfig, COALESCE({title}, '')), 'A') || "
        f"setweight(to_tsvector('indonesian'::regconfig, COALESCE({body}, '')), 'B')"
    )


STATISTICS_TARGET = 1000
COLUMNS = {
    # NULL while the public may not see the report: the column's statistics then describe the public's
    # reports only, and a word that only confidential or unpublished reports use is known to be rare.
    "public_search": f"CASE WHEN {PUBLISHED} THEN {weighted('public_title', 'public_body')} END",
    "staff_search": weighted("title", "body"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    additions = ", ".join(
        f"ADD COLUMN IF NOT EXISTS {column} tsvector GENERATED ALWAYS AS ({expression}) STORED"
        for column, expression in COLUMNS.items()
    )
    schema_editor.execute(f"ALTER TABLE reports_report {additions}")
    # Ten times the default sample and list of most common words: a word missing from the list is
    # estimated at half the rarest listed one's frequency (at most 0.5%), so a longer list tells a
    # rare word from a common one, which decides between the GIN index and walking an ordered one.
    schema_editor.execute(
        "ALTER TABLE reports_report "
        + ", ".join(f"ALTER COLUMN {column} SET STATISTICS {STATISTICS_TARGET}" for column in COLUMNS)
    )
    for name, definition in NEW_INDEXES.items():
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY {name} ON reports_report {definition}")
    # The planner's estimates of a search ("about N results") come from the columns' statistics.
    schema_editor.execute("ANALYZE reports_report")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in OLD_INDEXES.items():
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY {name} ON reports_report {definition}")
    schema_editor.execute(
        "ALTER TABLE reports_report " + ", ".join(f"DROP COLUMN IF EXISTS {column}" for column in COLUMNS)
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0006_guest_contacts_encrypted"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
