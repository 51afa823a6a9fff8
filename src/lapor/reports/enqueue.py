"""Tasks enqueued after commit, all of one transaction's together.

A lifecycle step starts clocks (their timer tasks) and writes notifications (their delivery tasks);
enqueued one by one after commit, each task row was its own INSERT and its own commit. Here each
transaction's tasks are collected and, once it commits, written in one INSERT when the backend is the
database one (django-tasks-db), or enqueued one by one with any other backend.

The rules of `transaction.on_commit` still hold: every call registers its own hook (so what a rolled
back savepoint asked for is never enqueued, and nothing is when the transaction rolls back); those
hooks only collect, and the last of the flush hooks registered after them enqueues what was
collected. A failure to enqueue is logged, not raised: the sweeps catch up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models.signals import post_save, pre_save

logger = logging.getLogger(__name__)

# One task to enqueue: the task (with its run_after, priority and queue) and its positional arguments.
Job = tuple[Any, Sequence[Any]]
# Called after commit, in the order registered: returns the jobs it wants enqueued then.
Producer = Callable[[], Iterable[Job]]


class _Pending:
    """What one transaction's collecting hooks gathered, and how many flush hooks are still to run."""

    def __init__(self) -> None:
        self.producers: list[Producer] = []
        self.waiting = 0

    def flush(self) -> None:
        jobs: list[Job] = []
        for producer in self.producers:
            try:
                jobs.extend(producer())
            except Exception:
                logger.exception("Preparing tasks to enqueue after commit failed")
        self.producers = []
        enqueue_jobs(jobs)


class _Flush:
    """A hook registered after each collecting hook. It belongs to no savepoint, so all of them run
    at commit (or none, on rollback); the last to run enqueues what every collecting hook before it
    gathered."""

    def __init__(self, pending: _Pending) -> None:
        self.pending = pending
        self.__qualname__ = type(self).__qualname__
        pending.waiting += 1

    def __call__(self) -> None:
        self.pending.waiting -= 1
        if self.pending.waiting <= 0:
            self.pending.flush()


def _hooks(using: str) -> list[Any]:
    # (savepoint ids, function, robust) per hook; the stubs still describe the two-item form.
    hooks: list[Any] = connections[using].run_on_commit
    return hooks


def _current(using: str) -> _Pending | None:
    for _sids, func, _robust in reversed(_hooks(using)):
        if isinstance(func, _Flush):
            return func.pending
    return None


def on_commit_enqueue(producer: Producer, using: str = DEFAULT_DB_ALIAS) -> None:
    """Have the jobs of ``producer`` enqueued once the current transaction commits (at once outside
    a transaction), with every other task of the same transaction."""
    connection = connections[using]
    if not connection.in_atomic_block:
        enqueue_jobs(list(producer()))
        return
    pending = _current(using) or _Pending()
    # The collecting hook obeys savepoints like any other hook: what a rolled back savepoint asked
    # for is never collected.
    transaction.on_commit(lambda: pending.producers.append(producer), using=using)
    _hooks(using).append((set(), _Flush(pending), True))


def enqueue_jobs(jobs: Sequence[Job]) -> None:
    """Enqueue ``jobs``: one INSERT for those of a database backend, one by one for the others."""
    from django_tasks_db.backend import DatabaseBackend

    by_backend: dict[int, tuple[Any, list[Job]]] = {}
    for task, args in jobs:
        backend = task.get_backend()
        by_backend.setdefault(id(backend), (backend, []))[1].append((task, args))
    for backend, backend_jobs in by_backend.values():
        if isinstance(backend, DatabaseBackend):
            try:
                _bulk_enqueue(backend, backend_jobs)
            except Exception:
                logger.exception("Enqueueing %d tasks after commit failed", len(backend_jobs))
            continue
        for task, args in backend_jobs:
            try:
                task.enqueue(*args)
            except Exception:
                logger.exception("Enqueueing %s after commit failed", task.module_path)


def _bulk_enqueue(backend: Any, jobs: Sequence[Job]) -> None:
    """What DatabaseBackend.enqueue does for each task, with the rows written in one INSERT."""
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult

    rows: list[DBTaskResult[Any, Any]] = []
    for task, args in jobs:
        backend.validate_task(task)
        rows.append(
            DBTaskResult(
                id=backend._get_id(),
                args_kwargs=normalize_json({"args": tuple(args), "kwargs": {}}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after,
                backend_name=backend.alias,
            )
        )
    using = router.db_for_write(DBTaskResult)
    # bulk_create sends no model signals; save() would (django-tasks-db sets run_after in pre_save).
    for row in rows:
        pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
    DBTaskResult.objects.using(using).bulk_create(rows)
    for row in rows:
        post_save.send(sender=DBTaskResult, instance=row, created=True, raw=False, using=using, update_fields=None)
        task_enqueued.send(type(backend), task_result=row.task_result)
