"""An index of the ready tasks by run_after, for the task worker's claim (`lapor worker`'s claim_next):
the deferred tasks that have come due are a range of it, and the immediate ones (whose run_after is
django-tasks-db's far-future mark) another, already in priority and enqueued order. django-tasks-db's
own index of the ready tasks starts with the priority, so finding either kind walked past every
deferred task still in the future."""

from django.db import migrations

INDEX = "lapor_task_ready"
TABLE = "django_tasks_database_dbtaskresult"


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_ratelimitcounter"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {INDEX} ON {TABLE} (run_after, priority DESC, enqueued_at) WHERE status = 'READY'",
            f"DROP INDEX {INDEX}",
        ),
    ]
