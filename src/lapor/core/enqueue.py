"""Tasks of a transaction, enqueued all together: inside it where the tasks live in the same
database, after it commits otherwise.

A lifecycle step starts clocks (their timer tasks) and writes notifications (their delivery tasks).
`on_commit_enqueue` collects what each transaction asks for. With the database task backend
(django-tasks-db) on the transaction's own database, a service ends by calling
`enqueue_within_transaction`: the task rows are written in one INSERT in the same transaction as the
event and the outbox rows they serve, so they commit or roll back together and cost no commit of
their own (a worker sees them only once the transaction commits, so none runs early). What is still
collected at commit (other backends, or a caller that did not write them within) is enqueued once the
transaction commits: in one INSERT for the database backend, one by one for any other.

The rules of `transaction.on_commit` still hold: every call registers its own hook (so what a rolled
back savepoint asked for is never enqueued, and nothing is when the transaction rolls back); those
hooks only collect, and the last of the flush hooks registered after them enqueues what was
collected. After commit, a failure to enqueue is logged, not raised: the sweeps catch up. Within the
transaction it is raised, and the transaction with it: nothing of the step is kept, the caller sees
the error and may try again.
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
    transaction.on_commit(_Collect(pending, producer), using=using)
    _hooks(using).append((set(), _Flush(pending), True))


class _Collect:
    """The hook that hands one producer to its transaction's flush at commit, unless
    `enqueue_within_transaction` has taken it already."""

    def __init__(self, pending: _Pending, producer: Producer) -> None:
        self.pending = pending
        self.producer = producer
        self.taken = False
        self.__qualname__ = type(self).__qualname__

    def __call__(self) -> None:
        if not self.taken:
            self.pending.producers.append(self.producer)


def enqueue_within_transaction(using: str = DEFAULT_DB_ALIAS) -> None:
    """Write now, in the open transaction, the tasks collected so far whose backend is the database
    one on this same database (one INSERT); the others stay collected for after commit. Hooks of
    rolled back savepoints are gone from the connection already, so what they asked for is not
    written. Does nothing outside a transaction (`on_commit_enqueue` enqueued at once there)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return
    collected = [func for _sids, func, _robust in _hooks(using) if isinstance(func, _Collect) and not func.taken]
    if not collected:
        return
    jobs: list[Job] = []
    for collect in collected:
        collect.taken = True
        try:
            jobs.extend(collect.producer())
        except Exception:
            logger.exception("Preparing tasks to enqueue failed")
    within, after_commit = _split_by_backend(jobs, using)
    for backend, backend_jobs in within:
        _bulk_enqueue(backend, backend_jobs)
    if after_commit:
        on_commit_enqueue(lambda: after_commit, using=using)


def _split_by_backend(jobs: Sequence[Job], using: str) -> tuple[list[tuple[Any, list[Job]]], list[Job]]:
    """The jobs for database backends writing to ``using``, by backend; and all the others."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    same_database = router.db_for_write(DBTaskResult) == using
    within: dict[int, tuple[Any, list[Job]]] = {}
    after_commit: list[Job] = []
    for task, args in jobs:
        backend = task.get_backend()
        if same_database and isinstance(backend, DatabaseBackend):
            within.setdefault(id(backend), (backend, []))[1].append((task, args))
        else:
            after_commit.append((task, args))
    return list(within.values()), after_commit


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
