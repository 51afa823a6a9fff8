"""Saved inbox filters of the console, and the index of the staff's search (PostgreSQL only).

Staff search the reporters' own title and body (`selectors.inbox._staff_searched`): a GIN index of exactly
the expression `selectors.inbox._staff_text_vector()` compiles to, or the planner would not use it. Built
CONCURRENTLY, so the migration is not atomic: the reports table keeps taking writes meanwhile.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


STAFF_TEXT = "to_tsvector('indonesian'::regconfig, COALESCE(title, '') || ' ' || COALESCE(body, ''))"
INDEX = "report_staff_text_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON reports_report USING gin ({STAFF_TEXT})")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('reports', '0004_event_action_claim'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SavedFilter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('query', models.CharField(blank=True, default='', max_length=1000, verbose_name='filters')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='saved_filters', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'saved filter',
                'verbose_name_plural': 'saved filters',
                'constraints': [models.UniqueConstraint(fields=('user', 'name'), name='saved_filter_unique_name')],
            },
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
