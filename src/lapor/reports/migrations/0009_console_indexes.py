"""Indexes for the console at a million reports (`selectors.inbox`, `selectors.workspace`).

- assignment_withdrawn: the withdrawn forwards, for the "returned" queue (reports a coordinator's units
  handed back). They are few; the queue reads them here instead of looking up the forwards of every
  report its institution has in progress.
- report_merge_candidates (PostgreSQL): the reports a merge may keep (open and published, not
  confidential, not merged), by owner and village, for the workspace's duplicate candidates: a
  coordinator's institutions each read their few reports of the district from it, instead of
  intersecting all the owner's reports with all the district's (60 ms at 1,000,000 reports, 15 ms
  with it). Its statuses are `public.OPEN_PUBLISHED_STATUSES` as of this migration.
- clock_running_unpaused_due: the running clocks that are not paused, by due time and report, for a
  large queue's pages by deadline (the inbox walks them in due order instead of sorting the queue).

Declared in SQL with no model state, so that the model's module is left to its owners."""

from django.db import migrations

WITHDRAWN = "CREATE INDEX assignment_withdrawn ON reports_reportassignment (report_id) WHERE NOT is_active"
UNPAUSED_DUE = (
    "CREATE INDEX clock_running_unpaused_due ON reports_reportclock (due_at, report_id) "
    "WHERE stopped_at IS NULL AND paused_at IS NULL"
)
MERGE_CANDIDATES = (
    "CREATE INDEX report_merge_candidates ON reports_report (owner_id, village_id varchar_pattern_ops) "
    "WHERE status IN ('completed', 'dispatched', 'in_progress', 'returned') AND NOT is_confidential "
    "AND merged_into_id IS NULL"
)


def create(apps, schema_editor):
    schema_editor.execute(WITHDRAWN)
    schema_editor.execute(UNPAUSED_DUE)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(MERGE_CANDIDATES)


def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS assignment_withdrawn")
    schema_editor.execute("DROP INDEX IF EXISTS clock_running_unpaused_due")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS report_merge_candidates")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_similar_reports_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
