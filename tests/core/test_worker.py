"""The task worker that `lapor worker` starts really runs enqueued tasks from the database queue."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from lapor.core.management.commands.worker import claim_next
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


# The claim: django-tasks-db's order, found through an index


def _enqueue_mix(now):
    """Tasks of every kind the claim tells apart, enqueued out of order."""
    later = record_worker_heartbeat.using(run_after=now + timedelta(days=3))
    return [
        later.enqueue().id,
        record_worker_heartbeat.enqueue().id,
        record_worker_heartbeat.using(run_after=now - timedelta(minutes=5)).enqueue().id,
        record_worker_heartbeat.using(priority=5).enqueue().id,
        later.enqueue().id,
        record_worker_heartbeat.using(run_after=now - timedelta(minutes=9)).enqueue().id,
        record_worker_heartbeat.using(run_after=now - timedelta(minutes=1), priority=-3).enqueue().id,
        record_worker_heartbeat.enqueue().id,
    ]


def test_tasks_are_claimed_in_django_tasks_db_order_and_future_ones_wait(db):
    with override_settings(TASKS=DATABASE_TASKS):
        _enqueue_mix(timezone.now())
        claimed = []
        while True:
            with transaction.atomic():
                expected = DBTaskResult.objects.ready().filter(backend_name="default").first()
                task = claim_next("default")
                assert (task and task.id) == (expected and expected.id)
                if task is None:
                    break
                task.claim("test")
                claimed.append(task)
        assert [(task.priority, task.run_after == get_date_max()) for task in claimed] == [
            (5, True),
            (0, False),
            (0, False),
            (0, True),
            (0, True),
            (-3, False),
        ]
        assert DBTaskResult.objects.filter(status="READY").count() == 2


def test_the_claim_keeps_to_the_queues_asked_for(db):
    tasks = {"default": {**DATABASE_TASKS["default"], "QUEUES": ["default", "other"]}}
    with override_settings(TASKS=tasks):
        record_worker_heartbeat.using(queue_name="other").enqueue()
        with transaction.atomic():
            assert claim_next("default", ["default"]) is None
            assert claim_next("default", ["*"]) is not None


@pytest.mark.postgres
def test_the_claim_reads_the_ready_index_past_many_future_tasks(db):
    """20,000 deferred tasks waiting for their time (a clock's timers wait days): the claim reads
    lapor_task_ready's ranges and never walks the waiting tasks to find the immediate one."""
    with override_settings(TASKS=DATABASE_TASKS):
        waiting = record_worker_heartbeat.using(run_after=timezone.now() + timedelta(days=3)).enqueue()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_tasks_database_dbtaskresult (id, status, args_kwargs, priority, task_path, "
                "queue_name, backend_name, run_after, enqueued_at, exception_class_path, traceback, worker_ids) "
                "SELECT gen_random_uuid(), status, args_kwargs, priority, task_path, queue_name, backend_name, "
                "run_after + n * interval '1 minute', enqueued_at, '', '', '[]' "
                "FROM django_tasks_database_dbtaskresult, generate_series(1, 20000) AS n WHERE id = %s",
                [waiting.id],
            )
            cursor.execute("ANALYZE django_tasks_database_dbtaskresult")
        immediate = record_worker_heartbeat.enqueue()
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            task = claim_next("default")
        assert task is not None
        assert str(task.id) == immediate.id
        selects = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
        assert len(selects) == 2
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in selects:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0][0]["Plan"]
                text = str(plan)
                assert "'Index Name': 'lapor_task_ready'" in text, plan
                assert "Seq Scan" not in text, plan
                scans = [node for node in _nodes(plan) if node.get("Index Name") == "lapor_task_ready"]
                assert sum(node["Actual Rows"] for node in scans) <= 1, plan


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_take_the_same_task():
    with override_settings(TASKS=DATABASE_TASKS):
        first_id, second_id = record_worker_heartbeat.enqueue().id, record_worker_heartbeat.enqueue().id
        held, release = threading.Event(), threading.Event()
        seen = []

        def other_worker():
            try:
                with transaction.atomic():
                    task = claim_next("default")
                    seen.append(str(task.id if task else None))
                    held.set()
                    release.wait(timeout=10)
            finally:
                connections.close_all()

        thread = threading.Thread(target=other_worker)
        thread.start()
        try:
            assert held.wait(timeout=10)
            with transaction.atomic():
                task = claim_next("default")
                seen.append(str(task.id if task else None))
        finally:
            release.set()
            thread.join(timeout=10)
        assert sorted(seen) == sorted([first_id, second_id])
        DBTaskResult.objects.all().delete()
