"""The task worker that `lapor worker` starts really runs enqueued tasks from the database queue."""

from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from lapor.core.models import ReferenceDataLoad
from lapor.core.tasks import record_worker_heartbeat

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_worker_runs_a_task_from_the_database_queue(committed_rows_purged):
    # The worker's sweeps run too (anchoring the audit trail among them): their rows are purged after.
    with override_settings(TASKS=DATABASE_TASKS):
        result = record_worker_heartbeat.enqueue()
        assert DBTaskResult.objects.get(id=result.id).status == "READY"
        assert not ReferenceDataLoad.objects.filter(dataset="worker-heartbeat").exists()

        call_command("worker", "--batch", verbosity=0)

        stored = DBTaskResult.objects.get(id=result.id)
        assert stored.status == "SUCCESSFUL"
        heartbeat = ReferenceDataLoad.objects.get(dataset="worker-heartbeat")
        assert heartbeat.checksum == stored.return_value
